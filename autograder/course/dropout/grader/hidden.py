"""Hidden tests for dropout (100 points with the public ones): 3-D inputs, a mask overriding rng,
p = 0, large p, two draws from one generator, test mode in both passes, the default generator,
p outside [0, 1), classic_test_weights edge cases, untouched inputs."""

import numpy as np

from autograder import compare
from autograder.course.dropout.public import (
    CLASSIC_INVERTED,
    KEEP_AS_DROP,
    KEEP_AS_DROP_MASK,
    KEEP_AS_DROP_SHIFT,
    MASK_INVERTED,
    NO_SCALING,
    TEST_TIME_DROPOUT,
    backward,
    backward_slips,
    forward,
    forward_slips,
    test_mode,
    test_mode_slips,
)
from autograder.course.dropout.public import (
    TESTS as PUBLIC,
)
from autograder.testcase import GradedTest, Slip, valid_then

# The derivation this assignment asks for, written out for TAs (grader-only, as is this file).
ANSWERS = r"""
dropout_backward: out_i = x_i keep_i / (1 − p) is linear in x for a fixed mask, so
    ∂L/∂x_i = ∂L/∂out_i · keep_i / (1 − p)      (training; dropped units get no gradient)
    ∂L/∂x_i = ∂L/∂out_i                         (test time: out = x)
In LaTeX: \frac{\partial L}{\partial x_i} = \frac{\partial L}{\partial\,\text{out}_i}\cdot\frac{\text{keep}_i}{1 - p}
In code: dx = dout * mask / (1 - p)
"""

# tests/test_leaks.py fails when one of these (regular expressions, case-insensitive) appears in a
# file of the student zip; each must match ANSWERS, the reference or the other grader-only files.
FORMULAS = [
    r"dout\s*[*·]\s*\w*\[?[\"']?(mask|keep)[\"']?\]?\s*/\s*\(\s*1(\.0)?\s*[−-]",  # dout * mask / (1 - p)
    r"∂L/∂x_i\s*=\s*∂L/∂out_i\s*·\s*keep_i",
    r"\\frac\{\\partial L\}\{\\partial x_i\}\s*=",
    r"dx\s*=\s*dout\s*\*\s*(cache\[[\"'])?(mask|keep)",
]

_rng = np.random.default_rng(40)
X3 = _rng.standard_normal((2, 3, 4))
MASK3 = _rng.uniform(size=(2, 3, 4)) < 0.5
DOUT3 = _rng.standard_normal((2, 3, 4))
X_A, X_B = _rng.standard_normal((3, 5)), _rng.standard_normal(4)
X_BIGP = _rng.standard_normal(40)
X_BW = _rng.standard_normal((5, 6))
DOUT_BW = _rng.standard_normal((5, 6))
X_DEFAULT = _rng.uniform(1.0, 2.0, size=(100, 100))
W3 = _rng.standard_normal((2, 2, 3))


def _two_draws(p, *, scale=None, invert=False, p_used=None):
    """Two calls sharing one generator: the second mask continues the same random stream."""

    def build(s):
        rng = s.lib("numpy.random.default_rng")(7)
        f = s.student("dropout_forward")
        q = p if p_used is None else p_used
        for name, x in (("out (first call)", X_A), ("out (second call)", X_B)):
            if invert:
                _, cache = f(x, p, rng=rng).unpack(2)
                out = f(x, q, mask=s.lib("numpy.logical_not")(cache["mask"]))[0]
            else:
                out = f(x, q, rng=rng)[0]
            s.output(name, out if scale is None else out * scale)

    return build


def _two_draws_slips(p):
    return (
        Slip(NO_SCALING, _two_draws(p, scale=1 - p)),
        Slip(MASK_INVERTED, _two_draws(p, invert=True)),
        Slip(KEEP_AS_DROP_MASK, _two_draws(p, invert=True, p_used=1 - p)),
        Slip(KEEP_AS_DROP_SHIFT, _two_draws(p, p_used=1 - p)),
    )


def _mask_overrides_rng(use_rng=False, p_used=None, scale=None):
    def build(s):
        rng = s.lib("numpy.random.default_rng")(11)
        p = 0.45 if p_used is None else p_used
        out, _ = s.student("dropout_forward")(X3, p, rng=rng, mask=None if use_rng else MASK3).unpack(2)
        s.output("out", out if scale is None else out * scale)

    return build


def _p_zero(slip_none_kept=False):
    """p = 0 with a generator and with a mask; slip_none_kept: the rng-drawn mask keeps nothing."""

    def build(s):
        rng = s.lib("numpy.random.default_rng")(5)
        out, cache = s.student("dropout_forward")(X_BW, 0.0, rng=rng).unpack(2)
        dx = s.student("dropout_backward")(DOUT_BW, cache)
        s.output("out (rng, p = 0)", out * 0.0 if slip_none_kept else out)
        s.output("dx (rng, p = 0)", dx * 0.0 if slip_none_kept else dx)
        out, cache = s.student("dropout_forward")(X3, 0.0, mask=MASK3).unpack(2)
        s.output("out (mask, p = 0)", out)
        s.output("dx (mask, p = 0)", s.student("dropout_backward")(DOUT3, cache))

    return build


def _backward_test_mode(*, slip_train=False):
    def build(s):
        rng = s.lib("numpy.random.default_rng")(9)
        _, cache = s.student("dropout_forward")(X_BW, 0.5, train=slip_train, rng=rng).unpack(2)
        s.output("dx", s.student("dropout_backward")(DOUT_BW, cache))

    return build


def _backward_test_mode_scaled(s):
    s.output("dx", DOUT_BW / (1 - 0.5))


def _test_mode_with_mask(s):
    out, _ = s.student("dropout_forward")(X3, 0.45, train=False, mask=MASK3).unpack(2)
    s.output("out (train=False, mask given)", out)
    out, _ = s.student("dropout_forward")(X3, 0.45, train=False).unpack(2)
    s.output("out (train=False, no rng)", out)


def _default_rng_forward(s):
    out, _ = s.student("dropout_forward")(X_DEFAULT, 0.3).unpack(2)
    s.output("out", out)


def _judge_default_rng(expected, got):
    """Random mask: every unit is 0 or x/(1 − p), and about 1 − p = 70% of the 10,000 are kept."""
    p = 0.3
    value, _ = compare.unwrap(got.get("out"))
    try:
        out = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        return compare.Verdict(
            False, f"out: expected an array of shape {X_DEFAULT.shape}, got {compare.describe(value)}"
        )
    if out.shape != X_DEFAULT.shape:
        return compare.Verdict(False, f"out: shape mismatch: expected {X_DEFAULT.shape}, got {out.shape}")
    kept = np.isclose(out, X_DEFAULT / (1 - p), rtol=1e-7, atol=1e-9)
    dropped = out == 0.0
    if not (kept | dropped).all():
        if np.isclose(out[~dropped], X_DEFAULT[~dropped], rtol=1e-7, atol=1e-9).all():
            return compare.Verdict(False, f"out: kept units equal x, so the 1/(1 − p) scaling is missing. {NO_SCALING}")
        if np.isclose(out[~dropped], X_DEFAULT[~dropped] / p, rtol=1e-7, atol=1e-9).all():
            return compare.Verdict(False, f"out: kept units equal x/p instead of x/(1 − p). {KEEP_AS_DROP}")
        n_bad = int((~(kept | dropped)).sum())
        return compare.Verdict(False, f"out: {n_bad} element(s) are neither 0 (dropped) nor x/(1 − p) (kept)")
    frac = kept.mean()
    if not 0.65 <= frac <= 0.75:
        why = f" {KEEP_AS_DROP}" if 0.25 <= frac <= 0.35 else ""
        return compare.Verdict(
            False, f"out: {frac:.1%} of the units were kept with p = 0.3 (drop probability); expected about 70%.{why}"
        )
    return compare.PASS


def _forward_valid(s):
    s.output("out (valid call)", s.student("dropout_forward")(X3, 0.5, mask=MASK3)[0])


def _p_one(s):
    s.student("dropout_forward")(X3, 1.0, mask=MASK3)


def _p_negative(s):
    s.student("dropout_forward")(X3, -0.1, mask=MASK3)


def _classic_valid(s):
    s.output("W_test (valid call)", s.student("classic_test_weights")(W3, 0.5))


def _classic_p_one(s):
    s.student("classic_test_weights")(W3, 1.0)


def _inputs_unchanged(s):
    x, mask, dout = s.value(X3), s.value(MASK3), s.value(DOUT3)
    seeded = {"rng": s.lib("numpy.random.default_rng")(3)}
    for name, kwargs in (("mask given", {"mask": mask}), ("seeded rng", seeded)):
        out, cache = s.student("dropout_forward")(x, 0.25, **kwargs).unpack(2)
        s.output(f"out ({name})", out)  # no points for untouched inputs next to wrong results
        s.output(f"dx ({name})", s.student("dropout_backward")(dout, cache))
    s.output("x after the calls", x)
    s.output("mask after the calls", mask)
    s.output("dout after the calls", dout)


def _classic_input_unchanged(s):
    W = s.value(W3)
    s.output("W_test", s.student("classic_test_weights")(W, 0.4))
    s.output("W after the call", W)


def _classic_various(slip_factor=None):
    """classic_test_weights at p = 0 and p = 0.65; slip_factor(p) gives a slip's W·factor instead."""

    def build(s):
        f = s.student("classic_test_weights")
        for p in (0.0, 0.65):
            out = f(W3, p) if slip_factor is None else f(W3, 0.0) * slip_factor(p)
            s.output(f"W_test (p = {p})", out)

    return build


HIDDEN = [
    # 4.1
    GradedTest(
        "dropout_forward_given_mask_3d",
        "4.1",
        5,
        forward(X3, 0.6, MASK3),
        slips=forward_slips(X3, 0.6, MASK3),
        hint="x may have any shape: out = x·mask/(1 − p) elementwise",
    ),
    GradedTest(
        "dropout_forward_mask_overrides_rng",
        "4.1",
        3,
        _mask_overrides_rng(),
        slips=(
            Slip(
                "the rng was used although a mask was given: a given mask overrides rng",
                _mask_overrides_rng(use_rng=True),
            ),
            Slip(NO_SCALING, _mask_overrides_rng(scale=1 - 0.45)),
            Slip(KEEP_AS_DROP, _mask_overrides_rng(p_used=1 - 0.45)),
        ),
        hint="when mask is given it is the keep-mask; rng is not used",
    ),
    GradedTest(
        "dropout_p_zero_keeps_everything",
        "4.1",
        4,
        _p_zero(),
        slips=(Slip(MASK_INVERTED + " (with p = 0 yours keeps nothing)", _p_zero(slip_none_kept=True)),),
        hint="p = 0 drops nothing: keep = rng.random(x.shape) >= 0 is all True and 1/(1 − p) = 1 "
        "(NaN or 0 here usually means p was used as the KEEP probability)",
    ),
    GradedTest(
        "dropout_forward_seeded_two_draws",
        "4.1",
        7,
        _two_draws(0.25),
        slips=_two_draws_slips(0.25),
        hint="each call draws exactly one rng.random(x.shape) from the rng passed in "
        "(no reseeding, no extra draws); keep = rng.random(x.shape) >= p",
    ),
    GradedTest(
        "dropout_forward_seeded_large_p",
        "4.1",
        5,
        forward(X_BIGP, 0.9, seed=99),
        slips=forward_slips(X_BIGP, 0.9, seed=99),
        hint="p = 0.9 drops about 90% of the units and scales the rest by 1/(1 − p) = 10",
    ),
    GradedTest(
        "dropout_forward_test_mode_ignores_rng",
        "4.1",
        5,
        test_mode(X_BIGP, 0.6, 21),
        slips=test_mode_slips(X_BIGP, 0.6, 21),
        hint="train=False: out = x, whatever p and rng are",
    ),
    GradedTest(
        "dropout_forward_test_mode_ignores_mask",
        "4.1",
        3,
        _test_mode_with_mask,
        hint=f"{TEST_TIME_DROPOUT}; also when a mask is given or rng is None",
    ),
    GradedTest(
        "dropout_forward_default_rng",
        "4.1",
        3,
        _default_rng_forward,
        judge=_judge_default_rng,
        hint="with rng=None use np.random.default_rng(); keep = rng.random(x.shape) >= p",
    ),
    GradedTest(
        "dropout_forward_rejects_p_one",
        "4.1",
        3,
        valid_then(_forward_valid, _p_one),
        hint="after a valid call, p = 1 (drop everything) must raise ValueError: p must be in [0, 1)",
    ),
    GradedTest(
        "dropout_forward_rejects_negative_p",
        "4.1",
        2,
        valid_then(_forward_valid, _p_negative),
        hint="after a valid call, p < 0 must raise ValueError: p must be in [0, 1)",
    ),
    GradedTest(
        "dropout_inputs_unchanged",
        "4.1",
        4,
        _inputs_unchanged,
        hint="dropout_forward and dropout_backward must not modify x, mask or dout "
        "(`x *= keep` changes the caller's array: compute out = x * keep / (1 − p))",
    ),
    # 4.2
    GradedTest(
        "dropout_backward_seeded",
        "4.2",
        6,
        backward(X_BW, 0.35, DOUT_BW, seed=17),
        slips=backward_slips(X_BW, 0.35, DOUT_BW, seed=17),
        hint="dx = dout·keep/(1 − p) with the keep-mask the forward pass drew",
    ),
    GradedTest(
        "dropout_backward_given_mask_3d",
        "4.2",
        5,
        backward(X3, 0.6, DOUT3, MASK3),
        slips=backward_slips(X3, 0.6, DOUT3, MASK3),
        hint="dx = dout·mask/(1 − p), elementwise for any shape",
    ),
    GradedTest(
        "dropout_backward_test_mode",
        "4.2",
        5,
        _backward_test_mode(),
        slips=(
            Slip(TEST_TIME_DROPOUT, _backward_test_mode(slip_train=True)),
            Slip(
                "dx scaled by 1/(1 − p) at test time: with train=False the layer is the identity, so dx = dout",
                _backward_test_mode_scaled,
            ),
        ),
        hint="after a train=False forward pass, dx = dout",
    ),
    GradedTest(
        "dropout_backward_p_zero",
        "4.2",
        2,
        backward(X_BW, 0.0, DOUT_BW, seed=2),
        slips=(
            Slip(
                MASK_INVERTED + " (with p = 0 yours keeps nothing)", backward(X_BW, 0.0, DOUT_BW, seed=2, invert=True)
            ),
        ),
        hint="p = 0: every unit is kept and dx = dout (NaN or 0 here usually means p was used as the KEEP probability)",
    ),
    # 4.3
    GradedTest(
        "classic_test_weights_various",
        "4.3",
        4,
        _classic_various(),
        slips=(
            Slip(KEEP_AS_DROP + " (yours returns W·p)", _classic_various(lambda p: p)),
            Slip(CLASSIC_INVERTED, _classic_various(lambda p: 1 / (1 - p))),
        ),
        hint="W·(1 − p) for any shape of W; p = 0 leaves W unchanged",
    ),
    GradedTest(
        "classic_test_weights_rejects_p_one",
        "4.3",
        1,
        valid_then(_classic_valid, _classic_p_one),
        hint="after a valid call, p = 1 must raise ValueError: p must be in [0, 1)",
    ),
    GradedTest(
        "classic_test_weights_input_unchanged",
        "4.3",
        2,
        _classic_input_unchanged,
        hint="classic_test_weights must return W·(1 − p) as a new array and leave W as it was",
    ),
]

TESTS = PUBLIC + HIDDEN
