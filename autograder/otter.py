"""Otter-Grader glue: the Gradescope autograder grades through this kit's own engine.

`KitPlugin` (an Otter plugin) grades the submission with the sandboxed engine before Otter
executes anything, stores the per-test results, and hands Otter a notebook holding none of the
student's code. Each Otter test then only asks `passed("<test name>")`, so `otter run` and
`make grade` give the same scores by construction, and student code never runs in Otter's kernel.
"""
import json
import os
import pprint

import nbformat

RESULTS_FILE = ".kit_results.json"


def _results_path(directory):
    return os.path.join(directory, RESULTS_FILE)


def grade_for_otter(assignment_name, submission_path) -> dict:
    """{test name: {"passed": bool, "message": str}} from the engine, plus "__notes__"."""
    from autograder import assignments, engine, golden
    from autograder.sandbox import Sandbox

    assignment = assignments.get(assignment_name)
    tests = gradescope_tests(assignment.tests())
    expected = engine.expected_values(tests, assignment.reference(), golden.load(assignment_name))
    with Sandbox(preload=assignment.preload, hide=[os.path.dirname(os.path.abspath(submission_path))]) as box:
        result = engine.grade_submission("submission", submission_path, assignment, tests, expected, box)
    table = {t.name: {"passed": t.status == "passed", "message": t.message} for t in result.tests}
    table["__notes__"] = result.notes
    return table


try:
    from otter.plugins import AbstractOtterPlugin
except ImportError:  # the student zip has no Otter; only the Gradescope side needs it
    AbstractOtterPlugin = object


class KitPlugin(AbstractOtterPlugin):
    """Otter plugin config: {"autograder.otter.KitPlugin": {"assignment": "<name>"}}."""

    def before_execution(self, submission):
        table = grade_for_otter(self.plugin_config["assignment"], self.submission_path)
        with open(_results_path(os.path.dirname(os.path.abspath(self.submission_path))), "w") as f:
            json.dump(table, f)
        notes = "\n".join(f"# {n}" for n in table["__notes__"]) or "# graded by the kit's sandboxed engine"
        return nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(notes)])


def passed(test_name) -> bool:
    """Called by each Otter test (in Otter's kernel, cwd = the submission folder)."""
    with open(_results_path(os.getcwd())) as f:
        entry = json.load(f).get(test_name)
    if entry is None:
        print(f"{test_name}: no result recorded")
        return False
    if not entry["passed"]:
        print(entry["message"])
    return entry["passed"]


def gradescope_tests(tests):
    """The tests an Otter zip carries: Gradescope has no GPU, so GPU-only tests stay out rather
    than being skipped (Otter has no 'skipped': they would read as failed or as free points)."""
    return [t for t in tests if not t.needs_gpu]


def ok_test(test) -> str:
    """The Otter (OK-format) test file for one graded test."""
    # Otter's kernel runs in the submission folder; the engine sits in the zip's source folder beside it.
    code = (f">>> import sys; sys.path.insert(0, '../source')\n"
            f">>> from autograder.otter import passed\n>>> passed({test.name!r})\nTrue")
    case = {"code": code,
            "hidden": bool(test.hidden), "locked": False}
    body = {"name": test.name, "points": test.points,
            "suites": [{"cases": [case], "scored": True, "setup": "", "teardown": "", "type": "doctest"}]}
    return "OK_FORMAT = True\n\ntest = " + pprint.pformat(body, sort_dicts=False) + "\n"
