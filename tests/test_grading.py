"""`make grade` on the shipped samples: the reference gets full marks, the blank skeleton 0, and
every buggy sample loses points with feedback that names its slip."""
import csv
import io
import json
import os

import pytest
from rich.console import Console

from autograder import assignments, cli
from tools.generate import ROOT, outputs

SAMPLES = os.path.join(ROOT, "autograder", "samples")
NAMES = [n for n in assignments.ASSIGNMENTS if os.path.isdir(os.path.join(SAMPLES, n))]


def _grade(name, folder, out, jobs=2):
    quiet = Console(file=io.StringIO())
    results = cli.grade_folder(assignments.get(name), folder, out, jobs=jobs, console=quiet)
    return {r.student: r for r in results}


@pytest.fixture(scope="module", params=NAMES)
def graded(request, tmp_path_factory):
    """Grade the shipped samples of one assignment (blank.py is the generated skeleton)."""
    name = request.param
    folder = tmp_path_factory.mktemp(f"{name}_samples")
    for file in os.listdir(os.path.join(SAMPLES, name)):
        with open(os.path.join(SAMPLES, name, file), "rb") as src, open(folder / file, "wb") as dst:
            dst.write(src.read())
    assert (folder / "blank.py").read_bytes() == outputs(name)[f"assignments/{name}/{name}.py"]
    out = tmp_path_factory.mktemp(f"{name}_out")
    return name, folder, out, _grade(name, str(folder), str(out))


def test_reference_scores_full_marks(graded):
    name, _, _, results = graded
    ref = results["reference"]
    assert [(t.name, t.message) for t in ref.tests if t.status == "failed"] == []
    skipped = sum(t.max_points for t in ref.tests if t.status == "skipped")  # GPU-only, said so
    assert ref.score == ref.max_score == 100 - skipped


def test_blank_skeleton_scores_zero_with_not_implemented_feedback(graded):
    _, _, _, results = graded
    blank = results["blank"]
    assert blank.score == 0
    assert all("not implemented yet" in t.message for t in blank.tests if t.status == "failed")


def test_points_sum_to_100_and_tasks_are_registered(graded):
    name = graded[0]
    tests = assignments.get(name).tests()
    assert sum(t.points for t in tests) == 100
    assert len({t.name for t in tests}) == len(tests)
    markers = open(os.path.join(ROOT, "pyproject.toml")).read()
    for t in tests:
        assert f'"task{t.task.replace(".", "_")}:' in markers, t.task


def test_every_buggy_sample_loses_points_and_feedback_names_the_slip(graded):
    name, folder, out, results = graded
    for file in sorted(os.listdir(folder)):
        student = file[:-3]
        if student in ("reference", "blank"):
            continue
        lines = open(os.path.join(folder, file)).read().splitlines()
        assert results[student].score < 100, f"{file} is not caught"
        feedback = open(os.path.join(out, "feedback", f"{student}.md")).read()
        expect = [ln.split(":", 1)[1].strip() for ln in lines[:3] if ln.startswith("# Expect feedback:")]
        if expect:
            assert expect[0] in feedback, f"{file}: feedback does not say {expect[0]!r}"
        else:
            assert "Likely slip:" in feedback or "Hint:" in feedback, f"{file}: feedback names no slip"


def test_gradebook_and_feedback_files(graded):
    name, folder, out, results = graded
    with open(os.path.join(out, "grades.csv")) as f:
        rows = list(csv.reader(f))
    tests = [t.name for t in assignments.get(name).tests()]
    assert rows[0] == ["student", "score", "max_score"] + tests
    assert [r[0] for r in rows[1:]] == sorted(results)
    for row in rows[1:]:
        assert float(row[1]) == pytest.approx(sum(float(x) for x in row[3:] if x != "skipped"))
        data = json.load(open(os.path.join(out, "feedback", f"{row[0]}.json")))
        assert data["score"] == float(row[1]) and len(data["tests"]) == len(tests)
        assert os.path.exists(os.path.join(out, "feedback", f"{row[0]}.md"))


def test_parallel_and_sequential_runs_agree(graded, tmp_path):
    name, folder, _, results = graded
    if name == "gpu_training":
        pytest.skip("the engine is the same for every assignment; torch makes this one slow")
    again = _grade(name, str(folder), str(tmp_path), jobs=1)
    assert {s: r.score for s, r in again.items()} == {s: r.score for s, r in results.items()}


def test_submission_ids_stay_unique_and_links_are_refused(tmp_path):
    """'a b.py' and 'a_b.py' get separate feedback; a link to the reference is not a submission."""
    reference = os.path.join(ROOT, "solution", "cnn_layer.py")
    for name in ("a b.py", "a_b.py"):
        (tmp_path / name).write_text("x = 1\n")
    os.symlink(reference, tmp_path / "linked.py")
    results = _grade("cnn_layer", str(tmp_path), str(tmp_path / "out"))
    assert sorted(results) == ["a_b", "a_b-2", "linked"]
    assert results["linked"].score == 0
    assert "symbolic link" in results["linked"].notes[-1]
    assert sorted(os.listdir(tmp_path / "out" / "feedback")) == [
        "a_b-2.json", "a_b-2.md", "a_b.json", "a_b.md", "linked.json", "linked.md"]
