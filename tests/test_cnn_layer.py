"""Tests for solution/cnn_layer.py (Assignment 3).

Oracles: torch.nn.functional.conv2d / conv1d and torch.autograd in float64 on the CPU,
central finite differences, and hand-computed values from seed 003's formula w^T x + b.
"""

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from solution.cnn_layer import conv1d_forward, conv2d_backward, conv2d_forward
from tests.strategies import seeds

F = torch.nn.functional


def assert_close(got, expected, what):
    """float64 agreement: 1e-10 relative to the scale of the expected array."""
    expected = np.asarray(expected)
    assert got.shape == expected.shape, f"{what}: shape {got.shape} != {expected.shape}"
    scale = max(1.0, float(np.abs(expected).max(initial=0.0)))
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-10 * scale, err_msg=what)


@st.composite
def conv2d_cases(draw):
    """Small random conv2d problems: strides 1-3, paddings 0-2, non-square kernels."""
    rng = draw(seeds())
    N = draw(st.integers(1, 3))
    C_in = draw(st.integers(1, 3))
    C_out = draw(st.integers(1, 3))
    KH = draw(st.integers(1, 4))
    KW = draw(st.integers(1, 4))
    stride = draw(st.integers(1, 3))
    padding = draw(st.integers(0, 2))
    H = draw(st.integers(max(1, KH - 2 * padding), KH + 6))
    W = draw(st.integers(max(1, KW - 2 * padding), KW + 6))
    x = rng.standard_normal((N, C_in, H, W))
    w = rng.standard_normal((C_out, C_in, KH, KW))
    b = rng.standard_normal(C_out)
    return x, w, b, stride, padding, rng


def torch_conv2d(x, w, b, stride, padding, dout=None):
    """PyTorch's output and, given dout, its autograd (dx, dw, db), as NumPy arrays."""
    xt, wt, bt = (torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in (x, w, b))
    out = F.conv2d(xt, wt, bt, stride=stride, padding=padding)
    if dout is None:
        return out.detach().numpy()
    out.backward(torch.tensor(dout, dtype=torch.float64))
    return out.detach().numpy(), (xt.grad.numpy(), wt.grad.numpy(), bt.grad.numpy())


def torch_grads(case):
    x, w, b, stride, padding, rng = case
    out, cache = conv2d_forward(x, w, b, stride, padding)
    dout = rng.standard_normal(out.shape)
    _, expected = torch_conv2d(x, w, b, stride, padding, dout)
    return conv2d_backward(dout, cache), expected


# ## Task 3.1: conv2d_forward ------------------------------------------------------------


@pytest.mark.task3_1
@given(conv2d_cases())
def test_task3_1_conv2d_forward_matches_torch(case):
    x, w, b, stride, padding, _ = case
    out, _ = conv2d_forward(x, w, b, stride, padding)
    assert_close(
        out,
        torch_conv2d(x, w, b, stride, padding),
        f"conv2d_forward x {x.shape} w {w.shape} stride {stride} padding {padding}",
    )


@pytest.mark.task3_1
@pytest.mark.parametrize("N, C_in", [(1, 1), (1, 3), (2, 3)])
def test_task3_1_conv2d_forward_seed003_shapes(N, C_in):
    # seed 003: a C_in x 32 x 32 image and six C_in x 5 x 5 filters -> 6 x 28 x 28 maps
    rng = np.random.default_rng(3)
    x = rng.standard_normal((N, C_in, 32, 32))
    w = rng.standard_normal((6, C_in, 5, 5))
    b = rng.standard_normal(6)
    out, _ = conv2d_forward(x, w, b)
    assert out.shape == (N, 6, 28, 28)
    # "1 number: the dot product between the filter and a C_in x 5 x 5 chunk + bias"
    n, o, i, j = N - 1, 4, 10, 17
    chunk = x[n, :, i : i + 5, j : j + 5]
    assert out[n, o, i, j] == pytest.approx(w[o].ravel() @ chunk.ravel() + b[o], rel=1e-12)
    assert_close(out, torch_conv2d(x, w, b, 1, 0), "seed 003 example")


@pytest.mark.task3_1
def test_task3_1_conv2d_forward_is_cross_correlation():
    # hand-computed: the kernel is applied as is, not flipped
    x = np.arange(9.0).reshape(1, 1, 3, 3)
    w = np.array([[[[1.0, 0.0], [0.0, -1.0]]]])  # out[i, j] = x[i, j] - x[i+1, j+1]
    out, _ = conv2d_forward(x, w, np.array([0.5]))
    np.testing.assert_array_equal(out, np.full((1, 1, 2, 2), -4.0 + 0.5))


@pytest.mark.task3_1
def test_task3_1_conv2d_forward_stride_padding_hand_example():
    # 1x1 input 2x2 of ones, 3x3 kernel of ones, padding 1, stride 2 -> H_out = (2+2-3)//2+1 = 1
    out, _ = conv2d_forward(np.ones((1, 1, 2, 2)), np.ones((1, 1, 3, 3)), np.zeros(1), 2, 1)
    # the window at (0, 0) of the padded input covers all four ones
    np.testing.assert_array_equal(out, [[[[4.0]]]])


@pytest.mark.task3_1
@pytest.mark.parametrize(
    "x_shape, w_shape, stride, padding, out_shape",
    [
        ((1, 1, 1, 1), (1, 1, 1, 1), 1, 0, (1, 1, 1, 1)),  # N = C = 1, 1x1 everything
        ((1, 1, 4, 5), (2, 1, 4, 5), 1, 0, (1, 2, 1, 1)),  # kernel exactly the input size
        ((1, 1, 2, 2), (1, 1, 4, 4), 1, 1, (1, 1, 1, 1)),  # kernel exactly the padded size
        ((2, 1, 8, 5), (3, 1, 2, 3), 3, 2, (2, 3, 4, 3)),  # stride leaves the last row unused
        ((1, 2, 6, 6), (1, 2, 1, 1), 2, 0, (1, 1, 3, 3)),  # 1x1 kernel with stride
    ],
)
def test_task3_1_conv2d_forward_edge_shapes(x_shape, w_shape, stride, padding, out_shape):
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal(x_shape), rng.standard_normal(w_shape)
    b = rng.standard_normal(w_shape[0])
    out, _ = conv2d_forward(x, w, b, stride, padding)
    assert out.shape == out_shape
    assert_close(out, torch_conv2d(x, w, b, stride, padding), f"x {x_shape} w {w_shape}")


@pytest.mark.task3_1
@given(conv2d_cases(), st.floats(-2, 2), st.floats(-2, 2))
def test_task3_1_conv2d_forward_linear_in_x(case, alpha, beta):
    x, w, b, stride, padding, rng = case
    x2 = rng.standard_normal(x.shape)
    zero = np.zeros_like(b)

    def conv(inp, bias):
        return conv2d_forward(inp, w, bias, stride, padding)[0]

    combined = conv(alpha * x + beta * x2, zero)
    assert_close(combined, alpha * conv(x, zero) + beta * conv(x2, zero), "linearity in x")
    assert_close(conv(x, b) - conv(x, zero), np.broadcast_to(b[None, :, None, None], combined.shape), "bias adds b[o]")


@pytest.mark.task3_1
@pytest.mark.parametrize(
    "x_shape, w_shape, b_shape, kwargs, match",
    [
        ((3, 8), (2, 3, 3, 3), (2,), {}, r"conv2d_forward: x must be \(N, C_in, H, W\), got shape \(3, 8\)"),
        ((1, 3, 8, 8), (2, 3, 3), (2,), {}, r"conv2d_forward: w must be .*got shape \(2, 3, 3\)"),
        (
            (1, 3, 8, 8),
            (2, 4, 3, 3),
            (2,),
            {},
            r"conv2d_forward: C_in of x \(1, 3, 8, 8\) is 3 .* w \(2, 4, 3, 3\) is 4",
        ),
        ((1, 3, 8, 8), (2, 3, 3, 3), (3,), {}, r"conv2d_forward: b must be \(C_out,\) = \(2,\).*got shape \(3,\)"),
        ((1, 3, 8, 8), (2, 3, 3, 3), (2, 1), {}, r"conv2d_forward: b must be"),
        ((1, 3, 8, 8), (2, 3, 3, 3), (2,), {"stride": 0}, r"conv2d_forward: stride must be an int >= 1, got 0"),
        ((1, 3, 8, 8), (2, 3, 3, 3), (2,), {"stride": 1.5}, r"conv2d_forward: stride must be an int"),
        ((1, 3, 8, 8), (2, 3, 3, 3), (2,), {"stride": True}, r"conv2d_forward: stride must be an int"),
        ((1, 3, 8, 8), (2, 3, 3, 3), (2,), {"padding": -1}, r"conv2d_forward: padding must be an int >= 0, got -1"),
        ((1, 3, 8, 8), (2, 3, 3, 3), (2,), {"padding": 1.0}, r"conv2d_forward: padding must be an int"),
        (
            (1, 3, 4, 8),
            (2, 3, 7, 3),
            (2,),
            {"padding": 1},
            r"conv2d_forward: kernel \(KH, KW\) = \(7, 3\) is larger than the padded input .* = \(6, 10\)",
        ),
    ],
)
def test_task3_1_conv2d_forward_validation(x_shape, w_shape, b_shape, kwargs, match):
    with pytest.raises(ValueError, match=match):
        conv2d_forward(np.zeros(x_shape), np.zeros(w_shape), np.zeros(b_shape), **kwargs)


@pytest.mark.task3_1
@pytest.mark.parametrize("stride, padding", [(np.int64(2), np.int32(1))])
def test_task3_1_conv2d_forward_accepts_numpy_ints(stride, padding):
    x, w, b = np.ones((1, 1, 4, 4)), np.ones((1, 1, 3, 3)), np.zeros(1)
    out, _ = conv2d_forward(x, w, b, stride, padding)
    assert out.shape == (1, 1, 2, 2)


@pytest.mark.task3_1
@pytest.mark.task3_2
def test_task3_1_conv2d_inputs_not_modified():
    rng = np.random.default_rng(1)
    x, w, b = rng.standard_normal((2, 3, 6, 5)), rng.standard_normal((4, 3, 3, 2)), rng.standard_normal(4)
    copies = [a.copy() for a in (x, w, b)]
    out, cache = conv2d_forward(x, w, b, 2, 1)
    dout = rng.standard_normal(out.shape)
    dout_copy = dout.copy()
    conv2d_backward(dout, cache)
    for name, a, c in zip(("x", "w", "b", "dout"), (x, w, b, dout), copies + [dout_copy], strict=False):
        np.testing.assert_array_equal(a, c, err_msg=f"{name} was modified")


# ## Task 3.2: conv2d_backward -----------------------------------------------------------


@pytest.mark.task3_2
@given(conv2d_cases())
def test_task3_2_conv2d_backward_dx(case):
    (dx, _, _), (ex, _, _) = torch_grads(case)
    assert_close(dx, ex, "dx")


@pytest.mark.task3_2
@given(conv2d_cases())
def test_task3_2_conv2d_backward_dw(case):
    (_, dw, _), (_, ew, _) = torch_grads(case)
    assert_close(dw, ew, "dw")


@pytest.mark.task3_2
@given(conv2d_cases())
def test_task3_2_conv2d_backward_db(case):
    (_, _, db), (_, _, eb) = torch_grads(case)
    assert_close(db, eb, "db")


def _central_difference(f, a, eps=1e-6):
    grad = np.zeros_like(a)
    for idx in np.ndindex(a.shape):
        old = a[idx]
        a[idx] = old + eps
        fp = f()
        a[idx] = old - eps
        fm = f()
        a[idx] = old
        grad[idx] = (fp - fm) / (2 * eps)
    return grad


@pytest.mark.task3_2
@pytest.mark.parametrize("stride, padding", [(1, 0), (2, 1), (3, 2)])
def test_task3_2_conv2d_backward_central_difference(stride, padding):
    rng = np.random.default_rng(7)
    x, w, b = rng.standard_normal((2, 2, 5, 6)), rng.standard_normal((3, 2, 3, 2)), rng.standard_normal(3)
    out, cache = conv2d_forward(x, w, b, stride, padding)
    dout = rng.standard_normal(out.shape)
    dx, dw, db = conv2d_backward(dout, cache)

    def loss():  # L = sum(out * dout), so dL/d(param) is the backward pass with dout
        return float(np.sum(conv2d_forward(x, w, b, stride, padding)[0] * dout))

    for name, got, param in (("dx", dx, x), ("dw", dw, w), ("db", db, b)):
        np.testing.assert_allclose(got, _central_difference(loss, param), rtol=1e-6, atol=1e-7, err_msg=name)


@pytest.mark.task3_2
def test_task3_2_conv2d_backward_benchmark_shape_matches_torch():
    rng = np.random.default_rng(5)
    x, w, b = rng.standard_normal((32, 16, 32, 32)), rng.standard_normal((32, 16, 3, 3)), rng.standard_normal(32)
    out, cache = conv2d_forward(x, w, b, 1, 1)
    dout = rng.standard_normal(out.shape)
    expected_out, expected = torch_conv2d(x, w, b, 1, 1, dout)
    assert_close(out, expected_out, "out")
    for name, got, exp in zip(("dx", "dw", "db"), conv2d_backward(dout, cache), expected, strict=False):
        assert_close(got, exp, name)


@pytest.mark.task3_2
@pytest.mark.parametrize("bad", [(2, 4, 3, 3), (2, 4, 4, 4, 1), (4, 2, 4, 4), (2, 4, 4)])
def test_task3_2_conv2d_backward_dout_shape(bad):
    _, cache = conv2d_forward(np.zeros((2, 3, 6, 6)), np.zeros((4, 3, 3, 3)), np.zeros(4))
    with pytest.raises(ValueError, match=r"conv2d_backward: dout must have .*\(2, 4, 4, 4\)"):
        conv2d_backward(np.zeros(bad), cache)


@pytest.mark.task3_2
def test_task3_2_conv2d_backward_bad_cache():
    with pytest.raises(ValueError, match="conv2d_backward: cache must be"):
        conv2d_backward(np.zeros((1, 1, 1, 1)), [np.zeros((1, 1, 1, 1))])


# ## Task 3.3: conv1d_forward ------------------------------------------------------------


@st.composite
def conv1d_cases(draw):
    rng = draw(seeds())
    N, C_in, C_out = draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    K = draw(st.integers(1, 5))
    stride, padding = draw(st.integers(1, 3)), draw(st.integers(0, 2))
    L = draw(st.integers(max(1, K - 2 * padding), K + 8))
    x = rng.standard_normal((N, C_in, L))
    w = rng.standard_normal((C_out, C_in, K))
    b = rng.standard_normal(C_out)
    return x, w, b, stride, padding


@pytest.mark.task3_3
@given(conv1d_cases())
def test_task3_3_conv1d_forward_matches_torch(case):
    x, w, b, stride, padding = case
    out = conv1d_forward(x, w, b, stride, padding)
    expected = F.conv1d(*(torch.tensor(a) for a in (x, w, b)), stride=stride, padding=padding)
    L_out = (x.shape[2] + 2 * padding - w.shape[2]) // stride + 1
    assert out.shape == (x.shape[0], w.shape[0], L_out)
    assert_close(out, expected.numpy(), f"conv1d x {x.shape} w {w.shape} s {stride} P {padding}")


@pytest.mark.task3_3
def test_task3_3_conv1d_forward_hand_example():
    # x = [1, 2, 3, 4], w = [1, -1], padding 1: x~ = [0, 1, 2, 3, 4, 0]; out = x~[i] - x~[i+1]
    out = conv1d_forward(np.array([[[1.0, 2, 3, 4]]]), np.array([[[1.0, -1.0]]]), np.array([0.0]), padding=1)
    np.testing.assert_array_equal(out, [[[-1.0, -1.0, -1.0, -1.0, 4.0]]])


@pytest.mark.task3_3
def test_task3_3_conv1d_inputs_not_modified():
    rng = np.random.default_rng(2)
    x, w, b = rng.standard_normal((2, 3, 9)), rng.standard_normal((4, 3, 3)), rng.standard_normal(4)
    copies = [a.copy() for a in (x, w, b)]
    conv1d_forward(x, w, b, 2, 1)
    for a, c in zip((x, w, b), copies, strict=False):
        np.testing.assert_array_equal(a, c)


@pytest.mark.task3_3
@pytest.mark.parametrize(
    "x_shape, w_shape, b_shape, kwargs, match",
    [
        ((2, 3, 4, 4), (2, 3, 3), (2,), {}, r"conv1d_forward: x must be \(N, C_in, L\), got shape \(2, 3, 4, 4\)"),
        ((2, 3, 9), (2, 3, 3, 3), (2,), {}, r"conv1d_forward: w must be \(C_out, C_in, K\)"),
        ((2, 3, 9), (2, 1, 3), (2,), {}, r"conv1d_forward: C_in of x"),
        ((2, 3, 9), (2, 3, 3), (1,), {}, r"conv1d_forward: b must be"),
        ((2, 3, 9), (2, 3, 3), (2,), {"stride": 0}, r"conv1d_forward: stride must be an int >= 1"),
        ((2, 3, 9), (2, 3, 3), (2,), {"padding": -2}, r"conv1d_forward: padding must be an int >= 0"),
        ((2, 3, 2), (2, 3, 5), (2,), {}, r"conv1d_forward: kernel \(K\) = \(5,\) is larger than the padded input"),
    ],
)
def test_task3_3_conv1d_forward_validation(x_shape, w_shape, b_shape, kwargs, match):
    with pytest.raises(ValueError, match=match):
        conv1d_forward(np.zeros(x_shape), np.zeros(w_shape), np.zeros(b_shape), **kwargs)
