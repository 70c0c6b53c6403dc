"""Benchmark: where one gpu_training submission's grading time goes on the CPU, before and after
two changes to how the sandbox's worker starts (the sandbox and its guarantees are the same):

- before: a fresh Python per submission imports numpy, torch and scikit-learn (worker start), and
  every test's fresh child imports torch._dynamo (sympy and more) on its first nn/optim call;
- after: the worker is forked from a zygote that imported all of that, torch._dynamo included,
  once per grading run (zygote.py, worker._IMPORTED_ON_FIRST_USE).

The reference solution is graded REPEATS times each way, interleaved, in this one run; the median
of each row is printed.

Run:  python -m bench bench.gpu_grading
"""

import os
import statistics
import time

from autograder import assignments, engine, golden
from autograder.sandbox import Sandbox
from autograder.submissions import read_submission

REPEATS = 2


def _grade_once(assignment, tests, expected, path, warm):
    if warm:
        os.environ.pop("AUTOGRADER_NO_ZYGOTE", None)
    else:
        os.environ["AUTOGRADER_NO_ZYGOTE"] = "1"
    started = time.perf_counter()
    with Sandbox(preload=assignment.preload, budget_seconds=Sandbox.budget_for(tests), warm_imports=warm) as sandbox:
        ready = time.perf_counter()
        result = engine.grade_submission("bench", path, assignment, tests, expected, sandbox)
    total = time.perf_counter() - started
    seconds = {t.name: t.seconds for t in result.tests}
    steps = sum(s for name, s in seconds.items() if name.startswith("train_step"))
    training = sum(s for name, s in seconds.items() if name.startswith("train_") and not name.startswith("train_step"))
    return {
        "worker start (before: python + imports; after: a fork)": ready - started,
        "train_step tests (first nn/optim call in each)": steps,
        "training test (train() to 97%)": training,
        "other tests": sum(seconds.values()) - steps - training,
        "total per submission": total,
    }, result.score


def main():
    assignment = assignments.get("gpu_training")
    tests = assignment.tests()
    expected = engine.expected_values(tests, assignment.reference(), golden.load(assignment.name))
    path = "solution/gpu_training.py"
    read_submission(path, assignment)  # fails early if the reference cannot be read
    started = time.perf_counter()
    with Sandbox(preload=assignment.preload):  # starts the zygote: once per grading run
        zygote = time.perf_counter() - started
    runs = {False: [], True: []}
    for _ in range(REPEATS):
        for warm in (False, True):
            rows, score = _grade_once(assignment, tests, expected, path, warm)
            runs[warm].append(rows)
            assert score > 0, "the reference should score"
    print(f"gpu_training: one submission (the reference) graded on the CPU, median of {REPEATS}")
    print(f"  {'':58s} {'before':>22s} {'after':>14s}")
    for key in runs[True][0]:
        before = statistics.median(r[key] for r in runs[False])
        after = statistics.median(r[key] for r in runs[True])
        print(f"  {key:58s} {before:20.1f} s {after:12.1f} s")
    before = statistics.median(r["total per submission"] for r in runs[False])
    after = statistics.median(r["total per submission"] for r in runs[True])
    print(f"  {'zygote start (imports), once per grading run':58s} {'-':>22s} {zygote:12.1f} s")
    print(f"  gpu_training per-submission speed-up: {before / after:.2f}x  (target >= 2x)")
