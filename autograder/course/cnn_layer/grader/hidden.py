"""Hidden tests for cnn_layer (100 points with the public ones): strides, padding, non-square
kernels, N=1 and C=1 edge cases, the lecture's 32x32 example, untouched inputs.

Input validation is given in the skeleton, so it is tested in tests/, not graded here."""

import numpy as np

from autograder.course.cnn_layer.public import (
    DB_NOT_SUMMED,
    FLIPPED,
    backward,
    conv1d,
    db_first_sample,
    flipped_backward,
    forward,
)
from autograder.course.cnn_layer.public import (
    TESTS as PUBLIC,
)
from autograder.testcase import GradedTest, Slip

# The derivation this assignment asks for, written out for TAs (grader-only, as is this file).
ANSWERS = """
conv2d_backward, with dout[n, o, i, j] = dL/dout[n, o, i, j] and x~ the padded input:
    db[o]          = sum_{n, i, j} dout[n, o, i, j]            (dout summed over N, H_out, W_out)
    dw[o, c, p, q] = sum_{n, i, j} dout[n, o, i, j] * x~[n, c, i*s + p, j*s + q]   (x~ correlated with dout)
    dx~[n, c, i*s + p, j*s + q] += sum_o w[o, c, p, q] * dout[n, o, i, j]
dx is dx~ with the padding cropped off (for stride 1: dout, padded, convolved with the flipped w).
In words: db sums dout over N, H_out and W_out; dw correlates x with dout; dx scatters dout·w back
onto every input position it came from.
In im2col form: dw = dout_mat @ cols^T, dcols = w_mat^T @ dout_mat, dx~ = col2im(dcols).
"""

# tests/test_leaks.py fails when one of these (regular expressions, case-insensitive) appears in a
# file of the student zip; each must match ANSWERS, the reference or the other grader-only files.
FORMULAS = [
    r"dout\.sum\(\s*axis\s*=\s*\(\s*0\s*,\s*2\s*,\s*3\s*\)",  # db in code
    r"db\[o\]\s*=\s*(\\?sum|Σ)",  # db written out
    r"dw\[o,\s*c,\s*p,\s*q\]\s*=\s*\\?sum",  # dw written out
    r"(\+=|\\mathrel\{\+\}=)\s*\\?sum_\{?o\}?\s*w\[o,\s*c,\s*p,\s*q\]",  # dx~ written out
    r"dout_mat\s*@\s*cols\.T",  # dw in im2col form
    r"\.T\s*@\s*dout_mat",  # dcols in im2col form
    r"dw\s*=\s*\\?(text\{)?dout_?",  # dw = dout_mat cols^T
    r"sums?\s+dout\s+over|dout\s+summed\s+over",  # db in words
    r"correlates?\s+x~?\s+with\s+dout|x~?\s+correlated\s+with\s+dout",  # dw in words
    r"scatters\s+dout\s*[·*]\s*w|convolved\s+with\s+the\s+flipped\s+w",  # dx in words
]

_rng = np.random.default_rng(30)


def _case(n, c_in, h, w, c_out, kh, kw, stride, padding):
    x = _rng.standard_normal((n, c_in, h, w))
    k = _rng.standard_normal((c_out, c_in, kh, kw))
    b = _rng.standard_normal(c_out)
    h_out, w_out = (h + 2 * padding - kh) // stride + 1, (w + 2 * padding - kw) // stride + 1
    return x, k, b, _rng.standard_normal((n, c_out, h_out, w_out)), dict(stride=stride, padding=padding)


S2 = _case(3, 2, 7, 6, 4, 3, 2, stride=2, padding=1)
S3 = _case(1, 1, 9, 8, 2, 2, 3, stride=3, padding=2)
RECT = _case(2, 3, 6, 9, 5, 2, 4, stride=1, padding=0)
SEED_X = _rng.standard_normal((1, 3, 32, 32))  # seed 003: a 3x32x32 image, six 3x5x5 filters
SEED_W = _rng.standard_normal((6, 3, 5, 5))
SEED_B = _rng.standard_normal(6)
X1 = _rng.standard_normal((2, 2, 11))
W1 = _rng.standard_normal((3, 2, 4))
B1 = _rng.standard_normal(3)


def _one_sided(x, w, b, stride, padding):
    """Zero padding of 2P added after the input only (bottom/right) instead of P on each side."""

    def build(s):
        padded = np.pad(x, ((0, 0), (0, 0), (0, 2 * padding), (0, 2 * padding)))
        out, _ = s.student("conv2d_forward")(padded, w, b, stride=stride, padding=0).unpack(2)
        s.output("out", out)

    return build


def _inputs_unchanged(s):
    x, w, b, dout = (s.value(a) for a in S2[:4])
    out, cache = s.student("conv2d_forward")(x, w, b, **S2[4]).unpack(2)
    dx, dw, db = s.student("conv2d_backward")(dout, cache).unpack(3)
    for name, ref in (("out", out), ("dx", dx), ("dw", dw), ("db", db)):
        s.output(name, ref)  # no points for untouched inputs next to wrong results
    for name, ref in zip(("x", "w", "b", "dout"), (x, w, b, dout), strict=False):
        s.output(f"{name} after the calls", ref)  # the very arrays passed in, read back


def _conv1d_inputs_unchanged(s):
    x, w, b = s.value(X1), s.value(W1), s.value(B1)
    s.output("out", s.student("conv1d_forward")(x, w, b, stride=2, padding=1))
    for name, ref in (("x", x), ("w", w), ("b", b)):
        s.output(f"{name} after the call", ref)


HIDDEN = [
    GradedTest(
        "conv2d_forward_stride2_pad1",
        "3.1",
        10,
        forward(*S2[:3], **S2[4]),
        slips=(
            Slip(FLIPPED, forward(*S2[:3], **S2[4], flip=True)),
            Slip("padding added on one side only: pad P rows/columns on BOTH sides", _one_sided(*S2[:3], **S2[4])),
        ),
    ),
    GradedTest(
        "conv2d_forward_stride3_pad2_single_channel",
        "3.1",
        8,
        forward(*S3[:3], **S3[4]),
        slips=(Slip(FLIPPED, forward(*S3[:3], **S3[4], flip=True)),),
        hint="H_out = (H + 2·padding − KH)//stride + 1; N = 1 and C_in = 1 must work too",
    ),
    GradedTest(
        "conv2d_forward_lecture_32x32",
        "3.1",
        7,
        forward(SEED_X, SEED_W, SEED_B),
        slips=(Slip(FLIPPED, forward(SEED_X, SEED_W, SEED_B, flip=True)),),
        hint="the lecture's example: a 3x32x32 input and six 3x5x5 filters give 6x28x28; "
        "each filter's bias b[o] is added once per output value, not once per input channel",
    ),
    GradedTest(
        "conv2d_backward_stride2_pad1",
        "3.2",
        15,
        backward(*S2[:4], **S2[4]),
        slips=(
            Slip(FLIPPED, flipped_backward(*S2[:4], **S2[4])),
            Slip(DB_NOT_SUMMED, db_first_sample(*S2[:4], **S2[4])),
        ),
        hint="with stride s, output position (i, j) reads input rows i·s..i·s+KH−1, so the "
        "scatter onto dx~ steps by s too; then crop: dx = dx~[:, :, P:P+H, P:P+W]",
    ),
    GradedTest(
        "conv2d_backward_stride3_pad2_single_channel",
        "3.2",
        10,
        backward(*S3[:4], **S3[4]),
        hint="some padded input positions are never read when stride > 1: their gradient is 0",
    ),
    GradedTest(
        "conv2d_backward_rectangular",
        "3.2",
        10,
        backward(*RECT[:4], **RECT[4]),
        hint="keep H and W (and KH and KW) apart: a transpose slip only shows on non-square shapes",
    ),
    GradedTest(
        "conv1d_forward_stride2_pad1",
        "3.3",
        8,
        conv1d(X1, W1, B1, stride=2, padding=1),
        hint="pad x by P zeros at BOTH ends of L, then step the window by the stride",
    ),
    GradedTest(
        "conv1d_inputs_unchanged",
        "3.3",
        2,
        _conv1d_inputs_unchanged,
        hint="never modify x, w or b in place (pad into a new array)",
    ),
    GradedTest(
        "conv2d_inputs_unchanged",
        "3.2",
        5,
        _inputs_unchanged,
        hint="never modify x, w, b or dout in place (pad and accumulate into new arrays)",
    ),
]

TESTS = PUBLIC + HIDDEN
