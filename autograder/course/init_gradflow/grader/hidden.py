"""Hidden tests for init_gradflow (100 points with the public ones): Conv1d/Conv3d fans, every
scheme with default and explicit gains, tall/wide/conv orthogonal weights judged by their
properties (any orthogonal factor of the rng's Gaussian, QR or SVD) and a small test of torch's
exact QR steps, one rng call per draw, all four activations, a 20-layer sigmoid network
(vanishing gradients), clipping below the limit, over many arrays and (one point) with tiny norms
where PyTorch's 1e−6 shows, batch norm with small variances and a large ε, its running statistics
and inference. Every function's given input checks copy its inputs, so no test checks that inputs
are unchanged (such a test could not fail).

Slips that no call of the reference reproduces are computed here in NumPy (this file is not
shipped to students). Input validation is given in the skeleton and tested in tests/."""

import numpy as np

from autograder.course.init_gradflow.public import (
    BATCH_STATS_AT_INFERENCE,
    BN_BACKWARD_HINT,
    BN_HINT,
    MOMENTUM_SWAPPED,
    PER_TENSOR,
    WS_SQUARE,
    X_SQUARE,
    batchnorm,
    batchnorm_grads,
    clip,
    draw,
    fan_slips,
    fans,
    grad_norm_slips,
    grad_norms,
    inference,
    orthogonal,
    orthogonal_gains,
    orthogonal_judge,
    running,
    scale_slips,
)
from autograder.course.init_gradflow.public import (
    TESTS as PUBLIC,
)
from autograder.testcase import GradedTest, Slip

_rng = np.random.default_rng(70)
WS_MIXED = [_rng.standard_normal(s) / np.sqrt(s[1]) for s in [(5, 3), (2, 5), (4, 2)]]
X_MIXED = _rng.standard_normal((6, 3))
WS_DEEP = [_rng.normal(0.0, np.sqrt(2 / 32), (16, 16)) for _ in range(20)]  # Glorot std for 16 → 16
X_DEEP = _rng.standard_normal((10, 16))
GRADS_SMALL = [_rng.standard_normal((2, 2)) * 0.1, _rng.standard_normal(3) * 0.1]
GRADS_MANY = [
    np.array(_rng.standard_normal()),
    _rng.standard_normal((2, 3, 2)),
    _rng.standard_normal(5) * 4,
    _rng.standard_normal((1, 1)),
]
BN_X = _rng.standard_normal((4, 4)) * [0.05, 0.1, 0.3, 1.0] + [1.0, -2.0, 0.0, 3.0]  # small variances
BN_GAMMA, BN_BETA = _rng.standard_normal(4), _rng.standard_normal(4)
BN_X2 = _rng.standard_normal((5, 3)) * [0.2, 1.0, 3.0]
BN_GAMMA2, BN_BETA2, BN_DOUT2 = _rng.standard_normal(3), _rng.standard_normal(3), _rng.standard_normal((5, 3))
GRADS_TINY = [_rng.standard_normal((2, 2)) * 1e-6, _rng.standard_normal(3) * 1e-6]
RUN_X = _rng.standard_normal((7, 4)) * [1.0, 0.3, 2.0, 5.0] + [0.0, 1.0, -3.0, 10.0]
RUN_MEAN, RUN_VAR = _rng.standard_normal(4), 0.5 + _rng.random(4)
INF_X = _rng.standard_normal((3, 4)) * 2.0
INF_GAMMA, INF_BETA = _rng.standard_normal(4), _rng.standard_normal(4)

# The derivations this assignment asks for, written out for TAs (grader-only, as is this file).
ANSWERS = """
layer_grad_norms (δ_l = ∂E/∂z_l, shape (N, D_l)):
    ∂E/∂h_L = h_L,   δ_l = ∂E/∂h_l ⊙ act'(z_l),   ∂E/∂W_l = δ_lᵀ h_{l−1},   ∂E/∂h_{l−1} = δ_l W_l
    act': relu 1[z > 0], tanh 1 − h², sigmoid h(1 − h), linear 1
batchnorm_backward (dx̂ = dout ⊙ γ, s = 1/√(σ² + ε)):
    dβ = Σ_n dout_n,   dγ = Σ_n dout_n ⊙ x̂_n,   dx = (s/N)·(N·dx̂ − Σ_n dx̂_n − x̂ ⊙ Σ_n dx̂_n ⊙ x̂_n)
"""

# tests/test_leaks.py fails when one of these (regular expressions, case-insensitive) appears in a
# file of the student zip; each must match ANSWERS, the reference or a hint here.
FORMULAS = [
    r"N\s*·?\s*dx̂\s*−",
    r"N\s*\*\s*dx_hat",
    r"δ_l\s*=\s*∂E/∂h_l\s*⊙",
    r"∂E/∂W_l\s*=\s*δ_lᵀ",
    r"δ_lᵀ\s*h_\{?l\s*−\s*1",
    r"∂E/∂h_\{?l\s*−\s*1\}?\s*=\s*δ_l",
    r"delta\.T\s*@",
    r"delta\s*@\s*Ws\[",
    r"1\s*[−-]\s*h\s*(²|\^2|\*\*\s*2)",  # tanh' in terms of h
    r"h\s*\(1\s*[−-]\s*h\)",  # the sigmoid's derivative in terms of h
]
NO_SIGN_FIX = (
    "orthogonal without the sign fix: multiply Q's columns by sign(diag R), otherwise the QR's sign "
    "convention biases Q (torch.nn.init.orthogonal_ does this)"
)
NO_CLAMP = "the clip factor is not capped at 1: min(1, max_norm/(total_norm + 1e−6)) never scales gradients up"
RUNNING_BIASED = (
    "the biased batch variance in the running estimate: PyTorch updates running_var with the unbiased "
    "one (divide by N − 1) while it normalises the batch with the biased one"
)
NO_EPS_IN_CLIP = (
    "the clip factor without PyTorch's 1e−6: min(1, max_norm/(total_norm + 1e−6)); the textbooks' "
    "max_norm/total_norm differs only for tiny norms like these"
)
ORTHO_RECIPE_HINT = (
    "torch.nn.init.orthogonal_'s exact steps, as the spec fixes them: rng.normal(size=(rows, cols)); "
    "transpose when rows < cols; Q, R = QR; multiply Q's columns by sign(diag R); transpose back; times g"
)
UNBIASED = "unbiased variance (divide by N − 1): batch norm normalises with the biased variance, divide by N"
EPS_OUTSIDE = "ε outside the square root: x̂ = (x − μ)/√(σ² + ε), not (x − μ)/(σ + ε)"
TIMES_SIGMA = "(x − μ)·σ as seed 001 writes it: normalising divides by the standard deviation, x̂ = (x − μ)/√(σ² + ε)"
WRONG_AXIS = "normalised over the features of each row (layer norm): batch norm takes μ and σ² over the batch, axis 0"
STATS_CONSTANT = (
    "μ and σ treated as constants in the backward pass (dx = γ·dout/σ): both depend on x, "
    "dx = (1/(Nσ))·(N·dx̂ − Σ_n dx̂ − x̂·Σ_n dx̂·x̂)"
)


def _orthogonal_without_sign_fix(shape, seed, gain):
    rows, cols = shape[0], int(np.prod(shape[1:]))
    m = np.random.default_rng(seed).normal(size=(rows, cols))
    q = np.linalg.qr(m.T if rows < cols else m)[0]
    return gain * (q.T if rows < cols else q).reshape(shape)


def _constant_outputs(outputs):
    def build(s):
        for name, value in outputs.items():
            s.output(name, value)

    return build


def _one_rng_for_all(s):
    rng = s.lib("numpy.random.default_rng")(11)
    init = s.student("init_weights")
    for scheme in ("xavier_uniform", "kaiming_normal", "orthogonal", "xavier_normal", "kaiming_uniform"):
        W = init((5, 3, 2), scheme, rng)
        if scheme != "orthogonal":  # any orthogonal construction passes; only its one rng call matters here
            s.output(f"W ({scheme})", W)
    s.output("rng.random() afterwards", rng.random())


def _all_activations(s):
    for activation in ("relu", "sigmoid", "linear"):
        hs = s.student("layer_activations")(WS_MIXED, X_MIXED, activation)
        for l in range(len(WS_MIXED)):
            s.output(f"h_{l + 1} ({activation})", hs[l])


def _clip_no_clamp(grads, max_norm):
    total = float(np.sqrt(sum(np.sum(g**2) for g in grads)))
    outputs = {f"clipped[{i}]": g * (max_norm / (total + 1e-6)) for i, g in enumerate(grads)}
    return _constant_outputs({**outputs, "total_norm": total})


def _bn(x, gamma, beta, eps, *, ddof=0, eps_outside=False, times_sigma=False, axis=0):
    mu = x.mean(axis=axis, keepdims=True)
    sigma = np.sqrt(x.var(axis=axis, ddof=ddof, keepdims=True) + (0.0 if eps_outside else eps))
    x_hat = (x - mu) * sigma if times_sigma else (x - mu) / (sigma + (eps if eps_outside else 0.0))
    return {"out": gamma * x_hat + beta}


def _bn_slips(x, gamma, beta, eps):
    variants = [(UNBIASED, dict(ddof=1)), (EPS_OUTSIDE, dict(eps_outside=True)), (TIMES_SIGMA, dict(times_sigma=True))]
    if x.shape[0] == x.shape[1]:
        variants.append((WRONG_AXIS, dict(axis=1)))
    return tuple(Slip(hint, _constant_outputs(_bn(x, gamma, beta, eps, **kw))) for hint, kw in variants)


def _bn_stats_constant(x, gamma, beta, dout, eps):
    x_hat = (x - x.mean(axis=0)) / np.sqrt(x.var(axis=0) + eps)
    return _constant_outputs(
        {
            "dbeta": dout.sum(axis=0),
            "dgamma": (dout * x_hat).sum(axis=0),
            "dx": gamma * dout / np.sqrt(x.var(axis=0) + eps),
        }
    )


def _running_biased(running_mean, running_var, x, momentum=0.1):
    return _constant_outputs(
        {
            "running_mean": (1 - momentum) * running_mean + momentum * x.mean(axis=0),
            "running_var": (1 - momentum) * running_var + momentum * x.var(axis=0),
        }
    )


def _clip_without_eps(grads, max_norm):
    total = float(np.sqrt(sum(np.sum(g**2) for g in grads)))
    outputs = {f"clipped[{i}]": g * min(1.0, max_norm / total) for i, g in enumerate(grads)}
    return _constant_outputs({**outputs, "total_norm": total})


ORTHO = [((6, 3), 7, 2.0), ((4, 2, 2, 2), 8, None)]
ORTHO_RECIPE = [((3, 5), 9, None), ((5, 2), 10, 0.5)]

HIDDEN = [
    # 7.1
    GradedTest(
        "fan_in_fan_out_conv1d",
        "7.1",
        2,
        fans((8, 3, 5)),
        slips=fan_slips((8, 3, 5)),
        hint="Conv1d weight (out, in, K): fan_in = in·K, fan_out = out·K",
    ),
    GradedTest(
        "fan_in_fan_out_conv3d",
        "7.1",
        2,
        fans((4, 2, 3, 1, 2)),
        slips=fan_slips((4, 2, 3, 1, 2)),
        hint="fan_in = shape[1]·∏shape[2:], fan_out = shape[0]·∏shape[2:] for any number of kernel axes",
    ),
    # 7.2
    GradedTest(
        "init_weights_xavier_normal",
        "7.2",
        3,
        draw((50, 200), "xavier_normal", 4),
        slips=scale_slips((50, 200), "xavier_normal", 4),
        hint="std = g·√(2/(fan_in + fan_out)) with g = 1 by default: Glorot averages the two fans",
    ),
    GradedTest(
        "init_weights_xavier_normal_tanh_gain",
        "7.2",
        2,
        draw((20, 10, 3), "xavier_normal", 5, 5 / 3),
        slips=scale_slips((20, 10, 3), "xavier_normal", 5, 5 / 3),
        hint="an explicit gain multiplies the std: std = gain·√(2/(fan_in + fan_out))",
    ),
    GradedTest(
        "init_weights_kaiming_uniform_conv1d",
        "7.2",
        3,
        draw((20, 10, 3), "kaiming_uniform", 6),
        slips=scale_slips((20, 10, 3), "kaiming_uniform", 6),
        hint="a = g·√(3/fan_in) with g = √2 by default; fan_in = in·K for a Conv1d weight",
    ),
    GradedTest(
        "init_weights_kaiming_normal_gain",
        "7.2",
        2,
        draw((12, 6), "kaiming_normal", 12, 5 / 3),
        slips=scale_slips((12, 6), "kaiming_normal", 12, 5 / 3),
        hint="an explicit gain replaces the default √2: std = gain/√fan_in",
    ),
    GradedTest(
        "init_weights_xavier_uniform_gain",
        "7.2",
        2,
        draw((8, 10), "xavier_uniform", 13, np.sqrt(2.0)),
        slips=scale_slips((8, 10), "xavier_uniform", 13, np.sqrt(2.0)),
        hint="an explicit gain multiplies the bound: a = gain·√(6/(fan_in + fan_out))",
    ),
    GradedTest(
        "init_weights_orthogonal_tall_and_conv",
        "7.2",
        3,
        orthogonal(ORTHO),
        judge=orthogonal_judge(orthogonal_gains(ORTHO)),
        hint="rows = shape[0], cols = ∏shape[1:]; a tall W has orthonormal columns times gain; reshape to shape",
    ),
    GradedTest(
        "init_weights_orthogonal_torch_recipe",
        "7.2",
        2,
        orthogonal(ORTHO_RECIPE),
        slips=(
            Slip(
                NO_SIGN_FIX,
                _constant_outputs(
                    {
                        f"W{i}": _orthogonal_without_sign_fix(shape, seed, 1.0 if g is None else g)
                        for i, (shape, seed, g) in enumerate(ORTHO_RECIPE)
                    }
                ),
            ),
        ),
        hint=ORTHO_RECIPE_HINT,
    ),
    GradedTest(
        "init_weights_one_rng_call_each",
        "7.2",
        2,
        _one_rng_for_all,
        hint="each init_weights makes exactly one call to rng (the orthogonal one included), so a shared "
        "rng gives the next draw the values the spec fixes",
    ),
    # 7.3
    GradedTest(
        "layer_activations_relu_sigmoid_linear",
        "7.3",
        4,
        _all_activations,
        hint="relu max(z, 0); sigmoid 1/(1 + e^{−z}); linear z; W_l is (D_l, D_{l−1}): h_l = act(h_{l−1} W_lᵀ)",
    ),
    # 7.4
    GradedTest(
        "layer_grad_norms_20_layers_sigmoid",
        "7.4",
        5,
        grad_norms(WS_DEEP, X_DEEP, "sigmoid"),
        slips=grad_norm_slips(WS_DEEP, X_DEEP, "sigmoid"),
        atol=0.0,
        hint="20 sigmoid layers: the early layers' norms are tiny but must be exact (no absolute tolerance)",
    ),
    GradedTest(
        "layer_grad_norms_tanh_square",
        "7.4",
        2,
        grad_norms(WS_SQUARE, X_SQUARE, "tanh"),
        slips=grad_norm_slips(WS_SQUARE, X_SQUARE, "tanh"),
        hint="tanh layers: the derivative of tanh at z_l, then ∂E/∂W_l has W_l's shape (D_l, D_{l−1})",
    ),
    # 7.5
    GradedTest(
        "clip_grad_norm_below_max",
        "7.5",
        2,
        clip(GRADS_SMALL, 100.0),
        slips=(Slip(NO_CLAMP, _clip_no_clamp(GRADS_SMALL, 100.0)),),
        hint="a total norm below max_norm leaves the gradients as they are (factor 1), as new arrays",
    ),
    GradedTest(
        "clip_grad_norm_four_arrays",
        "7.5",
        3,
        clip(GRADS_MANY, 0.5),
        rtol=1e-5,  # the textbooks' max_norm/total_norm, without PyTorch's 1e-6, passes too
        slips=(Slip(PER_TENSOR, clip(GRADS_MANY, 0.5, per_tensor=True)),),
        hint="one global norm over arrays of any shapes (a 0-d array too); one factor for all",
    ),
    GradedTest(
        "clip_grad_norm_tiny_norms",
        "7.5",
        1,
        clip(GRADS_TINY, 1e-7),
        slips=(Slip(NO_EPS_IN_CLIP, _clip_without_eps(GRADS_TINY, 1e-7)),),
        atol=0.0,
        hint="total norm about 1e−6: here PyTorch's factor min(1, max_norm/(total_norm + 1e−6)) matters",
    ),
    # 7.6
    GradedTest(
        "batchnorm_forward_small_variance_eps",
        "7.6",
        4,
        batchnorm(BN_X, BN_GAMMA, BN_BETA, 0.1),
        slips=_bn_slips(BN_X, BN_GAMMA, BN_BETA, 0.1),
        hint=BN_HINT,
    ),
    # 7.7
    GradedTest(
        "batchnorm_backward_eps",
        "7.7",
        5,
        batchnorm_grads(BN_X2, BN_GAMMA2, BN_BETA2, BN_DOUT2, 0.01),
        slips=(Slip(STATS_CONSTANT, _bn_stats_constant(BN_X2, BN_GAMMA2, BN_BETA2, BN_DOUT2, 0.01)),),
        hint=BN_BACKWARD_HINT,
    ),
    # 7.8
    GradedTest(
        "batchnorm_running_update_momentum",
        "7.8",
        3,
        running(RUN_MEAN, RUN_VAR, RUN_X, 0.3),
        slips=(
            Slip(MOMENTUM_SWAPPED, running(RUN_MEAN, RUN_VAR, RUN_X, 0.3, swapped=True)),
            Slip(RUNNING_BIASED, _running_biased(RUN_MEAN, RUN_VAR, RUN_X, 0.3)),
        ),
        hint="momentum = 0.3 weighs the batch statistic; running_var takes the unbiased batch variance",
    ),
    # 7.9
    GradedTest(
        "batchnorm_inference_eps",
        "7.9",
        1,
        inference(INF_X, INF_GAMMA, INF_BETA, RUN_MEAN, RUN_VAR, 0.1),
        slips=(
            Slip(
                BATCH_STATS_AT_INFERENCE,
                inference(INF_X, INF_GAMMA, INF_BETA, RUN_MEAN, RUN_VAR, 0.1, batch_stats=True),
            ),
        ),
        hint="ε = 0.1 inside the square root, with running_var",
    ),
]

TESTS = PUBLIC + HIDDEN
