"""Public tests for init_gradflow: small, readable cases students can run with
`python -m autograder check init_gradflow`. The hidden tests extend these.

Weights are PyTorch's (out, in, *kernel); init_weights draws with one call to
np.random.default_rng(seed), so the values are fixed by the seed."""

import numpy as np

from autograder.compare import PASS, Verdict, compare, unwrap
from autograder.testcase import GradedTest, Slip

_rng = np.random.default_rng(7)
WS_SQUARE = [_rng.standard_normal((4, 4)) * 0.7 for _ in range(3)]  # (D_l, D_{l-1}), D = 4
X_SQUARE = _rng.standard_normal((5, 4))  # (N, D_0)
WS_RELU = [_rng.standard_normal(s) * np.sqrt(2 / s[1]) for s in [(6, 3), (5, 6), (2, 5)]]
X_RELU = _rng.standard_normal((8, 3))
GRADS = [_rng.standard_normal((3, 2)), _rng.standard_normal(4) * 3.0]
BN_X = _rng.standard_normal((6, 3)) * [1.0, 4.0, 0.2] + [0.0, 2.0, -1.0]
BN_GAMMA, BN_BETA = _rng.standard_normal(3), _rng.standard_normal(3)
BN_DOUT = _rng.standard_normal((6, 3))
RUN_MEAN, RUN_VAR = _rng.standard_normal(3), 0.5 + _rng.random(3)

FAN_SWAPPED = "fan_in and fan_out swapped: W is (out, in, *kernel), so fan_in = in·∏kernel = shape[1]·∏shape[2:]"
FAN_NO_KERNEL = (
    "the kernel is left out of the fans: a conv unit sums in·KH·KW inputs, so "
    "fan_in = shape[1]·∏shape[2:] and fan_out = shape[0]·∏shape[2:]"
)
NO_SQRT3 = (
    "the uniform bound without √3: U(−a, a) has variance a²/3, so a = √3·std "
    "(xavier: g·√(6/(fan_in + fan_out)); kaiming: g·√(3/fan_in))"
)
VARIANCE_AS_STD = "the variance used as the standard deviation: rng.normal takes std = √Var (e.g. g/√fan_in)"
KAIMING_FAN_OUT = (
    "Kaiming with fan_out: He's scheme allows either fan (torch's mode='fan_out' keeps the backward "
    "variance), but init_weights uses fan_in, torch's default: std = g/√fan_in"
)
GLOROT_FOR_HE = (
    "Glorot's formula used for Kaiming: kaiming_normal is He's std = g/√fan_in (g = √2 by default); "
    "Glorot's (xavier) averages fan_in and fan_out and has no √2"
)
HE_FOR_GLOROT = (
    "He's formula used for Xavier/Glorot: seed 004's Gaussian for ReLU is He's (√2/√fan_in); "
    "Glorot's is std = g·√(2/(fan_in + fan_out))"
)
GAIN_IGNORED = "an explicit gain is ignored: gain multiplies the std (or the uniform bound) whenever it is given"
KAIMING_GAIN_1 = "Kaiming without the ReLU gain: gain=None means g = √2 for the kaiming schemes"
W_NOT_TRANSPOSED = "W_l used as (in, out): PyTorch stores W_l as (out, in) = (D_l, D_{l−1}), so h_l = act(h_{l−1} W_lᵀ)"
NORMS_REVERSED = (
    "the norms are in backward order: entry l − 1 is layer l's ‖∂E/∂W_l‖, from the input "
    "side (reverse the list collected during the backward pass)"
)
MEAN_NOT_SUM = "E is summed over the batch, not averaged: E = ½‖h_L‖² = ½ Σ_n Σ_j h_L[n, j]²"
PER_TENSOR = (
    "clipped per array instead of globally: clip_grad_norm_ uses ONE factor "
    "min(1, max_norm/(total_norm + 1e−6)) with total_norm over all arrays together"
)


def fans(shape, slip=None):
    def build(s):
        fan = s.student("fan_in_fan_out")
        result = fan(tuple(shape[:2])) if slip == "no_kernel" else fan(tuple(shape))
        first, second = (1, 0) if slip == "swapped" else (0, 1)
        s.output("fan_in", result[first])
        s.output("fan_out", result[second])

    return build


def fan_slips(shape):
    slips = [Slip(FAN_SWAPPED, fans(shape, "swapped"))]
    if len(shape) > 2:
        slips.append(Slip(FAN_NO_KERNEL, fans(shape, "no_kernel")))
    return tuple(slips)


def draw(shape, scheme, seed, gain=None, *, as_scheme=None):
    """init_weights(shape, scheme, np.random.default_rng(seed), gain). `as_scheme` and `gain`
    reproduce slips: the same single rng call with another scale is the same scheme with
    another gain."""

    def build(s):
        rng = s.lib("numpy.random.default_rng")(seed)
        s.output("W", s.student("init_weights")(tuple(shape), as_scheme or scheme, rng, gain))

    return build


def orthogonal_judge(gains):
    """Judge orthogonal draws by their properties, so any correct construction passes (torch's QR
    steps, or seed 004's SVD, U Vᵀ, of the same Gaussian): W has the shape asked for, its
    (rows, cols) matrix M has orthogonal rows or columns of length g (MᵀM = g²I when tall, MMᵀ = g²I
    when wide), and M spans the same space as the Gaussian matrix the rng draws (the reference's Q
    spans it), so a fixed matrix or a draw from another stream fails. gains: {output name: g}."""

    def judge(expected, got):
        for name, want in expected.items():
            value, _ = unwrap(got.get(name))
            if name not in gains:
                verdict = compare(want, value, name=name)
                if not verdict.passed:
                    return verdict
                continue
            verdict = compare(want, value, rtol=np.inf, atol=np.inf, name=name)  # shape and finiteness
            if not verdict.passed:
                return verdict
            g, rows = gains[name], want.shape[0]
            m, q = value.reshape(rows, -1), want.reshape(rows, -1) / gains[name]
            tall = m.shape[0] >= m.shape[1]
            gram = m.T @ m if tall else m @ m.T
            if not compare(g**2 * np.eye(len(gram)), gram, name=name).passed:
                side = "columns" if tall else "rows"
                return Verdict(False, f"{name}: its {side} are not orthogonal with length gain = {g:g}")
            projected = q @ (q.T @ m) if tall else (m @ q.T) @ q
            if not compare(projected, m, name=name).passed:
                return Verdict(
                    False,
                    f"{name}: orthogonal, but not built from the Gaussian matrix that "
                    "rng.normal(size=(rows, cols)) draws (it spans another space)",
                )
        return PASS

    return judge


def orthogonal(draws):
    """draws: [(shape, seed, gain)]; one output W<i> per draw, each from its own rng."""

    def build(s):
        for i, (shape, seed, gain) in enumerate(draws):
            rng = s.lib("numpy.random.default_rng")(seed)
            s.output(f"W{i}", s.student("init_weights")(tuple(shape), "orthogonal", rng, gain))

    return build


def orthogonal_gains(draws):
    return {f"W{i}": 1.0 if gain is None else gain for i, (_, _, gain) in enumerate(draws)}


def _fans(shape):
    receptive = int(np.prod(shape[2:]))
    return shape[1] * receptive, shape[0] * receptive


def scale_slips(shape, scheme, seed, gain=None):
    """The known scale mistakes of a scheme, each as the right draw with another gain."""
    fan_in, fan_out = _fans(shape)
    g = (np.sqrt(2.0) if scheme.startswith("kaiming") else 1.0) if gain is None else gain
    slips = []
    if scheme.endswith("uniform"):
        slips.append(Slip(NO_SQRT3, draw(shape, scheme, seed, g / np.sqrt(3.0))))
    if scheme == "xavier_normal":
        std = g * np.sqrt(2.0 / (fan_in + fan_out))
        slips.append(Slip(VARIANCE_AS_STD, draw(shape, scheme, seed, std * g)))
        if gain is None:
            slips.append(Slip(HE_FOR_GLOROT, draw(shape, scheme, seed, np.sqrt((fan_in + fan_out) / fan_in))))
    if scheme == "kaiming_normal":
        slips.append(Slip(VARIANCE_AS_STD, draw(shape, scheme, seed, g**2 / np.sqrt(fan_in))))
    if gain is not None:
        slips.append(Slip(GAIN_IGNORED, draw(shape, scheme, seed)))
    if scheme.startswith("kaiming"):
        slips.append(Slip(KAIMING_FAN_OUT, draw(shape, scheme, seed, g * np.sqrt(fan_in / fan_out))))
        if gain is None:
            slips.append(Slip(KAIMING_GAIN_1, draw(shape, scheme, seed, 1.0)))
            if scheme == "kaiming_normal":
                slips.append(Slip(GLOROT_FOR_HE, draw(shape, scheme, seed, as_scheme="xavier_normal")))
    return tuple(slips)


def activations(Ws, X, activation, transposed=False):
    def build(s):
        weights = [W.T.copy() for W in Ws] if transposed else Ws
        hs = s.student("layer_activations")(weights, X, activation)
        for l in range(len(Ws)):
            s.output(f"h_{l + 1}", hs[l])

    return build


def grad_norms(Ws, X, activation, slip=None):
    def build(s):
        if slip == "transposed":
            norms = s.student("layer_grad_norms")([W.T.copy() for W in Ws], X, activation)
        else:
            norms = s.student("layer_grad_norms")(Ws, X, activation)
        if slip == "reversed":
            norms = norms[::-1]
        elif slip == "mean":
            norms = norms / X.shape[0]
        s.output("norms", norms)

    return build


def grad_norm_slips(Ws, X, activation):
    slips = [
        Slip(NORMS_REVERSED, grad_norms(Ws, X, activation, "reversed")),
        Slip(MEAN_NOT_SUM, grad_norms(Ws, X, activation, "mean")),
    ]
    if all(W.shape[0] == W.shape[1] for W in Ws):
        slips.append(Slip(W_NOT_TRANSPOSED, grad_norms(Ws, X, activation, "transposed")))
    return tuple(slips)


def clip(grads, max_norm, per_tensor=False):
    def build(s):
        fn = s.student("clip_grad_norm")
        clipped, total = fn(list(grads), max_norm).unpack(2)
        for i in range(len(grads)):
            s.output(f"clipped[{i}]", fn([grads[i]], max_norm)[0][0] if per_tensor else clipped[i])
        s.output("total_norm", total)

    return build


def batchnorm(x, gamma, beta, eps=1e-5):
    def build(s):
        out, _ = s.student("batchnorm_forward")(x, gamma, beta, eps).unpack(2)
        s.output("out", out)

    return build


def batchnorm_grads(x, gamma, beta, dout, eps=1e-5):
    def build(s):
        _, cache = s.student("batchnorm_forward")(x, gamma, beta, eps).unpack(2)
        dx, dgamma, dbeta = s.student("batchnorm_backward")(dout, cache).unpack(3)
        s.output("dbeta", dbeta)
        s.output("dgamma", dgamma)
        s.output("dx", dx)

    return build


def running(running_mean, running_var, x, momentum=None, *, swapped=False):
    """batchnorm_running_update; swapped weighs the old statistic by momentum (a slip)."""

    def build(s):
        args = (running_mean, running_var, x) if momentum is None else (running_mean, running_var, x, momentum)
        if swapped:
            args = (running_mean, running_var, x, 1.0 - (0.1 if momentum is None else momentum))
        mean, var = s.student("batchnorm_running_update")(*args).unpack(2)
        s.output("running_mean", mean)
        s.output("running_var", var)

    return build


def inference(x, gamma, beta, running_mean, running_var, eps=1e-5, *, batch_stats=False):
    """batchnorm_inference; batch_stats normalises with the batch's own statistics (a slip)."""

    def build(s):
        if batch_stats:
            out, _ = s.student("batchnorm_forward")(x, gamma, beta, eps).unpack(2)
        else:
            out = s.student("batchnorm_inference")(x, gamma, beta, running_mean, running_var, eps)
        s.output("out", out)

    return build


MOMENTUM_SWAPPED = (
    "momentum weighs the old statistic: PyTorch's rule is new = (1 − momentum)·old + momentum·batch "
    "statistic (momentum weighs the NEW batch)"
)
BATCH_STATS_AT_INFERENCE = (
    "the batch's own μ and σ² used at inference: batchnorm_inference normalises with running_mean "
    "and running_var, so one example's output does not depend on the rest of the batch"
)

BN_HINT = (
    "μ and σ² over the batch (axis 0), σ² biased (divide by N); x̂ = (x − μ)/√(σ² + ε), "
    "out = γ·x̂ + β (a division by σ, ε inside the square root)"
)
BN_BACKWARD_HINT = (
    "dx has x's shape (N, D), dgamma and dbeta are (D,); μ and σ² depend on every row of the batch. "
    "Compare each gradient with finite differences (the notebook's gradient check)"
)
ORTHO_WIDE = [((4, 6), 3, None)]

TESTS = [
    GradedTest(
        "fan_in_fan_out_linear",
        "7.1",
        2,
        fans((300, 784)),
        hidden=False,
        slips=fan_slips((300, 784)),
        hint="a Linear weight is (out, in): fan_in = in = shape[1], fan_out = out = shape[0]",
    ),
    GradedTest(
        "fan_in_fan_out_conv2d",
        "7.1",
        3,
        fans((6, 3, 5, 5)),
        hidden=False,
        slips=fan_slips((6, 3, 5, 5)),
        hint="seed 003's six 3×5×5 filters: fan_in = 3·5·5 = 75, fan_out = 6·5·5 = 150",
    ),
    GradedTest(
        "init_weights_xavier_uniform",
        "7.2",
        4,
        draw((30, 20), "xavier_uniform", 1),
        hidden=False,
        slips=scale_slips((30, 20), "xavier_uniform", 1),
        hint="one call rng.uniform(−a, a, size=shape) with a = g·√(6/(fan_in + fan_out)), g = 1 by default",
    ),
    GradedTest(
        "init_weights_kaiming_normal_conv",
        "7.2",
        4,
        draw((16, 8, 3, 3), "kaiming_normal", 2),
        hidden=False,
        slips=scale_slips((16, 8, 3, 3), "kaiming_normal", 2),
        hint="one call rng.normal(0, std, size=shape) with std = g/√fan_in, g = √2 by default",
    ),
    GradedTest(
        "init_weights_orthogonal_wide",
        "7.2",
        4,
        orthogonal(ORTHO_WIDE),
        hidden=False,
        judge=orthogonal_judge(orthogonal_gains(ORTHO_WIDE)),
        hint="an orthogonal matrix built from the one Gaussian draw rng.normal(size=(rows, cols)): a wide W "
        "has orthonormal rows (W Wᵀ = g²I)",
    ),
    GradedTest(
        "layer_activations_tanh",
        "7.3",
        4,
        activations(WS_SQUARE, X_SQUARE, "tanh"),
        hidden=False,
        slips=(Slip(W_NOT_TRANSPOSED, activations(WS_SQUARE, X_SQUARE, "tanh", transposed=True)),),
        hint="h_0 = X, h_l = act(h_{l−1} W_lᵀ); return [h_1, ..., h_L]",
    ),
    GradedTest(
        "layer_grad_norms_relu",
        "7.4",
        6,
        grad_norms(WS_RELU, X_RELU, "relu"),
        hidden=False,
        slips=grad_norm_slips(WS_RELU, X_RELU, "relu"),
        hint="entry l − 1 is layer l's ‖∂E/∂W_l‖_F, counted from the input; compare your backward pass with "
        "finite differences of E (the notebook's gradient check)",
    ),
    GradedTest(
        "clip_grad_norm_global",
        "7.5",
        5,
        clip(GRADS, 2.0),
        hidden=False,
        rtol=1e-5,  # the textbooks' max_norm/total_norm, without PyTorch's 1e-6, passes too
        slips=(Slip(PER_TENSOR, clip(GRADS, 2.0, per_tensor=True)),),
        hint="total_norm = √(Σ over all arrays of Σ g²); every array times min(1, max_norm/(total_norm + 1e−6))",
    ),
    GradedTest("batchnorm_forward_basic", "7.6", 5, batchnorm(BN_X, BN_GAMMA, BN_BETA), hidden=False, hint=BN_HINT),
    GradedTest(
        "batchnorm_backward_basic",
        "7.7",
        6,
        batchnorm_grads(BN_X, BN_GAMMA, BN_BETA, BN_DOUT),
        hidden=False,
        hint=BN_BACKWARD_HINT,
    ),
    GradedTest(
        "batchnorm_running_update_basic",
        "7.8",
        2,
        running(RUN_MEAN, RUN_VAR, BN_X),
        hidden=False,
        slips=(Slip(MOMENTUM_SWAPPED, running(RUN_MEAN, RUN_VAR, BN_X, swapped=True)),),
        hint="new = (1 − momentum)·old + momentum·(batch statistic), momentum = 0.1 by default; the batch "
        "variance here is the unbiased one (divide by N − 1), as PyTorch's running_var",
    ),
    GradedTest(
        "batchnorm_inference_basic",
        "7.9",
        2,
        inference(BN_X, BN_GAMMA, BN_BETA, RUN_MEAN, RUN_VAR),
        hidden=False,
        slips=(
            Slip(BATCH_STATS_AT_INFERENCE, inference(BN_X, BN_GAMMA, BN_BETA, RUN_MEAN, RUN_VAR, batch_stats=True)),
        ),
        hint="out = γ·(x − running_mean)/√(running_var + ε) + β: the running statistics, not the batch's",
    ),
]
