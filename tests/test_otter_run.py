"""`otter run`, as an instructor or Gradescope runs it, on the autograder zip `make dist` builds:
the same scores as `make grade`, and nothing uploaded ever runs or is unpickled."""

import io
import json
import os
import pickle
import zipfile
from concurrent.futures import ThreadPoolExecutor

import nbformat
import pytest

from autograder import assignments
from autograder.course import samples
from tests import otter_command
from tools import dist
from tools.generate import outputs


# `make dist` runs Otter on every assignment's zip (the reference and the blank skeleton) and grades
# every sample with the zip's engine; here Otter's scores are compared with `make grade`'s on a
# NumPy assignment and on the torch one (an `otter run` costs seconds: one per sample of every
# assignment would be most of `make test`). The blank skeleton on the NumPy one only: on
# gpu_training it fails before anything trains, as it does on momentum.
@pytest.mark.parametrize("name, blank", [("momentum", True), ("gpu_training", False)], ids=["momentum", "gpu_training"])
def test_otter_run_gives_the_same_scores_as_make_grade(name, blank, autograder_zip, graded_samples, tmp_path):
    zip_path, source = autograder_zip(name)
    _, folder, _, results = graded_samples(name)
    ours = {student: r.score for student, r in results.items()}
    # Otter on the reference, a buggy sample (test_otter_run_without_pythonpath... has another) and
    # the blank skeleton; make grade graded them all.
    buggy = sorted(f for f in os.listdir(folder) if f not in ("reference.py", "blank.py"))
    files = ["reference.py", buggy[0]] + (["blank.py"] if blank else [])
    with ThreadPoolExecutor(len(files)) as pool:
        otter = dict(
            zip(
                files,
                pool.map(lambda f: dist.otter_run(zip_path, os.path.join(folder, f), source, str(tmp_path))[0], files),
                strict=False,
            )
        )
    assert {f[:-3]: s for f, s in otter.items()} == {f[:-3]: ours[f[:-3]] for f in files}
    full = results["reference"].max_score
    assert ours["reference"] == full and ours["blank"] == 0 and all(ours[f[:-3]] < full for f in buggy)


# ---------------------------------------------------------------- Otter's own command: nothing uploaded runs


@pytest.fixture(scope="module")
def momentum_zip(autograder_zip):
    return autograder_zip("momentum")[0]


def _otter_run(zip_path, submission, cwd):
    """(results.json, the total score) of `otter run` on `submission`."""
    results = otter_command.otter_run(zip_path, submission, cwd)
    return results, sum(t.get("score", 0) for t in results["tests"])


def _blank(name="momentum"):
    return outputs(name)[f"assignments/{name}/{name}.py"].decode()


class _ForgedLog:
    """Unpickling this runs code: it would set a full score for whatever Otter reports."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        code = (
            f"open({self.marker!r}, 'w').write('ran'); import otter.test_files as t; "
            "t.GradingResults.to_gradescope_dict = lambda self, c: "
            "{'tests': [{'name': 'forged', 'score': 100, 'max_score': 100}]}"
        )
        return exec, (code,)


@pytest.fixture(scope="module")
def hostile_upload(momentum_zip, tmp_path_factory):
    """One upload holding every trick of an `otter run` upload, graded once by `otter run` (each costs
    seconds): a buggy momentum.py whose failures are all hidden; nbformat.py and sitecustomize.py,
    which Otter's kernel would import from the submission folder; a forged .OTTER_LOG, which Otter
    would unpickle; and a notebook, which Otter would pick. Also the same momentum.py by `make grade`."""
    from rich.console import Console

    from autograder.cli import grade_folder

    work = tmp_path_factory.mktemp("hostile_upload")
    source = samples.sources("momentum")["nesterov_ignored"]
    (work / "alone").mkdir()
    (work / "alone" / "momentum.py").write_text(source)
    (ours,) = grade_folder(
        assignments.get("momentum"), str(work / "alone"), str(work / "out"), jobs=1, console=Console(file=io.StringIO())
    )
    markers = {"module": work / "module_ran", "log": work / "log_unpickled"}
    evil = (
        f"open({str(markers['module'])!r}, 'w').write('ran')\n"
        "import sys\ndel sys.modules[__name__]\nsys.path = [p for p in sys.path if p not in ('', '.')]\n"
        "from nbformat import *\n"
    )
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(_blank())])
    with zipfile.ZipFile(work / "upload.zip", "w") as zf:
        zf.writestr("momentum.py", source)
        zf.writestr("momentum.ipynb", nbformat.writes(notebook))
        zf.writestr("nbformat.py", evil)
        zf.writestr("sitecustomize.py", evil)
        zf.writestr(".OTTER_LOG", pickle.dumps(_ForgedLog(str(markers["log"]))))
    results, score = _otter_run(momentum_zip, "upload.zip", work)
    return results, score, ours, markers


def test_otter_run_without_pythonpath_reports_hidden_failures_as_failed(hostile_upload):
    """A buggy sample whose failures are all hidden: the visible summary never says they passed."""
    results, score, ours, _ = hostile_upload
    failed_hidden = [t.name for t in ours.tests if t.status == "failed" and t.hidden]
    assert failed_hidden and not [t for t in ours.tests if t.status == "failed" and not t.hidden]
    assert score == ours.score
    assert "All test cases passed" not in json.dumps(results)
    assert not any(t["name"] == "Public Tests" for t in results["tests"])  # tests/test_otter_feedback.py
    for name in failed_hidden:
        (entry,) = [t for t in results["tests"] if t["name"] == name]
        assert entry["score"] == 0 and "FAILED" in entry["output"] and entry["visibility"] == "after_published"


def test_otter_run_never_runs_an_uploaded_module(hostile_upload):
    """nbformat.py and sitecustomize.py uploaded beside the graded file: Otter's kernel would import them."""
    results, score, ours, markers = hostile_upload
    assert not markers["module"].exists()
    assert score == ours.score < 100


def test_otter_run_never_unpickles_an_uploaded_otter_log(hostile_upload):
    results, score, ours, markers = hostile_upload
    assert not markers["log"].exists()
    assert score == ours.score and "forged" not in json.dumps(results)
