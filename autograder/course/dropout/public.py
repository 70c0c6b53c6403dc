"""Public tests for dropout: small, readable cases students can run with
`python -m autograder check dropout`. The hidden tests extend these.

p is the probability of DROPPING a unit. Seeded tests pass a fresh
np.random.default_rng(seed) to both your code and the reference, so the keep-mask must be drawn
exactly as the docstring says: keep = rng.random(x.shape) >= p."""

import numpy as np

from autograder.testcase import GradedTest, Slip

_rng = np.random.default_rng(4)
X = _rng.standard_normal((3, 4))
MASK = np.array([[True, False, True, True], [False, True, True, False], [True, True, False, True]])
DOUT = _rng.standard_normal((3, 4))
P = 0.3
SEED = 1234
X_SEEDED = _rng.standard_normal((4, 5))
P_SEEDED = 0.4
W = _rng.standard_normal((3, 2))

KEEP_AS_DROP = (
    "p used as the KEEP probability: here p is the probability of DROPPING a unit, "
    "so keep = rng.random(x.shape) >= p and kept units are scaled by 1/(1 − p)"
)
KEEP_AS_DROP_MASK = KEEP_AS_DROP + " (yours keeps where rng.random(x.shape) < p)"
KEEP_AS_DROP_SHIFT = KEEP_AS_DROP + " (yours used 1 − p in place of p)"
MASK_INVERTED = (
    "keep-mask inverted: keep = rng.random(x.shape) >= p (True = keep); "
    "`rng.random(x.shape) < p` marks the DROPPED units"
)
NO_SCALING = "no 1/(1 − p) scaling: inverted dropout divides the kept units by 1 − p in training so that E[out] = x"
WRONG_SCALING = (
    "kept units multiplied by (1 − p) instead of divided: inverted dropout uses out = x·keep/(1 − p); "
    "the (1 − p) factor belongs to the classic scheme's test-time weights"
)
MASK_FORGOTTEN = (
    "the mask is missing in the backward pass: dropped units get no gradient; use the keep-mask the "
    "forward pass saved in the cache"
)
TEST_TIME_DROPOUT = (
    "dropout applied at test time: with train=False the layer is the identity, out = x (no mask, no randomness)"
)
TEST_TIME_SCALED = (
    "scaled by (1 − p) at test time: with inverted dropout the test-time layer is the "
    "identity; (1 − p) is the classic scheme's factor (classic_test_weights)"
)
CLASSIC_INVERTED = "classic_test_weights multiplies the weights by (1 − p); it does not divide by it"


def forward(x, p, mask=None, seed=None, *, train=True, p_used=None, scale=None, invert=False):
    """dropout_forward's out. p_used / scale / invert reproduce slips through the reference:
    p_used = 1 − p treats p as a keep probability, scale multiplies the result, invert flips
    the mask drawn from the seeded generator (keep where rng.random < p)."""

    def build(s):
        rng = None if seed is None else s.lib("numpy.random.default_rng")(seed)
        out = _draw(s, x, p, mask, rng, train, p_used, invert)
        s.output("out", out if scale is None else out * scale)

    return build


def _draw(s, x, p, mask, rng, train=True, p_used=None, invert=False):
    f = s.student("dropout_forward")
    q = p if p_used is None else p_used
    if invert:
        _, cache = f(x, p, rng=rng).unpack(2)
        return f(x, q, mask=s.lib("numpy.logical_not")(cache["mask"]))[0]
    return f(x, q, train=train, rng=rng, mask=mask)[0]


def forward_slips(x, p, mask=None, seed=None):
    slips = [
        Slip(NO_SCALING, forward(x, p, mask, seed, scale=1 - p)),
        Slip(WRONG_SCALING, forward(x, p, mask, seed, scale=(1 - p) ** 2)),
    ]
    if seed is None:
        slips.append(Slip(KEEP_AS_DROP, forward(x, p, mask, p_used=1 - p)))
    else:
        slips += [
            Slip(MASK_INVERTED, forward(x, p, seed=seed, invert=True)),
            Slip(KEEP_AS_DROP_MASK, forward(x, p, seed=seed, invert=True, p_used=1 - p)),
            Slip(KEEP_AS_DROP_SHIFT, forward(x, p, seed=seed, p_used=1 - p)),
        ]
    return tuple(slips)


def backward(x, p, dout, mask=None, seed=None, *, train=True, p_used=None, scale=None, invert=False, forget_mask=False):
    """dropout_backward's dx after a forward pass (same slip arguments as `forward`)."""

    def build(s):
        rng = None if seed is None else s.lib("numpy.random.default_rng")(seed)
        f = s.student("dropout_forward")
        q = p if p_used is None else p_used
        if forget_mask:
            _, cache = f(x, p, mask=np.ones(np.shape(x), dtype=bool)).unpack(2)
        elif invert:
            _, first = f(x, p, rng=rng).unpack(2)
            _, cache = f(x, q, mask=s.lib("numpy.logical_not")(first["mask"])).unpack(2)
        else:
            _, cache = f(x, q, train=train, rng=rng, mask=mask).unpack(2)
        dx = s.student("dropout_backward")(dout, cache)
        s.output("dx", dx if scale is None else dx * scale)

    return build


def backward_slips(x, p, dout, mask=None, seed=None):
    slips = [
        Slip(NO_SCALING, backward(x, p, dout, mask, seed, scale=1 - p)),
        Slip(WRONG_SCALING, backward(x, p, dout, mask, seed, scale=(1 - p) ** 2)),
        Slip(MASK_FORGOTTEN, backward(x, p, dout, forget_mask=True)),
    ]
    if seed is None:
        slips.append(Slip(KEEP_AS_DROP, backward(x, p, dout, mask, p_used=1 - p)))
    else:
        slips += [
            Slip(MASK_INVERTED, backward(x, p, dout, seed=seed, invert=True)),
            Slip(KEEP_AS_DROP_MASK, backward(x, p, dout, seed=seed, invert=True, p_used=1 - p)),
            Slip(KEEP_AS_DROP_SHIFT, backward(x, p, dout, seed=seed, p_used=1 - p)),
        ]
    return tuple(slips)


def test_mode(x, p, seed, *, slip_train=False, scale=None):
    """dropout_forward(train=False) with a generator passed: it must not be used."""

    def build(s):
        rng = s.lib("numpy.random.default_rng")(seed)
        out, _ = s.student("dropout_forward")(x, p, train=slip_train, rng=rng).unpack(2)
        s.output("out", out if scale is None else out * scale)

    return build


def test_mode_slips(x, p, seed):
    return (
        Slip(TEST_TIME_DROPOUT, test_mode(x, p, seed, slip_train=True)),
        Slip(TEST_TIME_SCALED, test_mode(x, p, seed, scale=1 - p)),
    )


def classic(W, p, *, p_used=None, scale=None):
    def build(s):
        out = s.student("classic_test_weights")(W, p if p_used is None else p_used)
        s.output("W_test", out if scale is None else out * scale)

    return build


def classic_slips(W, p):
    return (
        Slip(KEEP_AS_DROP, classic(W, p, p_used=1 - p)),
        Slip(CLASSIC_INVERTED, classic(W, p, scale=1 / (1 - p) ** 2)),
    )


TESTS = [
    GradedTest(
        "dropout_forward_given_mask",
        "4.1",
        7,
        forward(X, P, MASK),
        hidden=False,
        slips=forward_slips(X, P, MASK),
        hint="out = x·keep/(1 − p) with keep = mask (True = keep)",
    ),
    GradedTest(
        "dropout_backward_given_mask",
        "4.2",
        7,
        backward(X, P, DOUT, MASK),
        hidden=False,
        slips=backward_slips(X, P, DOUT, MASK),
        hint="differentiate the forward pass with its mask held fixed (the one saved in the cache)",
    ),
    GradedTest(
        "dropout_forward_seeded",
        "4.1",
        8,
        forward(X_SEEDED, P_SEEDED, seed=SEED),
        hidden=False,
        slips=forward_slips(X_SEEDED, P_SEEDED, seed=SEED),
        hint="draw the mask once from the rng passed in: keep = rng.random(x.shape) >= p",
    ),
    GradedTest(
        "dropout_forward_test_mode_identity",
        "4.1",
        4,
        test_mode(X, P, SEED),
        hidden=False,
        slips=test_mode_slips(X, P, SEED),
        hint="train=False: out = x (a copy)",
    ),
    GradedTest(
        "classic_test_weights_basic",
        "4.3",
        5,
        classic(W, 0.2),
        hidden=False,
        slips=classic_slips(W, 0.2),
        hint="classic dropout: test-time weights W·(1 − p)",
    ),
]
