"""autodiff's probes only its hidden tests use (shipped only in the autograder zip)."""

import numpy as np


def log_sum_exp(module):
    return lambda x: float(np.log(np.sum(np.exp(x))))


def quadratic_form(module, matrix):
    """f(x) = ½ xᵀAx for a flat x."""
    a = np.asarray(matrix, dtype=float)
    return lambda x: float(0.5 * x.ravel() @ a @ x.ravel())


def dual_composite(module):
    """f(x) = sin(x)·exp(x) + log(x)·tanh(x) − cos(x)/sigmoid(x), through the module's functions."""
    m = module
    return lambda x: m.sin(x) * m.exp(x) + m.log(x) * m.tanh(x) - m.cos(x) / m.sigmoid(x)
