"""The student material is generated from solution/ and cannot drift from it or leak it."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from autograder import ROOT, wire
from autograder.assignments import ASSIGNMENTS
from autograder.skeleton import MarkerError, make_skeleton, solution_blocks, solution_lines
from tools import generate

NAMES = [n for n in ASSIGNMENTS if os.path.exists(os.path.join(ROOT, "solution", f"{n}.py"))]


@pytest.mark.parametrize("name", NAMES)
def test_committed_files_match_the_generator(name):
    """`make assignments` reproduces assignments/ and the public expected values byte for byte."""
    assert generate.drift([name]) == []


def _blas_settings():
    """Thread counts and, on x86, OpenBLAS kernels other than the one this CPU would pick."""
    settings = [
        {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"},
        {"OPENBLAS_NUM_THREADS": "2", "OMP_NUM_THREADS": "2"},
    ]
    flags = Path("/proc/cpuinfo").read_text(encoding="utf-8") if os.path.exists("/proc/cpuinfo") else ""
    if " sse3" in flags or " pni" in flags:
        settings[0]["OPENBLAS_CORETYPE"] = "Prescott"  # an SSE3 kernel: every x86-64 runs it
    if " avx2" in flags:
        settings[1]["OPENBLAS_CORETYPE"] = "Haswell"
    return settings


@pytest.mark.slow
@pytest.mark.parametrize("setting", _blas_settings(), ids=lambda s: "-".join(f"{k}={v}" for k, v in s.items()))
def test_generation_does_not_depend_on_the_blas_kernel_or_threads(setting):
    """Regenerated under another kernel and thread count, the committed files still match."""
    env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}
    env.update(setting)
    probe = subprocess.run(
        [
            sys.executable,
            "-c",
            "import numpy, threadpoolctl; print([(i['internal_api'], "
            "i.get('architecture'), i['num_threads']) for i in threadpoolctl.threadpool_info()])",
        ],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    if "OPENBLAS_CORETYPE" in setting and "openblas" in probe.stdout:
        assert "SkylakeX" not in probe.stdout and "Zen" not in probe.stdout, probe.stdout  # the setting took
    run = subprocess.run(
        [sys.executable, "-m", "tools.generate", "--check"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert run.returncode == 0, f"{probe.stdout}{run.stderr[-2000:]}"


def _committed_expected(name):
    with open(ASSIGNMENTS[name].path("public.expected"), "rb") as f:
        return wire.decode(f.read())


def _first_float_array(value):
    if isinstance(value, np.ndarray) and value.dtype.kind == "f" and value.size:
        return value
    children = value.values() if isinstance(value, dict) else value if isinstance(value, (list, tuple)) else ()
    return next((a for a in map(_first_float_array, children) if a is not None), None)


def test_drift_check_ignores_rounding_but_not_a_changed_value():
    """One ulp is rounding; a tenth of the test's tolerance is not; neither is a changed shape."""
    tests = {t.name: t for t in ASSIGNMENTS["cnn_layer"].tests(public_only=True)}
    tolerances = {name: (t.rtol, t.atol) for name, t in tests.items()}
    committed = _committed_expected("cnn_layer")
    assert generate.expected_agree(committed, _committed_expected("cnn_layer"), tolerances)

    def perturbed(change):
        copy = _committed_expected("cnn_layer")
        array = _first_float_array(copy["conv2d_forward_basic"])
        change(array)
        return copy

    one_ulp = perturbed(lambda a: a.__setitem__((0,) * a.ndim, np.nextafter(a.flat[0], np.inf)))
    assert generate.expected_agree(committed, one_ulp, tolerances)
    rtol = tests["conv2d_forward_basic"].rtol
    moved = perturbed(lambda a: a.__setitem__((0,) * a.ndim, a.flat[0] * (1 + rtol) + 1e-6))
    assert not generate.expected_agree(committed, moved, tolerances)
    reshaped = _committed_expected("cnn_layer")
    outputs = reshaped["conv2d_forward_basic"]["expected"]["outputs"]
    outputs["out"] = outputs["out"].reshape(-1)
    assert not generate.expected_agree(committed, reshaped, tolerances)
    assert not generate.expected_agree(committed, {**committed, "extra": {}}, tolerances)


@pytest.mark.parametrize("name", NAMES)
def test_skeleton_holds_no_solution_line(name):
    reference = Path(ROOT, "solution", f"{name}.py").read_text(encoding="utf-8")
    secret = solution_lines(reference, name)
    assert secret, "the reference has solution blocks"
    folder = os.path.join(ROOT, "assignments", name)
    for file in os.listdir(folder):
        text = Path(folder, file).read_text(encoding="utf-8")
        leaked = [line for line in text.splitlines() if line.strip() in secret]
        assert not leaked, f"{file} contains solution lines: {leaked[:3]}"


@pytest.mark.parametrize("name", NAMES)
def test_every_stub_names_its_task_and_function(name):
    reference = Path(ROOT, "solution", f"{name}.py").read_text(encoding="utf-8")
    skeleton = make_skeleton(reference, name)
    blocks = solution_blocks(reference, name)
    stubs = [line.strip() for line in skeleton.splitlines() if "raise NotImplementedError(" in line]
    assert len(stubs) == len(blocks)
    for stub, (_, _, _, task, _) in zip(stubs, blocks, strict=False):
        assert stub[len("raise NotImplementedError(") + 1 :].startswith(f"Task {task}: ")
    compile(skeleton, name, "exec")


def test_stub_message_names_task_function_and_hint():
    source = (
        "def f(x):\n    y = x\n    # BEGIN SOLUTION (Task 9.1: return y + 1)\n    return y + 1\n    # END SOLUTION\n"
    )
    skeleton = make_skeleton(source, "m.py")
    namespace = {}
    exec(skeleton, namespace)
    with pytest.raises(NotImplementedError, match=r"^Task 9\.1: f — return y \+ 1$"):
        namespace["f"](1)
    assert "    y = x" in skeleton.splitlines() and "    return y + 1" not in skeleton.splitlines()


def test_methods_are_named_with_their_class():
    source = (
        "class T:\n    def op(self):\n        # BEGIN SOLUTION (Task 1.4)\n        return 1\n        # END SOLUTION\n"
    )
    assert "Task 1.4: T.op" in make_skeleton(source, "m.py")


@pytest.mark.parametrize(
    "source, message",
    [
        (
            "def f():\n    # BEGIN SOLUTION (Task 1.1)\n    # BEGIN SOLUTION (Task 1.1)\n    pass\n",
            r"m\.py:3: BEGIN SOLUTION inside",
        ),
        ("def f():\n    # BEGIN SOLUTION (Task 1.1)\n    return 1\n", r"m\.py:2: BEGIN SOLUTION is never closed"),
        ("def f():\n    return 1\n    # END SOLUTION\n", r"m\.py:3: END SOLUTION without"),
        (
            "def f():\n    # BEGIN SOLUTION\n    return 1\n    # END SOLUTION\n",
            r"m\.py:2: BEGIN SOLUTION needs a label",
        ),
        ("def f():\n    # BEGIN SOLUTION (Task 1.1)\n    # END SOLUTION\n", r"m\.py:2: empty solution block"),
        ("def f():\n    # BEGIN SOLUTON (Task 1.1)\n    return 1\n", r"m\.py:2: unrecognised solution marker"),
        (
            "# BEGIN SOLUTION (Task 1.1)\nx = 1\n# END SOLUTION\n",
            r"m\.py:1: a solution block must sit inside a function",
        ),
    ],
)
def test_bad_markers_fail_with_file_and_line(source, message):
    with pytest.raises(MarkerError, match=message):
        make_skeleton(source, "m.py")
