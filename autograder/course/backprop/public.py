"""Public tests for backprop: small, readable cases students can run with
`python -m autograder check backprop`. The hidden tests extend these."""

import numpy as np

from autograder.testcase import GradedTest, Slip

_rng = np.random.default_rng(2)
# linear regression: N = 4 examples, D = 3 inputs
LR_W = _rng.standard_normal(3)
LR_X = _rng.standard_normal((4, 3))
LR_Y = _rng.standard_normal(4)
# the two-layer network: N = 4 examples, D = 3 inputs, H = 2 hidden units
PARAMS = {"W1": _rng.standard_normal((2, 3)), "b1": _rng.standard_normal(2), "w2": _rng.standard_normal(2), "b2": 0.3}
X = _rng.standard_normal((4, 3))
Y = np.array([0.0, 1.0, 1.0, 0.0])
Z = np.array([-3.0, -0.5, 0.0, 0.5, 3.0])
# penalties: a weight matrix with one exact zero
PEN_W = np.array([[0.5, -1.5, 0.0], [2.0, -0.25, 1.0]])
LAM = 0.1
GRADS = {"W1": _rng.standard_normal((2, 3)), "b1": _rng.standard_normal(2), "w2": _rng.standard_normal(2), "b2": -0.7}
# the derivation steps: outputs o in (0, 1) with targets, and a hidden layer (N = 4, H = 2)
O = np.array([0.9, 0.2, 0.6, 0.35])
DELTA = np.array([0.3, -0.1, 0.05, -0.2])
H_ACT = _rng.uniform(0.1, 0.9, (4, 2))
# the variant network (tanh hidden units, sigmoid output, cross-entropy): N = 5, D = 3, H = 2
BCE_PARAMS = {
    "W1": _rng.standard_normal((2, 3)),
    "b1": _rng.standard_normal(2),
    "w2": _rng.standard_normal(2),
    "b2": -0.2,
}
BCE_X = _rng.standard_normal((5, 3))
BCE_Y = np.array([1.0, 0.0, 0.0, 1.0, 1.0])

ONE_PATH = "b feeds two nodes (c = a + b and d = b + 1): de/db must add the contributions of both paths"
LR_NO_TWO = "the factor 2 is missing: this E has no ½, so ∇E(w) = −2 Xᵀ(y − Xw)"
LR_SIGN = "the sign is flipped: ∇E(w) = −2 Xᵀ(y − Xw) = 2 Xᵀ(Xw − y)"
MEAN = "mean instead of sum: E = ½ Σ_n (y_n − o_n)² is a SUM over the examples, so do not divide by N"
LR_MEAN = "mean instead of sum: E(w) = Σ_n (y_n − x_n·w)² is a SUM over the examples, so do not divide by N"
LOSS_NO_HALF = "the ½ is missing: E = ½ Σ_n (y_n − o_n)²"
DELTA_SIGN = "sign slip in δ: E grows as o_n moves away from y_n (mind the inner derivative of (y_n − o_n)²)"
DELTA_TWO = "a factor 2 too many: what becomes of the ½ in E = ½ Σ_n (y_n − o_n)² when you differentiate the square?"
NO_HIDDEN_DERIV = (
    "missing the sigmoid's derivative at the hidden layer: h = σ(a^(1)), so the chain rule has the factor ∂h/∂a^(1)"
)
NO_OUTPUT_DERIV = (
    "missing the sigmoid's derivative at the output: o = σ(a^(2)), so the chain rule has the factor ∂o/∂a^(2)"
)
BCE_KEEPS_DERIV = (
    "the sigmoid's derivative is there twice: with the cross-entropy, simplify ∂E/∂o_n · ∂o_n/∂a^(2)_n "
    "as one expression before you code it"
)
TANH_DERIV = "the hidden units are tanh here: use tanh's derivative (in terms of h), not the sigmoid's"
L1_ZERO = "L1 gradient at 0: sign(0) = 0, so an exact zero weight gets gradient 0 (not λ or −λ)"
L2_NO_HALF = "the ½ is missing in L2: R(W) = λ/2·‖W‖²_F, whose gradient is λW"
L2_NO_HALF_BOTH = "the ½ is missing in L2: R(W) = λ/2·‖W‖²_F with gradient λW (not λ‖W‖² and 2λW)"
SGD_SIGN = "the step goes uphill: gradient DEScent is w_new = w − η·∂E/∂w"
BACKWARD_HINT = (
    "follow the chain E → o → a^(2) → (w2, b2), then on through h → a^(1) → (W1, b1), "
    "with delta_output and delta_hidden; every gradient sums over the N examples"
)
BCE_HINT = (
    "the same chain as mlp_backward with two local derivatives changed: the output's δ (derive "
    "∂E/∂o_n for the cross-entropy first) and tanh'(a) at the hidden units"
)
KEYS = ("W1", "b1", "w2", "b2")


def graph(a, b, de_db_slip=None):
    """(e, de_da, de_db) of graph_example at one point, as three outputs."""

    def build(s):
        e, de_da, de_db = s.student("graph_example")(a, b).unpack(3)
        s.output("e", e)
        s.output("de_da", de_da)
        s.output("de_db", de_db if de_db_slip is None else de_db_slip)

    return build


def linreg(w, X, y, scale=1.0):
    def build(s):
        grad = s.student("linear_regression_grad")(w, X, y)
        s.output("grad", grad if scale == 1.0 else grad * scale)

    return build


def forward(params, X, z=None):
    def build(s):
        if z is not None:
            s.output("sigmoid(z)", s.student("sigmoid")(z))
        o, _ = s.student("mlp_forward")(params, X).unpack(2)
        s.output("o", o)

    return build


def loss(params, X, y, scale=1.0):
    def build(s):
        E = s.student("mlp_loss")(params, X, y)
        s.output("E", E if scale == 1.0 else E * scale)

    return build


def backward(params, X, y, scale=1.0):
    """mlp_backward's four gradients, one output each (scale=-1 or 1/N reproduce slips)."""

    def build(s):
        grads = s.student("mlp_backward")(params, X, y)
        for key in KEYS:
            g = grads[key]
            s.output(f"grads[{key!r}]", g if scale == 1.0 else g * scale)

    return build


def derived(name, *args, **kwargs):
    """A slip's recording that works a derivation out with one mistake: `name` in slips.py, which
    students do not get (it spells the right formulas out). Imported only when the grader records
    the slip's values; the student's copy of this file never calls it (public.expected holds them)."""

    def build(s):
        from autograder.course.backprop.grader import slips

        getattr(slips, name)(*args, **kwargs)(s)

    return build


def backward_slips(params, X, y):
    n = X.shape[0]
    slips = (
        Slip(NO_HIDDEN_DERIV, derived("mlp_backward_by_hand", params, X, y, hidden_deriv=False)),
        Slip(NO_OUTPUT_DERIV, derived("mlp_backward_by_hand", params, X, y, output_deriv=False)),
        Slip(DELTA_SIGN, backward(params, X, y, -1.0)),
    )
    return slips + ((Slip(MEAN, backward(params, X, y, 1 / n)),) if n > 1 else ())  # N = 1: mean = sum


def penalties(W, lam, which=("l2", "l1"), l2_value_scale=1.0, l2_grad_scale=1.0, l1_grad_at_zero=None):
    """l2_penalty and/or l1_penalty of W; the scale/at-zero arguments reproduce slips."""

    def build(s):
        if "l2" in which:
            value2, grad2 = s.student("l2_penalty")(W, lam).unpack(2)
            s.output("l2 value", value2 if l2_value_scale == 1.0 else value2 * l2_value_scale)
            s.output("l2 grad", grad2 if l2_grad_scale == 1.0 else grad2 * l2_grad_scale)
        if "l1" in which:
            value1, grad1 = s.student("l1_penalty")(W, lam).unpack(2)
            s.output("l1 value", value1)
            if l1_grad_at_zero is not None:  # what a sign with sign(0) = ±1 gives at W == 0
                grad1 = grad1 + (W == 0) * (l1_grad_at_zero * lam)
            s.output("l1 grad", grad1)

    return build


def sgd(params, grads, lr):
    def build(s):
        new = s.student("sgd_step")(params, grads, lr)
        for key in params:
            s.output(f"new[{key!r}]", new[key])

    return build


def scaled_call(function, output, *args, scale=1.0):
    """One call's result as the output `output`, times `scale` (the sign, factor-2 and mean slips)."""

    def build(s):
        result = s.student(function)(*args)
        s.output(output, result if scale == 1.0 else result * scale)

    return build


def steps_output(o, y, scale=1.0):
    return scaled_call("delta_output", "delta", o, y, scale=scale)


def steps_hidden(delta, w2, h, scale=1.0):
    return scaled_call("delta_hidden", "delta_h", delta, w2, h, scale=scale)


def bias_grads(params, X, y, which, scale=1.0):
    """grad_b2 or grad_b1 ("which") of the network."""
    return scaled_call(which, which, params, X, y, scale=scale)


def delta_bce(o, y, scale=1.0):
    return scaled_call("delta_output_bce", "delta", o, y, scale=scale)


def bce(params, X, y, scale=1.0):
    """tanh_bce_loss and tanh_bce_backward's four gradients (times `scale`: the mean and sign slips)."""

    def build(s):
        s.output("E", s.student("tanh_bce_loss")(params, X, y))
        grads = s.student("tanh_bce_backward")(params, X, y)
        for key in KEYS:
            s.output(f"grads[{key!r}]", grads[key] if scale == 1.0 else grads[key] * scale)

    return build


def bce_slips(params, X, y):
    n = X.shape[0]
    slips = (
        Slip(BCE_KEEPS_DERIV, derived("tanh_bce_by_hand", params, X, y, keep_sigma_prime=True)),
        Slip(
            TANH_DERIV + " (yours applies the sigmoid's formula to h = tanh(a))",
            derived("tanh_bce_by_hand", params, X, y, hidden_local="sigmoid_formula_on_h"),
        ),
        Slip(TANH_DERIV + " (yours uses σ'(a^(1)))", derived("tanh_bce_by_hand", params, X, y, hidden_local="sigmoid")),
        Slip("sign slip in the gradients: differentiate the two log terms of E again", bce(params, X, y, -1.0)),
    )
    return slips + (
        (
            Slip(
                "mean instead of sum: the cross-entropy E is a SUM over the examples, so do not divide by N",
                bce(params, X, y, 1 / n),
            ),
        )
        if n > 1
        else ()
    )


TESTS = [
    GradedTest(
        "graph_example_lecture_point",
        "1.1",
        3,
        graph(2.0, 1.0),
        hidden=False,
        slips=(
            Slip(ONE_PATH + " (yours gives de/db = d: the path through d is missing)", graph(2.0, 1.0, de_db_slip=2.0)),
            Slip(ONE_PATH + " (yours gives de/db = c: the path through c is missing)", graph(2.0, 1.0, de_db_slip=3.0)),
        ),
        hint="c = a + b, d = b + 1, e = c·d: at a = 2, b = 1 the answer is (6, 2, 5)",
    ),
    GradedTest(
        "linear_regression_grad_basic",
        "1.2",
        3,
        linreg(LR_W, LR_X, LR_Y),
        hidden=False,
        slips=(
            Slip(LR_NO_TWO, linreg(LR_W, LR_X, LR_Y, 0.5)),
            Slip(LR_SIGN, linreg(LR_W, LR_X, LR_Y, -1.0)),
            Slip(LR_MEAN, linreg(LR_W, LR_X, LR_Y, 1 / 4)),
        ),
        hint="∇E(w) = −2 Xᵀ(y − Xw), shape (D,)",
    ),
    GradedTest(
        "mlp_forward_basic",
        "1.3",
        4,
        forward(PARAMS, X, Z),
        hidden=False,
        hint="σ(z) = 1/(1 + e^(−z)); h = σ(X W1ᵀ + b1) is (N, H) and o = σ(h·w2 + b2) is (N,)",
    ),
    GradedTest(
        "mlp_loss_basic",
        "1.3",
        3,
        loss(PARAMS, X, Y),
        hidden=False,
        slips=(Slip(MEAN, loss(PARAMS, X, Y, 1 / 4)), Slip(LOSS_NO_HALF, loss(PARAMS, X, Y, 2.0))),
        hint="E = ½ Σ_n (y_n − o_n)², a float",
    ),
    GradedTest(
        "delta_output_basic",
        "1.4",
        3,
        steps_output(O, Y),
        hidden=False,
        slips=(
            Slip(DELTA_SIGN, steps_output(O, Y, -1.0)),
            Slip(DELTA_TWO, steps_output(O, Y, 2.0)),
            Slip(NO_OUTPUT_DERIV, derived("delta_output_without_sigma_prime", O, Y)),
        ),
        hint="δ_n = ∂E/∂o_n · ∂o_n/∂a^(2)_n, one number per example",
    ),
    GradedTest(
        "grad_b2_basic",
        "1.4",
        2,
        bias_grads(PARAMS, X, Y, "grad_b2"),
        hidden=False,
        slips=(
            Slip(MEAN, bias_grads(PARAMS, X, Y, "grad_b2", 1 / 4)),
            Slip(NO_OUTPUT_DERIV, derived("bias_grad_by_hand", PARAMS, X, Y, "grad_b2", output_deriv=False)),
            Slip(DELTA_SIGN, bias_grads(PARAMS, X, Y, "grad_b2", -1.0)),
        ),
        hint="∂a^(2)_n/∂b^(2) = 1, and E sums over the examples: a float",
    ),
    GradedTest(
        "delta_hidden_basic",
        "1.5",
        3,
        steps_hidden(DELTA, PARAMS["w2"], H_ACT),
        hidden=False,
        slips=(
            Slip(NO_HIDDEN_DERIV, derived("delta_hidden_without_sigma_prime", DELTA, PARAMS["w2"], H_ACT)),
            Slip(
                "sign slip: δ^(1) carries δ's sign; no minus sign enters below the output",
                steps_hidden(DELTA, PARAMS["w2"], H_ACT, -1.0),
            ),
        ),
        hint="δ^(1)_{n,j} = δ_n · ∂a^(2)_n/∂h_{n,j} · ∂h_{n,j}/∂a^(1)_{n,j}, shape (N, H)",
    ),
    GradedTest(
        "grad_b1_basic",
        "1.5",
        2,
        bias_grads(PARAMS, X, Y, "grad_b1"),
        hidden=False,
        slips=(
            Slip(MEAN, bias_grads(PARAMS, X, Y, "grad_b1", 1 / 4)),
            Slip(NO_HIDDEN_DERIV, derived("bias_grad_by_hand", PARAMS, X, Y, "grad_b1", hidden_deriv=False)),
            Slip(NO_OUTPUT_DERIV, derived("bias_grad_by_hand", PARAMS, X, Y, "grad_b1", output_deriv=False)),
            Slip(DELTA_SIGN, bias_grads(PARAMS, X, Y, "grad_b1", -1.0)),
        ),
        hint="∂a^(1)_{n,j}/∂b^(1)_j = 1: b1's gradient collects δ^(1) over the examples, shape (H,)",
    ),
    GradedTest(
        "mlp_backward_basic",
        "1.6",
        4,
        backward(PARAMS, X, Y),
        hidden=False,
        slips=backward_slips(PARAMS, X, Y),
        hint=BACKWARD_HINT,
    ),
    GradedTest(
        "delta_output_bce_basic",
        "1.7",
        2,
        delta_bce(O, Y),
        hidden=False,
        slips=(
            Slip(BCE_KEEPS_DERIV, derived("delta_bce_keeping_sigma_prime", O, Y)),
            Slip("sign slip in ∂E/∂o_n: differentiate the two log terms of E again", delta_bce(O, Y, -1.0)),
        ),
        hint="∂E/∂o_n for E = −Σ_n [y_n log o_n + (1 − y_n) log(1 − o_n)], then times ∂o_n/∂a^(2)_n",
    ),
    GradedTest(
        "tanh_bce_basic",
        "1.7",
        3,
        bce(BCE_PARAMS, BCE_X, BCE_Y),
        hidden=False,
        slips=bce_slips(BCE_PARAMS, BCE_X, BCE_Y),
        hint=BCE_HINT,
    ),
    GradedTest(
        "penalties_basic",
        "1.8",
        3,
        penalties(PEN_W, LAM),
        hidden=False,
        slips=(
            Slip(L2_NO_HALF, penalties(PEN_W, LAM, l2_value_scale=2.0)),
            Slip(L2_NO_HALF_BOTH, penalties(PEN_W, LAM, l2_value_scale=2.0, l2_grad_scale=2.0)),
            Slip(L1_ZERO + " (yours gives +λ)", penalties(PEN_W, LAM, l1_grad_at_zero=1.0)),
            Slip(L1_ZERO + " (yours gives −λ)", penalties(PEN_W, LAM, l1_grad_at_zero=-1.0)),
        ),
        hint="L2: (λ/2·Σ W², λW); L1: (λ·Σ|W|, λ·sign(W)) with sign(0) = 0",
    ),
    GradedTest(
        "sgd_step_basic",
        "1.9",
        2,
        sgd(PARAMS, GRADS, 0.5),
        hidden=False,
        slips=(Slip(SGD_SIGN, sgd(PARAMS, GRADS, -0.5)),),
        hint="new[k] = params[k] − lr·grads[k] for every key; b2 stays a float",
    ),
]
