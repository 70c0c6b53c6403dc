"""Graded tests as data, in the manner of Otter's TestCase: what to call, how many points,
whether students see it, and how to explain a failure."""

from collections.abc import Callable
from dataclasses import dataclass, field, replace

from autograder.policy import ATOL, RTOL, TEST_TIMEOUT_SECONDS, Limits
from autograder.script import Script


@dataclass(frozen=True)
class Slip:
    """A known mistake: `build` records the calls whose reference outputs the mistake reproduces
    (for instance the kernel flipped before a correct convolution)."""

    hint: str
    build: Callable[[Script], None]


@dataclass(frozen=True)
class GradedTest:
    name: str  # shown in feedback and as the CSV column
    task: str  # "3.2": the pytest marker and the stub's error say it too
    points: float
    build: Callable[[Script], None]  # records the calls; outputs are judged
    hidden: bool = True
    rtol: float = RTOL
    atol: float = ATOL
    judge: Callable | None = None  # judge(expected, got) -> Verdict, instead of compare
    slips: tuple[Slip, ...] = ()
    hint: str = ""  # shown on failure
    timeout: float = TEST_TIMEOUT_SECONDS
    limits: Limits = field(default_factory=Limits)
    needs_gpu: bool = False
    for_student: Callable[[str], "GradedTest"] | None = None  # see per_student

    def __post_init__(self):
        if self.for_student is not None and not self.hidden:
            raise ValueError(
                f"{self.name}: a per-student test is hidden (the self-check has no reference "
                "to compute a student's own expected values)"
            )

    def specialised(self, student: str) -> "GradedTest":
        """This test as it is graded for `student` (itself unless it is a per-student test)."""
        if self.for_student is None:
            return self
        return replace(self.for_student(student), for_student=self.for_student)

    def script(self) -> Script:
        s = Script()
        self.build(s)
        return s


def valid_then(first, second):
    """One recording from two: a valid call, then the invalid call that must raise. Input checks
    are given code, so the test pays only when the valid call's outputs, which `first` names with
    s.output, are right too (the engine judges them on their own): a stub or a wrong answer that
    raises the right error earns nothing."""

    def build(s):
        first(s)
        if not s.outputs:
            raise ValueError(f"valid_then: {first.__name__} names no output to judge")
        second(s)

    return build


EXAMPLE_STUDENT = "example"


def per_student(make: Callable[[str], GradedTest]) -> GradedTest:
    """A test whose inputs belong to the student graded (their own numbers, so answers cannot be
    passed around): `make(student_id)` builds it for one student. Listed as made for an example
    student; the engine remakes it for each student and computes its expected values from the
    reference then."""
    return replace(make(EXAMPLE_STUDENT), for_student=make)
