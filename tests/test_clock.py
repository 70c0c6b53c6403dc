"""A fair clock (SPEC guarantee 7): a submission's time budget counts the CPU time of its own
processes, so other load on the machine costs an honest student nothing, and `make grade` and
the Otter zip apply the same budget."""

import io
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from rich.console import Console

import autograder
from autograder import assignments, cli, engine, otter_verdicts, sandbox

ROOT = Path(autograder.ROOT)
REFERENCE = (ROOT / "solution" / "cnn_layer.py").read_text()
ASSIGNMENT = assignments.get("cnn_layer")
BUDGET = 5.0  # CPU seconds for the whole submission, instead of the usual 30
SPIN = 0.15  # CPU seconds each call of the slow file burns: about 2.5 s over the 17 calls of the tests


def _spinning(seconds):
    """The reference, each graded function burning `seconds` of its own CPU time first."""
    return (
        REFERENCE
        + "\n\n"
        + textwrap.dedent(f"""\
        import time as _time
        def _spin():
            start = _time.process_time()
            while _time.process_time() - start < {seconds!r}:
                pass
        _f2, _b2, _f1 = conv2d_forward, conv2d_backward, conv1d_forward
        def conv2d_forward(*args, **kwargs):
            _spin()
            return _f2(*args, **kwargs)
        def conv2d_backward(*args, **kwargs):
            _spin()
            return _b2(*args, **kwargs)
        def conv1d_forward(*args, **kwargs):
            _spin()
            return _f1(*args, **kwargs)
        """)
    )


SUBMISSIONS = {"honest": REFERENCE, "slow": _spinning(SPIN)}

pytestmark = pytest.mark.skipif(not hasattr(os, "pidfd_open"), reason="the sandbox needs Linux")


def _scores(folder, out):
    """{student: {test: points}} by `make grade` and by the Otter zip's engine call."""
    results = cli.grade_folder(ASSIGNMENT, str(folder), str(out), jobs=1, console=Console(file=io.StringIO()))
    by_make = {r.student: {t.name: t.points for t in r.tests} for r in results}
    by_otter = {
        student: {
            t["name"]: t["points"]
            for t in otter_verdicts.grade_for_otter("cnn_layer", str(folder / f"{student}.py"), student)["tests"]
        }
        for student in SUBMISSIONS
    }
    return by_make, by_otter


def _hogs(count, seconds):
    code = f"import time\nend = time.monotonic() + {seconds}\nwhile time.monotonic() < end:\n    pass\n"
    return [subprocess.Popen([sys.executable, "-c", code]) for _ in range(count)]


def test_a_busy_machine_costs_no_points_on_either_path(tmp_path, monkeypatch):
    """The honest file and one that spends over half its CPU budget score the same on a quiet
    machine and beside more busy processes than there are cores, by `make grade` and by Otter."""
    monkeypatch.setattr(sandbox, "BUDGET_FLOOR_SECONDS", BUDGET)
    monkeypatch.setattr(sandbox, "BUDGET_SHARE", 0.0)
    assert sandbox.Sandbox.budget_for(ASSIGNMENT.tests()) == BUDGET
    folder = tmp_path / "subs"
    folder.mkdir()
    for student, text in SUBMISSIONS.items():
        (folder / f"{student}.py").write_text(text)
    quiet = _scores(folder, tmp_path / "quiet")
    full = {t.name: t.points for t in ASSIGNMENT.tests()}
    assert quiet == ({"honest": full, "slow": full}, {"honest": full, "slow": full})
    hogs = _hogs((os.cpu_count() or 1) + 1, 150)
    try:
        started = time.monotonic()
        busy = _scores(folder, tmp_path / "busy")
        busy_seconds = time.monotonic() - started
    finally:
        for hog in hogs:
            hog.kill()
            hog.wait()
    assert busy == quiet, f"graded beside {len(hogs)} busy processes in {busy_seconds:.0f} s"


def test_the_cpu_budget_stops_a_submission_spinning_under_every_timeout(tmp_path):
    """Each call burns 1 s of CPU and then answers correctly: once 3 s are spent, the test running
    is stopped and the rest are not run, each saying why."""
    path = tmp_path / "spinner.py"
    path.write_text(_spinning(1.0))
    tests = ASSIGNMENT.tests()
    expected = engine.expected_values(tests, ASSIGNMENT.reference())
    with sandbox.Sandbox(preload=ASSIGNMENT.preload, budget_seconds=3.0) as box:
        res = engine.grade_submission("spinner", str(path), ASSIGNMENT, tests, expected, box)
        assert 3.0 <= box.cpu_used < 6.0
    over = [i for i, t in enumerate(res.tests) if "grading time budget" in t.message]
    assert over and over == list(range(over[0], len(tests))), [t.message for t in res.tests]
    assert all(res.tests[i].points == 0 for i in over) and res.score > 0
    assert "(3 s of CPU time, or 15 s on the clock" in res.tests[-1].message
    assert "was not run" in res.tests[-1].message


def test_the_otter_path_applies_the_same_budget(tmp_path, monkeypatch):
    """The spinner graded by the Otter zip's engine call under a 3 s budget sized as `make grade`
    sizes it: stopped the same way."""
    monkeypatch.setattr(sandbox, "BUDGET_FLOOR_SECONDS", 3.0)
    monkeypatch.setattr(sandbox, "BUDGET_SHARE", 0.0)
    path = tmp_path / "spinner.py"
    path.write_text(_spinning(1.0))
    verdicts = otter_verdicts.grade_for_otter("cnn_layer", str(path), "spinner")["tests"]
    over = [t for t in verdicts if "grading time budget" in t["message"]]
    assert over and all(t["points"] == 0 for t in over) and any(t["points"] > 0 for t in verdicts)
