"""The students' self-check: the public tests, judged exactly as the grader judges them, against
expected values recorded from the reference by `make assignments` (no reference needed here)."""

import os
import sys

from autograder import assignments, engine, script, wire
from autograder.report import visible
from autograder.sandbox import Sandbox


def expected_path(name):
    return assignments.get(name).path("public.expected")


def record_public_expected(name) -> bytes:
    """The public tests' expected values and slip outputs, from the reference, as wire bytes."""
    assignment = assignments.get(name)
    expected = engine.expected_values(assignment.tests(public_only=True), assignment.reference())
    return wire.encode({test: e.to_plain() for test, e in expected.items()})


def load_public_expected(name):
    with open(expected_path(name), "rb") as f:
        return {test: engine.Expected.from_plain(e) for test, e in wire.decode(f.read()).items()}


def check(name, task=None, path=None, *, stream=None):
    """Run the public tests of `name` (only `task`, e.g. "3.1", if given) on the student's file.

    Returns the SubmissionResult; prints one line per test and the reason for each failure.
    """
    stream = stream or sys.stdout
    assignment = assignments.get(name)
    path = path or os.path.join(os.getcwd(), assignment.filename)
    if not os.path.exists(path):
        print(f"check: {path} not found (run this next to your {assignment.filename}, or give its path)", file=stream)
        return None
    tests = _public_tests(assignment, task, stream)
    if not tests:
        return None
    expected = load_public_expected(name)
    with Sandbox(preload=assignment.preload) as sandbox:
        result = engine.grade_submission("you", path, assignment, tests, expected, sandbox)
    _print(result, {t.name: t for t in tests}, stream, name)
    return result


def _public_tests(assignment, task, stream):
    if task is not None and str(task) not in assignment.tasks:
        print(
            f"check: {task!r} is not a task of {assignment.name}; its tasks: {', '.join(assignment.tasks)}", file=stream
        )
        return []
    tests = [t for t in assignment.tests(public_only=True) if task is None or t.task == str(task)]
    if not tests:
        print(f"check: {assignment.name} has no public test for task {task}", file=stream)
    return tests


def print_inputs(name, task=None, *, stream=None):
    """Each public test (of `task`) as a runnable Python script: its calls with their inputs at full
    precision, run on the student's module from its folder, printing what the test judges."""
    stream = stream or sys.stdout
    assignment = assignments.get(name)
    tests = _public_tests(assignment, task, stream)
    for test in tests:
        print(
            f"# ---- public test {test.name} (task {test.task}); run it next to your {assignment.filename}", file=stream
        )
        print("\n".join(script.runnable_calls(test.script().to_message(), name)), file=stream)
        print(file=stream)
    return 0 if tests else 2


def _print(result, tests, stream, name=None):
    for note in result.notes:
        if not note.startswith("isolation"):
            print(f"!! {visible(note)}", file=stream)
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
        for line in visible(t.message.strip()).splitlines():
            print(f"        {line}", file=stream)
        if "not implemented yet" not in t.message:
            print("        the test ran (public inputs):", file=stream)
            for line in script.describe_calls(tests[t.name].script().to_message()):
                print(f"          {line}", file=stream)
            if name:
                print(
                    f"        exact inputs, as Python: python -m autograder check {name} {t.task} --show-inputs",
                    file=stream,
                )
        if t.stdout.strip():
            print("        your code printed:", file=stream)
            for line in visible(_clip(t.stdout)).splitlines():
                print(f"          | {line}", file=stream)
    passed = sum(t.status == "passed" for t in result.tests)
    print(f"{passed}/{len(result.tests)} public checks passed (hidden tests are graded after you submit)", file=stream)


def _clip(text, lines=20, chars=2000):
    kept = text[:chars].splitlines()[:lines]
    return "\n".join(kept) + ("\n..." if len(text) > len("\n".join(kept)) + 1 else "")


def run_check(name, path=None, task=None, *, show_inputs=False) -> int:
    if show_inputs:
        return print_inputs(name, task)
    result = check(name, task=task, path=path)
    return 0 if result is not None and all(t.status != "failed" for t in result.tests) else 1
