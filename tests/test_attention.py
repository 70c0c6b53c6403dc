"""Tests for solution/attention.py (Assignment 8).

Oracles, all torch in float64 on the CPU: torch.softmax,
torch.nn.functional.scaled_dot_product_attention (and its autograd for the backward pass),
torch.nn.MultiheadAttention with the spec's weight mapping, torch.nn.functional.layer_norm, and
the residual block written as a torch expression, autograd through layer_norm, and
torch.nn.TransformerEncoderLayer(norm_first=True) with the spec's weight mapping; plus
hand-computed values.
"""

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from autograder.course.attention import public
from autograder.course.attention.grader import hidden as graded
from solution.attention import (
    attention_backward,
    layer_norm,
    layer_norm_backward,
    multihead_self_attention,
    residual_block,
    scaled_dot_product_attention,
    softmax,
    transformer_block,
)
from tests.strategies import arrays, seeds, small_shapes

F = torch.nn.functional
batch_dims = st.lists(st.integers(1, 3), min_size=0, max_size=2).map(tuple)


def assert_close(got, expected, what, rtol=1e-10):
    expected = np.asarray(expected)
    assert np.shape(got) == expected.shape, f"{what}: shape {np.shape(got)} != {expected.shape}"
    scale = max(1.0, float(np.abs(expected).max(initial=0.0)))
    np.testing.assert_allclose(got, expected, rtol=rtol, atol=rtol * scale, err_msg=what)


def t(a, grad=False):
    return torch.tensor(a, dtype=torch.float64, requires_grad=grad)


# ## Task 8.1: softmax


@pytest.mark.task8_1
@given(small_shapes.flatmap(lambda shape: st.tuples(arrays(shape), st.integers(-len(shape), len(shape) - 1))))
def test_task8_1_softmax_matches_torch(case):
    z, axis = case
    got = softmax(z, axis)
    assert_close(got, torch.softmax(t(z), dim=axis).numpy(), f"axis {axis}")
    np.testing.assert_allclose(got.sum(axis=axis), 1.0, rtol=1e-12)


@pytest.mark.task8_1
def test_task8_1_softmax_default_axis_is_last():
    z = np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]])
    e = np.exp([1.0, 2.0, 3.0])
    np.testing.assert_allclose(softmax(z), [e / e.sum(), [1 / 3] * 3], rtol=1e-14)


@pytest.mark.task8_1
@pytest.mark.parametrize("scale", [1e2, 1e3, 1e4])
def test_task8_1_softmax_is_finite_for_huge_logits(scale):
    z = np.array([[1.0, -1.0, 0.5], [-1.0, -1.0, -0.999]]) * scale
    with np.errstate(over="raise", invalid="raise"):
        got = softmax(z)
    assert np.isfinite(got).all()
    assert_close(got, torch.softmax(t(z), dim=-1).numpy(), f"logits x {scale}")


@pytest.mark.task8_1
def test_task8_1_softmax_gives_minus_infinity_weight_zero():
    got = softmax(np.array([0.0, -np.inf, np.log(3.0)]))
    assert got[1] == 0.0
    np.testing.assert_allclose(got, [0.25, 0.0, 0.75], rtol=1e-15)


@pytest.mark.task8_1
def test_task8_1_softmax_validation():
    with pytest.raises(ValueError, match=r"softmax: axis 2 is out of range for z of shape \(2, 3\)"):
        softmax(np.ones((2, 3)), axis=2)
    with pytest.raises(TypeError, match="softmax: axis must be an int"):
        softmax(np.ones(3), axis=0.5)


# ## Task 8.2: scaled_dot_product_attention


@st.composite
def qkv(draw):
    rng = draw(seeds())
    lead = draw(batch_dims)
    T_q, T_k = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    d_k, d_v = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    scale = draw(st.sampled_from([0.3, 1.0, 3.0]))
    Q = rng.standard_normal(lead + (T_q, d_k)) * scale
    K = rng.standard_normal(lead + (T_k, d_k)) * scale
    V = rng.standard_normal(lead + (T_k, d_v))
    return Q, K, V, draw(st.booleans()), rng


def torch_weights(Q, K, causal):
    """softmax(QKᵀ/√d_k) with the top-left causal mask j > i filled with −∞."""
    scores = t(Q) @ t(K).transpose(-1, -2) / np.sqrt(Q.shape[-1])
    if causal:
        mask = torch.ones(Q.shape[-2], K.shape[-2], dtype=torch.bool).triu(1)
        scores = scores.masked_fill(mask, float("-inf"))
    return torch.softmax(scores, dim=-1).numpy()


@pytest.mark.task8_2
@given(qkv())
def test_task8_2_attention_matches_torch(case):
    Q, K, V, causal, _ = case
    out, A = scaled_dot_product_attention(Q, K, V, causal)
    expected = F.scaled_dot_product_attention(t(Q), t(K), t(V), is_causal=causal).numpy()
    assert_close(out, expected, f"out Q {Q.shape} K {K.shape} causal {causal}")
    assert_close(A, torch_weights(Q, K, causal), "A")


@pytest.mark.task8_2
@pytest.mark.parametrize("T_q, T_k", [(4, 4), (3, 6), (6, 3)])
def test_task8_2_causal_weights_are_exactly_zero_above_the_diagonal(T_q, T_k):
    rng = np.random.default_rng(0)
    Q, K, V = rng.standard_normal((2, T_q, 3)), rng.standard_normal((2, T_k, 3)), rng.standard_normal((2, T_k, 2))
    out, A = scaled_dot_product_attention(Q, K, V, causal=True)
    future = np.triu(np.ones((T_q, T_k), dtype=bool), k=1)
    assert (A[:, future] == 0.0).all()
    assert (A[:, ~future] > 0.0).all()
    np.testing.assert_allclose(A.sum(axis=-1), 1.0, rtol=1e-14)
    expected = F.scaled_dot_product_attention(t(Q), t(K), t(V), is_causal=True).numpy()
    assert_close(out, expected, "causal out")


@pytest.mark.task8_2
def test_task8_2_attention_hand_example():
    # d_k = 4, so √d_k = 2: scores = (q·k_j)/2 = (0, ln 3); weights (1/4, 3/4)
    Q = np.array([[np.log(3.0), np.log(3.0), 0.0, 0.0]])
    K = np.array([[0.0, 0.0, 1.0, -1.0], [1.0, 1.0, 0.0, 0.0]])
    V = np.array([[4.0, 0.0], [0.0, 8.0]])
    out, A = scaled_dot_product_attention(Q, K, V)
    np.testing.assert_allclose(A, [[0.25, 0.75]], rtol=1e-14)
    np.testing.assert_allclose(out, [[1.0, 6.0]], rtol=1e-14)


@pytest.mark.task8_2
@pytest.mark.parametrize(
    "q, k, v, match",
    [
        ((3,), (3, 2), (3, 2), r"Q must be \(\.\.\., T_q, d_k\), got shape \(3,\)"),
        (
            (2, 3, 2),
            (3, 3, 2),
            (3, 3, 2),
            r"Q, K and V must share their leading \(batch\) dimensions, got Q \(2, 3, 2\)",
        ),
        ((3, 2), (4, 3), (4, 2), r"d_k of Q \(3, 2\) is 2 but d_k of K \(4, 3\) is 3"),
        ((3, 2), (4, 2), (5, 2), r"T_k of K \(4, 2\) is 4 but V \(5, 2\) has 5 rows"),
    ],
)
def test_task8_2_attention_validation(q, k, v, match):
    with pytest.raises(ValueError, match="scaled_dot_product_attention: " + match):
        scaled_dot_product_attention(np.ones(q), np.ones(k), np.ones(v))
    with pytest.raises(TypeError, match="scaled_dot_product_attention: causal must be True or False"):
        scaled_dot_product_attention(np.ones((2, 2)), np.ones((2, 2)), np.ones((2, 2)), causal="yes")


# ## Task 8.3: attention_backward


@pytest.mark.task8_3
@given(qkv())
def test_task8_3_attention_backward_matches_autograd(case):
    Q, K, V, causal, rng = case
    dout = rng.standard_normal(Q.shape[:-1] + V.shape[-1:])
    Qt, Kt, Vt = t(Q, True), t(K, True), t(V, True)
    F.scaled_dot_product_attention(Qt, Kt, Vt, is_causal=causal).backward(t(dout))
    dQ, dK, dV = attention_backward(dout, Q, K, V, causal)
    assert_close(dQ, Qt.grad.numpy(), "dQ", rtol=1e-9)
    assert_close(dK, Kt.grad.numpy(), "dK", rtol=1e-9)
    assert_close(dV, Vt.grad.numpy(), "dV", rtol=1e-9)


@pytest.mark.task8_3
def test_task8_3_causal_first_query_gets_no_gradient_from_the_future():
    # with causal=True query 0 sees only key 0: its weight is 1 and dQ[0] = 0, dK of the
    # later keys gets nothing from query 0
    rng = np.random.default_rng(1)
    Q, K, V = rng.standard_normal((1, 3)), rng.standard_normal((4, 3)), rng.standard_normal((4, 2))
    dout = np.zeros((1, 2))
    dout[0] = 1.0
    dQ, dK, dV = attention_backward(dout, Q, K, V, causal=True)
    np.testing.assert_array_equal(dQ, 0.0)
    np.testing.assert_array_equal(dK, 0.0)
    np.testing.assert_array_equal(dV, [[1.0, 1.0], [0, 0], [0, 0], [0, 0]])


@pytest.mark.task8_3
def test_task8_3_attention_backward_dout_shape():
    with pytest.raises(ValueError, match=r"attention_backward: dout must have out's shape .*\(2, 3, 5\)"):
        attention_backward(np.ones((2, 3, 4)), np.ones((2, 3, 4)), np.ones((2, 6, 4)), np.ones((2, 6, 5)))


# ## Task 8.4: multihead_self_attention


def torch_mha(X, W_q, W_k, W_v, W_o, num_heads, causal):
    """torch.nn.MultiheadAttention with the spec's mapping (X @ W is torch's x @ weightᵀ)."""
    N, T, D = X.shape
    mha = torch.nn.MultiheadAttention(D, num_heads, bias=False, batch_first=True, dtype=torch.float64)
    with torch.no_grad():
        mha.in_proj_weight.copy_(t(np.concatenate([W_q.T, W_k.T, W_v.T])))
        mha.out_proj.weight.copy_(t(W_o.T))
    mask = torch.ones(T, T, dtype=torch.bool).triu(1) if causal else None  # True = not allowed
    out, _ = mha(t(X), t(X), t(X), attn_mask=mask, need_weights=False)
    return out.detach().numpy()


@st.composite
def mha_cases(draw):
    rng = draw(seeds())
    num_heads, d = draw(st.integers(1, 4)), draw(st.integers(1, 3))
    D = num_heads * d
    N, T = draw(st.integers(1, 3)), draw(st.integers(1, 5))
    X = rng.standard_normal((N, T, D))
    Ws = [rng.standard_normal((D, D)) / np.sqrt(D) for _ in range(4)]
    return X, Ws, num_heads, draw(st.booleans())


@pytest.mark.task8_4
@given(mha_cases())
def test_task8_4_multihead_matches_torch(case):
    X, Ws, num_heads, causal = case
    got = multihead_self_attention(X, *Ws, num_heads, causal)
    assert_close(got, torch_mha(X, *Ws, num_heads, causal), f"X {X.shape} heads {num_heads} causal {causal}", rtol=1e-9)


@pytest.mark.task8_4
def test_task8_4_one_head_is_attention_of_the_projections():
    rng = np.random.default_rng(2)
    X = rng.standard_normal((2, 5, 4))
    W_q, W_k, W_v, W_o = (rng.standard_normal((4, 4)) for _ in range(4))
    heads = F.scaled_dot_product_attention(t(X @ W_q), t(X @ W_k), t(X @ W_v), is_causal=True).numpy()
    assert_close(multihead_self_attention(X, W_q, W_k, W_v, W_o, 1, causal=True), heads @ W_o, "one head")


@pytest.mark.task8_4
def test_task8_4_heads_take_consecutive_feature_slices():
    # W_o = I and W_v = I: head k's output is attention over X[..., k·d:(k+1)·d] alone
    rng = np.random.default_rng(3)
    X = rng.standard_normal((1, 4, 6))
    W_q, W_k = rng.standard_normal((6, 6)), rng.standard_normal((6, 6))
    out = multihead_self_attention(X, W_q, W_k, np.eye(6), np.eye(6), 3)
    for k in range(3):
        cols = slice(2 * k, 2 * k + 2)
        expected = F.scaled_dot_product_attention(
            t((X @ W_q)[..., cols]), t((X @ W_k)[..., cols]), t(X[..., cols])
        ).numpy()
        assert_close(out[..., cols], expected, f"head {k}")


@pytest.mark.task8_4
def test_task8_4_multihead_validation():
    X, W = np.ones((1, 2, 6)), np.eye(6)
    with pytest.raises(ValueError, match="multihead_self_attention: D = 6 is not divisible by num_heads = 4"):
        multihead_self_attention(X, W, W, W, W, 4)
    with pytest.raises(ValueError, match=r"multihead_self_attention: W_k must be \(D, D\) = \(6, 6\)"):
        multihead_self_attention(X, W, np.eye(5), W, W, 2)
    with pytest.raises(ValueError, match=r"multihead_self_attention: X must be \(N, T, D\), got shape \(2, 6\)"):
        multihead_self_attention(X[0], W, W, W, W, 2)
    with pytest.raises(ValueError, match="multihead_self_attention: num_heads must be an int >= 1"):
        multihead_self_attention(X, W, W, W, W, 0)


# ## Task 8.5: layer_norm


@st.composite
def ln_cases(draw):
    rng = draw(seeds())
    shape = draw(batch_dims) + (draw(st.integers(1, 6)),)
    x = rng.standard_normal(shape) * draw(st.sampled_from([0.01, 1.0, 50.0])) + draw(st.floats(-5, 5))
    D = shape[-1]
    return x, rng.standard_normal(D), rng.standard_normal(D), draw(st.sampled_from([1e-5, 1e-2, 1.0]))


@pytest.mark.task8_5
@given(ln_cases())
def test_task8_5_layer_norm_matches_torch(case):
    x, gamma, beta, eps = case
    expected = F.layer_norm(t(x), (x.shape[-1],), t(gamma), t(beta), eps).numpy()
    assert_close(layer_norm(x, gamma, beta, eps), expected, f"x {x.shape} eps {eps}", rtol=1e-9)


@pytest.mark.task8_5
def test_task8_5_layer_norm_rows_are_independent_of_the_batch():
    x = np.array([[1.0, 2.0, 3.0], [100.0, 200.0, 300.0]])
    out = layer_norm(x, np.ones(3), np.zeros(3), eps=1e-12)
    np.testing.assert_allclose(out[0], out[1], rtol=1e-9)  # each row alone
    np.testing.assert_allclose(out[0], [-np.sqrt(1.5), 0.0, np.sqrt(1.5)], rtol=1e-9)


@pytest.mark.task8_5
def test_task8_5_layer_norm_validation():
    with pytest.raises(ValueError, match=r"layer_norm: gamma must be \(D,\) = \(3,\) for x of shape \(2, 3\)"):
        layer_norm(np.ones((2, 3)), np.ones(2), np.ones(3))
    with pytest.raises(ValueError, match="layer_norm: eps must be a number > 0"):
        layer_norm(np.ones((2, 3)), np.ones(3), np.ones(3), eps=0.0)


# ## Task 8.6: residual_block


@st.composite
def residual_cases(draw):
    rng = draw(seeds())
    D, H = draw(st.integers(1, 5)), draw(st.integers(1, 6))
    x = rng.standard_normal(draw(batch_dims) + (D,))
    return (x, rng.standard_normal((D, H)), rng.standard_normal(H), rng.standard_normal((H, D)), rng.standard_normal(D))


@pytest.mark.task8_6
@given(residual_cases())
def test_task8_6_residual_block_matches_torch(case):
    x, W1, b1, W2, b2 = case
    xt = t(x)
    expected = xt + torch.relu(xt @ t(W1) + t(b1)) @ t(W2) + t(b2)
    assert_close(residual_block(x, W1, b1, W2, b2), expected.numpy(), f"x {x.shape} W1 {W1.shape}")


@pytest.mark.task8_6
def test_task8_6_zero_branch_is_the_identity():
    x = np.random.default_rng(4).standard_normal((3, 4))
    out = residual_block(x, np.ones((4, 2)), np.ones(2), np.zeros((2, 4)), np.zeros(4))
    np.testing.assert_array_equal(out, x)


@pytest.mark.task8_6
def test_task8_6_skip_keeps_the_gradient_through_20_blocks():
    # autograd through 20 blocks with small weights: with the skip ‖∂E/∂x‖ stays near ‖∂E/∂x_20‖;
    # the same blocks without it (out = g(x)) shrink it by orders of magnitude
    rng = np.random.default_rng(5)
    D, H = 8, 8
    params = [
        (rng.standard_normal((D, H)) * 0.2, np.zeros(H), rng.standard_normal((H, D)) * 0.2, np.zeros(D))
        for _ in range(20)
    ]
    x0 = rng.standard_normal((4, D))

    def grad_norm(skip):
        x = xt = t(x0, True)
        for W1, b1, W2, b2 in params:
            g = torch.relu(x @ t(W1) + t(b1)) @ t(W2) + t(b2)
            x = x + g if skip else g
        x.sum().backward()
        return xt.grad.norm().item(), x.detach().numpy()

    with_skip, out = grad_norm(True)
    without_skip, _ = grad_norm(False)
    assert with_skip > 1e3 * without_skip
    h = x0
    for p in params:
        h = residual_block(h, *p)
    assert_close(h, out, "20 blocks")


@pytest.mark.task8_6
@pytest.mark.parametrize(
    "shapes, match",
    [
        (((2, 4), (3, 5), (5,), (5, 4), (4,)), r"W1 must be \(D, H\) with D = 4"),
        (((2, 4), (4, 5), (4,), (5, 4), (4,)), r"b1 must be \(5,\)"),
        (((2, 4), (4, 5), (5,), (4, 5), (4,)), r"W2 must be \(5, 4\)"),
        (((2, 4), (4, 5), (5,), (5, 4), (5,)), r"b2 must be \(4,\)"),
    ],
)
def test_task8_6_residual_block_validation(shapes, match):
    with pytest.raises(ValueError, match="residual_block: " + match):
        residual_block(*(np.ones(s) for s in shapes))


# ## Every function leaves its inputs unchanged


@pytest.mark.task8_1
@pytest.mark.task8_2
@pytest.mark.task8_3
@pytest.mark.task8_4
@pytest.mark.task8_5
@pytest.mark.task8_6
def test_task8_inputs_unchanged():
    rng = np.random.default_rng(6)
    X = rng.standard_normal((2, 3, 4))
    Ws = [rng.standard_normal((4, 4)) for _ in range(4)]
    Q, K, V = rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 5, 4)), rng.standard_normal((2, 5, 2))
    dout = rng.standard_normal((2, 3, 2))
    gamma, beta = rng.standard_normal(4), rng.standard_normal(4)
    W1, b1, W2, b2 = (
        rng.standard_normal((4, 6)),
        rng.standard_normal(6),
        rng.standard_normal((6, 4)),
        rng.standard_normal(4),
    )
    arrays = [X, *Ws, Q, K, V, dout, gamma, beta, W1, b1, W2, b2]
    copies = [a.copy() for a in arrays]
    softmax(X, axis=1)
    scaled_dot_product_attention(Q, K, V, causal=True)
    attention_backward(dout, Q, K, V, causal=True)
    multihead_self_attention(X, *Ws, 2, causal=True)
    layer_norm(X, gamma, beta)
    layer_norm_backward(X, X, gamma)
    residual_block(X, W1, b1, W2, b2)
    for a, c in zip(arrays, copies, strict=False):
        np.testing.assert_array_equal(a, c)


# ## Task 8.7: layer_norm_backward


@pytest.mark.task8_7
@given(ln_cases())
def test_task8_7_layer_norm_backward_matches_autograd(case):
    x, gamma, beta, eps = case
    dout = np.random.default_rng(x.size).standard_normal(x.shape)
    xt, gt, bt = t(x, True), t(gamma, True), t(beta, True)
    F.layer_norm(xt, (x.shape[-1],), gt, bt, eps).backward(t(dout))
    dx, dgamma, dbeta = layer_norm_backward(dout, x, gamma, eps)
    what = f"x {x.shape} eps {eps}"
    assert_close(dx, xt.grad.numpy(), f"dx, {what}", rtol=1e-7)
    assert_close(dgamma, gt.grad.numpy(), f"dgamma, {what}", rtol=1e-9)
    assert_close(dbeta, bt.grad.numpy(), f"dbeta, {what}", rtol=1e-9)


@pytest.mark.task8_7
def test_task8_7_layer_norm_backward_validation():
    with pytest.raises(ValueError, match=r"layer_norm_backward: dout must have x's shape \(2, 3\)"):
        layer_norm_backward(np.ones((3, 2)), np.ones((2, 3)), np.ones(3))
    with pytest.raises(ValueError, match=r"layer_norm_backward: gamma must be \(D,\) = \(3,\)"):
        layer_norm_backward(np.ones((2, 3)), np.ones((2, 3)), np.ones(2))
    with pytest.raises(ValueError, match="layer_norm_backward: eps must be a number > 0"):
        layer_norm_backward(np.ones((2, 3)), np.ones((2, 3)), np.ones(3), eps=0.0)


# ## Task 8.8: transformer_block


def torch_block(X, p, num_heads, causal):
    """torch.nn.TransformerEncoderLayer(norm_first=True) with the spec's mapping, zero attention biases."""
    N, T, D = X.shape
    H = p["W1"].shape[1]
    layer = torch.nn.TransformerEncoderLayer(
        D, num_heads, dim_feedforward=H, dropout=0.0, activation="relu", batch_first=True, norm_first=True
    ).double()
    with torch.no_grad():
        attn = layer.self_attn
        attn.in_proj_weight.copy_(t(np.concatenate([p["W_q"].T, p["W_k"].T, p["W_v"].T])))
        attn.in_proj_bias.zero_()
        attn.out_proj.weight.copy_(t(p["W_o"].T))
        attn.out_proj.bias.zero_()
        for i, norm in ((1, layer.norm1), (2, layer.norm2)):
            norm.weight.copy_(t(p[f"ln{i}_gamma"]))
            norm.bias.copy_(t(p[f"ln{i}_beta"]))
        layer.linear1.weight.copy_(t(p["W1"].T))
        layer.linear1.bias.copy_(t(p["b1"]))
        layer.linear2.weight.copy_(t(p["W2"].T))
        layer.linear2.bias.copy_(t(p["b2"]))
    layer.eval()
    mask = torch.ones(T, T, dtype=torch.bool).triu(1) if causal else None  # True = not allowed
    return layer(t(X), src_mask=mask).detach().numpy()


@st.composite
def block_cases(draw):
    rng = draw(seeds())
    num_heads, d = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    D, H = num_heads * d, draw(st.integers(1, 6))
    N, T = draw(st.integers(1, 3)), draw(st.integers(1, 5))
    p = {name: rng.standard_normal((D, D)) / np.sqrt(D) for name in ("W_q", "W_k", "W_v", "W_o")}
    for i in (1, 2):
        p[f"ln{i}_gamma"], p[f"ln{i}_beta"] = 1 + 0.3 * rng.standard_normal(D), rng.standard_normal(D)
    p.update(W1=rng.standard_normal((D, H)), b1=rng.standard_normal(H))
    p.update(W2=rng.standard_normal((H, D)), b2=rng.standard_normal(D))
    return rng.standard_normal((N, T, D)), p, num_heads, draw(st.booleans())


@pytest.mark.task8_8
@given(block_cases())
def test_task8_8_transformer_block_matches_torch(case):
    X, p, num_heads, causal = case
    got = transformer_block(X, p, num_heads, causal)
    what = f"X {X.shape} heads {num_heads} causal {causal}"
    assert_close(got, torch_block(X, p, num_heads, causal), what, rtol=1e-8)


@pytest.mark.task8_8
def test_task8_8_transformer_block_validation():
    p = {name: np.ones(1) for name in ("W_q", "W_k")}
    with pytest.raises(ValueError, match="transformer_block: params must be a dict with exactly the keys"):
        transformer_block(np.ones((1, 2, 4)), p, 2)
    with pytest.raises(ValueError, match=r"transformer_block: X must be \(N, T, D\)"):
        transformer_block(np.ones((2, 4)), p, 2)


# ## Points follow what a task teaches


@pytest.mark.task8_2
def test_task8_2_the_rectangular_causal_corner_is_worth_few_points():
    """The T_q ≠ T_k causal alignment is a convention (PyTorch's top-left): at most 4 of the task's points."""
    tests = [test for test in graded.TESTS if test.task == "8.2"]
    corner = [test for test in tests if "rectangular" in test.name]
    assert [test.name for test in corner] == ["attention_causal_rectangular"]
    assert sum(test.points for test in corner) <= 4 < sum(test.points for test in tests) / 4
    for array in (graded.QB, graded.KB, graded.VB, public.QC, public.KC, public.VC):
        assert array.shape[-2] == 4, "the other causal tests use T_q = T_k"


@pytest.mark.task8_2
def test_task8_2_bottom_right_alignment_loses_only_the_rectangular_test():
    import solution.attention as reference
    from tests.inprocess import points_lost, sample_module

    lost = points_lost("attention", reference, sample_module("attention", "causal_bottom_right"))
    assert lost == {"attention_causal_rectangular": 3}
