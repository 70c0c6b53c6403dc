"""The students' self-check: the public tests, judged exactly as the grader judges them, against
expected values recorded from the reference by `make assignments` (no reference needed here)."""

import os
import sys

import numpy as np

from autograder import assignments, engine, wire
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
    tests = [t for t in assignment.tests(public_only=True) if task is None or t.task == str(task)]
    if not tests:
        print(f"check: {name} has no public test for task {task}", file=stream)
        return None
    expected = load_public_expected(name)
    with Sandbox(preload=assignment.preload) as sandbox:
        result = engine.grade_submission("you", path, assignment, tests, expected, sandbox)
    _print(result, {t.name: t for t in tests}, stream)
    return result


def _print(result, tests, stream):
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
            for line in describe_calls(tests[t.name].script().to_message()):
                print(f"          {line}", file=stream)
        if t.stdout.strip():
            print("        your code printed:", file=stream)
            for line in visible(_clip(t.stdout)).splitlines():
                print(f"          | {line}", file=stream)
    passed = sum(t.status == "passed" for t in result.tests)
    print(f"{passed}/{len(result.tests)} public checks passed (hidden tests are graded after you submit)", file=stream)


def _clip(text, lines=20, chars=2000):
    kept = text[:chars].splitlines()[:lines]
    return "\n".join(kept) + ("\n..." if len(text) > len("\n".join(kept)) + 1 else "")


def describe_calls(message) -> list[str]:
    """A recorded test as the Python a student would write: `x3 = conv2d_forward(x, w, b, ...)`."""
    names, lines = {}, []

    def arg(v):
        if isinstance(v, list):
            return "[" + ", ".join(map(arg, v)) + "]"
        if isinstance(v, dict):
            if "$ref" in v:
                return names[v["$ref"]]
            if "$tuple" in v:
                items = list(map(arg, v["$tuple"]))
                return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"
            if "$dict" in v:
                return "{" + ", ".join(f"{k!r}: {arg(x)}" for k, x in v["$dict"]) + "}"
            if "$slice" in v:
                return ":".join("" if p is None else str(p) for p in v["$slice"])
            if "$array" in v:
                return _array_text(v["$array"])
        return repr(v)

    for i, (kind, *parts) in enumerate(message["steps"]):
        if kind in ("student", "lib"):
            names[i] = parts[0]
            continue
        if kind == "getattr":
            names[i] = f"{arg(parts[0])}.{parts[1]}"
            continue
        if kind == "call":
            call_args = (
                [arg(a) for a in parts[1]] + [f"{k}={arg(x)}" for k, x in parts[2]["$dict"]]
                if isinstance(parts[2], dict) and "$dict" in parts[2]
                else [arg(a) for a in parts[1]]
            )
            text = f"{arg(parts[0])}({', '.join(call_args)})"
        elif kind == "op":
            op, *operands = parts
            symbols = {"add": "+", "sub": "-", "mul": "*", "truediv": "/", "pow": "**", "matmul": "@"}
            if op == "getitem":
                text = f"{arg(operands[0])}[{arg(operands[1])}]"
            elif op == "neg":
                text = f"-{arg(operands[0])}"
            else:
                text = f"{arg(operands[0])} {symbols.get(op, op)} {arg(operands[1])}"
        elif kind == "repeat":
            start, op, operand, times = parts
            text = f"{arg(start)}, then `x = x {op} {arg(operand)}` {times} times"
        elif kind == "probe":
            text = f"(a grader helper: {parts[0]})"
        else:
            text = arg(parts[0])
        names[i] = f"x{i}"
        lines.append(f"x{i} = {text}")
    judged = ", ".join(f"{name} (x{i})" for name, i in message["outputs"].items())
    return lines + [f"judged: {judged}"]


def _array_text(a):
    body = np.array2string(a, precision=4, threshold=12, edgeitems=2, separator=", ", max_line_width=10**6)
    return f"array({' '.join(body.split())}, shape={a.shape}, dtype={a.dtype})"


def run_check(name, path=None, task=None) -> int:
    result = check(name, task=task, path=path)
    return 0 if result is not None and all(t.status != "failed" for t in result.tests) else 1
