"""Tests for solution/dropout.py (Assignment 4). p is the probability of DROPPING a unit.

Oracles: hand-computed values with a given mask, binomial bounds on a seeded
Generator, the formula `rng.random(x.shape) >= p` reproduced independently, and
central finite differences for the backward pass.
"""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from solution.dropout import classic_test_weights, dropout_backward, dropout_forward
from tests.strategies import arrays, seeds, small_shapes

drop_probs = st.floats(min_value=0.0, max_value=0.95)


# ## Task 4.1: dropout_forward


@pytest.mark.task4_1
def test_task4_1_dropout_forward_given_mask_hand_computed():
    x = np.array([[1.0, 2.0], [3.0, 4.0]])
    mask = np.array([[True, False], [False, True]])
    # p = 0.5: kept units are scaled by 1/(1 − 0.5) = 2
    out, _ = dropout_forward(x, 0.5, mask=mask)
    np.testing.assert_array_equal(out, [[2.0, 0.0], [0.0, 8.0]])
    # p = 0.75: kept units are scaled by 1/(1 − 0.75) = 4
    out, _ = dropout_forward(x, 0.75, mask=~mask)
    np.testing.assert_array_equal(out, [[0.0, 8.0], [12.0, 0.0]])


@pytest.mark.task4_1
@pytest.mark.parametrize("p", [0.1, 0.3, 0.5, 0.9])
def test_task4_1_dropout_forward_drop_rate_within_binomial_bounds(p):
    n = 200_000
    x = np.ones(n)
    out, _ = dropout_forward(x, p, rng=np.random.default_rng(1234))
    dropped = int(np.count_nonzero(out == 0.0))
    # dropped ~ Binomial(n, p): allow 5 standard deviations
    assert abs(dropped - n * p) <= 5 * np.sqrt(n * p * (1 - p)), (dropped, n * p)
    # every kept unit is scaled by 1/(1 − p)
    np.testing.assert_allclose(out[out != 0.0], 1.0 / (1.0 - p), rtol=1e-15)


@pytest.mark.task4_1
@pytest.mark.parametrize("p", [0.2, 0.5, 0.8])
def test_task4_1_dropout_forward_preserves_the_mean(p):
    rng = np.random.default_rng(7)
    x = rng.uniform(0.5, 2.0, size=(400, 500))
    out, _ = dropout_forward(x, p, rng=np.random.default_rng(99))
    # out_i = x_i keep_i / (1 − p): E[out_i] = x_i, Var[out_i] = x_i² p / (1 − p)
    sd_of_mean = np.sqrt(np.sum(x**2) * p / (1 - p)) / x.size
    assert abs(out.mean() - x.mean()) <= 5 * sd_of_mean


@pytest.mark.task4_1
@given(x=arrays(small_shapes), p=drop_probs, seed=st.integers(min_value=0, max_value=2**32 - 1))
def test_task4_1_dropout_forward_matches_formula_for_seeded_generator(x, p, seed):
    x0 = x.copy()
    out, _ = dropout_forward(x, p, rng=np.random.default_rng(seed))
    keep = np.random.default_rng(seed).random(x.shape) >= p  # reproduced independently
    assert out.shape == x.shape and out.dtype == np.float64
    np.testing.assert_allclose(out, np.where(keep, x / (1.0 - p), 0.0), rtol=1e-15, atol=0)
    np.testing.assert_array_equal(x, x0)


@pytest.mark.task4_1
def test_task4_1_dropout_forward_same_seed_same_mask():
    x = np.ones((30, 40))
    out1, _ = dropout_forward(x, 0.5, rng=np.random.default_rng(5))
    out2, _ = dropout_forward(x, 0.5, rng=np.random.default_rng(5))
    out3, _ = dropout_forward(x, 0.5, rng=np.random.default_rng(6))
    np.testing.assert_array_equal(out1, out2)
    assert not np.array_equal(out1, out3)
    # without a Generator it still works (fresh default_rng())
    out4, _ = dropout_forward(x, 0.5)
    assert out4.shape == x.shape and set(np.unique(out4)) <= {0.0, 2.0}


@pytest.mark.task4_1
def test_task4_1_dropout_forward_test_mode_is_identity_copy():
    x = np.arange(12.0).reshape(3, 4)
    x0 = x.copy()
    rng = np.random.default_rng(0)
    state = rng.bit_generator.state
    out, _ = dropout_forward(x, 0.5, train=False, rng=rng)
    np.testing.assert_array_equal(out, x0)
    assert out is not x and not np.shares_memory(out, x)
    out[0, 0] = 100.0
    np.testing.assert_array_equal(x, x0)
    assert rng.bit_generator.state == state  # test mode draws no random numbers


@pytest.mark.task4_1
@given(x=arrays(small_shapes), rng=seeds())
def test_task4_1_dropout_forward_p0_keeps_everything(x, rng):
    out, _ = dropout_forward(x, 0.0, rng=rng)
    np.testing.assert_array_equal(out, x)


@pytest.mark.task4_1
@pytest.mark.parametrize("p", [1.0, 1.5, -0.1, float("nan")])
@pytest.mark.parametrize("train", [True, False])
def test_task4_1_dropout_forward_rejects_p_outside_0_1(p, train):
    with pytest.raises(ValueError, match=r"dropout_forward: p .*0 <= p < 1"):
        dropout_forward(np.ones(3), p, train=train, rng=np.random.default_rng(0))


@pytest.mark.task4_1
def test_task4_1_dropout_forward_rejects_bad_mask():
    x = np.ones((2, 3))
    with pytest.raises(ValueError, match=r"dropout_forward: mask .*\(2, 3\).*\(3, 2\)"):
        dropout_forward(x, 0.5, mask=np.ones((3, 2), dtype=bool))
    with pytest.raises(ValueError, match=r"dropout_forward: mask .*bool.*float64"):
        dropout_forward(x, 0.5, mask=np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"dropout_forward: mask .*bool.*int"):
        dropout_forward(x, 0.5, mask=np.ones((2, 3), dtype=int))
    with pytest.raises(TypeError, match=r"dropout_forward: rng"):
        dropout_forward(x, 0.5, rng=42)


@pytest.mark.task4_1
def test_task4_1_dropout_forward_leaves_mask_untouched():
    x = np.array([1.0, -2.0, 3.0])
    mask = np.array([True, False, True])
    out, cache = dropout_forward(x, 0.5, mask=mask)
    np.testing.assert_array_equal(mask, [True, False, True])
    np.testing.assert_array_equal(x, [1.0, -2.0, 3.0])
    mask[1] = True  # changing the caller's mask later must not change the backward pass
    np.testing.assert_array_equal(dropout_backward(np.ones(3), cache), [2.0, 0.0, 2.0])


# ## Task 4.2: dropout_backward


@pytest.mark.task4_2
def test_task4_2_dropout_backward_given_mask_hand_computed():
    x = np.array([[1.0, 2.0], [3.0, 4.0]])
    mask = np.array([[True, False], [False, True]])
    _, cache = dropout_forward(x, 0.75, mask=mask)
    dout = np.array([[1.0, 1.0], [-2.0, 0.5]])
    dout0 = dout.copy()
    # dx = dout · keep / (1 − 0.75) = dout · keep · 4
    np.testing.assert_array_equal(dropout_backward(dout, cache), [[4.0, 0.0], [0.0, 2.0]])
    np.testing.assert_array_equal(dout, dout0)


@pytest.mark.task4_2
@given(x=arrays(small_shapes), p=drop_probs, rng=seeds())
def test_task4_2_dropout_backward_matches_central_differences(x, p, rng):
    mask = rng.random(x.shape) >= p
    dout = rng.standard_normal(x.shape)
    _, cache = dropout_forward(x, p, mask=mask)
    dx = dropout_backward(dout, cache)
    eps = 1e-6
    numeric = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        xp, xm = x.copy(), x.copy()
        xp[idx] += eps
        xm[idx] -= eps
        Lp = np.sum(dout * dropout_forward(xp, p, mask=mask)[0])
        Lm = np.sum(dout * dropout_forward(xm, p, mask=mask)[0])
        numeric[idx] = (Lp - Lm) / (2 * eps)
    np.testing.assert_allclose(dx, numeric, rtol=1e-6, atol=1e-6)


@pytest.mark.task4_2
def test_task4_2_dropout_backward_test_mode_passes_gradient_through():
    x = np.ones((2, 2))
    _, cache = dropout_forward(x, 0.5, train=False)
    dout = np.array([[1.0, -2.0], [3.0, 0.5]])
    dx = dropout_backward(dout, cache)
    np.testing.assert_array_equal(dx, dout)
    assert dx is not dout


@pytest.mark.task4_2
def test_task4_2_dropout_backward_bad_inputs():
    _, cache = dropout_forward(np.ones((2, 3)), 0.5, rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match=r"dropout_backward: dout .*\(2, 3\).*\(3, 2\)"):
        dropout_backward(np.ones((3, 2)), cache)
    with pytest.raises(TypeError, match=r"dropout_backward: cache"):
        dropout_backward(np.ones((2, 3)), (0.5, None))


# ## Task 4.3: classic_test_weights


@pytest.mark.task4_3
def test_task4_3_classic_test_weights_hand_computed():
    W = np.array([[2.0, -4.0], [0.0, 8.0]])
    np.testing.assert_array_equal(classic_test_weights(W, 0.25), [[1.5, -3.0], [0.0, 6.0]])
    np.testing.assert_array_equal(classic_test_weights(W, 0.0), W)
    np.testing.assert_array_equal(W, [[2.0, -4.0], [0.0, 8.0]])


@pytest.mark.task4_3
@given(W=arrays(small_shapes), p=drop_probs)
def test_task4_3_classic_test_weights_scales_by_keep_probability(W, p):
    W0 = W.copy()
    out = classic_test_weights(W, p)
    assert out.shape == W.shape and out is not W
    np.testing.assert_allclose(out, W * (1.0 - p), rtol=1e-15, atol=0)
    np.testing.assert_array_equal(W, W0)


@pytest.mark.task4_3
def test_task4_3_classic_matches_inverted_dropout_in_expectation():
    # a layer y = W x after dropout on x: classic uses W(1 − p) at test time,
    # inverted dropout uses W unchanged; both equal E[W · (x ⊙ keep)] in training.
    p = 0.4
    rng = np.random.default_rng(3)
    W, x = rng.standard_normal((3, 5)), rng.standard_normal(5)
    classic = classic_test_weights(W, p) @ x
    masks = rng.random((100_000, 5)) >= p
    train_mean = (W @ (x * masks).T).mean(axis=1)  # classic training: no scaling
    np.testing.assert_allclose(train_mean, classic, atol=0.05)


@pytest.mark.task4_3
@pytest.mark.parametrize("p", [1.0, -0.5])
def test_task4_3_classic_test_weights_rejects_bad_p(p):
    with pytest.raises(ValueError, match=r"classic_test_weights: p"):
        classic_test_weights(np.ones(2), p)
