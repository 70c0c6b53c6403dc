"""Public tests for cnn_layer: small, readable cases students can run with
`python -m autograder check cnn_layer`. The hidden tests extend these."""

import numpy as np

from autograder.testcase import GradedTest, Slip

_rng = np.random.default_rng(3)
X = _rng.standard_normal((2, 3, 5, 5))  # (N, C_in, H, W)
W = _rng.standard_normal((2, 3, 3, 3))  # (C_out, C_in, KH, KW)
B = _rng.standard_normal(2)  # (C_out,)
DOUT = _rng.standard_normal((2, 2, 3, 3))  # (N, C_out, H_out, W_out)
X1 = _rng.standard_normal((2, 3, 7))  # (N, C_in, L)
W1 = _rng.standard_normal((4, 3, 3))  # (C_out, C_in, K)
B1 = _rng.standard_normal(4)

FLIPPED = "the kernel is flipped: the layer is cross-correlation (as in PyTorch), no flip"


def forward(x, w, b, stride=1, padding=0, flip=False):
    """Build a test recording conv2d_forward's output (optionally with the kernel flipped)."""

    def build(s):
        ww = w[:, :, ::-1, ::-1].copy() if flip else w
        out, _ = s.student("conv2d_forward")(x, ww, b, stride=stride, padding=padding).unpack(2)
        s.output("out", out)

    return build


def backward(x, w, b, dout, stride=1, padding=0):
    def build(s):
        _, cache = s.student("conv2d_forward")(x, w, b, stride=stride, padding=padding).unpack(2)
        dx, dw, db = s.student("conv2d_backward")(dout, cache).unpack(3)
        s.output("db", db)
        s.output("dw", dw)
        s.output("dx", dx)

    return build


def flipped_backward(x, w, b, dout, stride=1, padding=0):
    """Gradients of a layer that flips its kernel: dw comes out flipped too."""

    def build(s):
        _, cache = s.student("conv2d_forward")(x, w[:, :, ::-1, ::-1].copy(), b, stride=stride, padding=padding).unpack(
            2
        )
        dx, dw, db = s.student("conv2d_backward")(dout, cache).unpack(3)
        s.output("db", db)
        s.output("dw", s.lib("numpy.ascontiguousarray")(dw[:, :, ::-1, ::-1]))
        s.output("dx", dx)

    return build


def db_first_sample(x, w, b, dout, stride=1, padding=0):
    """db of the first sample only: what summing over H_out and W_out but not N gives."""

    def build(s):
        _, cache = s.student("conv2d_forward")(x[:1], w, b, stride=stride, padding=padding).unpack(2)
        s.output("db", s.student("conv2d_backward")(dout[:1], cache)[2])

    return build


DB_NOT_SUMMED = "db is not summed over the batch: every example's outputs used b, so each one contributes to db"


def conv1d(x, w, b, stride=1, padding=0):
    def build(s):
        s.output("out", s.student("conv1d_forward")(x, w, b, stride=stride, padding=padding))

    return build


TESTS = [
    GradedTest(
        "conv2d_forward_basic",
        "3.1",
        10,
        forward(X, W, B),
        hidden=False,
        slips=(Slip(FLIPPED, forward(X, W, B, flip=True)),),
        hint="out[n, o, i, j] = b[o] + Σ_c Σ_p Σ_q x[n, c, i·s + p, j·s + q] · w[o, c, p, q]",
    ),
    GradedTest(
        "conv2d_backward_basic",
        "3.2",
        10,
        backward(X, W, B, DOUT),
        hidden=False,
        slips=(Slip(FLIPPED, flipped_backward(X, W, B, DOUT)), Slip(DB_NOT_SUMMED, db_first_sample(X, W, B, DOUT))),
        hint="each of db, dw and dx sums, by the chain rule, over every output that used b, w or that "
        "input position; check them against finite differences, as the notebook does",
    ),
    GradedTest(
        "conv1d_forward_basic",
        "3.3",
        5,
        conv1d(X1, W1, B1),
        hidden=False,
        hint="conv1d is conv2d with a height of 1: out[n, o, i] = b[o] + Σ_c Σ_k x~[n, c, i·s + k] · w[o, c, k], "
        "x~ being x zero-padded by P at both ends",
    ),
]
