"""What the kit's engine tells Otter about one submission: run as its own process by
autograder.otter (the plugin), which this module never imports, so that process starts without
Otter, nbformat and jsonschema (about 1.8 s of imports on the machines here)."""

import json
import os
import sys

from autograder import assignments, engine, golden, report
from autograder.sandbox import Sandbox


def grade_for_otter(assignment_name, submission_path, student, refused="") -> dict:
    """{"tests": [{name, task, points, max_points, passed, hidden, message}], "notes": [...]}:
    graded as `make grade` grades (the same time budget), shown as a student's feedback is (a
    hidden test's brief only, control characters escaped). `refused`: why the file was not read."""
    assignment = assignments.get(assignment_name)
    tests = gradescope_tests(assignment.tests())
    if refused:
        result = engine.refused(student, assignment, tests, refused)
    else:
        expected = engine.expected_values(tests, assignment.reference(), golden.load(assignment_name))
        with Sandbox(preload=assignment.preload, budget_seconds=Sandbox.budget_for(tests)) as box:
            result = engine.grade_submission(
                student, submission_path, assignment, tests, expected, box, assignment.reference()
            )
    return {
        "hidden_visibility": assignment.hidden_visibility,  # when Gradescope shows students hidden tests
        "tests": [
            {
                "name": t.name,
                "task": t.task,
                "points": t.points,
                "max_points": t.max_points,
                "passed": t.status == "passed",
                "hidden": t.hidden,
                "message": report.visible(report.shown(t)[0]),
            }
            for t in result.tests
        ],
        "notes": [report.visible(n) for n in result.notes],
    }


def main():
    """Entry of the grading process (argv: source folder, assignment, file, student id, and why
    the file was refused, if it was).
    The verdicts go to the parent's pipe on a private descriptor; anything else printed goes to
    stderr, so nothing can mix into them."""
    _, assignment, path, student, refused = sys.argv[1:6]
    verdicts = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    json.dump(grade_for_otter(assignment, path, student, refused), verdicts)
    verdicts.close()


def gradescope_tests(tests):
    """The tests an Otter zip carries: Gradescope has no GPU, so GPU-only tests stay out rather
    than being skipped (Otter has no 'skipped': they would read as failed or as free points)."""
    return [t for t in tests if not t.needs_gpu]
