"""The students' self-check: runs where the student is, filters by task, and shows what a failing
public test called and what the student's code printed."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np

from tools.generate import ROOT

SOLUTION = os.path.join(ROOT, "solution", "momentum.py")


def _check(*args, cwd=ROOT):
    done = subprocess.run(
        [sys.executable, "-m", "autograder", "check", *args], cwd=cwd, capture_output=True, text=True, timeout=300
    )
    return done.returncode, done.stdout + done.stderr


def test_check_runs_inside_the_assignment_folder_of_a_checkout():
    code, out = _check("momentum", cwd=os.path.join(ROOT, "assignments", "momentum"))
    assert code == 1 and "not implemented yet" in out and "public checks passed" in out, out


def test_a_task_filter_runs_only_that_tasks_checks():
    code, out = _check("momentum", SOLUTION, "5.2")
    assert code == 0, out
    tasks = set(re.findall(r"PASS  task (\S+)", out))
    assert tasks == {"5.2"}, out
    code, short = _check("momentum", "5.2", cwd=os.path.join(ROOT, "assignments", "momentum"))
    assert set(re.findall(r"task (\S+)", short)) == {"5.2"}, short


def test_a_failing_check_shows_its_inputs_and_what_the_code_printed(tmp_path):
    source = (
        Path(SOLUTION)
        .read_text(encoding="utf-8")
        .replace(
            "def momentum_step(theta, grad, velocity, lr, beta):",
            "def momentum_step(theta, grad, velocity, lr, beta):\n    print('debug: lr is', lr)\n    lr = -lr",
        )
    )
    assert "debug: lr is" in source
    path = tmp_path / "momentum.py"
    path.write_text(source)
    code, out = _check("momentum", str(path), "5.1")
    assert code == 1, out
    assert "FAIL  task 5.1" in out
    assert re.search(r"x\d+ = momentum_step\(array\(\[", out), out  # the public inputs
    assert "your code printed:" in out and "| debug: lr is 0.1" in out, out


def test_a_mistyped_or_unknown_task_lists_the_valid_ones(tmp_path):
    for args in (("backprop", "10"), ("backprop", "1.10"), ("backprop", "1.4", "extra")):
        code, out = _check(*args, cwd=tmp_path)
        assert code != 0 and ("is not a task of backprop" in out or "file before the task" in out), (args, out)
        assert "1.1, 1.2, 1.3" in out and "Traceback" not in out and "not found" not in out, (args, out)
    code, out = _check("momentum", "5.1", "momentum.py", cwd=tmp_path)
    assert code != 0 and "give the file before the task" in out, out


def test_show_inputs_prints_python_that_reproduces_the_exact_call(tmp_path):
    """The printed script, run on a file, gives what the check compared: the public test's inputs
    at full precision, not rounded or elided."""
    from autograder.check import load_public_expected

    code, script = _check("momentum", "5.1", "--show-inputs", cwd=tmp_path)
    assert code == 0 and "momentum_step_first_step" in script, script
    first = script.split("# ---- ")[1]
    assert "..." not in first
    (tmp_path / "momentum.py").write_text(Path(SOLUTION).read_text(encoding="utf-8"))
    body = first.split("\n", 1)[1]
    judged = re.findall(r"^print\('(.+)', (x\d+)\)$", body, flags=re.M)
    dump = ", ".join(f"{name!r}: numpy.asarray({var}).tolist()" for name, var in judged)
    (tmp_path / "run.py").write_text(body + f"\nimport json\nprint(json.dumps({{{dump}}}))\n")
    done = subprocess.run([sys.executable, "run.py"], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    got = json.loads(done.stdout.strip().splitlines()[-1])
    want = load_public_expected("momentum")["momentum_step_first_step"].outcome.outputs
    assert set(got) == set(want)
    for name, value in want.items():
        np.testing.assert_array_equal(np.array(got[name]), value)  # bit for bit: the exact inputs


def test_a_failing_check_says_how_to_get_the_exact_inputs(tmp_path):
    path = tmp_path / "momentum.py"
    path.write_text(
        Path(SOLUTION)
        .read_text(encoding="utf-8")
        .replace("v = beta * velocity + (1.0 - beta) * grad", "v = beta * velocity + grad")
    )
    code, out = _check("momentum", str(path), "5.1")
    assert code == 1 and "python -m autograder check momentum 5.1 --show-inputs" in out, out


def test_export_says_in_one_line_what_is_missing(tmp_path):
    """`python -m autograder export` on a machine without pandoc and xelatex: one line naming both
    and how to get them, not Otter's traceback."""
    notebook = os.path.join(ROOT, "assignments", "backprop", "backprop.ipynb")
    done = subprocess.run(
        [sys.executable, "-m", "autograder", "export", notebook],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PATH": str(tmp_path)},  # nothing on PATH
    )
    assert done.returncode != 0 and done.stdout == ""
    (line,) = done.stderr.strip().splitlines()
    assert "needs pandoc (" in line and "xelatex (" in line and "Traceback" not in line, line
    assert not list(tmp_path.iterdir())  # nothing written
