"""The notebooks' shared gradient check (autograder/gradcheck.py) against hand-computed values."""

import numpy as np
import pytest

from autograder.gradcheck import numeric_grad, rel_error


def test_numeric_grad_of_a_known_function_leaves_x_unchanged():
    x = np.array([[1.0, -2.0], [0.5, 3.0]])
    before = x.copy()
    grad = numeric_grad(lambda v: np.sum(v**3) + v[0, 1] * v[1, 0], x)
    expected = 3 * x**2 + np.array([[0.0, x[1, 0]], [x[0, 1], 0.0]])
    np.testing.assert_allclose(grad, expected, rtol=1e-8)
    np.testing.assert_array_equal(x, before)


def test_numeric_grad_of_a_scalar_argument():
    assert numeric_grad(lambda v: float(np.sin(v)), 0.3) == pytest.approx(np.cos(0.3), rel=1e-9)


def test_rel_error_is_cs231ns():
    assert rel_error(np.array([1.0, 2.0]), np.array([1.0, 2.0])) == 0.0
    assert rel_error(np.array([1.0, 3.0]), np.array([1.0, 1.0])) == pytest.approx(0.5)  # |3 − 1| / (3 + 1)
    assert rel_error(np.zeros(2), np.full(2, 1e-10)) == pytest.approx(1e-2)  # the 1e-8 floor
    with pytest.raises(ValueError, match="rel_error: shapes differ"):
        rel_error(np.zeros(2), np.zeros(3))
