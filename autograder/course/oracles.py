"""Shared helpers of the PyTorch oracles (autograder/course/<name>/authoring/oracle.py): what
tools/goldens.py replays the graded tests on. Authoring code: the grader never imports it.

Each oracle module exposes the spec's names that PyTorch can compute
(missing names make the tests that use them get no golden). Oracles compute in float64 on
DEVICE (CUDA when available) and return what the reference returns: NumPy float64 arrays,
Python floats, dicts and tuples of them. Recording runs inside `deterministic()`.
"""

import contextlib

import numpy as np
import torch

DEVICE = torch.device("cuda" if torch.cuda.is_available() else "cpu")


def tensor(value, requires_grad=False) -> torch.Tensor:
    """A float64 copy of `value` on DEVICE (the caller's array is never shared)."""
    t = torch.tensor(np.asarray(value, dtype=np.float64), dtype=torch.float64, device=DEVICE)
    return t.requires_grad_(requires_grad)


def numpy(t: torch.Tensor) -> np.ndarray:
    """A tensor's values as a fresh float64 ndarray on the CPU."""
    return t.detach().to("cpu", torch.float64).numpy().copy()


def scalar_or_array(t: torch.Tensor):
    """A Python float for a 0-d result (as the reference returns), else an ndarray."""
    return t.item() if t.ndim == 0 else numpy(t)


@contextlib.contextmanager
def deterministic():
    """Deterministic algorithms and no TF32 while recording; the previous settings after."""
    saved = (
        torch.are_deterministic_algorithms_enabled(),
        torch.backends.cuda.matmul.allow_tf32,
        torch.backends.cudnn.allow_tf32,
        torch.backends.cudnn.benchmark,
    )
    torch.use_deterministic_algorithms(True)
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cudnn.benchmark = False
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(saved[0])
        (torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32, torch.backends.cudnn.benchmark) = (
            saved[1:]
        )
