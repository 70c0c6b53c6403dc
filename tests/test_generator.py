"""The student material is generated from solution/ and cannot drift from it or leak it."""
import os

import pytest

from autograder.assignments import ASSIGNMENTS
from tools import generate
from tools.skeleton import MarkerError, make_skeleton, solution_blocks, solution_lines

ROOT = generate.ROOT
NAMES = [n for n in ASSIGNMENTS if os.path.exists(os.path.join(ROOT, "solution", f"{n}.py"))]


@pytest.mark.parametrize("name", NAMES)
def test_committed_files_match_the_generator(name):
    """`make assignments` reproduces assignments/ and the public expected values byte for byte."""
    assert generate.drift([name]) == []


@pytest.mark.parametrize("name", NAMES)
def test_skeleton_holds_no_solution_line(name):
    reference = open(os.path.join(ROOT, "solution", f"{name}.py")).read()
    secret = solution_lines(reference, name)
    assert secret, "the reference has solution blocks"
    folder = os.path.join(ROOT, "assignments", name)
    for file in os.listdir(folder):
        text = open(os.path.join(folder, file), encoding="utf-8").read()
        leaked = [line for line in text.splitlines() if line.strip() in secret]
        assert not leaked, f"{file} contains solution lines: {leaked[:3]}"


@pytest.mark.parametrize("name", NAMES)
def test_every_stub_names_its_task_and_function(name):
    reference = open(os.path.join(ROOT, "solution", f"{name}.py")).read()
    skeleton = make_skeleton(reference, name)
    blocks = solution_blocks(reference, name)
    stubs = [line.strip() for line in skeleton.splitlines() if "raise NotImplementedError(" in line]
    assert len(stubs) == len(blocks)
    for stub, (_, _, _, task, _) in zip(stubs, blocks):
        assert stub[len("raise NotImplementedError(") + 1:].startswith(f"Task {task}: ")
    compile(skeleton, name, "exec")


def test_stub_message_names_task_function_and_hint():
    source = "def f(x):\n    y = x\n    # BEGIN SOLUTION (Task 9.1: return y + 1)\n    return y + 1\n    # END SOLUTION\n"
    skeleton = make_skeleton(source, "m.py")
    namespace = {}
    exec(skeleton, namespace)
    with pytest.raises(NotImplementedError, match=r"^Task 9\.1: f — return y \+ 1$"):
        namespace["f"](1)
    assert "    y = x" in skeleton.splitlines() and "    return y + 1" not in skeleton.splitlines()


def test_methods_are_named_with_their_class():
    source = ("class T:\n    def op(self):\n        # BEGIN SOLUTION (Task 1.4)\n        return 1\n"
              "        # END SOLUTION\n")
    assert "Task 1.4: T.op" in make_skeleton(source, "m.py")


@pytest.mark.parametrize("source, message", [
    ("def f():\n    # BEGIN SOLUTION (Task 1.1)\n    # BEGIN SOLUTION (Task 1.1)\n    pass\n", r"m\.py:3: BEGIN SOLUTION inside"),
    ("def f():\n    # BEGIN SOLUTION (Task 1.1)\n    return 1\n", r"m\.py:2: BEGIN SOLUTION is never closed"),
    ("def f():\n    return 1\n    # END SOLUTION\n", r"m\.py:3: END SOLUTION without"),
    ("def f():\n    # BEGIN SOLUTION\n    return 1\n    # END SOLUTION\n", r"m\.py:2: BEGIN SOLUTION needs a label"),
    ("def f():\n    # BEGIN SOLUTION (Task 1.1)\n    # END SOLUTION\n", r"m\.py:2: empty solution block"),
    ("def f():\n    # BEGIN SOLUTON (Task 1.1)\n    return 1\n", r"m\.py:2: unrecognised solution marker"),
    ("# BEGIN SOLUTION (Task 1.1)\nx = 1\n# END SOLUTION\n", r"m\.py:1: a solution block must sit inside a function"),
])
def test_bad_markers_fail_with_file_and_line(source, message):
    with pytest.raises(MarkerError, match=message):
        make_skeleton(source, "m.py")
