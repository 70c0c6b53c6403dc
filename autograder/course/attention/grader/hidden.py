"""Hidden tests for attention (100 points with the public ones): softmax over a middle axis and
with −∞ entries, batched causal attention, the T_q ≠ T_k corner of the causal mask (a few points:
it tests a convention, PyTorch's top-left alignment), the backward pass causal and batched, three
causal heads, one head, layer norm and its backward over (..., D) with a large ε, a batched
residual block, a causal transformer block. Every function's given input checks copy its
inputs, so no test checks that inputs are unchanged (such a test could not fail).

Slips that no call of the reference reproduces are computed here in NumPy (this file is not
shipped to students). Input validation is given in the skeleton and tested in tests/."""

import numpy as np

from autograder.course.attention.public import (
    LN_WRONG_AXIS,
    NO_SKIP,
    POST_NORM,
    W_TRANSPOSED,
    WRONG_AXIS_SOFTMAX,
    attention,
    attention_grads,
    block,
    block_params,
    multihead,
    norm,
    norm_grads,
    residual,
    scale_slips,
    soft,
)
from autograder.course.attention.public import (
    TESTS as PUBLIC,
)
from autograder.testcase import GradedTest, Slip

_rng = np.random.default_rng(80)
Z3 = _rng.standard_normal((2, 3, 4)) * 2.0
Z_INF = np.array([[0.0, -np.inf, 1.0], [-np.inf, 2.0, -np.inf]])
QB, KB, VB = _rng.standard_normal((2, 3, 4, 4)), _rng.standard_normal((2, 3, 4, 4)), _rng.standard_normal((2, 3, 4, 2))
QT, KT, VT = _rng.standard_normal((5, 3)), _rng.standard_normal((3, 3)), _rng.standard_normal((3, 2))
QWI, KWI, VWI = _rng.standard_normal((2, 3)), _rng.standard_normal((4, 3)), _rng.standard_normal((4, 2))
QG, KG, VG = _rng.standard_normal((2, 4, 3)), _rng.standard_normal((2, 4, 3)), _rng.standard_normal((2, 4, 3))
DOUT_G = _rng.standard_normal((2, 4, 3))
QW, KW, VW = _rng.standard_normal((2, 3)), _rng.standard_normal((6, 3)), _rng.standard_normal((6, 4))
DOUT_W = _rng.standard_normal((2, 4))
X3 = _rng.standard_normal((2, 5, 6))
WS3 = [_rng.standard_normal((6, 6)) / np.sqrt(6) for _ in range(4)]
X1 = _rng.standard_normal((1, 4, 3))
WS1 = [_rng.standard_normal((3, 3)) for _ in range(4)]
LN_X = _rng.standard_normal((2, 3, 4)) * 0.2 + _rng.standard_normal((2, 3, 1))
LN_GAMMA, LN_BETA = _rng.standard_normal(4), _rng.standard_normal(4)
RX = _rng.standard_normal((2, 3, 4))
RW1, RB1, RW2, RB2 = (
    _rng.standard_normal((4, 5)),
    _rng.standard_normal(5),
    _rng.standard_normal((5, 4)),
    _rng.standard_normal(4),
)
LN_DOUT = _rng.standard_normal((2, 3, 4))
BLOCK_X = _rng.standard_normal((2, 5, 6))
BLOCK = block_params(_rng, 6, 8)

# The derivations this assignment asks for, written out for TAs (grader-only, as is this file).
ANSWERS = """
attention_backward (A = softmax(S), S = Q Kᵀ/√d_k):
    dV = Aᵀ dout,   dA = dout Vᵀ,   dS = A ⊙ (dA − Σ_j dA_ij A_ij)   (a softmax row's Jacobian is diag(a) − a aᵀ)
    dQ = dS K/√d_k,   dK = dSᵀ Q/√d_k;   masked weights are 0, so dS is 0 there
layer_norm_backward (over the D features of a token; dx̂ = dout ⊙ γ, s = 1/√(σ² + ε)):
    dβ = Σ dout,   dγ = Σ dout ⊙ x̂   (over every leading axis)
    dx = (s/D)·(D·dx̂ − Σ_k dx̂_k − x̂ ⊙ Σ_k dx̂_k ⊙ x̂_k)
"""

# tests/test_leaks.py fails when one of these (regular expressions, case-insensitive) appears in a
# file of the student zip; each must match ANSWERS, the reference or a hint here.
FORMULAS = [
    r"dV\s*=\s*Aᵀ",
    r"dA\s*=\s*dout\s*Vᵀ",
    r"A\s*⊙\s*\(dA\s*−",
    r"dS\s*K\s*/\s*√d_k",
    r"dSᵀ\s*Q",
    r"diag\(a\)\s*−\s*a\s*aᵀ",
    r"D\s*·?\s*dx̂\s*−",
    r"D\s*\*\s*dx_hat",
    r"\bdA\s*\*\s*A\b",
]
MASK_ZERO = (
    "the causal mask filled with 0: a score of 0 still gets weight e⁰ after the softmax; fill the "
    "future scores with −∞ so their weights are exactly 0"
)
MASK_AFTER = (
    "the causal mask applied after the softmax: the remaining weights no longer sum to 1; mask the "
    "scores with −∞ before the softmax"
)
MASK_SIDE = "the causal mask on the wrong side: query i may see keys j <= i, so mask j > i (np.triu(..., k=1))"
NO_ROW_SUM = (
    "the softmax backward without its second term: dS = A ⊙ (dA − Σ_j dA_ij A_ij), the Jacobian "
    "of a softmax row is diag(a) − a aᵀ"
)
BACKWARD_NO_SCALE = "the 1/√d_k is missing in dQ and dK: S = Q Kᵀ/√d_k, so dQ = dS K/√d_k and dK = dSᵀ Q/√d_k"
SPLIT_NO_TRANSPOSE = (
    "heads split without the transpose: (N, T, D) -> (N, T, h, d) -> transpose to (N, h, T, d); "
    "reshaping straight to (N, h, T, d) mixes tokens and features"
)
LN_EPS_OUTSIDE = "ε outside the square root: (x − μ)/√(σ² + ε), not (x − μ)/(σ + ε)"
LN_UNBIASED = "unbiased variance (divide by D − 1): layer norm uses the biased variance, as PyTorch"
LN_TIMES_SIGMA = "(x − μ)·σ as seed 001 writes it: normalising divides by the standard deviation, (x − μ)/√(σ² + ε)"
BOTTOM_RIGHT = (
    "the causal mask aligned bottom-right (j > i + T_k − T_q): this function follows PyTorch's is_causal, "
    "aligned top-left (j > i) also when T_q ≠ T_k"
)
LN_STATS_CONSTANT = (
    "μ and σ² treated as constants in layer_norm_backward (dx = γ·dout/σ): both depend on every feature "
    "of the token, dx = (1/(Dσ))·(D·dx̂ − Σ_k dx̂_k − x̂·Σ_k dx̂_k·x̂_k), dx̂ = dout·γ"
)
LN_PARAM_GRADS_AXIS0 = (
    "dgamma and dbeta summed over axis 0 only: γ and β are shared by every token, so sum over every "
    "leading axis (all but the last)"
)


def _softmax(s):
    e = np.exp(s - s.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _attention(q, k, v, causal, *, mask="before", scale=None):
    """out, A with a causal-mask slip: "before" (right), "zero", "after", "side"."""
    s = q @ np.swapaxes(k, -1, -2) / (np.sqrt(q.shape[-1]) if scale is None else scale)
    future = np.triu(np.ones(s.shape[-2:], dtype=bool), k=1)
    if causal and mask == "before":
        s = np.where(future, -np.inf, s)
    elif causal and mask == "zero":
        s = np.where(future, 0.0, s)
    elif causal and mask == "side":
        s = np.where(np.tril(np.ones(s.shape[-2:], dtype=bool), k=-1), -np.inf, s)
    a = _softmax(s)
    if causal and mask == "after":
        a = np.where(future, 0.0, a)
    return a @ v, a


def _constant_outputs(outputs):
    def build(s):
        for name, value in outputs.items():
            s.output(name, value)

    return build


def _mask_slips(q, k, v):
    slips = []
    masks = [(MASK_ZERO, "zero"), (MASK_AFTER, "after")]
    if q.shape[-2] <= k.shape[-2]:  # otherwise the wrong-side mask leaves rows with no key at all
        masks.append((MASK_SIDE, "side"))
    for hint, mask in masks:
        out, a = _attention(q, k, v, True, mask=mask)
        slips.append(Slip(hint, _constant_outputs({"out": out, "A": a})))
    return tuple(slips) + scale_slips(q, k, v, causal=True)


def _rectangular(s):
    for tag, (q, k, v) in (("wide", (QWI, KWI, VWI)), ("tall", (QT, KT, VT))):
        out, a = s.student("scaled_dot_product_attention")(q, k, v, True).unpack(2)
        s.output(f"out ({tag})", out)
        s.output(f"A ({tag})", a)


def _rectangular_bottom_right():
    """The wide case only: aligned bottom-right, the tall case leaves rows with no key at all."""
    t_q, t_k = QWI.shape[-2], KWI.shape[-2]
    scores = QWI @ KWI.T / np.sqrt(QWI.shape[-1])
    a = _softmax(np.where(np.triu(np.ones((t_q, t_k), dtype=bool), k=1 + t_k - t_q), -np.inf, scores))
    return _constant_outputs({"out (wide)": a @ VWI, "A (wide)": a})


def _ln_grads_slips(dout, x, gamma, eps):
    mu = x.mean(axis=-1, keepdims=True)
    sigma = np.sqrt(x.var(axis=-1, keepdims=True) + eps)
    x_hat = (x - mu) / sigma
    lead = tuple(range(x.ndim - 1))
    right = {"dbeta": dout.sum(axis=lead), "dgamma": (dout * x_hat).sum(axis=lead)}
    return (
        Slip(LN_STATS_CONSTANT, _constant_outputs({**right, "dx": gamma * dout / sigma})),
        Slip(
            LN_PARAM_GRADS_AXIS0,
            _constant_outputs({"dbeta": dout.sum(axis=0), "dgamma": (dout * x_hat).sum(axis=0)}),
        ),
    )


def _backward_slip(dout, q, k, v, causal, *, row_sum=True, scale=True):
    _, a = _attention(q, k, v, causal)
    c = 1 / np.sqrt(q.shape[-1]) if scale else 1.0
    da = dout @ np.swapaxes(v, -1, -2)
    ds = a * (da - np.sum(da * a, axis=-1, keepdims=True)) if row_sum else a * da
    return _constant_outputs(
        {"dV": np.swapaxes(a, -1, -2) @ dout, "dK": np.swapaxes(ds, -1, -2) @ q * c, "dQ": ds @ k * c}
    )


def _backward_slips(dout, q, k, v, causal):
    return (
        Slip(NO_ROW_SUM, _backward_slip(dout, q, k, v, causal, row_sum=False)),
        Slip(BACKWARD_NO_SCALE, _backward_slip(dout, q, k, v, causal, scale=False)),
    )


def _split_without_transpose(x, ws, h, causal):
    n, t, d = x.shape
    q, k, v = ((x @ w).reshape(n, h, t, d // h) for w in ws[:3])
    heads, _ = _attention(q, k, v, causal)
    return _constant_outputs({"out": heads.reshape(n, t, d) @ ws[3]})


def _layer_norm(x, gamma, beta, eps, *, ddof=0, eps_outside=False, times_sigma=False, axis=-1):
    mu = x.mean(axis=axis, keepdims=True)
    sigma = np.sqrt(x.var(axis=axis, ddof=ddof, keepdims=True) + (0.0 if eps_outside else eps))
    x_hat = (x - mu) * sigma if times_sigma else (x - mu) / (sigma + (eps if eps_outside else 0.0))
    return _constant_outputs({"out": gamma * x_hat + beta})


def _ln_slips(x, gamma, beta, eps):
    variants = [
        (LN_EPS_OUTSIDE, dict(eps_outside=True)),
        (LN_UNBIASED, dict(ddof=1)),
        (LN_TIMES_SIGMA, dict(times_sigma=True)),
        (LN_WRONG_AXIS, dict(axis=0)),
        (LN_WRONG_AXIS, dict(axis=-2)),
    ]
    return tuple(Slip(hint, _layer_norm(x, gamma, beta, eps, **kw)) for hint, kw in variants)


HIDDEN = [
    # 8.1
    GradedTest(
        "softmax_middle_axis_3d",
        "8.1",
        3,
        soft(Z3, 1),
        slips=(Slip(WRONG_AXIS_SOFTMAX, soft(Z3, other_axis=-1)), Slip(WRONG_AXIS_SOFTMAX, soft(Z3, other_axis=0))),
        hint="softmax(z, axis=1) normalises along axis 1: max, exp and sum all along that axis (keepdims)",
    ),
    GradedTest(
        "softmax_minus_infinity",
        "8.1",
        1,
        soft(Z_INF),
        hint="an entry of −∞ gets weight exactly 0; the row maximum is finite, so z − max z is fine",
    ),
    # 8.2
    GradedTest(
        "attention_batched_causal",
        "8.2",
        6,
        attention(QB, KB, VB, causal=True),
        slips=_mask_slips(QB, KB, VB),
        hint="leading dims (2, 3) are batch axes; the causal mask applies to the last two axes of every batch entry",
    ),
    GradedTest(
        "attention_causal_rectangular",
        "8.2",
        3,
        _rectangular,
        slips=(Slip(BOTTOM_RIGHT, _rectangular_bottom_right()),),
        hint="T_q ≠ T_k: the spec follows PyTorch's is_causal, the mask j > i aligned top-left "
        "(T_q = 5 > T_k = 3: rows i >= 2 see every key)",
    ),
    # 8.3
    GradedTest(
        "attention_backward_causal_batched",
        "8.3",
        7,
        attention_grads(DOUT_G, QG, KG, VG, causal=True),
        slips=_backward_slips(DOUT_G, QG, KG, VG, True),
        hint="masked weights are 0, so dS is 0 there; the rest as without the mask, batched over the "
        "leading axes (swap the last two axes to transpose)",
    ),
    GradedTest(
        "attention_backward_wide",
        "8.3",
        3,
        attention_grads(DOUT_W, QW, KW, VW),
        slips=_backward_slips(DOUT_W, QW, KW, VW, False),
        hint="shapes: dQ like Q (T_q, d_k), dK like K (T_k, d_k), dV like V (T_k, d_v)",
    ),
    # 8.4
    GradedTest(
        "multihead_three_heads_causal",
        "8.4",
        6,
        multihead(X3, WS3, 3, causal=True),
        slips=(
            Slip(SPLIT_NO_TRANSPOSE, _split_without_transpose(X3, WS3, 3, True)),
            Slip(W_TRANSPOSED, multihead(X3, WS3, 3, causal=True, transposed=True)),
        ),
        hint="head k uses features k·d .. (k+1)·d − 1 of every token; reshape to (N, T, h, d), then transpose "
        "to (N, h, T, d); the causal mask applies inside every head",
    ),
    GradedTest(
        "multihead_one_head",
        "8.4",
        2,
        multihead(X1, WS1, 1),
        slips=(Slip(W_TRANSPOSED, multihead(X1, WS1, 1, transposed=True)),),
        hint="one head: attention(X W_q, X W_k, X W_v) @ W_o",
    ),
    # 8.5
    GradedTest(
        "layer_norm_3d_large_eps",
        "8.5",
        5,
        norm(LN_X, LN_GAMMA, LN_BETA, 0.1),
        slips=_ln_slips(LN_X, LN_GAMMA, LN_BETA, 0.1),
        hint="x (N, T, D): every token is normalised over its D features alone; ε = 0.1 inside the root",
    ),
    # 8.6
    GradedTest(
        "residual_block_batched",
        "8.6",
        3,
        residual(RX, RW1, RB1, RW2, RB2),
        slips=(Slip(NO_SKIP, residual(RX, RW1, RB1, RW2, RB2, skip=False)),),
        hint="x (..., D) with any leading axes: x @ W1 works on the last axis; out has x's shape",
    ),
    # 8.7
    GradedTest(
        "layer_norm_backward_3d_large_eps",
        "8.7",
        5,
        norm_grads(LN_DOUT, LN_X, LN_GAMMA, 0.1),
        slips=_ln_grads_slips(LN_DOUT, LN_X, LN_GAMMA, 0.1),
        hint="x (N, T, D): dx per token over its D features; dgamma and dbeta summed over N and T; ε = 0.1",
    ),
    # 8.8
    GradedTest(
        "transformer_block_causal_three_heads",
        "8.8",
        6,
        block(BLOCK_X, BLOCK, 3, causal=True),
        slips=(Slip(POST_NORM, block(BLOCK_X, BLOCK, 3, causal=True, post_norm=True)),),
        hint="the causal flag goes to the attention sub-block; both residual connections add the sub-block's input",
    ),
]

TESTS = PUBLIC + HIDDEN
