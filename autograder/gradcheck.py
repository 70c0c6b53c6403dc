"""Gradient checks for the notebooks: a centered-difference gradient and CS231n's relative error.

    from autograder.gradcheck import numeric_grad, rel_error
    numeric = numeric_grad(lambda x: np.sum(f(x) * dout), x)
    print("dx relative error:", rel_error(dx, numeric))   # about 1e-7 or less when dx is right

A relative error near 1e-7 or below means the analytic gradient agrees; 1e-2 or more means it is wrong.
"""

import numpy as np

__all__ = ["numeric_grad", "rel_error"]


def numeric_grad(f, x, eps=1e-6):
    """The gradient of the scalar function f at x (any shape) by centered differences; x is unchanged."""
    x = np.array(x, dtype=np.float64)
    grad = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        old = x[idx]
        x[idx] = old + eps
        plus = float(f(x.copy()))
        x[idx] = old - eps
        minus = float(f(x.copy()))
        x[idx] = old
        grad[idx] = (plus - minus) / (2 * eps)
    return grad


def rel_error(x, y):
    """CS231n's relative error: max |x − y| / max(1e-8, |x| + |y|), elementwise, over all entries."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if x.shape != y.shape:
        raise ValueError(f"rel_error: shapes differ, {x.shape} and {y.shape}")
    return float(np.max(np.abs(x - y) / np.maximum(1e-8, np.abs(x) + np.abs(y)), initial=0.0))
