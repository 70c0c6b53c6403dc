"""The students' self-check: the public tests, judged exactly as the grader judges them, against
expected values recorded from the reference by `make assignments` (no reference needed here)."""
import os
import sys

from autograder import assignments, engine, wire
from autograder.sandbox import Sandbox

PUBLIC_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "public")


def expected_path(name):
    return os.path.join(PUBLIC_DIR, f"{name}.expected")


def record_public_expected(name) -> bytes:
    """The public tests' expected values and slip outputs, from the reference, as wire bytes."""
    assignment = assignments.get(name)
    return wire.encode(engine.expected_values(assignment.tests(public_only=True), assignment.reference()))


def load_public_expected(name):
    with open(expected_path(name), "rb") as f:
        return wire.decode(f.read())


def check(name, task=None, path=None, *, stream=None):
    """Run the public tests of `name` (only `task`, e.g. "3.1", if given) on the student's file.

    Returns the SubmissionResult; prints one line per test and the reason for each failure.
    """
    stream = stream or sys.stdout
    assignment = assignments.get(name)
    path = path or os.path.join(os.getcwd(), assignment.filename)
    if not os.path.exists(path):
        print(f"check: {path} not found (run this next to your {assignment.filename}, or give its path)",
              file=stream)
        return None
    tests = [t for t in assignment.tests(public_only=True) if task is None or t.task == str(task)]
    if not tests:
        print(f"check: {name} has no public test for task {task}", file=stream)
        return None
    expected = load_public_expected(name)
    with Sandbox(preload=assignment.preload) as sandbox:
        result = engine.grade_submission("you", path, assignment, tests, expected, sandbox)
    _print(result, stream)
    return result


def _print(result, stream):
    for note in result.notes:
        if not note.startswith("isolation"):
            print(f"!! {note}", file=stream)
    for t in result.tests:
        if t.status == "passed":
            print(f"  PASS  task {t.task}  {t.name}", file=stream)
            continue
        if t.status == "skipped":
            print(f"  SKIP  task {t.task}  {t.name}: {t.message}", file=stream)
            continue
        print(f"  FAIL  task {t.task}  {t.name}", file=stream)
        if t.message in result.notes:
            continue  # a whole-file problem, said once above
        for line in t.message.strip().splitlines():
            print(f"        {line}", file=stream)
    passed = sum(t.status == "passed" for t in result.tests)
    print(f"{passed}/{len(result.tests)} public checks passed "
          f"(hidden tests are graded after you submit)", file=stream)


def run_check(name, path=None) -> int:
    result = check(name, path=path)
    return 0 if result is not None and all(t.status != "failed" for t in result.tests) else 1
