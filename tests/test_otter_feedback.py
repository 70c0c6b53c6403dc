"""What a student sees on Gradescope: a real `otter run` of a built autograder zip, read back from
results.json. Public tests are visible with their full feedback; hidden tests show their name,
points and named slip at the visibility the assignment sets (assignment.toml hidden_visibility),
never their inputs; there is no summary padded with blank lines."""

import inspect
import tomllib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from autograder import assignments
from autograder.course import samples
from tests import otter_command
from tools import dist

NAME = "dropout"  # a small NumPy assignment: one `otter run` takes seconds


def _zip(files, path, visibility=None):
    if visibility:
        toml = f"autograder/course/{NAME}/assignment.toml"
        files = {**files, toml: f'hidden_visibility = "{visibility}"\n'.encode() + files[toml]}  # before [tasks]
        assert tomllib.loads(files[toml].decode())["hidden_visibility"] == visibility
    dist.write_zip(str(path), files, executable={"run_autograder", "setup.sh"})
    return path


def _otter_run(zip_path, source, cwd):
    cwd.mkdir()
    (cwd / f"{NAME}.py").write_text(source)
    return otter_command.otter_run(zip_path, f"{NAME}.py", cwd)


SLIP = "keep_p_as_drop_p"


@pytest.fixture(scope="module")
def zip_files(tmp_path_factory):
    """The autograder zip's files ({path: bytes}), from one `otter generate`."""
    return dist.autograder_zip_files(NAME, str(tmp_path_factory.mktemp("gen")))


@pytest.fixture(scope="module")
def otter_results(zip_files, tmp_path_factory):
    """results.json of two `otter run`s, side by side: the buggy sample SLIP with hidden tests set
    to after_due_date, and the reference with the default visibility."""
    work = tmp_path_factory.mktemp("otter_feedback")
    runs = {
        "slip": (_zip(zip_files, work / "after_due_date.zip", "after_due_date"), samples.sources(NAME)[SLIP]),
        "reference": (_zip(zip_files, work / "default.zip"), samples.reference_source(NAME)),
    }
    with ThreadPoolExecutor(len(runs)) as pool:
        done = {key: pool.submit(_otter_run, path, source, work / key) for key, (path, source) in runs.items()}
        return {key: future.result() for key, future in done.items()}


def test_public_tests_visible_hidden_tests_at_the_assignment_setting_without_inputs(otter_results):
    sample = next(s for s in samples.buggy(NAME) if s.name == SLIP)
    results = otter_results["slip"]
    tests = {t.name: t for t in assignments.get(NAME).tests()}
    entries = {e["name"]: e for e in results["tests"]}
    assert set(entries) == set(tests)  # one entry per graded test: no "Public Tests" summary
    for name, entry in entries.items():
        test = tests[name]
        assert entry["visibility"] == ("after_due_date" if test.hidden else "visible"), name
        assert entry["max_score"] == test.points and entry["output"].startswith(f"{name}: "), entry
        assert "\n\n" not in entry["output"].strip(), entry  # no blank padding
        if entry["score"] < entry["max_score"]:
            assert entry["status"] == "failed" and "FAILED" in entry["output"], entry
        if test.hidden:  # never what it called: no inputs, no arrays, no recorded calls
            assert "array(" not in entry["output"] and "x0 =" not in entry["output"], entry
    failed = [e for e in entries.values() if e["status"] == "failed"]
    assert any(tests[e["name"]].hidden for e in failed) and any(not tests[e["name"]].hidden for e in failed)
    assert any(sample.expect in e["output"] for e in failed if tests[e["name"]].hidden), "the slip is named"
    public_failure = next(e for e in failed if not tests[e["name"]].hidden)
    assert len(public_failure["output"].splitlines()) > 1  # the full feedback, not a bare verdict
    assert results["score"] == sum(e["score"] for e in entries.values()) < 100


def test_the_reference_scores_full_marks_with_the_default_visibility(otter_results):
    results = otter_results["reference"]
    assert results["score"] == 100
    hidden = {t.name for t in assignments.get(NAME).tests() if t.hidden}
    for entry in results["tests"]:
        assert entry["visibility"] == ("after_published" if entry["name"] in hidden else "visible")
        assert entry["status"] == "passed"


def test_an_unknown_visibility_names_the_file_and_the_key(tmp_path, monkeypatch):
    folder = tmp_path / NAME
    folder.mkdir()
    toml = Path(assignments.get(NAME).path("assignment.toml")).read_text()
    (folder / "assignment.toml").write_text('hidden_visibility = "students"\n' + toml)
    monkeypatch.setattr(assignments, "COURSE_DIR", str(tmp_path))
    folder_arg = (str(tmp_path),) if "folder" in inspect.signature(assignments.load).parameters else ()
    with pytest.raises(
        Exception, match=r"dropout/assignment\.toml: '?hidden_visibility'? must be one of hidden, after_due"
    ):
        assignments.load(NAME, *folder_arg)


def test_setup_sh_installs_no_compiler_and_no_browser(zip_files):
    setup = zip_files["setup.sh"].decode()
    for stock in ("build-essential", "libgit2", "libssl", "playwright", "chromium", "texlive", "nb_conda_kernels"):
        assert stock not in setup, stock
    assert "environment.yml" in setup and "set -euo pipefail" in setup
    environment = zip_files["environment.yml"].decode()
    assert "python=3.11" in environment and "numpy==" in environment
