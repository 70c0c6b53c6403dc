"""Per-student tests (testcase.per_student): each student is graded at their own numbers, computed
from the reference for the id the grader knows them by, so answers passed around score nothing."""

import json

import pytest

from autograder import assignments, engine, otter, otter_verdicts
from autograder.course import samples
from autograder.testcase import GradedTest, per_student
from solution.backprop import GRAPH_KEYS, graph_inputs

BACKPROP = assignments.get("backprop")
TEST = "graph_by_hand_own_numbers"


def _literal_answers(student):
    """graph_by_hand holding the hand-worked numbers of `student`, as literals."""
    a, b = graph_inputs(student)
    c, d = a + b, b + 1
    values = dict(a=a, b=b, c=c, d=d, e=c * d, de_dc=d, de_dd=c, de_da=d, de_db=c + d)
    return "    return {" + ", ".join(f"{k!r}: {values[k]!r}" for k in GRAPH_KEYS) + "}\n"


def _source_with_answers_of(student):
    source = samples.reference_source("backprop")
    start = source.index("    # BEGIN SOLUTION (Task 1.1: return a dict of the GRAPH_KEYS")
    end = source.index("    # END SOLUTION\n", start) + len("    # END SOLUTION\n")
    return source[:start] + _literal_answers(student) + source[end:]


ANY_IDS = ["s1234567", "Jane.Doe@uni.edu", "x"]


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """alice and bob both submit alice's numbers; three more students submit the reference: one
    grading run of the per-student test and a usual one."""
    copied = _source_with_answers_of("alice")
    sources = {"alice": copied, "bob": copied, **dict.fromkeys(ANY_IDS, samples.reference_source("backprop"))}
    folder = tmp_path_factory.mktemp("per_student")
    entries = []
    for student, source in sources.items():
        path = folder / f"{student}.py"
        path.write_text(source)
        entries.append((student, str(path)))
    tests = [t for t in BACKPROP.tests() if t.name in (TEST, "graph_example_lecture_point")]
    expected = engine.expected_values(tests, BACKPROP.reference())
    results = engine.grade_all(BACKPROP, entries, tests=tests, expected=expected, jobs=2)
    return {r.student: {t.name: t for t in r.tests} for r in results}


def test_own_numbers_pass_and_numbers_passed_around_fail(graded):
    assert graph_inputs("alice") != graph_inputs("bob")
    assert graded["alice"][TEST].points == 6
    bob = graded["bob"][TEST]
    assert bob.points == 0
    a, b = graph_inputs("bob")
    assert f"at your (a, b) = ({a:g}, {b:g})" in bob.message
    assert "graded with your id 'bob'" in bob.message
    assert graded["bob"]["graph_example_lecture_point"].points == 3  # the rest is graded as usual


def test_the_reference_passes_for_any_id(graded):
    assert [graded[i][TEST].points for i in ANY_IDS] == [6, 6, 6]


def test_a_per_student_test_is_hidden_and_listed_for_an_example_student():
    def make(student):
        return GradedTest(f"t_{student}", "1.1", 1, lambda s: None, hidden=False)

    with pytest.raises(ValueError, match="a per-student test is hidden"):
        per_student(make)
    listed = next(t for t in BACKPROP.tests() if t.name == TEST)
    assert listed.for_student is not None and listed.hidden
    assert listed.specialised("bob").hint != listed.hint and listed.specialised("bob").for_student is not None


def test_grading_a_per_student_test_without_the_reference_is_refused():
    listed = next(t for t in BACKPROP.tests() if t.name == TEST)
    with pytest.raises(ValueError, match="per-student test: grading it needs the reference"):
        engine._for_student(listed, None, "bob", None)


@pytest.mark.parametrize(
    "metadata, expected",
    [
        ({"users": [{"sid": " S123 ", "email": "a@uni.edu"}]}, "S123"),
        ({"users": [{"sid": "", "email": "jane.doe@uni.edu"}]}, "jane.doe@uni.edu"),
        ({"users": [{"sid": None, "email": "=cmd|x"}]}, "_cmd_x"),  # made safe as make grade's ids
        ({"users": [{"name": "no id"}]}, otter.UNKNOWN_STUDENT),
        ({"users": []}, otter.UNKNOWN_STUDENT),
        ("not json", otter.UNKNOWN_STUDENT),
        (None, otter.UNKNOWN_STUDENT),  # a local `otter run`
    ],
)
def test_gradescope_student_id_from_submission_metadata(tmp_path, metadata, expected):
    if metadata is not None:
        text = metadata if isinstance(metadata, str) else json.dumps(metadata)
        (tmp_path / "submission_metadata.json").write_text(text)
    assert otter.gradescope_student(str(tmp_path)) == expected


def test_otter_grading_uses_the_gradescope_id(tmp_path):
    path = tmp_path / "backprop.py"
    path.write_text(_source_with_answers_of("s7654321"))
    verdicts = {t["name"]: t for t in otter_verdicts.grade_for_otter("backprop", str(path), "s7654321")["tests"]}
    assert verdicts[TEST]["passed"]
    verdicts = {t["name"]: t for t in otter_verdicts.grade_for_otter("backprop", str(path), "s0000001")["tests"]}
    assert not verdicts[TEST]["passed"] and "graded with your id 's0000001'" in verdicts[TEST]["message"]
