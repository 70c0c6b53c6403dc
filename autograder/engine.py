"""Grade submissions: expected values from the reference (in this process, trusted), student
values from a sandbox (never trusted), and a verdict per graded test."""

import builtins
import queue
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from enum import StrEnum

from autograder import compare, golden, probes, script, wire
from autograder.policy import BUDGET_WALL_FACTOR, IMPORT_TIMEOUT_SECONDS
from autograder.sandbox import RunResult, Sandbox, SandboxError
from autograder.submissions import EmptySubmission, SubmissionError, read_nonempty


class Status(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    SKIPPED = "skipped"  # a GPU-only test on a grader without a GPU: left out of max_score


@dataclass
class TestResult:
    name: str
    task: str
    points: float
    max_points: float
    status: Status
    message: str = ""
    hidden: bool = True
    stdout: str = ""
    seconds: float = 0.0
    brief: str = ""  # what a student may see of a hidden test's failure (see _brief); message is the TAs'


@dataclass
class SubmissionResult:
    student: str
    assignment: str
    tests: list[TestResult] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    status: str = "graded"  # "unreadable" or "empty" when the entry could not be read as a submission

    @property
    def score(self):
        return round(sum(t.points for t in self.tests), 6)

    @property
    def max_score(self):
        return round(sum(t.max_points for t in self.tests if t.status != Status.SKIPPED), 6)


# ---------------------------------------------------------------- expected values (trusted)


@dataclass(frozen=True)
class Outcome:
    """What recorded calls give on the reference: their outputs, or the exception an invalid call
    raises (its type name and step) with the outputs of the valid calls before it, if it names any."""

    outputs: dict | None = None
    raises: str | None = None
    step: int | None = None
    valid: dict | None = None

    def to_plain(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if v is not None}

    @classmethod
    def from_plain(cls, data: dict) -> "Outcome":
        return cls(**data)


@dataclass(frozen=True)
class Expected:
    """Everything a test is judged against: the reference's outcome, what each known slip would
    have produced (hint, outcome), and the PyTorch outputs recorded on a GPU, if any."""

    outcome: Outcome
    slips: tuple[tuple[str, Outcome], ...] = ()
    golden: dict | None = None
    golden_source: str = ""

    def to_plain(self) -> dict:
        plain = {"expected": self.outcome.to_plain(), "slips": [[h, o.to_plain()] for h, o in self.slips]}
        if self.golden is not None:
            plain["golden"] = {"outputs": self.golden, "source": self.golden_source}
        return plain

    @classmethod
    def from_plain(cls, data: dict) -> "Expected":
        golden = data.get("golden") or {}
        return cls(
            Outcome.from_plain(data["expected"]),
            tuple((h, Outcome.from_plain(o)) for h, o in data["slips"]),
            golden.get("outputs"),
            golden.get("source", ""),
        )


def _plain_roundtrip(outputs):
    """The exact plain form a sandbox would send back, so both sides are compared alike."""
    return wire.decode(wire.encode({k: script.to_plain(v) for k, v in outputs.items()}))


def run_reference(build, reference) -> Outcome:
    """Run recorded calls on the reference. Where it raises after valid calls whose outputs the
    test names, `valid` holds those outputs (see valid_calls): a submission passes such a test
    only if they are right too."""
    s = script.Script()
    build(s)
    want = _run_message(s.to_message(), reference)
    if want.raises is not None:
        prefix = script.valid_calls(s.to_message(), want.step)
        if prefix["outputs"]:
            valid = _run_message(prefix, reference)
            if valid.outputs is None:
                raise RuntimeError(f"the reference raises in the valid calls before step {want.step}")
            return replace(want, valid=valid.outputs)
    return want


def _run_message(message, reference):
    """torch runs on one thread here, as in the sandbox: oversubscribed OpenMP threads on a busy
    grading machine cost more than they give."""
    torch = sys.modules.get("torch")
    threads = torch.get_num_threads() if torch else None
    if torch:
        torch.set_num_threads(1)
    try:
        return Outcome(outputs=_plain_roundtrip(script.run(message, reference, probes)))
    except script.StepError as err:
        return Outcome(raises=err.exc_type, step=err.step)
    finally:
        if torch:
            torch.set_num_threads(threads)


def expected_values(tests, reference, goldens=None) -> dict[str, Expected]:
    """{test name: Expected}, the GPU outputs taken from `goldens` where still fresh (golden.py).
    A per-student test's entry is its example student's; grade_submission computes each student's.
    Tests skipped on this grader (a GPU test without CUDA) have none: their reference never runs."""
    tests = [t for t in tests if not _skipped_here(t)]
    recorded = golden.fresh_entries(goldens, tests)
    source = golden.describe(goldens["provenance"]) if goldens else ""
    return {
        t.name: Expected(
            run_reference(t.build, reference),
            _slip_outcomes(t, reference),
            recorded[t.name]["outputs"] if t.name in recorded else None,
            source if t.name in recorded else "",
        )
        for t in tests
    }


def _slip_outcomes(test, reference):
    return tuple((slip.hint, run_reference(slip.build, reference)) for slip in test.slips)


_REFERENCE_LOCK = threading.Lock()  # grade_all's threads share the reference module and torch's settings


def _for_student(test, expected, student, reference):
    """(the test, its Expected) as graded for `student`."""
    if test.for_student is None:
        return test, expected
    if reference is None:
        raise ValueError(f"{test.name} is a per-student test: grading it needs the reference")
    test = test.specialised(student)
    with _REFERENCE_LOCK:
        return test, Expected(run_reference(test.build, reference), _slip_outcomes(test, reference))


# ---------------------------------------------------------------- judging


def judge(test, expected: Expected, result: RunResult) -> compare.Verdict:
    if result.status == "timeout":
        return compare.Verdict(
            False,
            f"timed out after {test.timeout:g} s of CPU time or {BUDGET_WALL_FACTOR * test.timeout:g} s on the "
            "clock (infinite loop, very slow code or waiting forever?)",
        )
    if result.status == "crashed":
        return compare.Verdict(False, f"the test process died: {result.exit}")
    if result.status == "import_error":
        return compare.Verdict(False, f"the module failed to import: {_error_text(result.error)}")
    want = expected.outcome
    if want.raises is not None:
        if result.status == "error" and result.error.get("type") == want.raises:
            if result.error.get("step", want.step) < want.step:
                return compare.Verdict(
                    False, f"raised {_error_text(result.error)} already in a valid call before the invalid one"
                )
            return compare.PASS
        got = f"raised {_error_text(result.error)}" if result.status == "error" else "returned normally"
        return compare.Verdict(False, f"expected a {want.raises} for this invalid input, but it {got}")
    if result.status == "error":
        return compare.Verdict(False, f"raised {_error_text(result.error)}")
    if test.judge is not None:
        return test.judge(want.outputs, result.outputs)
    verdict = _compare_outputs(test, want.outputs, result.outputs)
    if verdict.passed and expected.golden is not None:
        against_gpu = _compare_outputs(test, expected.golden, result.outputs)
        if not against_gpu.passed:
            return compare.Verdict(
                False,
                f"matches the float64 reference but not the PyTorch outputs recorded "
                f"on a GPU ({expected.golden_source}): {against_gpu.message}",
            )
    return verdict


def _compare_outputs(test, want, got):
    """The first output that differs, or a pass (carrying any note about how values came back)."""
    notes = []
    for name, value in want.items():
        if name not in got:
            return compare.Verdict(False, f"{name}: no value came back")
        verdict = compare.compare(value, got[name], rtol=test.rtol, atol=test.atol, name=name)
        if not verdict.passed:
            return verdict
        notes += [verdict.message] if verdict.message else []
    return compare.Verdict(True, "; ".join(notes))


def _error_text(error):
    if not error:
        return "an unknown error"
    if error.get("type") == "NotImplementedError":
        return f"NotImplementedError: not implemented yet ({error.get('message')})"
    text = f"{error.get('type')}: {error.get('message')}"
    return text + (f" [at {error['where']}]" if error.get("where") else "")


def _slip_hint(test, expected, result):
    if result.status != "ok":
        return None
    for hint, alt in expected.slips:
        if alt.outputs is not None and all(
            name in result.outputs and compare.compare(v, result.outputs[name], rtol=test.rtol, atol=test.atol).passed
            for name, v in alt.outputs.items()
        ):
            return hint
    return None


# ---------------------------------------------------------------- grading


def grade_submission(student, path, assignment, tests, expected, sandbox: Sandbox, reference=None) -> SubmissionResult:
    """Grade one file. `reference` is needed only for per-student tests (testcase.per_student),
    whose expected values are the student's own."""
    result = SubmissionResult(student, assignment.name)
    result.notes += [
        f"isolation not applied: {name}: {m.detail}" for name, m in sandbox.isolation.items() if not m.applied
    ]
    try:
        source, filename = read_nonempty(path, assignment)
    except SubmissionError as err:
        result.status = "empty" if isinstance(err, EmptySubmission) else "unreadable"
        return _zero(result, tests, str(err))
    # Even compiling is left to the sandbox: a crafted file can exhaust the compiler.
    sandbox.load(source, filename, assignment.name)
    probe = sandbox.run(script.Script().to_message(), timeout=IMPORT_TIMEOUT_SECONDS)
    if probe.status == "import_error" and probe.error.get("type") == "SyntaxError":
        return _zero(result, tests, f"syntax error: {probe.error.get('message')}")
    if probe.status != "ok":
        reason = {
            "import_error": lambda: f"import failed: {_error_text(probe.error)}",
            "timeout": lambda: f"importing the module did not finish within {IMPORT_TIMEOUT_SECONDS:g} s of CPU time",
            "crashed": lambda: f"importing the module killed the process: {probe.exit}",
        }.get(probe.status, lambda: f"import failed: {_error_text(probe.error)}")()
        return _zero(result, tests, reason, stdout=probe.stdout)
    for test in tests:
        result.tests.append(_grade_test(*_for_student(test, expected.get(test.name), student, reference), sandbox))
    return result


def _grade_test(test, expected, sandbox):
    base = dict(name=test.name, task=test.task, max_points=test.points, hidden=test.hidden)
    if _skipped_here(test):
        return TestResult(
            **base, points=0.0, status=Status.SKIPPED, message="skipped: needs a CUDA GPU and this grader has none"
        )
    calls = test.script().to_message()
    run = sandbox.run(calls, timeout=test.timeout, limits=test.limits)
    verdict = judge(test, expected, run)
    if verdict.passed and expected.outcome.valid is not None:
        verdict = _judge_valid_calls(test, expected.outcome, calls, sandbox)
    message, brief = verdict.message, ""
    if not verdict.passed:
        slip = _slip_hint(test, expected, run)
        brief = _brief(expected.outcome, run, verdict.message) + (
            f"\nLikely slip: {slip}" if slip else f"\nHint: {test.hint}" if test.hint else ""
        )
        if slip:
            message += f"\nLikely slip: {slip}"
        else:
            message = _explain_inputs_test(test, expected, calls, run, message)
    return TestResult(
        **base,
        points=test.points if verdict.passed else 0.0,
        status=Status.PASSED if verdict.passed else Status.FAILED,
        message=message,
        stdout=run.stdout,
        seconds=run.seconds,
        brief=brief,
    )


def _brief(want, run, message):
    """What kind of thing failed, in the kit's own words: never the test's inputs, outputs,
    expected values, what the code printed, nor any text or name the submission chose (an
    exception's message or class name could carry the hidden inputs out)."""
    error = run.error or {}
    if run.status == "timeout":
        return "timed out (infinite loop or very slow code?)"
    if run.status == "crashed":
        return f"the test process died: {run.exit}"  # the worker's own description of the exit
    if run.status == "import_error":
        return "the module failed to import"
    if run.status == "error" and error.get("type") in _KIT_ERRORS:  # the child's frame may say any phase
        return _KIT_ERRORS[error["type"]]
    raised = f"raised {_builtin_name(error.get('type'))}"
    if want.raises is not None:
        if run.status == "error" and error.get("type") == want.raises:
            if "it raises as it should" in message:
                return "an invalid input raises as it should, but a valid call before it is wrong or raises"
            return f"{raised} already in a valid call before the invalid one"
        got = raised if run.status == "error" else "returned normally"
        return f"expected a {want.raises} for an invalid input, but it {got}"
    if run.status == "error":
        return raised
    if "not the PyTorch outputs recorded" in message:
        return "matches the float64 reference but not the PyTorch outputs recorded on a GPU"
    if "inputs left unchanged" in message:
        return "a result is wrong"
    for words, kind in (
        ("no value came back", "a result did not come back"),
        ("shape mismatch", "a result has the wrong shape"),
        ("non-finite", "a result holds NaN or inf"),
    ):
        if words in message:
            return kind
    return "a result is wrong (or an input was changed in place)"


_KIT_ERRORS = {
    "TimeBudgetExceeded": "the submission used up its grading time budget (all its tests together)",
    "OutputTooLarge": "the result sent back was larger than the grader takes",
    "WireError": "the result sent back was malformed",
    "BadReply": "the result sent back was malformed",
}


def _builtin_name(name):
    """An exception type's name if it is one of Python's own, else words that name nothing."""
    builtin = getattr(builtins, name, None) if isinstance(name, str) else None
    if isinstance(builtin, type) and issubclass(builtin, BaseException):
        return name
    return "an exception of the submission's own class"


def _explain_inputs_test(test, expected, calls, run, message):
    """The failure message with the hint. A test that reads its inputs back (s.value) reports a
    changed input first; if the inputs are intact and a result is wrong, it says so instead of
    its hint, which is about modifying inputs and would mislead."""
    read_back = {name for name, i in calls["outputs"].items() if calls["steps"][i][0] == "const"}
    want = expected.outcome.outputs or {}
    if read_back and run.status == "ok" and test.judge is None:
        inputs = _compare_outputs(test, {k: v for k, v in want.items() if k in read_back}, run.outputs)
        if inputs.passed:
            return "inputs left unchanged pay only next to right results, and a result is wrong: " + message
        message = inputs.message
    return message + (f"\nHint: {test.hint}" if test.hint else "")


def _judge_valid_calls(test, want, message, sandbox):
    """A test of an invalid input pays only when the valid calls before it return the right values:
    no points for raising the right error from code that computes nothing right."""
    prefix = script.valid_calls(message, want.step)
    run = sandbox.run(prefix, timeout=test.timeout, limits=test.limits)
    verdict = judge(replace(test, judge=None), Expected(Outcome(outputs=want.valid)), run)
    if verdict.passed:
        return compare.PASS
    return compare.Verdict(
        False,
        "it raises as it should, but the valid call before the invalid one is wrong "
        f"(no points for the error alone): {verdict.message}",
    )


def _zero(result, tests, reason, stdout=""):
    result.notes.append(reason)
    for test in tests:
        result.tests.append(
            TestResult(test.name, test.task, 0.0, test.points, Status.FAILED, reason, test.hidden, stdout, brief=reason)
        )
    return result


def refused(student, assignment, tests, reason) -> SubmissionResult:
    """0 on every test for a submission that could not be read, with the reason."""
    return _zero(SubmissionResult(student, assignment.name), tests, reason)


def _skipped_here(test):
    """A GPU test on a grader without CUDA: graded as skipped."""
    return test.needs_gpu and not _cuda_available()


def _cuda_available():
    try:
        import torch

        return torch.cuda.is_available()
    except ImportError:
        return False


def grade_all(assignment, entries, *, tests, expected, jobs=1, on_done=None) -> list[SubmissionResult]:
    """Grade (student, path) entries, `jobs` sandboxes at a time; results in input order."""
    reference = assignment.reference() if any(t.for_student for t in tests) else None
    slots = queue.Queue()
    for slot in range(jobs):
        slots.put(slot)

    def one(entry):
        student, path = entry
        slot = slots.get()
        try:
            for attempt in (1, 2):
                try:
                    with Sandbox(
                        preload=assignment.preload, slot=slot, budget_seconds=Sandbox.budget_for(tests)
                    ) as sandbox:
                        return grade_submission(student, path, assignment, tests, expected, sandbox, reference)
                except SandboxError as err:
                    if attempt == 2:
                        return _zero(
                            SubmissionResult(student, assignment.name),
                            tests,
                            f"the grading sandbox failed twice: {err}",
                        )
                except Exception as err:  # one submission never stops the grading of the others
                    return _zero(
                        SubmissionResult(student, assignment.name),
                        tests,
                        f"internal grading error ({type(err).__name__}: {err}); please report it",
                    )
        finally:
            slots.put(slot)
            if on_done:
                on_done(student)

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        return list(pool.map(one, entries))
