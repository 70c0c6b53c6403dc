"""autodiff's probes its public tests use: functions students' numerical_gradient and derivative
differentiate. Each factory takes the module under test (dual probes use its own exp, sin, ...)."""

import numpy as np


def sum_sin_square(module):
    """f(x) = Σ sin(x)·x², a smooth scalar function of an array of any shape."""
    return lambda x: float(np.sum(np.sin(x) * x**2))


def dual_poly(module):
    """f(x) = 3x³ − 2x + 1/x, pure arithmetic (no module functions)."""
    return lambda x: 3 * x**3 - 2 * x + 1 / x
