"""momentum's probes: gradients of test functions its minimize tests descend."""

import numpy as np


def quadratic_gradient(module, diagonal):
    """∇J for J(θ) = ½ Σ d_i θ_i², an ill-conditioned bowl when the d_i differ."""
    d = np.asarray(diagonal, dtype=float)
    return lambda theta: d * theta
