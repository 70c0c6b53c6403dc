"""Assignment 3: a convolution layer in NumPy (forward, backward, and the 1-D case).

What it teaches
    The shapes of the lecture's convolution layer (seed 003: a 3x32x32 image and six
    3x5x5 filters give six 28x28 activation maps, i.e. a 6x28x28 output; a batch
    N x C_in x H x W gives N x C_out x H' x W'), how to compute it without Python loops
    by unrolling the input windows into a matrix ("im2col") so that the whole layer is one
    matrix product, and how the backward pass folds gradients back onto the input
    ("col2im").

Notation
    CS231n layer style: ``*_forward(...) -> (out, cache)`` and
    ``*_backward(dout, cache) -> (dx, dw, db)``. One letter set for shapes throughout:
    N (batch), C_in / C_out (channels), H, W (input height/width), KH, KW (kernel),
    H_out, W_out (output), L, K, L_out (the 1-D case), s = stride, P = padding.
    x~ is the input zero-padded by P on each side of each spatial axis. Filters are
    (C_out, C_in, KH, KW), height before width as in PyTorch's Conv2d.weight; seed 003
    writes them C_out x C_in x K_w x K_h (its 5x5 filters are square, so no difference
    there). Seed 003 only counts 32 - 5 + 1 = 28 positions; the general
    H_out = (H + 2P - KH)//s + 1 is Dumoulin & Visin's (2016, "A guide to convolution
    arithmetic for deep learning"): output row i reads padded rows i*s .. i*s + KH - 1,
    which fit while i*s + KH <= H + 2P.

Where it departs from PyTorch
    Nowhere in the numbers: the results equal ``torch.nn.functional.conv2d`` /
    ``conv1d`` and their autograd gradients. Like PyTorch (and seed 003's "slide the
    filter over the image computing dot products"), the operation called "convolution"
    is really *cross-correlation*: the kernel is not flipped. Seed 001 defines a true
    convolution, f(x)_ij = sum_kl w_kl x_{i-k, j-l}; it equals the cross-correlation
    with the flipped kernel w[..., ::-1, ::-1]. Everything is computed in float64;
    ``stride`` and ``padding`` are single integers used for both spatial axes.
"""

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

__all__ = ["conv2d_forward", "conv2d_backward", "conv1d_forward"]


# Validation (kept in the student skeleton) ----------------------------------------------


def _check_int(fname, name, value, minimum):
    """An int (not bool) >= minimum, else ValueError naming the function and argument."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{fname}: {name} must be an int >= {minimum}, got {value!r} of type {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"{fname}: {name} must be an int >= {minimum}, got {value}")
    return int(value)


def _check_conv_args(fname, x, w, b, stride, padding, spatial):
    """Check a conv layer's arguments; return float64 arrays and int stride/padding.

    ``spatial`` names the spatial axes: ("H", "W") for conv2d, ("L",) for conv1d.
    """
    kernel = {"H": "KH", "W": "KW", "L": "K"}
    x_dims = ", ".join(("N", "C_in") + spatial)
    w_dims = ", ".join(("C_out", "C_in") + tuple(kernel[a] for a in spatial))
    x = np.asarray(x, dtype=np.float64)
    w = np.asarray(w, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    ndim = 2 + len(spatial)
    if x.ndim != ndim:
        raise ValueError(f"{fname}: x must be ({x_dims}), got shape {x.shape}")
    if w.ndim != ndim:
        raise ValueError(f"{fname}: w must be ({w_dims}), got shape {w.shape}")
    if x.shape[1] != w.shape[1]:
        raise ValueError(f"{fname}: C_in of x {x.shape} is {x.shape[1]} but C_in of w {w.shape} is {w.shape[1]}")
    if b.shape != (w.shape[0],):
        raise ValueError(f"{fname}: b must be (C_out,) = ({w.shape[0]},) for w of shape {w.shape}, got shape {b.shape}")
    stride = _check_int(fname, "stride", stride, 1)
    padding = _check_int(fname, "padding", padding, 0)
    padded = tuple(n + 2 * padding for n in x.shape[2:])
    if any(k > n for k, n in zip(w.shape[2:], padded, strict=False)):
        names = ", ".join(kernel[a] for a in spatial)
        sizes = ", ".join(f"{a}+2*padding" for a in spatial)
        raise ValueError(
            f"{fname}: kernel ({names}) = {tuple(w.shape[2:])} is larger than "
            f"the padded input ({sizes}) = {padded} "
            f"(x {x.shape}, w {w.shape}, padding={padding})"
        )
    return x, w, b, stride, padding


def _out_size(n, k, stride, padding):
    """H_out = (H + 2P - KH)//s + 1 (the same for W and L)."""
    return (n + 2 * padding - k) // stride + 1


# ## Task 3.1: conv2d_forward ------------------------------------------------------------


def _pad(x, padding):
    """x~: zero-pad the two last (spatial) axes of x (N, C_in, H, W) by P on each side."""
    p = padding
    return np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))


def _im2col(x_pad, KH, KW, stride, H_out, W_out):
    """Unroll every KH x KW window of x~ into one column.

    x_pad (N, C_in, H+2P, W+2P) -> cols (C_in*KH*KW, N*H_out*W_out) with
    cols[(c, p, q), (n, i, j)] = x~[n, c, i*s + p, j*s + q].
    """
    # TODO (Task 3.1): your code here.
    raise NotImplementedError('Task 3.1: _im2col — return the im2col matrix (C_in*KH*KW, N*H_out*W_out)')


def conv2d_forward(x, w, b, stride=1, padding=0):
    """Forward pass of a 2-D convolution layer (cross-correlation, as in PyTorch).

    out[n, o, i, j] = b[o] + sum_{c, p, q} w[o, c, p, q] * x~[n, c, i*s + p, j*s + q]

    i.e. the dot product w^T x + b of each filter with each C_in x KH x KW chunk of the
    input (seed 003). Seed 003's "convolution" is this cross-correlation: the kernel is
    NOT flipped, exactly as ``torch.nn.functional.conv2d``. Seed 001's convolution
    sum_kl w_kl x_{i-k, j-l} is this function applied to the flipped kernel.

    Args:
        x: (N, C_in, H, W) input.
        w: (C_out, C_in, KH, KW) filters.
        b: (C_out,) biases.
        stride: s, an int >= 1 (both spatial axes).
        padding: P, an int >= 0 of zeros added on each side of H and W.

    Returns:
        out: (N, C_out, H_out, W_out) with H_out = (H + 2P - KH)//s + 1,
            W_out = (W + 2P - KW)//s + 1.
        cache: (x, w, b, stride, padding) for ``conv2d_backward``.

    Example (seed 003): x (1, 3, 32, 32), w (6, 3, 5, 5), b (6,) -> out (1, 6, 28, 28).

    Implementation: im2col. The windows become the columns of a
    (C_in*KH*KW, N*H_out*W_out) matrix, the filters the rows of a (C_out, C_in*KH*KW)
    matrix, and the layer is one matrix product; no Python loops.
    """
    x, w, b, stride, padding = _check_conv_args("conv2d_forward", x, w, b, stride, padding, ("H", "W"))
    N, C_in, H, W = x.shape
    C_out, _, KH, KW = w.shape
    H_out = _out_size(H, KH, stride, padding)
    W_out = _out_size(W, KW, stride, padding)
    # TODO (Task 3.1): your code here.
    raise NotImplementedError('Task 3.1: conv2d_forward — compute out (N, C_out, H_out, W_out)')
    cache = (x, w, b, stride, padding)
    return out, cache


# ## Task 3.2: conv2d_backward -----------------------------------------------------------


def _col2im(dcols, x_pad_shape, KH, KW, stride, H_out, W_out):
    """The adjoint of ``_im2col``: add every column back onto the window it came from.

    dcols (C_in*KH*KW, N*H_out*W_out) -> dx~ (N, C_in, H+2P, W+2P) with
    dx~[n, c, i*s + p, j*s + q] += dcols[(c, p, q), (n, i, j)]   (overlaps add up).
    """
    # TODO (Task 3.2): your code here.
    raise NotImplementedError('Task 3.2: _col2im — return dx~ (N, C_in, H+2P, W+2P)')


def conv2d_backward(dout, cache):
    """Backward pass of ``conv2d_forward``.

    With dout[n, o, i, j] = dL/dout[n, o, i, j], derive db, dw and the gradient dx~ of
    the padded input x~ by the chain rule: every output is linear in b, w and x~, so each
    gradient sums over every output that used the quantity, and overlapping windows add
    up in dx~ (``_col2im`` folds columns back onto the image). dx is dx~ with the padding
    cropped off.

    Args:
        dout: (N, C_out, H_out, W_out) upstream gradient, the shape of the forward output.
        cache: the cache returned by ``conv2d_forward``.

    Returns:
        dx: (N, C_in, H, W), dw: (C_out, C_in, KH, KW), db: (C_out,).
    """
    if not (isinstance(cache, tuple) and len(cache) == 5):
        raise ValueError(
            "conv2d_backward: cache must be the (x, w, b, stride, padding) "
            f"tuple returned by conv2d_forward, got {type(cache).__name__}"
        )
    x, w, b, stride, padding = cache
    N, C_in, H, W = x.shape
    C_out, _, KH, KW = w.shape
    H_out = _out_size(H, KH, stride, padding)
    W_out = _out_size(W, KW, stride, padding)
    dout = np.asarray(dout, dtype=np.float64)
    if dout.shape != (N, C_out, H_out, W_out):
        raise ValueError(
            f"conv2d_backward: dout must have the forward output's shape "
            f"(N, C_out, H_out, W_out) = {(N, C_out, H_out, W_out)}, "
            f"got shape {dout.shape}"
        )
    # TODO (Task 3.2): your code here.
    raise NotImplementedError('Task 3.2: conv2d_backward — return (dx, dw, db)')


# ## Task 3.3: conv1d_forward ------------------------------------------------------------


def conv1d_forward(x, w, b, stride=1, padding=0):
    """Forward pass of a 1-D convolution layer (cross-correlation, as in PyTorch).

    out[n, o, i] = b[o] + sum_{c, p} w[o, c, p] * x~[n, c, i*s + p]

    Args:
        x: (N, C_in, L) input.
        w: (C_out, C_in, K) filters.
        b: (C_out,) biases.
        stride: s, an int >= 1.
        padding: P, an int >= 0 of zeros added at both ends of L.

    Returns:
        out: (N, C_out, L_out) with L_out = (L + 2P - K)//s + 1 (no cache).

    A 1-D signal is a 2-D image of height 1: pad L yourself (padding H would add rows),
    then call ``conv2d_forward`` on x (N, C_in, 1, L+2P) and w (C_out, C_in, 1, K).
    """
    x, w, b, stride, padding = _check_conv_args("conv1d_forward", x, w, b, stride, padding, ("L",))
    # TODO (Task 3.3): your code here.
    raise NotImplementedError('Task 3.3: conv1d_forward — return out (N, C_out, L_out)')
