"""`make grade` on the samples: the reference gets full marks, the blank skeleton 0, and every
buggy sample (autograder/course/<name>/authoring/samples.toml) loses points with feedback that says what its
`expect` line says."""

import csv
import io
import json
import os
from pathlib import Path

import pytest
from rich.console import Console

from autograder import assignments, cli
from autograder.course import samples
from tools.generate import ROOT, outputs

NAMES = list(assignments.ASSIGNMENTS)


def _grade(name, folder, out, jobs=2):
    quiet = Console(file=io.StringIO())
    results = cli.grade_folder(assignments.get(name), folder, out, jobs=jobs, console=quiet)
    return {r.student: r for r in results}


@pytest.fixture(scope="module", params=NAMES)
def graded(request, graded_samples):
    """The samples of one assignment as `make grade` graded them (once per run: conftest.py);
    blank.py is the generated skeleton."""
    name, folder, out, results = graded_samples(request.param)
    assert Path(folder, "blank.py").read_bytes() == outputs(name)[f"assignments/{name}/{name}.py"]
    return name, folder, out, results


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


@pytest.mark.parametrize("name", NAMES)
def test_points_sum_to_100_and_tasks_are_registered(name):
    tests = assignments.get(name).tests()
    assert sum(t.points for t in tests) == 100
    assert len({t.name for t in tests}) == len(tests)
    tasks = assignments.get(name).tasks
    assert {t.task for t in tests} == set(tasks), "every graded test's task is in assignment.toml, and back"


def test_every_buggy_sample_loses_points_and_feedback_says_what_it_expects(graded):
    name, _, out, results = graded
    buggy = samples.buggy(name)
    assert len(buggy) >= samples.minimum(name), f"{name}: too few known-buggy samples"
    for sample in buggy:
        assert sample.expect, f"{name} [{sample.name}]: no expected feedback"
        assert results[sample.name].score < results[sample.name].max_score, f"{sample.name} is not caught"
        messages = "\n".join(t.message for t in results[sample.name].tests)
        assert sample.expect in messages, f"{name} [{sample.name}]: feedback does not say {sample.expect!r}"


def test_a_sample_edit_that_no_longer_fits_fails_naming_the_sample(monkeypatch):
    reference = samples.reference_source("momentum")
    sample = samples.buggy("momentum")[0]
    assert sample.apply(reference, "m").startswith("# Sample slip:")
    find, _ = sample.edits[0]
    with pytest.raises(samples.SampleError, match=rf"m \[{sample.name}\] edit 1: .* occurs 0 times"):
        sample.apply(reference.replace(find, ""), "m")
    with pytest.raises(samples.SampleError, match="occurs 2 times"):
        sample.apply(reference + find, "m")


def test_gradebook_and_feedback_files(graded):
    name, folder, out, results = graded
    with open(os.path.join(out, "grades.csv")) as f:
        rows = list(csv.reader(f))
    tests = [t.name for t in assignments.get(name).tests()]
    assert rows[0] == ["student", "score", "max_score", "status"] + tests
    assert [r[0] for r in rows[1:]] == sorted(results)
    for row in rows[1:]:
        assert row[3] == "graded"
        assert float(row[1]) == pytest.approx(sum(float(x) for x in row[4:] if x != "skipped"))
        data = json.loads(Path(out, "feedback", f"{row[0]}.json").read_text(encoding="utf-8"))
        assert data["score"] == float(row[1]) and len(data["tests"]) == len(tests)
        assert os.path.exists(os.path.join(out, "feedback", f"{row[0]}.md"))


def test_parallel_and_sequential_runs_agree(graded_samples, tmp_path):
    """The engine is the same for every assignment: one assignment's samples graded again in one
    sandbox give the scores the two-sandbox run gave."""
    name, folder, _, results = graded_samples("momentum")
    again = _grade(name, folder, str(tmp_path), jobs=1)
    assert {s: r.score for s, r in again.items()} == {s: r.score for s, r in results.items()}


def test_submission_ids_stay_unique_and_links_are_refused(tmp_path):
    """'a b.py' and 'a_b.py' get separate feedback; a link to the reference is not a submission."""
    reference = os.path.join(ROOT, "solution", "cnn_layer.py")
    for name in ("a b.py", "a_b.py"):
        (tmp_path / name).write_text("x = 1\n")
    os.symlink(reference, tmp_path / "linked.py")
    results = _grade("cnn_layer", str(tmp_path), str(tmp_path / "out"))
    (renamed,) = set(results) - {"a_b", "linked"}  # 'a b.py' sorts first, yet 'a_b.py' keeps its id
    assert renamed.startswith("a_b-") and len(results) == 3
    assert results["linked"].score == 0
    assert "symbolic link" in results["linked"].notes[-1]
    assert sorted(os.listdir(tmp_path / "out" / "feedback")) == sorted(
        f"{i}.{ext}" for i in ("a_b", renamed, "linked") for ext in ("json", "md")
    )
