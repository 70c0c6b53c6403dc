"""Tests for solution/backprop.py (Assignment 1).

Oracles: hand-computed values, the lecture's formulas, torch.autograd in float64 and
central finite differences. Nothing here compares the code with its own output.
"""

import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from solution.backprop import (
    GRAPH_KEYS,
    delta_hidden,
    delta_output,
    delta_output_bce,
    grad_b1,
    grad_b2,
    graph_by_hand,
    graph_example,
    graph_inputs,
    l1_penalty,
    l2_penalty,
    linear_regression_grad,
    mlp_backward,
    mlp_forward,
    mlp_loss,
    sgd_step,
    sigmoid,
    tanh_bce_backward,
    tanh_bce_loss,
)
from tests.strategies import arrays, finite

KEYS = ("W1", "b1", "w2", "b2")
dims = st.integers(min_value=1, max_value=5)


def _copy_params(params):
    return {k: (np.array(v) if isinstance(v, np.ndarray) else v) for k, v in params.items()}


def _random_params(rng, D, H, scale=1.0):
    return {
        "W1": scale * rng.standard_normal((H, D)),
        "b1": scale * rng.standard_normal(H),
        "w2": scale * rng.standard_normal(H),
        "b2": float(scale * rng.standard_normal()),
    }


def _torch_mlp_grads(params, X, y):
    """E = ½ Σ (y − o)² and its gradients by torch.autograd in float64."""
    t = {k: torch.tensor(np.asarray(v, dtype=np.float64), requires_grad=True) for k, v in params.items()}
    Xt = torch.tensor(X)
    yt = torch.tensor(y)
    h = torch.sigmoid(Xt @ t["W1"].T + t["b1"])
    o = torch.sigmoid(h @ t["w2"] + t["b2"])
    E = 0.5 * ((yt - o) ** 2).sum()
    E.backward()
    return E.item(), o.detach().numpy(), {k: t[k].grad.numpy() for k in KEYS}


def _central_diff(f, x, eps=1e-6):
    """Centered differences of a scalar function f of an ndarray x (x not modified)."""
    x = np.array(x, dtype=np.float64)
    grad = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        old = x[idx]
        x[idx] = old + eps
        fp = f(x)
        x[idx] = old - eps
        fm = f(x)
        x[idx] = old
        grad[idx] = (fp - fm) / (2 * eps)
    return grad


@st.composite
def mlp_case(draw):
    """Random (params, X, y) with N, D, H in 1..5, drawn from a hypothesis seed."""
    N, D, H = draw(dims), draw(dims), draw(dims)
    rng = np.random.default_rng(draw(st.integers(min_value=0, max_value=2**32 - 1)))
    params = _random_params(rng, D, H)
    X = rng.standard_normal((N, D))
    y = rng.uniform(0.0, 1.0, size=N)
    return params, X, y


# ## Task 1.1: graph_example


@pytest.mark.task1_1
def test_task1_1_graph_example_lecture_values():
    # c = 3, d = 2, e = 6; de/da = d = 2; de/db = c + d = 5
    e, de_da, de_db = graph_example(2.0, 1.0)
    assert (e, de_da, de_db) == (6.0, 2.0, 5.0)
    assert all(isinstance(v, float) for v in graph_example(2, 1))


@pytest.mark.task1_1
@given(a=finite, b=finite)
def test_task1_1_graph_example_matches_torch(a, b):
    at = torch.tensor(a, dtype=torch.float64, requires_grad=True)
    bt = torch.tensor(b, dtype=torch.float64, requires_grad=True)
    et = (at + bt) * (bt + 1)
    et.backward()
    e, de_da, de_db = graph_example(a, b)
    np.testing.assert_allclose([e, de_da, de_db], [et.item(), at.grad.item(), bt.grad.item()], rtol=1e-12, atol=1e-12)


@pytest.mark.task1_1
def test_task1_1_graph_inputs_are_small_valid_integers_of_the_normalised_id():
    pairs = {graph_inputs(f"s{n:07d}") for n in range(2000)}
    assert len(pairs) > 150  # students get different numbers
    for a, b in pairs:
        assert a == int(a) and b == int(b) and -9 <= a <= 9 and -9 <= b <= 9
        assert a != 0 and b not in (0.0, -1.0) and a + b != 0
    assert graph_inputs("  Alice@Uni.EDU ") == graph_inputs("alice@uni.edu")
    assert graph_inputs("alice") == graph_inputs("alice")
    for bad in ("", "   ", None, 42):
        with pytest.raises(ValueError, match="graph_inputs: student_id must be a non-empty string"):
            graph_inputs(bad)


@pytest.mark.task1_1
def test_task1_1_graph_by_hand_hand_computed_for_one_id():
    # graph_inputs("alice") = (−4, −2): c = −6, d = −1, e = 6; de/dc = d = −1, de/dd = c = −6,
    # de/da = −1, de/db = c + d = −7
    assert graph_inputs("alice") == (-4.0, -2.0)
    assert graph_by_hand("alice") == {
        "a": -4.0,
        "b": -2.0,
        "c": -6.0,
        "d": -1.0,
        "e": 6.0,
        "de_dc": -1.0,
        "de_dd": -6.0,
        "de_da": -1.0,
        "de_db": -7.0,
    }


@pytest.mark.task1_1
@given(student=st.text(min_size=1, max_size=30).filter(str.strip))
def test_task1_1_graph_by_hand_matches_torch_at_the_students_numbers(student):
    a, b = graph_inputs(student)
    at, bt = (torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in (a, b))
    c, d = at + bt, bt + 1
    c.retain_grad(), d.retain_grad()
    e = c * d
    e.backward()
    want = {
        "a": a,
        "b": b,
        "c": c.item(),
        "d": d.item(),
        "e": e.item(),
        "de_dc": c.grad.item(),
        "de_dd": d.grad.item(),
        "de_da": at.grad.item(),
        "de_db": bt.grad.item(),
    }
    got = graph_by_hand(student)
    assert tuple(got) == GRAPH_KEYS
    assert got == pytest.approx(want, abs=1e-12)


# ## Task 1.2: linear_regression_grad


@pytest.mark.task1_2
def test_task1_2_linear_regression_grad_hand_computed():
    # x_1 = (1, 0), x_2 = (1, 2), w = (1, 1): o = (1, 3); y − o = (1, −2)
    # −2 Σ (y_n − o_n) x_n = −2 [1·(1, 0) + (−2)·(1, 2)] = −2 (−1, −4) = (2, 8)
    X = np.array([[1.0, 0.0], [1.0, 2.0]])
    w = np.array([1.0, 1.0])
    y = np.array([2.0, 1.0])
    np.testing.assert_allclose(linear_regression_grad(w, X, y), [2.0, 8.0], rtol=0, atol=1e-14)


@pytest.mark.task1_2
@given(N=dims, D=dims, seed=st.integers(min_value=0, max_value=2**32 - 1))
def test_task1_2_linear_regression_grad_matches_lecture_sum_and_torch(N, D, seed):
    rng = np.random.default_rng(seed)
    X, w, y = rng.standard_normal((N, D)), rng.standard_normal(D), rng.standard_normal(N)
    X0, w0, y0 = X.copy(), w.copy(), y.copy()
    got = linear_regression_grad(w, X, y)
    assert got.shape == (D,)
    # the lecture's sum, one example at a time: −2 Σ_n (y_n − o_n) x_n
    lecture = sum(-2.0 * (y[n] - X[n] @ w) * X[n] for n in range(N))
    np.testing.assert_allclose(got, lecture, rtol=1e-10, atol=1e-10)
    wt = torch.tensor(w, requires_grad=True)
    ((torch.tensor(y) - torch.tensor(X) @ wt) ** 2).sum().backward()
    np.testing.assert_allclose(got, wt.grad.numpy(), rtol=1e-10, atol=1e-10)
    np.testing.assert_array_equal(X, X0)
    np.testing.assert_array_equal(w, w0)
    np.testing.assert_array_equal(y, y0)


@pytest.mark.task1_2
def test_task1_2_linear_regression_grad_bad_shapes():
    with pytest.raises(ValueError, match=r"linear_regression_grad: X .*\(4, 3\)"):
        linear_regression_grad(np.zeros(2), np.zeros((4, 3)), np.zeros(4))
    with pytest.raises(ValueError, match=r"linear_regression_grad: y .*\(5,\)"):
        linear_regression_grad(np.zeros(3), np.zeros((4, 3)), np.zeros(5))
    with pytest.raises(ValueError, match=r"linear_regression_grad: w .*\(3, 1\)"):
        linear_regression_grad(np.zeros((3, 1)), np.zeros((4, 3)), np.zeros(4))


# ## Task 1.3: sigmoid and mlp_forward


@pytest.mark.task1_3
def test_task1_3_sigmoid_matches_torch_and_is_stable():
    z = np.concatenate([np.linspace(-50, 50, 201), [-1e4, -800.0, -710.0, 710.0, 800.0, 1e4]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an overflow warning fails the test
        with np.errstate(over="raise", invalid="raise", divide="raise"):
            got = sigmoid(z)
    assert got.shape == z.shape
    np.testing.assert_allclose(got, torch.sigmoid(torch.tensor(z)).numpy(), rtol=1e-14, atol=1e-300)
    assert got[-1] == 1.0 and got[-6] == 0.0 and np.all(np.isfinite(got))
    assert sigmoid(0.0) == 0.5
    assert isinstance(sigmoid(0.0), float)
    z2 = np.array([[-3.0, 0.5], [2.0, 40.0]])
    np.testing.assert_allclose(sigmoid(z2), 1.0 / (1.0 + np.exp(-z2)), rtol=1e-15)


@pytest.mark.task1_3
@given(case=mlp_case())
def test_task1_3_mlp_forward_matches_torch(case):
    params, X, y = case
    before = _copy_params(params)
    o, _ = mlp_forward(params, X)
    _, o_torch, _ = _torch_mlp_grads(params, X, y)
    assert o.shape == (X.shape[0],)
    np.testing.assert_allclose(o, o_torch, rtol=1e-12, atol=1e-14)
    for k in KEYS:
        np.testing.assert_array_equal(params[k], before[k])


@pytest.mark.task1_3
def test_task1_3_mlp_forward_hand_computed():
    # W1 = 0, b1 = 0 → h = σ(0) = ½;  o = σ(½·w2_1 + ½·w2_2 + b2) = σ(½·2 + ½·(−2) + 0) = ½
    params = {"W1": np.zeros((2, 3)), "b1": np.zeros(2), "w2": np.array([2.0, -2.0]), "b2": 0.0}
    o, cache = mlp_forward(params, np.ones((4, 3)))
    np.testing.assert_array_equal(o, np.full(4, 0.5))


@pytest.mark.task1_3
def test_task1_3_mlp_forward_bad_shapes():
    params = {"W1": np.zeros((2, 3)), "b1": np.zeros(2), "w2": np.zeros(2), "b2": 0.0}
    with pytest.raises(ValueError, match=r"mlp_forward: X .*\(4, 5\)"):
        mlp_forward(params, np.zeros((4, 5)))
    with pytest.raises(ValueError, match=r"mlp_forward: X .*\(3,\)"):
        mlp_forward(params, np.zeros(3))
    with pytest.raises(ValueError, match=r"mlp_forward: params\['b1'\] .*\(3,\)"):
        mlp_forward({**params, "b1": np.zeros(3)}, np.zeros((4, 3)))
    with pytest.raises(ValueError, match=r"mlp_forward: params\['w2'\] .*\(2, 1\)"):
        mlp_forward({**params, "w2": np.zeros((2, 1))}, np.zeros((4, 3)))
    with pytest.raises(ValueError, match=r"mlp_forward: params\['W1'\] .*\(6,\)"):
        mlp_forward({**params, "W1": np.zeros(6)}, np.zeros((4, 3)))
    with pytest.raises(ValueError, match=r"mlp_forward: params\['b2'\] .*\(1,\)"):
        mlp_forward({**params, "b2": np.zeros(1)}, np.zeros((4, 3)))
    with pytest.raises(ValueError, match=r"mlp_forward: params is missing key\(s\) \['w2'\]"):
        mlp_forward({k: v for k, v in params.items() if k != "w2"}, np.zeros((4, 3)))


# ## Task 1.3: mlp_loss


@pytest.mark.task1_3
def test_task1_3_mlp_loss_is_a_sum_hand_computed():
    # all weights 0 → o_n = ½ for every n;  E = ½ [(1 − ½)² + (0 − ½)² + (1 − ½)²] = 0.375
    # (a mean would give 0.125)
    params = {"W1": np.zeros((2, 3)), "b1": np.zeros(2), "w2": np.zeros(2), "b2": 0.0}
    X = np.arange(9.0).reshape(3, 3)
    assert mlp_loss(params, X, np.array([1.0, 0.0, 1.0])) == pytest.approx(0.375, abs=1e-15)
    # b2 = ln 3 → o = σ(ln 3) = 3/4;  E = ½ [(1 − ¾)² + (0 − ¾)²] = ½ (1/16 + 9/16) = 0.3125
    params["b2"] = float(np.log(3.0))
    loss = mlp_loss(params, X[:2], np.array([1.0, 0.0]))
    assert isinstance(loss, float)
    assert loss == pytest.approx(0.3125, abs=1e-14)


@pytest.mark.task1_3
@given(case=mlp_case())
def test_task1_3_mlp_loss_matches_torch(case):
    params, X, y = case
    E_torch, _, _ = _torch_mlp_grads(params, X, y)
    assert mlp_loss(params, X, y) == pytest.approx(E_torch, rel=1e-12, abs=1e-14)


@pytest.mark.task1_3
def test_task1_3_mlp_loss_bad_y():
    params = {"W1": np.zeros((2, 3)), "b1": np.zeros(2), "w2": np.zeros(2), "b2": 0.0}
    with pytest.raises(ValueError, match=r"mlp_loss: y .*\(4,\).*\(5,\)"):
        mlp_loss(params, np.zeros((4, 3)), np.zeros(5))
    with pytest.raises(ValueError, match=r"mlp_loss: y .*\(4, 1\)"):
        mlp_loss(params, np.zeros((4, 3)), np.zeros((4, 1)))


# ## Task 1.6: mlp_backward


@pytest.mark.task1_6
@given(case=mlp_case())
def test_task1_6_mlp_backward_matches_torch(case):
    params, X, y = case
    before = _copy_params(params)
    X0, y0 = X.copy(), y.copy()
    grads = mlp_backward(params, X, y)
    _, _, expected = _torch_mlp_grads(params, X, y)
    assert set(grads) == set(KEYS)
    assert isinstance(grads["b2"], float)
    for k in ("W1", "b1", "w2"):
        assert isinstance(grads[k], np.ndarray) and grads[k].shape == np.shape(params[k]), k
    for k in KEYS:
        np.testing.assert_allclose(grads[k], expected[k], rtol=1e-10, atol=1e-12, err_msg=k)
        np.testing.assert_array_equal(params[k], before[k])
    np.testing.assert_array_equal(X, X0)
    np.testing.assert_array_equal(y, y0)


@pytest.mark.task1_6
@given(case=mlp_case())
def test_task1_6_mlp_backward_matches_central_differences(case):
    params, X, y = case
    grads = mlp_backward(params, X, y)
    for k in KEYS:

        def E_of(value, k=k):
            p = dict(params)
            p[k] = float(value) if k == "b2" else value
            return mlp_loss(p, X, y)

        numeric = _central_diff(E_of, np.asarray(params[k], dtype=np.float64))
        np.testing.assert_allclose(grads[k], numeric, rtol=1e-6, atol=1e-7, err_msg=k)


@pytest.mark.task1_6
def test_task1_6_mlp_backward_delta_formulas_by_hand():
    # W1 = 0, b1 = 0 → h = ½; w2 = (1, −1), b2 = 0 → a2 = 0, o = ½ for every example.
    # δ_n = −(y_n − o_n) o_n (1 − o_n) = −(y_n − ½)/4:  y = (1, 0) → δ = (−1/8, 1/8)
    # dE/db2 = Σ δ_n = 0;  dE/dw2_j = Σ δ_n h_j = 0
    # δ1_{n,j} = δ_n w2_j h_j (1 − h_j) = δ_n w2_j / 4
    #   → δ1 = [[−1/32, 1/32], [1/32, −1/32]]
    # dE/dW1 = δ1ᵀ X with x_1 = (2, 0), x_2 = (0, 4):
    #   row 1: (−1/32·2, 1/32·4) = (−1/16, 1/8);  row 2: (1/16, −1/8)
    # dE/db1 = Σ_n δ1_{n,j} = (0, 0)
    params = {"W1": np.zeros((2, 2)), "b1": np.zeros(2), "w2": np.array([1.0, -1.0]), "b2": 0.0}
    X = np.array([[2.0, 0.0], [0.0, 4.0]])
    y = np.array([1.0, 0.0])
    g = mlp_backward(params, X, y)
    np.testing.assert_allclose(g["W1"], [[-1 / 16, 1 / 8], [1 / 16, -1 / 8]], atol=1e-15)
    np.testing.assert_allclose(g["b1"], [0.0, 0.0], atol=1e-15)
    np.testing.assert_allclose(g["w2"], [0.0, 0.0], atol=1e-15)
    assert g["b2"] == pytest.approx(0.0, abs=1e-15)
    # one example only: dE/db2 = δ_1 = −1/8
    assert mlp_backward(params, X[:1], y[:1])["b2"] == pytest.approx(-0.125, abs=1e-15)


@pytest.mark.task1_6
def test_task1_6_mlp_backward_bad_shapes():
    params = {"W1": np.zeros((2, 3)), "b1": np.zeros(2), "w2": np.zeros(2), "b2": 0.0}
    with pytest.raises(ValueError, match=r"mlp_backward: X .*D = W1.shape\[1\] = 3.*\(4, 2\)"):
        mlp_backward(params, np.zeros((4, 2)), np.zeros(4))
    with pytest.raises(ValueError, match=r"mlp_backward: y .*\(3,\)"):
        mlp_backward(params, np.zeros((4, 3)), np.zeros(3))


# ## Tasks 1.4-1.5: the derivation steps


def _torch_delta(o, y, loss):
    """∂loss/∂a for o = σ(a), by torch.autograd at a = logit(o)."""
    a = torch.logit(torch.tensor(o, dtype=torch.float64)).requires_grad_(True)
    loss(torch.sigmoid(a), torch.tensor(y, dtype=torch.float64)).backward()
    return a.grad.numpy()


@pytest.mark.task1_4
def test_task1_4_delta_output_hand_computed_and_torch():
    # o = ½, y = 1: δ = (o − y)·o(1 − o) = (−½)(¼) = −1/8;  o = 0.9, y = 0: 0.9·0.9·0.1 = 0.081
    np.testing.assert_allclose(delta_output(np.array([0.5, 0.9]), np.array([1.0, 0.0])), [-0.125, 0.081], rtol=1e-14)
    rng = np.random.default_rng(4)
    o, y = rng.uniform(0.01, 0.99, (3, 5)), rng.uniform(size=(3, 5))
    o0, y0 = o.copy(), y.copy()
    want = _torch_delta(o, y, lambda o, y: 0.5 * ((y - o) ** 2).sum())
    np.testing.assert_allclose(delta_output(o, y), want, rtol=1e-12, atol=1e-15)
    np.testing.assert_array_equal(o, o0), np.testing.assert_array_equal(y, y0)
    with pytest.raises(ValueError, match=r"delta_output: o and y must have the same shape, got \(3,\) and \(4,\)"):
        delta_output(np.zeros(3), np.zeros(4))


@pytest.mark.task1_4
@given(case=mlp_case())
def test_task1_4_grad_b2_and_task1_5_grad_b1_match_torch(case):
    params, X, y = case
    _, _, want = _torch_mlp_grads(params, X, y)
    b2 = grad_b2(params, X, y)
    assert isinstance(b2, float)
    assert b2 == pytest.approx(float(want["b2"]), rel=1e-10, abs=1e-12)
    np.testing.assert_allclose(grad_b1(params, X, y), want["b1"], rtol=1e-10, atol=1e-12)


@pytest.mark.task1_5
def test_task1_5_delta_hidden_hand_computed_and_central_differences():
    # δ = 1, w2 = (2, −1), h = (½, 0.9): δ^(1) = δ·w2·h(1 − h) = (2·¼, −0.09) = (0.5, −0.09)
    np.testing.assert_allclose(
        delta_hidden(np.array([1.0]), np.array([2.0, -1.0]), np.array([[0.5, 0.9]])), [[0.5, -0.09]], rtol=1e-14
    )
    # δ^(1) = ∂E/∂a^(1) of the network: differentiate E numerically in the hidden pre-activations
    rng = np.random.default_rng(5)
    params, X, y = _random_params(rng, 3, 4), rng.standard_normal((6, 3)), rng.uniform(size=6)
    a1 = X @ params["W1"].T + params["b1"]

    def E_of_a1(a):
        o = 1 / (1 + np.exp(-(1 / (1 + np.exp(-a)) @ params["w2"] + params["b2"])))
        return 0.5 * np.sum((y - o) ** 2)

    h = 1 / (1 + np.exp(-a1))
    o = 1 / (1 + np.exp(-(h @ params["w2"] + params["b2"])))
    got = delta_hidden(delta_output(o, y), params["w2"], h)
    np.testing.assert_allclose(got, _central_diff(E_of_a1, a1), rtol=1e-6, atol=1e-9)
    with pytest.raises(ValueError, match=r"delta_hidden: need delta \(N,\), w2 \(H,\) and h \(N, H\)"):
        delta_hidden(np.zeros(6), np.zeros(4), np.zeros((6, 3)))


# ## Task 1.7: tanh hidden units, sigmoid output, cross-entropy


def _torch_tanh_bce(params, X, y):
    t = {k: torch.tensor(np.asarray(v, dtype=np.float64), requires_grad=True) for k, v in params.items()}
    logits = torch.tanh(torch.tensor(X) @ t["W1"].T + t["b1"]) @ t["w2"] + t["b2"]
    E = torch.nn.functional.binary_cross_entropy_with_logits(logits, torch.tensor(y), reduction="sum")
    E.backward()
    return E.item(), {k: t[k].grad.numpy() for k in KEYS}


@pytest.mark.task1_7
@given(case=mlp_case())
def test_task1_7_tanh_bce_loss_and_backward_match_torch(case):
    params, X, y = case
    before = _copy_params(params), X.copy(), y.copy()
    E, want = _torch_tanh_bce(params, X, y)
    assert tanh_bce_loss(params, X, y) == pytest.approx(E, rel=1e-12)
    got = tanh_bce_backward(params, X, y)
    assert isinstance(got["b2"], float)
    for k in KEYS:
        np.testing.assert_allclose(got[k], want[k], rtol=1e-10, atol=1e-12, err_msg=k)
    for k in KEYS:
        np.testing.assert_array_equal(params[k], before[0][k])
    np.testing.assert_array_equal(X, before[1]), np.testing.assert_array_equal(y, before[2])


@pytest.mark.task1_7
def test_task1_7_tanh_bce_backward_matches_central_differences():
    rng = np.random.default_rng(7)
    params, X, y = _random_params(rng, 3, 2), rng.standard_normal((5, 3)), rng.uniform(size=5)
    grads = tanh_bce_backward(params, X, y)
    for k in KEYS:

        def E_of(v, k=k):
            return tanh_bce_loss(dict(params, **{k: float(v) if k == "b2" else v}), X, y)

        np.testing.assert_allclose(grads[k], _central_diff(E_of, params[k]), rtol=1e-6, atol=1e-8, err_msg=k)


@pytest.mark.task1_7
def test_task1_7_cross_entropy_delta_is_o_minus_y_and_loss_is_stable():
    rng = np.random.default_rng(8)
    o, y = rng.uniform(0.01, 0.99, 7), rng.uniform(size=7)
    bce = lambda o, y: torch.nn.functional.binary_cross_entropy(o, y, reduction="sum")  # noqa: E731
    np.testing.assert_allclose(delta_output_bce(o, y), _torch_delta(o, y, bce), rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(delta_output_bce(np.array([0.25]), np.array([1.0])), [-0.75])
    # logits of ±200: o rounds to exactly 1 at +200 (e^{−200} ≈ 1e−87 at −200), yet E stays finite (log(1 + e^a) − y·a)
    params = {"W1": np.ones((1, 1)), "b1": np.zeros(1), "w2": np.array([200.0]), "b2": 0.0}
    X, y = np.array([[10.0], [-10.0]]), np.array([0.0, 0.0])
    # h = tanh(±10) ≈ ±1 → a2 ≈ ±200: example 1 costs ≈ 200 (y = 0, o ≈ 1), example 2 ≈ 0
    assert tanh_bce_loss(params, X, y) == pytest.approx(200 * np.tanh(10.0), rel=1e-12)
    assert all(np.isfinite(tanh_bce_backward(params, X, y)["W1"].ravel()))


# ## Task 1.8: L1/L2 penalties


@pytest.mark.task1_8
def test_task1_8_penalties_hand_computed():
    W = np.array([[1.0, -2.0], [0.0, 3.0]])
    value, grad = l2_penalty(W, 0.5)
    assert value == pytest.approx(0.25 * (1 + 4 + 0 + 9))  # λ/2 ‖W‖²_F = 3.5
    np.testing.assert_array_equal(grad, [[0.5, -1.0], [0.0, 1.5]])
    value, grad = l1_penalty(W, 0.5)
    assert value == pytest.approx(0.5 * (1 + 2 + 0 + 3))  # λ ‖W‖₁ = 3
    np.testing.assert_array_equal(grad, [[0.5, -0.5], [0.0, 0.5]])  # sign(0) = 0
    assert isinstance(value, float)


@pytest.mark.task1_8
@given(W=arrays(st.tuples(dims, dims)), lam=st.floats(min_value=0.0, max_value=2.0))
def test_task1_8_penalties_match_torch(W, lam):
    W0 = W.copy()
    for fn, torch_penalty in (
        (l2_penalty, lambda t: lam / 2 * (t**2).sum()),
        (l1_penalty, lambda t: lam * t.abs().sum()),
    ):
        t = torch.tensor(W, requires_grad=True)
        r = torch_penalty(t)
        r.backward()  # torch's d|w|/dw at 0 is 0 too
        value, grad = fn(W, lam)
        assert value == pytest.approx(r.item(), rel=1e-12, abs=1e-12)
        assert grad.shape == W.shape
        np.testing.assert_allclose(grad, t.grad.numpy(), rtol=1e-12, atol=0)
        np.testing.assert_array_equal(W, W0)


@pytest.mark.task1_8
def test_task1_8_l1_grad_is_zero_at_zero():
    _, grad = l1_penalty(np.zeros((2, 3)), 0.7)
    np.testing.assert_array_equal(grad, np.zeros((2, 3)))


@pytest.mark.task1_8
def test_task1_8_penalty_rejects_negative_lambda():
    with pytest.raises(ValueError, match="l2_penalty: lam"):
        l2_penalty(np.ones(2), -1.0)
    with pytest.raises(ValueError, match="l1_penalty: lam"):
        l1_penalty(np.ones(2), float("nan"))


# ## Task 1.9: sgd_step


@pytest.mark.task1_9
def test_task1_9_sgd_step_hand_computed_and_inputs_untouched():
    params = {"W1": np.array([[1.0, 2.0]]), "b1": np.array([0.5]), "w2": np.array([-1.0]), "b2": 0.25}
    grads = {"W1": np.array([[10.0, -10.0]]), "b1": np.array([1.0]), "w2": np.array([2.0]), "b2": -1.0}
    p0, g0 = _copy_params(params), _copy_params(grads)
    new = sgd_step(params, grads, 0.1)
    np.testing.assert_allclose(new["W1"], [[0.0, 3.0]], atol=1e-15)
    np.testing.assert_allclose(new["b1"], [0.4], atol=1e-15)
    np.testing.assert_allclose(new["w2"], [-1.2], atol=1e-15)
    assert isinstance(new["b2"], float) and new["b2"] == pytest.approx(0.35, abs=1e-15)
    for k in KEYS:
        np.testing.assert_array_equal(params[k], p0[k])
        np.testing.assert_array_equal(grads[k], g0[k])
        assert new[k] is not params[k]


@pytest.mark.task1_9
@given(case=mlp_case(), lr=st.floats(min_value=0.0, max_value=1.0))
def test_task1_9_sgd_step_is_w_minus_lr_grad(case, lr):
    params, X, y = case
    grads = mlp_backward(params, X, y)
    new = sgd_step(params, grads, lr)
    for k in KEYS:
        np.testing.assert_allclose(new[k], np.asarray(params[k]) - lr * np.asarray(grads[k]), rtol=1e-15, atol=1e-15)


@pytest.mark.task1_9
def test_task1_9_sgd_step_descends_the_loss():
    rng = np.random.default_rng(0)
    params = _random_params(rng, D=3, H=4)
    X, y = rng.standard_normal((20, 3)), rng.uniform(size=20)
    before = mlp_loss(params, X, y)
    for _ in range(50):
        params = sgd_step(params, mlp_backward(params, X, y), 0.05)
    assert mlp_loss(params, X, y) < before


@pytest.mark.task1_9
def test_task1_9_sgd_step_bad_keys_and_shapes():
    params = {"W1": np.zeros((2, 3)), "b1": np.zeros(2), "w2": np.zeros(2), "b2": 0.0}
    grads = dict(params)
    with pytest.raises(ValueError, match=r"sgd_step: .*missing from grads: \['b2'\]"):
        sgd_step(params, {k: v for k, v in grads.items() if k != "b2"}, 0.1)
    with pytest.raises(ValueError, match=r"sgd_step: .*not in params: \['W3'\]"):
        sgd_step(params, {**grads, "W3": np.zeros(1)}, 0.1)
    with pytest.raises(ValueError, match=r"sgd_step: grads\['W1'\] .*\(2, 3\).*\(3, 2\)"):
        sgd_step(params, {**grads, "W1": np.zeros((3, 2))}, 0.1)


def test_public_tests_run_without_the_slip_recordings(monkeypatch):
    """The student zip has public.py but not slips.py (whose recordings spell out the derivations):
    the public tests and their recordings must not need it there."""
    import importlib
    import sys

    from autograder import check

    monkeypatch.setitem(sys.modules, "autograder.course.backprop.grader.slips", None)  # import fails
    monkeypatch.delitem(sys.modules, "autograder.course.backprop.public", raising=False)
    public = importlib.import_module("autograder.course.backprop.public")
    for test in public.TESTS:
        assert test.script().outputs
    expected = check.load_public_expected("backprop")
    assert all(len(expected[t.name].slips) == len(t.slips) for t in public.TESTS)
    source = Path(public.__file__).read_text(encoding="utf-8")
    for formula in ("o * (1.0 - o)", "h * (1.0 - h)", "1.0 - h * h", ".T @ X"):
        assert formula not in source, formula
