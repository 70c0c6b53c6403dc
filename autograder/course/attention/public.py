"""Public tests for attention: small, readable cases students can run with
`python -m autograder check attention`. The hidden tests extend these.

Weights multiply from the right (X @ W, seed 001); A = softmax(QKᵀ/√d_k) over the keys."""

import numpy as np

from autograder.testcase import GradedTest, Slip

_rng = np.random.default_rng(8)
Z = _rng.standard_normal((3, 4)) * 2.0
Z_HUGE = np.array([[1e4, -1e4, 0.0, 5e3], [-1e4, -1e4 + 1.0, -1e4 + 2.0, -1e4]])
Q = _rng.standard_normal((3, 4))  # (T_q, d_k)
K = _rng.standard_normal((5, 4))  # (T_k, d_k)
V = _rng.standard_normal((5, 2))  # (T_k, d_v)
QC, KC, VC = _rng.standard_normal((4, 3)), _rng.standard_normal((4, 3)), _rng.standard_normal((4, 3))
DOUT = _rng.standard_normal((3, 2))  # (T_q, d_v)
X = _rng.standard_normal((2, 4, 6))  # (N, T, D)
WQ, WK, WV, WO = (_rng.standard_normal((6, 6)) / np.sqrt(6) for _ in range(4))
LN_X = _rng.standard_normal((4, 5)) * [1.0, 2.0, 0.5, 3.0, 1.0] + 1.0
LN_GAMMA, LN_BETA = _rng.standard_normal(5), _rng.standard_normal(5)
RX = _rng.standard_normal((3, 4))  # (..., D)
W1, B1 = _rng.standard_normal((4, 6)), _rng.standard_normal(6)
W2, B2 = _rng.standard_normal((6, 4)), _rng.standard_normal(4)
LN_DOUT = _rng.standard_normal((4, 5))
BLOCK_X = _rng.standard_normal((2, 3, 4))  # (N, T, D)


def block_params(rng, D, H):
    """transformer_block's params, drawn from rng in BLOCK_PARAMS order."""
    shapes = {
        "W_q": (D, D),
        "W_k": (D, D),
        "W_v": (D, D),
        "W_o": (D, D),
        "ln1_gamma": (D,),
        "ln1_beta": (D,),
        "ln2_gamma": (D,),
        "ln2_beta": (D,),
        "W1": (D, H),
        "b1": (H,),
        "W2": (H, D),
        "b2": (D,),
    }
    params = {name: rng.standard_normal(shape) / np.sqrt(shape[0]) for name, shape in shapes.items()}
    for i in (1, 2):
        params[f"ln{i}_gamma"] = 1.0 + 0.3 * rng.standard_normal(D)
    return params


BLOCK = block_params(_rng, 4, 6)

WRONG_AXIS_SOFTMAX = "softmax over the wrong axis: the weights must sum to 1 along `axis` (the last one by default)"
NO_MAX = (
    "subtract the row's maximum before exp: e^{1e4} overflows to inf and inf/inf is nan; "
    "softmax(z) = softmax(z − max z) exactly"
)
SCALE_DK = "scores scaled by 1/d_k instead of 1/√d_k: A = softmax(Q Kᵀ/√d_k)"
NO_SCALE = "the scores are not scaled: A = softmax(Q Kᵀ/√d_k)"
W_TRANSPOSED = (
    "W used as Wᵀ: the weights multiply from the right, Q = X W_q (seed 001); it is PyTorch's "
    "in_proj_weight that holds W_qᵀ"
)
LN_WRONG_AXIS = (
    "layer norm over the wrong axis: μ and σ² are taken over the last axis (the features of each "
    "token), not over the batch"
)
NO_SKIP = "the skip connection is missing: out = x + relu(x W1 + b1) W2 + b2"
POST_NORM = (
    "post-norm (the original Transformer's LN(x + sublayer(x))): this block is pre-norm, "
    "h = X + MHSA(LN₁(X)), out = h + MLP(LN₂(h)), as TransformerEncoderLayer(norm_first=True)"
)


def soft(z, axis=None, *, other_axis=None):
    def build(s):
        fn = s.student("softmax")
        if other_axis is not None:
            s.output("softmax", fn(z, other_axis))
        else:
            s.output("softmax", fn(z) if axis is None else fn(z, axis))

    return build


def attention(q, k, v, causal=False, q_scale=1.0):
    """out and A; q_scale rescales Q to reproduce a wrong score scale with the reference."""

    def build(s):
        out, A = s.student("scaled_dot_product_attention")(q * q_scale, k, v, causal).unpack(2)
        s.output("out", out)
        s.output("A", A)

    return build


def scale_slips(q, k, v, causal=False):
    d = q.shape[-1]
    return (
        Slip(SCALE_DK, attention(q, k, v, causal, 1 / np.sqrt(d))),
        Slip(NO_SCALE, attention(q, k, v, causal, np.sqrt(d))),
    )


def attention_grads(dout, q, k, v, causal=False):
    def build(s):
        dq, dk, dv = s.student("attention_backward")(dout, q, k, v, causal).unpack(3)
        s.output("dV", dv)
        s.output("dK", dk)
        s.output("dQ", dq)

    return build


def multihead(x, ws, num_heads, causal=False, transposed=False):
    def build(s):
        weights = [w.T.copy() for w in ws] if transposed else ws
        s.output("out", s.student("multihead_self_attention")(x, *weights, num_heads, causal))

    return build


def norm(x, gamma, beta, eps=1e-5, wrong_axis=False):
    """layer_norm; wrong_axis normalises over axis 0 (the reference on xᵀ with γ = 1, β = 0, then γ, β)."""

    def build(s):
        fn = s.student("layer_norm")
        if wrong_axis:
            d = x.shape[0]
            s.output("out", fn(x.T.copy(), np.ones(d), np.zeros(d), eps).T * gamma + beta)
        else:
            s.output("out", fn(x, gamma, beta, eps))

    return build


def norm_grads(dout, x, gamma, eps=1e-5):
    def build(s):
        dx, dgamma, dbeta = s.student("layer_norm_backward")(dout, x, gamma, eps).unpack(3)
        s.output("dbeta", dbeta)
        s.output("dgamma", dgamma)
        s.output("dx", dx)

    return build


def block(x, params, num_heads, causal=False, post_norm=False):
    """transformer_block; post_norm rebuilds LN(x + sublayer(x)) from the student's own blocks."""

    def build(s):
        if not post_norm:
            s.output("out", s.student("transformer_block")(x, params, num_heads, causal))
            return
        p = params
        ln, mhsa = s.student("layer_norm"), s.student("multihead_self_attention")
        h = ln(mhsa(x, p["W_q"], p["W_k"], p["W_v"], p["W_o"], num_heads, causal) + x, p["ln1_gamma"], p["ln1_beta"])
        mlp = s.student("residual_block")(h, p["W1"], p["b1"], p["W2"], p["b2"])
        s.output("out", ln(mlp, p["ln2_gamma"], p["ln2_beta"]))

    return build


def residual(x, w1, b1, w2, b2, skip=True):
    def build(s):
        out = s.student("residual_block")(x, w1, b1, w2, b2)
        s.output("out", out if skip else out - x)

    return build


TESTS = [
    GradedTest(
        "softmax_rows",
        "8.1",
        4,
        soft(Z),
        hidden=False,
        slips=(Slip(WRONG_AXIS_SOFTMAX, soft(Z, other_axis=0)),),
        hint="softmax(z)_i = e^{z_i}/Σ_j e^{z_j} along the last axis by default",
    ),
    GradedTest("softmax_huge_logits", "8.1", 4, soft(Z_HUGE), hidden=False, hint=NO_MAX),
    GradedTest(
        "attention_basic",
        "8.2",
        6,
        attention(Q, K, V),
        hidden=False,
        slips=scale_slips(Q, K, V),
        hint="S = Q Kᵀ/√d_k (T_q, T_k); A = softmax(S) over the keys (last axis); out = A V",
    ),
    GradedTest(
        "attention_causal",
        "8.2",
        6,
        attention(QC, KC, VC, causal=True),
        hidden=False,
        slips=scale_slips(QC, KC, VC, causal=True),
        hint="causal: set S_ij = −∞ for j > i BEFORE the softmax, so each row's weights over j <= i sum to 1 "
        "and the masked weights are exactly 0",
    ),
    GradedTest(
        "attention_backward_basic",
        "8.3",
        6,
        attention_grads(DOUT, Q, K, V),
        hidden=False,
        hint="dQ, dK and dV have Q's, K's and V's shapes; compare each with finite differences "
        "(the notebook's gradient check) to find the step of your derivation that is off",
    ),
    GradedTest(
        "multihead_two_heads",
        "8.4",
        6,
        multihead(X, [WQ, WK, WV, WO], 2),
        hidden=False,
        slips=(Slip(W_TRANSPOSED, multihead(X, [WQ, WK, WV, WO], 2, transposed=True)),),
        hint="Q = X W_q, etc.; reshape (N, T, D) -> (N, T, h, d) and transpose to (N, h, T, d); attention per "
        "head; transpose back, reshape to (N, T, D), then @ W_o",
    ),
    GradedTest(
        "layer_norm_basic",
        "8.5",
        4,
        norm(LN_X, LN_GAMMA, LN_BETA),
        hidden=False,
        slips=(Slip(LN_WRONG_AXIS, norm(LN_X, LN_GAMMA, LN_BETA, wrong_axis=True)),),
        hint="μ and σ² (biased) over the last axis, keepdims; (x − μ)/√(σ² + ε), then γ·x̂ + β",
    ),
    GradedTest(
        "residual_block_basic",
        "8.6",
        4,
        residual(RX, W1, B1, W2, B2),
        hidden=False,
        slips=(Slip(NO_SKIP, residual(RX, W1, B1, W2, B2, skip=False)),),
        hint="out = x + relu(x W1 + b1) W2 + b2: the block's branch plus the input itself",
    ),
    GradedTest(
        "layer_norm_backward_basic",
        "8.7",
        5,
        norm_grads(LN_DOUT, LN_X, LN_GAMMA),
        hidden=False,
        hint="dx has x's shape, dgamma and dbeta are (D,); compare each with finite differences "
        "(the notebook's gradient check): μ and σ² depend on every feature of the token",
    ),
    GradedTest(
        "transformer_block_basic",
        "8.8",
        5,
        block(BLOCK_X, BLOCK, 2),
        hidden=False,
        slips=(Slip(POST_NORM, block(BLOCK_X, BLOCK, 2, post_norm=True)),),
        hint="pre-norm: h = X + MHSA(LN₁(X)), out = h + MLP(LN₂(h)); build it from your multihead_self_attention "
        "and layer_norm",
    ),
]
