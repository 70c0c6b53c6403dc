"""Tests for solution/init_gradflow.py (Assignment 7).

Oracles: torch.nn.init (its fan rule, calculate_gain, and the statistics of its draws),
torch.linalg.qr for the orthogonal steps, torch.autograd for the gradient norms and batch norm's
backward, torch.nn.functional.batch_norm (training and inference) and torch.nn.BatchNorm1d's running
buffers, torch.nn.utils.clip_grad_norm_, and a hand derivation (linear orthogonal networks pass
‖XᵀX‖_F to every layer). Correct alternatives (textbook clipping, SVD orthogonal weights) are
scored against the graded tests in process (tests/inprocess.py), and the notebook's figure claims
are checked on the numbers it plots.
"""

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import solution.init_gradflow as reference
from solution.init_gradflow import (
    batchnorm_backward,
    batchnorm_forward,
    batchnorm_inference,
    batchnorm_running_update,
    clip_grad_norm,
    fan_in_fan_out,
    init_weights,
    layer_activations,
    layer_grad_norms,
)
from tests.inprocess import module_from_source, points_lost, sample_module
from tests.strategies import seeds

F = torch.nn.functional
SCHEMES = ["xavier_uniform", "xavier_normal", "kaiming_uniform", "kaiming_normal", "orthogonal"]
ACTIVATIONS = ["relu", "tanh", "sigmoid", "linear"]
TORCH_ACT = {"relu": torch.relu, "tanh": torch.tanh, "sigmoid": torch.sigmoid, "linear": lambda z: z}

weight_shapes = st.lists(st.integers(1, 5), min_size=2, max_size=5).map(tuple)


def torch_fans(shape):
    return torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))


def assert_close(got, expected, what, rtol=1e-10):
    expected = np.asarray(expected)
    assert np.shape(got) == expected.shape, f"{what}: shape {np.shape(got)} != {expected.shape}"
    scale = max(1.0, float(np.abs(expected).max(initial=0.0)))
    np.testing.assert_allclose(got, expected, rtol=rtol, atol=rtol * scale, err_msg=what)


# ## Task 7.1: fan_in_fan_out


@pytest.mark.task7_1
@given(weight_shapes)
def test_task7_1_fan_in_fan_out_matches_torch(shape):
    fans = fan_in_fan_out(shape)
    assert fans == torch_fans(shape)
    assert all(type(f) is int for f in fans)


@pytest.mark.task7_1
@pytest.mark.parametrize(
    "layer, shape",
    [
        (torch.nn.Linear(784, 300), (300, 784)),
        (torch.nn.Conv1d(3, 8, 5), (8, 3, 5)),
        (torch.nn.Conv2d(3, 6, 5), (6, 3, 5, 5)),  # seed 003: six 3x5x5 filters
        (torch.nn.Conv3d(2, 4, (3, 1, 2)), (4, 2, 3, 1, 2)),
    ],
)
def test_task7_1_fan_in_fan_out_of_torch_layers(layer, shape):
    assert tuple(layer.weight.shape) == shape
    assert fan_in_fan_out(shape) == torch.nn.init._calculate_fan_in_and_fan_out(layer.weight)


@pytest.mark.task7_1
def test_task7_1_fan_in_fan_out_seed003_conv():
    assert fan_in_fan_out((6, 3, 5, 5)) == (75, 150)  # 3·5·5 inputs per unit, 6·5·5 outputs


@pytest.mark.task7_1
@pytest.mark.parametrize("shape", [(), (5,), (3, 0), (2, -1, 3)])
def test_task7_1_fan_in_fan_out_rejects_bad_shapes(shape):
    with pytest.raises(ValueError, match="fan_in_fan_out: shape"):
        fan_in_fan_out(shape)


# ## Task 7.2: init_weights


def expected_draw(shape, scheme, seed, gain):
    """The spec's single rng call, with the scale from torch's fan rule and calculate_gain."""
    rng = np.random.default_rng(seed)
    fan_in, fan_out = torch_fans(shape)
    if gain is None:
        gain = torch.nn.init.calculate_gain("relu" if scheme.startswith("kaiming") else "linear")
    if scheme == "xavier_uniform":
        a = gain * np.sqrt(6.0 / (fan_in + fan_out))
        return rng.uniform(-a, a, size=shape), rng
    if scheme == "xavier_normal":
        return rng.normal(0.0, gain * np.sqrt(2.0 / (fan_in + fan_out)), size=shape), rng
    if scheme == "kaiming_uniform":
        a = gain * np.sqrt(3.0 / fan_in)
        return rng.uniform(-a, a, size=shape), rng
    if scheme == "kaiming_normal":
        return rng.normal(0.0, gain / np.sqrt(fan_in), size=shape), rng
    # orthogonal: torch.nn.init.orthogonal_'s steps, here with torch.linalg.qr
    rows, cols = shape[0], int(np.prod(shape[1:]))
    flat = torch.tensor(rng.normal(size=(rows, cols)))
    if rows < cols:
        flat = flat.T
    q, r = torch.linalg.qr(flat)
    q = q * torch.diag(r).sign()
    if rows < cols:
        q = q.T
    return (gain * q).reshape(shape).numpy(), rng


gains = st.sampled_from(
    [None, 1.0, torch.nn.init.calculate_gain("tanh"), torch.nn.init.calculate_gain("leaky_relu", 0.2), 0.5]
)


@pytest.mark.task7_2
@given(weight_shapes, st.sampled_from(SCHEMES), st.integers(0, 2**32 - 1), gains)
def test_task7_2_init_weights_exact_values_for_a_given_rng_state(shape, scheme, seed, gain):
    rng = np.random.default_rng(seed)
    got = init_weights(shape, scheme, rng, gain)
    expected, used = expected_draw(shape, scheme, seed, gain)
    assert got.dtype == np.float64
    assert_close(got, expected, f"{scheme} {shape} gain {gain}", rtol=1e-12)
    # exactly one call: both generators are in the same state afterwards
    assert rng.random() == used.random(), f"{scheme}: rng advanced differently from one call"


@pytest.mark.task7_2
@pytest.mark.parametrize(
    "scheme, torch_init",
    [
        ("xavier_uniform", torch.nn.init.xavier_uniform_),
        ("xavier_normal", torch.nn.init.xavier_normal_),
        ("kaiming_uniform", lambda w: torch.nn.init.kaiming_uniform_(w, nonlinearity="relu")),
        ("kaiming_normal", lambda w: torch.nn.init.kaiming_normal_(w, nonlinearity="relu")),
        ("orthogonal", torch.nn.init.orthogonal_),
    ],
)
@pytest.mark.parametrize("shape", [(300, 200), (64, 32, 3, 3)])
def test_task7_2_init_weights_statistics_match_torch(scheme, torch_init, shape):
    """Over ~60k draws the standard deviations agree within 3%, the means are ~0, and the
    uniform schemes fill [−a, a] with torch's a."""
    got = init_weights(shape, scheme, np.random.default_rng(0))
    torch.manual_seed(0)
    ref = torch_init(torch.empty(shape, dtype=torch.float64)).numpy()
    assert got.std() == pytest.approx(ref.std(), rel=0.03)
    assert abs(got.mean()) < 0.05 * ref.std()
    if scheme.endswith("uniform"):
        assert np.abs(got).max() <= np.abs(ref).max() * 1.001
        assert np.abs(got).max() >= np.abs(ref).max() * 0.999


@pytest.mark.task7_2
@pytest.mark.parametrize("shape", [(8, 8), (5, 12), (12, 5), (6, 3, 2, 2), (4, 2, 3)])
@pytest.mark.parametrize("gain", [None, 2.0])
def test_task7_2_orthogonal_rows_or_columns_are_orthonormal(shape, gain):
    W = init_weights(shape, "orthogonal", np.random.default_rng(1), gain)
    g = 1.0 if gain is None else gain
    flat = W.reshape(shape[0], -1)
    gram = flat @ flat.T if flat.shape[0] <= flat.shape[1] else flat.T @ flat
    np.testing.assert_allclose(gram, g**2 * np.eye(gram.shape[0]), atol=1e-12)


@pytest.mark.task7_2
def test_task7_2_orthogonal_is_unbiased_thanks_to_the_sign_fix():
    # Without multiplying by sign(diag R), LAPACK's Householder QR returns Q[0, 0] of one sign
    # (mean about -0.45 for 4x4); with it, Q[0, 0] = x_00/‖x_0‖ is symmetric about 0.
    rng = np.random.default_rng(2)
    corner = [init_weights((4, 4), "orthogonal", rng)[0, 0] for _ in range(400)]
    assert abs(np.mean(corner)) < 0.1
    assert min(corner) < -0.3 and max(corner) > 0.3


@pytest.mark.task7_2
def test_task7_2_kaiming_default_gain_is_relu_and_xavier_is_glorot():
    shape = (50, 200)
    he = init_weights(shape, "kaiming_normal", np.random.default_rng(3))
    np.testing.assert_allclose(he, np.random.default_rng(3).normal(0, np.sqrt(2 / 200), shape))
    glorot = init_weights(shape, "xavier_normal", np.random.default_rng(3))
    np.testing.assert_allclose(glorot, np.random.default_rng(3).normal(0, np.sqrt(2 / 250), shape))


@pytest.mark.task7_2
@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("shape", [(5,), ()])
def test_task7_2_init_weights_rejects_vectors(scheme, shape):
    with pytest.raises(ValueError, match="init_weights: shape must have at least 2 dimensions"):
        init_weights(shape, scheme, np.random.default_rng(0))


@pytest.mark.task7_2
def test_task7_2_init_weights_rejects_unknown_scheme_and_bad_rng():
    with pytest.raises(ValueError, match="init_weights: unknown scheme 'he_normal'"):
        init_weights((3, 3), "he_normal", np.random.default_rng(0))
    with pytest.raises(TypeError, match="init_weights: rng must be a np.random.Generator"):
        init_weights((3, 3), "xavier_normal", 0)


# ## Task 7.3: layer_activations


@st.composite
def mlps(draw):
    rng = draw(seeds())
    widths = draw(st.lists(st.integers(1, 6), min_size=2, max_size=6))
    N = draw(st.integers(1, 5))
    Ws = [rng.standard_normal((widths[i + 1], widths[i])) for i in range(len(widths) - 1)]
    X = rng.standard_normal((N, widths[0]))
    return Ws, X, draw(st.sampled_from(ACTIVATIONS))


def torch_mlp(Ws, X, activation):
    Wt = [torch.tensor(W, requires_grad=True) for W in Ws]
    h, hs = torch.tensor(X), []
    for W in Wt:
        h = TORCH_ACT[activation](F.linear(h, W))  # h W^T, PyTorch's (out, in) weights
        hs.append(h)
    return Wt, hs


@pytest.mark.task7_3
@given(mlps())
def test_task7_3_layer_activations_match_torch(case):
    Ws, X, activation = case
    got = layer_activations(Ws, X, activation)
    _, expected = torch_mlp(Ws, X, activation)
    assert len(got) == len(Ws)
    for l, (g, e) in enumerate(zip(got, expected, strict=False), start=1):
        assert_close(g, e.detach().numpy(), f"h_{l} ({activation})")


@pytest.mark.task7_3
def test_task7_3_sigmoid_does_not_overflow():
    X = np.array([[1000.0, -1000.0]])
    with np.errstate(all="raise"):
        (h,) = layer_activations([np.eye(2)], X, "sigmoid")
    np.testing.assert_array_equal(h, [[1.0, 0.0]])


@pytest.mark.task7_3
@pytest.mark.task7_4
@pytest.mark.parametrize("fn", [layer_activations, layer_grad_norms])
def test_task7_3_mlp_validation(fn):
    name = fn.__name__
    W = np.ones((3, 2))
    with pytest.raises(ValueError, match=f"{name}: activation must be one of"):
        fn([W], np.ones((4, 2)), "gelu")
    with pytest.raises(ValueError, match=rf"{name}: X must be \(N, D_0\), got shape \(2,\)"):
        fn([W], np.ones(2), "relu")
    with pytest.raises(
        ValueError,
        match=rf"{name}: Ws\[1\] must be \(D_2, 3\) to follow Ws\[0\], "
        rf"got shape \(3, 2\)",
    ):
        fn([W, W], np.ones((4, 2)), "relu")
    with pytest.raises(ValueError, match=f"{name}: Ws must be a non-empty list"):
        fn([], np.ones((4, 2)), "relu")


# ## Task 7.4: layer_grad_norms


@pytest.mark.task7_4
@given(mlps())
def test_task7_4_layer_grad_norms_match_autograd(case):
    Ws, X, activation = case
    Wt, hs = torch_mlp(Ws, X, activation)
    (0.5 * (hs[-1] ** 2).sum()).backward()
    expected = [torch.linalg.matrix_norm(W.grad).item() for W in Wt]
    assert_close(layer_grad_norms(Ws, X, activation), expected, activation)


@pytest.mark.task7_4
def test_task7_4_relu_derivative_at_zero_is_zero_as_torch():
    Ws = [np.array([[1.0, -1.0], [1.0, 1.0]]), np.array([[1.0, 2.0]])]
    X = np.array([[1.0, 1.0], [2.0, -1.0]])  # the first unit's z is 0 for row 0
    Wt, hs = torch_mlp(Ws, X, "relu")
    (0.5 * (hs[-1] ** 2).sum()).backward()
    assert_close(layer_grad_norms(Ws, X, "relu"), [torch.linalg.matrix_norm(W.grad).item() for W in Wt], "relu at 0")


@pytest.mark.task7_4
@pytest.mark.parametrize("depth", [1, 5, 20])
def test_task7_4_orthogonal_linear_network_passes_the_same_norm_to_every_layer(depth):
    # Linear, orthogonal square W_l: h_L = X M with M orthogonal, δ_l = h_L P_l with P_l
    # orthogonal, so ∂E/∂W_l = P_lᵀ Mᵀ XᵀX R_l and ‖∂E/∂W_l‖_F = ‖XᵀX‖_F for every l.
    rng = np.random.default_rng(4)
    Ws = [init_weights((6, 6), "orthogonal", rng) for _ in range(depth)]
    X = rng.standard_normal((10, 6))
    np.testing.assert_allclose(layer_grad_norms(Ws, X, "linear"), np.full(depth, np.linalg.norm(X.T @ X)), rtol=1e-10)


@pytest.mark.task7_4
def test_task7_4_sigmoid_gradients_vanish_towards_the_input():
    # seeds 003/004: a chain of factors σ' <= 1/4 shrinks the backward signal layer by layer
    rng = np.random.default_rng(5)
    Ws = [init_weights((32, 32), "xavier_normal", rng) for _ in range(12)]
    norms = layer_grad_norms(Ws, rng.standard_normal((16, 32)), "sigmoid")
    assert norms[0] < 1e-3 * norms[-1]


# ## Task 7.5: clip_grad_norm


@st.composite
def grad_lists(draw):
    rng = draw(seeds())
    shapes = draw(st.lists(st.lists(st.integers(1, 4), min_size=0, max_size=3), min_size=1, max_size=4))
    grads = [rng.standard_normal(tuple(s)) * draw(st.sampled_from([0.1, 1.0, 10.0])) for s in shapes]
    return grads, draw(st.sampled_from([0.01, 0.5, 1.0, 3.0, 100.0]))


def torch_clip(grads, max_norm):
    params = [torch.zeros(g.shape, dtype=torch.float64, requires_grad=True) for g in grads]
    for p, g in zip(params, grads, strict=False):
        p.grad = torch.tensor(g)
    total = torch.nn.utils.clip_grad_norm_(params, max_norm)
    return [p.grad.numpy() for p in params], total.item()


@pytest.mark.task7_5
@given(grad_lists())
def test_task7_5_clip_grad_norm_matches_torch(case):
    grads, max_norm = case
    copies = [g.copy() for g in grads]
    clipped, total = clip_grad_norm(grads, max_norm)
    expected, expected_total = torch_clip(copies, max_norm)
    assert total == pytest.approx(expected_total, rel=1e-12)
    assert len(clipped) == len(grads)
    for i, (c, e) in enumerate(zip(clipped, expected, strict=False)):
        assert_close(c, e, f"grads[{i}]")
    for g, c in zip(grads, copies, strict=False):
        np.testing.assert_array_equal(g, c)


@pytest.mark.task7_5
def test_task7_5_clipping_is_global_not_per_array():
    grads = [np.array([3.0, 4.0]), np.array([0.0, 12.0])]  # norms 5 and 12, total 13
    clipped, total = clip_grad_norm(grads, 6.5)
    assert total == pytest.approx(13.0, rel=1e-15)
    c = 6.5 / (13.0 + 1e-6)
    np.testing.assert_allclose(clipped[0], [3 * c, 4 * c], rtol=1e-15)
    np.testing.assert_allclose(clipped[1], [0.0, 12 * c], rtol=1e-15)


@pytest.mark.task7_5
def test_task7_5_small_gradients_are_returned_as_new_arrays():
    grads = [np.array([0.1, -0.2])]
    clipped, total = clip_grad_norm(grads, 1.0)
    np.testing.assert_array_equal(clipped[0], grads[0])
    assert clipped[0] is not grads[0]
    clipped[0][0] = 5.0
    assert grads[0][0] == 0.1
    assert clip_grad_norm([], 1.0) == ([], 0.0)


@pytest.mark.task7_5
def test_task7_5_clip_grad_norm_validation():
    with pytest.raises(TypeError, match="clip_grad_norm: grads must be a list of arrays"):
        clip_grad_norm(np.ones(3), 1.0)
    with pytest.raises(ValueError, match="clip_grad_norm: max_norm must be >= 0, got -1.0"):
        clip_grad_norm([np.ones(3)], -1.0)


# ## Tasks 7.6 and 7.7: batch norm


@st.composite
def batches(draw):
    rng = draw(seeds())
    N, D = draw(st.integers(2, 6)), draw(st.integers(1, 5))
    x = rng.standard_normal((N, D)) * draw(st.sampled_from([0.01, 1.0, 30.0])) + rng.standard_normal(D)
    return x, rng.standard_normal(D), rng.standard_normal(D), draw(st.sampled_from([1e-5, 1e-3, 0.5])), rng


def torch_batchnorm(x, gamma, beta, eps, dout):
    xt, gt, bt = (torch.tensor(a, requires_grad=True) for a in (x, gamma, beta))
    out = F.batch_norm(xt, None, None, gt, bt, training=True, eps=eps)
    out.backward(torch.tensor(dout))
    return out.detach().numpy(), xt.grad.numpy(), gt.grad.numpy(), bt.grad.numpy()


@pytest.mark.task7_6
@given(batches())
def test_task7_6_batchnorm_forward_matches_torch(case):
    x, gamma, beta, eps, rng = case
    out, _ = batchnorm_forward(x, gamma, beta, eps)
    assert_close(out, torch_batchnorm(x, gamma, beta, eps, np.zeros_like(x))[0], f"eps {eps}", rtol=1e-9)


@pytest.mark.task7_6
def test_task7_6_batchnorm_constant_feature_gives_beta():
    x = np.array([[2.0, 1.0], [2.0, 3.0]])
    out, _ = batchnorm_forward(x, np.array([5.0, 1.0]), np.array([0.5, 0.0]))
    np.testing.assert_array_equal(out[:, 0], [0.5, 0.5])
    np.testing.assert_allclose(out[:, 1], [-1.0, 1.0], rtol=1e-5)  # biased var 1: ±1/√(1+ε)


@pytest.mark.task7_6
@pytest.mark.parametrize(
    "x_shape, g_shape, b_shape, match",
    [
        ((4,), (4,), (4,), r"x must be \(N, D\) with N >= 2.*got shape \(4,\)"),
        ((1, 3), (3,), (3,), r"x must be \(N, D\) with N >= 2.*got shape \(1, 3\)"),
        ((4, 3), (4,), (3,), r"gamma must be \(D,\) = \(3,\) .*got shape \(4,\)"),
        ((4, 3), (3,), (3, 1), r"beta must be \(D,\) = \(3,\)"),
    ],
)
def test_task7_6_batchnorm_forward_validation(x_shape, g_shape, b_shape, match):
    with pytest.raises(ValueError, match="batchnorm_forward: " + match):
        batchnorm_forward(np.ones(x_shape), np.ones(g_shape), np.ones(b_shape))


@pytest.mark.task7_7
@given(batches())
def test_task7_7_batchnorm_backward_matches_autograd(case):
    x, gamma, beta, eps, rng = case
    out, cache = batchnorm_forward(x, gamma, beta, eps)
    dout = rng.standard_normal(out.shape)
    _, ex, eg, eb = torch_batchnorm(x, gamma, beta, eps, dout)
    dx, dgamma, dbeta = batchnorm_backward(dout, cache)
    scale = np.abs(dout).max() * np.abs(gamma).max() / np.sqrt(x.var(axis=0).min() + eps)
    np.testing.assert_allclose(dx, ex, rtol=1e-7, atol=1e-9 * scale, err_msg="dx")
    assert_close(dgamma, eg, "dgamma", rtol=1e-9)
    assert_close(dbeta, eb, "dbeta")


@pytest.mark.task7_7
def test_task7_7_batchnorm_backward_dout_shape():
    _, cache = batchnorm_forward(np.ones((3, 2)), np.ones(2), np.zeros(2))
    with pytest.raises(ValueError, match=r"batchnorm_backward: dout must have .*\(3, 2\), got shape \(2, 3\)"):
        batchnorm_backward(np.ones((2, 3)), cache)


# ## Every function leaves its inputs unchanged


@pytest.mark.task7_3
@pytest.mark.task7_4
@pytest.mark.task7_6
@pytest.mark.task7_7
def test_task7_inputs_unchanged():
    rng = np.random.default_rng(6)
    Ws = [rng.standard_normal((4, 3)), rng.standard_normal((2, 4))]
    X = rng.standard_normal((5, 3))
    x, gamma, beta = rng.standard_normal((5, 3)), rng.standard_normal(3), rng.standard_normal(3)
    arrays = Ws + [X, x, gamma, beta]
    copies = [a.copy() for a in arrays]
    for activation in ACTIVATIONS:
        layer_activations(Ws, X, activation)
        layer_grad_norms(Ws, X, activation)
    out, cache = batchnorm_forward(x, gamma, beta)
    dout = rng.standard_normal(out.shape)
    dout_copy = dout.copy()
    batchnorm_backward(dout, cache)
    for a, c in zip(arrays + [dout], copies + [dout_copy], strict=False):
        np.testing.assert_array_equal(a, c)


# ## Task 7.8: batchnorm_running_update


@pytest.mark.task7_8
@given(batches(), st.sampled_from([0.0, 0.1, 0.3, 1.0]))
def test_task7_8_running_update_matches_torch_buffers(case, momentum):
    x, _, _, _, rng = case
    running_mean, running_var = rng.standard_normal(x.shape[1]), 0.5 + rng.random(x.shape[1])
    bn = torch.nn.BatchNorm1d(x.shape[1], momentum=momentum, dtype=torch.float64)
    with torch.no_grad():
        bn.running_mean.copy_(torch.tensor(running_mean))
        bn.running_var.copy_(torch.tensor(running_var))
    bn.train()
    bn(torch.tensor(x))
    mean, var = batchnorm_running_update(running_mean, running_var, x, momentum)
    assert_close(mean, bn.running_mean.numpy(), f"running_mean, momentum {momentum}")
    assert_close(var, bn.running_var.numpy(), f"running_var, momentum {momentum}", rtol=1e-9)


@pytest.mark.task7_8
def test_task7_8_running_update_validation_and_inputs_unchanged():
    mean, var, x = np.zeros(2), np.ones(2), np.arange(6.0).reshape(3, 2)
    batchnorm_running_update(mean, var, x)
    np.testing.assert_array_equal(mean, 0.0)
    np.testing.assert_array_equal(var, 1.0)
    with pytest.raises(ValueError, match=r"batchnorm_running_update: x must be \(N, D\) with N >= 2"):
        batchnorm_running_update(mean, var, x[:1])
    with pytest.raises(ValueError, match=r"batchnorm_running_update: running_var must be \(D,\) = \(2,\)"):
        batchnorm_running_update(mean, np.ones(3), x)
    with pytest.raises(ValueError, match=r"batchnorm_running_update: momentum must be in \[0, 1\]"):
        batchnorm_running_update(mean, var, x, 1.5)


# ## Task 7.9: batchnorm_inference


@pytest.mark.task7_9
@given(batches())
def test_task7_9_inference_matches_torch(case):
    x, gamma, beta, eps, rng = case
    running_mean, running_var = rng.standard_normal(x.shape[1]), 0.1 + rng.random(x.shape[1])
    expected = F.batch_norm(
        torch.tensor(x),
        torch.tensor(running_mean),
        torch.tensor(running_var),
        torch.tensor(gamma),
        torch.tensor(beta),
        training=False,
        eps=eps,
    ).numpy()
    assert_close(batchnorm_inference(x, gamma, beta, running_mean, running_var, eps), expected, f"eps {eps}")


@pytest.mark.task7_9
def test_task7_9_inference_of_one_row_does_not_depend_on_the_batch():
    rng = np.random.default_rng(9)
    x, gamma, beta, mean, var = rng.standard_normal((4, 3)), *rng.standard_normal((3, 3)), 0.5 + rng.random(3)
    alone = batchnorm_inference(x[:1], gamma, beta, mean, var)
    np.testing.assert_array_equal(alone, batchnorm_inference(x, gamma, beta, mean, var)[:1])
    with pytest.raises(ValueError, match=r"batchnorm_inference: running_var must be \(D,\) = \(3,\)"):
        batchnorm_inference(x, gamma, beta, mean, var[:2])


# ## Correct alternatives keep their points (scored in process against the graded tests)


@pytest.mark.task7_5
def test_task7_5_textbook_clipping_loses_only_the_tiny_norm_test():
    lost = points_lost("init_gradflow", reference, sample_module("init_gradflow", "clip_without_eps"))
    assert lost == {"clip_grad_norm_tiny_norms": 1}


@pytest.mark.task7_2
def test_task7_2_svd_orthogonal_loses_only_the_exact_recipe_test():
    lost = points_lost("init_gradflow", reference, sample_module("init_gradflow", "orthogonal_by_svd"))
    assert lost == {"init_weights_orthogonal_torch_recipe": 2}


@pytest.mark.task7_2
@pytest.mark.parametrize("sample", ["kaiming_normal_ignores_gain", "xavier_uniform_ignores_gain"])
def test_task7_2_ignoring_an_explicit_gain_loses_points(sample):
    assert points_lost("init_gradflow", reference, sample_module("init_gradflow", sample))


@pytest.mark.task7_2
def test_task7_2_orthogonal_properties_reject_a_matrix_not_built_from_the_rng_draw():
    with open(reference.__file__, encoding="utf-8") as f:
        source = f.read()
    find = "q, r = np.linalg.qr(flat)"
    assert source.count(find) == 1
    other = module_from_source("other_draw", source.replace(find, "q, r = np.linalg.qr(flat[::-1, ::-1] + 1.0)"))
    lost = points_lost("init_gradflow", reference, other)
    assert {"init_weights_orthogonal_wide", "init_weights_orthogonal_tall_and_conv"} <= set(lost)


# ## The notebook's figures say what their numbers show (the notebook's own setup, recomputed)


@pytest.fixture(scope="module")
def notebook_nets():
    depth, width = 20, 256
    X = np.random.default_rng(1).standard_normal((256, width))
    inits = {
        "small": lambda shape, rng: 0.01 * rng.standard_normal(shape),
        "xavier": lambda shape, rng: init_weights(shape, "xavier_normal", rng),
        "kaiming": lambda shape, rng: init_weights(shape, "kaiming_normal", rng),
    }
    nets = {
        name: [init((width, width), np.random.default_rng(l)) for l in range(depth)] for name, init in inits.items()
    }
    return nets, X


@pytest.mark.task7_3
def test_task7_3_forward_std_figure_claims(notebook_nets):
    nets, X = notebook_nets
    std = {
        (act, name): np.array([h.std() for h in layer_activations(Ws, X, act)])
        for act in ("tanh", "relu")
        for name, Ws in nets.items()
    }
    for act in ("tanh", "relu"):
        assert std[act, "small"][-1] < 1e-12, "N(0, 0.01²): the signal is gone by layer 20"
        assert std[act, "kaiming"][-1] / std[act, "kaiming"][0] > 0.5, "He keeps the ReLU (and tanh) signal"
    assert std["tanh", "xavier"][-1] > 0.1, "Xavier keeps tanh alive"
    per_layer = (std["relu", "xavier"][-1] / std["relu", "xavier"][0]) ** (1 / 19)
    assert per_layer == pytest.approx(1 / np.sqrt(2), rel=0.05), "Xavier + ReLU: the std falls by √2 per layer"


@pytest.mark.task7_4
def test_task7_4_gradient_norm_figure_claims(notebook_nets):
    nets, X = notebook_nets
    for name, Ws in nets.items():
        sigmoid = layer_grad_norms(Ws, X, "sigmoid")
        assert sigmoid[0] / sigmoid[-1] < 1e-6, f"{name}: sigmoid's gradients vanish towards the input"
    small = layer_grad_norms(nets["small"], X, "relu")
    assert small.max() < 1e-20 * layer_grad_norms(nets["xavier"], X, "relu").min(), "tiny gradients everywhere"
    relu = layer_grad_norms(nets["xavier"], X, "relu")
    big = layer_grad_norms([3.0 * W for W in nets["xavier"]], X, "relu")
    np.testing.assert_allclose(big / relu, 3.0**39, rtol=1e-9, err_msg="3 × xavier: the same factor at every layer")
    assert big.min() > 1e15 * relu.max(), "3 × xavier: the ReLU gradients explode in size at every layer"


@pytest.mark.task7_5
def test_task7_5_clipping_rescues_the_notebooks_recurrent_net():
    from autograder.gradcheck import numeric_grad

    T, seqs = 20, np.random.default_rng(0).standard_normal((16, 20))

    def last(theta):
        h = np.zeros(len(seqs))
        for t in range(T):
            h = theta[0] * h + theta[1] * seqs[:, t]
        return h

    teacher = last(np.array([0.9, 0.5]))

    def loss(theta):
        return 0.5 * np.mean((last(theta) - teacher) ** 2)

    def train(max_norm, steps=100, lr=0.03):
        theta, losses = np.array([1.1, 1.0]), []
        for _ in range(steps):
            losses.append(loss(theta))
            if not losses[-1] < 1e30:
                break
            grad = numeric_grad(loss, theta)
            if max_norm is not None:
                (grad,), _ = clip_grad_norm([grad], max_norm)
            theta = theta - lr * grad
        return losses, theta

    with np.errstate(over="ignore", invalid="ignore"):
        plain, _ = train(None)
    clipped, theta = train(1.0)
    assert plain[-1] > 1e10 * plain[0], "without clipping the training diverges"
    assert clipped[-1] < 1e-6 * clipped[0], "with clipping it converges"
    np.testing.assert_allclose(theta, [0.9, 0.5], atol=1e-3)


@pytest.mark.task7_4
def test_task7_4_backward_signal_figure_claims():
    """The notebook's ‖∂E/∂z_ℓ‖/‖∂E/∂h_L‖ figure (20 layers of width 64, 4 examples): 'explodes' means
    layer 1 / layer 20 > 10, 'vanishes' < 0.1, 'within an order of magnitude' between 0.1 and 10."""
    depth, width = 20, 64
    X = np.random.default_rng(1).standard_normal((4, width))
    inits = {
        "small": lambda shape, rng: 0.01 * rng.standard_normal(shape),
        "xavier": lambda shape, rng: init_weights(shape, "xavier_normal", rng),
        "kaiming": lambda shape, rng: init_weights(shape, "kaiming_normal", rng),
    }
    nets = {
        name: [init((width, width), np.random.default_rng(l)) for l in range(depth)] for name, init in inits.items()
    }
    nets["big"] = [3.0 * W for W in nets["xavier"]]

    def first_over_last(Ws, activation):
        hs = [X] + layer_activations(Ws, X, activation)
        normalised = np.zeros(depth)  # as the notebook: ‖∂E/∂z_ℓ‖ / ‖∂E/∂h_L‖, averaged over the examples
        for n in range(len(X)):
            out_grad = np.linalg.norm(hs[-1][n])
            for l in range(depth):
                h_prev = hs[l][n : n + 1]
                normalised[l] += layer_grad_norms(Ws[l:], h_prev, activation)[0] / np.linalg.norm(h_prev) / out_grad
        return normalised[0] / normalised[-1]

    for activation in ("tanh", "relu"):
        assert first_over_last(nets["big"], activation) > 10, f"{activation}: a large scale explodes"
        assert first_over_last(nets["small"], activation) < 1e-10, f"{activation}: N(0, 0.01²) vanishes"
    assert first_over_last(nets["xavier"], "relu") < 0.1, "Xavier with ReLU vanishes"
    assert 0.1 < first_over_last(nets["kaiming"], "relu") < 10, "He's stays within an order of magnitude"
    for name, Ws in nets.items():
        assert first_over_last(Ws, "sigmoid") < 1e-3, f"{name}: the sigmoid vanishes whatever the scale"
