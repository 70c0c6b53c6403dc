"""Score a variant of a reference module against an assignment's graded tests, in this process.

For the kit's own tests of fairness: a correct alternative (a sample's edits applied to the
reference) must keep (nearly) full marks. The real grader runs submissions in a sandbox; here the
variant is trusted code, so the same recordings and judge run without one, in well under a second.
"""

import types

from autograder import engine
from autograder.assignments import get
from autograder.course import samples
from autograder.sandbox import RunResult


def module_from_source(name, source):
    module = types.ModuleType(name)
    exec(compile(source, f"<{name}>", "exec"), module.__dict__)
    return module


def sample_module(assignment, sample):
    """The reference with the edits of samples.toml's [sample] applied, as a module."""
    return module_from_source(f"{assignment}_{sample}", samples.sources(assignment)[sample])


def points_lost(assignment, reference, module):
    """{test name: points} for every graded test of `assignment` that `module` fails."""
    lost = {}
    for test in get(assignment).tests():
        want = engine.run_reference(test.build, reference)
        got = engine.run_reference(test.build, module)
        if got.raises is not None:
            result = RunResult("error", error={"type": got.raises, "step": got.step, "message": ""})
        else:
            result = RunResult("ok", outputs=got.outputs)
        if not engine.judge(test, engine.Expected(want), result).passed:
            lost[test.name] = test.points
    return lost
