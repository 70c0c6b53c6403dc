"""The students' self-check: the public tests, judged exactly as the grader judges them, against
expected values recorded from the reference by `make assignments` (no reference needed here)."""

import os
import sys

import numpy as np

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
        print("\n".join(runnable_calls(test.script().to_message(), name)), file=stream)
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
            for line in describe_calls(tests[t.name].script().to_message()):
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


def describe_calls(message, *, exact=False) -> list[str]:
    """A recorded test as the Python a student would write: `x3 = conv2d_forward(x, w, b, ...)`.
    Arrays are rounded and elided unless `exact` (then every value is written in full)."""
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
                return _exact_array(v["$array"]) if exact else _array_text(v["$array"])
        if exact and isinstance(v, float) and not np.isfinite(v):
            return f"float({str(v)!r})"
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
            if op == "getitem":
                text = f"{arg(operands[0])}[{arg(operands[1])}]"
            elif op == "neg":
                text = f"-{arg(operands[0])}"
            else:
                text = f"{arg(operands[0])} {_SYMBOLS.get(op, op)} {arg(operands[1])}"
        elif kind == "repeat":
            start, op, operand, times = parts
            if exact:
                lines += [
                    f"x{i} = {arg(start)}",
                    f"for _ in range({times}):",
                    f"    x{i} = x{i} {_SYMBOLS.get(op, op)} {arg(operand)}",
                ]
                names[i] = f"x{i}"
                continue
            text = f"{arg(start)}, then `x = x {op} {arg(operand)}` {times} times"
        elif kind == "probe":
            args = ", ".join(["_module", *map(arg, parts[1])]) if exact else ""
            module, function = script.probe_parts(parts[0])
            text = f"{_probe_alias(module)}.{function}({args})" if exact else f"(a grader helper: {function})"
        else:
            text = arg(parts[0])
        names[i] = f"x{i}"
        lines.append(f"x{i} = {text}")
    if exact:
        return lines + [f"print({name!r}, x{i})" for name, i in message["outputs"].items()]
    judged = ", ".join(f"{name} (x{i})" for name, i in message["outputs"].items())
    return lines + [f"judged: {judged}"]


_SYMBOLS = {"add": "+", "sub": "-", "mul": "*", "truediv": "/", "pow": "**", "matmul": "@"}


def runnable_calls(message, module) -> list[str]:
    """describe_calls, exact, as a script: the imports it needs, then the calls."""
    steps = message["steps"]
    student = sorted({s[1] for s in steps if s[0] == "student"})
    libs = sorted({s[1].split(".")[0] for s in steps if s[0] == "lib"} - {"numpy"})
    header = ["import numpy", "from numpy import array, float16, float32, float64, int32, int64, bool_"]
    header += [f"import {lib}" for lib in libs]
    probe_modules = sorted({script.probe_parts(s[1])[0] for s in steps if s[0] == "probe"})
    if probe_modules:  # grader helpers (autograder/probes.py or the assignment's) bound to the module
        header += [f"import {m} as {_probe_alias(m)}" for m in probe_modules] + [f"import {module} as _module"]
    if student:
        header.append(f"from {module} import {', '.join(student)}")
    return header + describe_calls(message, exact=True)


def _probe_alias(module):
    return module.rpartition(".")[0].rpartition(".")[2] + "_probes" if module.count(".") > 1 else "probes"


def _array_text(a):
    body = np.array2string(a, precision=4, threshold=12, edgeitems=2, separator=", ", max_line_width=10**6)
    return f"array({' '.join(body.split())}, shape={a.shape}, dtype={a.dtype})"


def _exact_array(a):
    """An array as Python that rebuilds it bit for bit (repr of a Python float round-trips)."""
    values = a.astype(np.float64).tolist() if a.dtype.kind == "f" else a.tolist()
    text = repr(values).replace("nan", "float('nan')").replace("inf", "float('inf')")
    return f"array({text}, dtype={a.dtype.name if a.dtype.kind != 'b' else 'bool_'})"


def run_check(name, path=None, task=None, *, show_inputs=False) -> int:
    if show_inputs:
        return print_inputs(name, task)
    result = check(name, task=task, path=path)
    return 0 if result is not None and all(t.status != "failed" for t in result.tests) else 1
