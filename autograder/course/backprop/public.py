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
PARAMS = {"W1": _rng.standard_normal((2, 3)), "b1": _rng.standard_normal(2),
          "w2": _rng.standard_normal(2), "b2": 0.3}
X = _rng.standard_normal((4, 3))
Y = np.array([0.0, 1.0, 1.0, 0.0])
Z = np.array([-3.0, -0.5, 0.0, 0.5, 3.0])
# penalties: a weight matrix with one exact zero
PEN_W = np.array([[0.5, -1.5, 0.0], [2.0, -0.25, 1.0]])
LAM = 0.1
GRADS = {"W1": _rng.standard_normal((2, 3)), "b1": _rng.standard_normal(2),
         "w2": _rng.standard_normal(2), "b2": -0.7}

ONE_PATH = ("b feeds two nodes (c = a + b and d = b + 1): de/db must add both paths, "
            "de/db = de/dc·dc/db + de/dd·dd/db = d + c")
LR_NO_TWO = "the factor 2 is missing: this E has no ½, so ∇E(w) = −2 Xᵀ(y − Xw)"
LR_SIGN = "the sign is flipped: ∇E(w) = −2 Xᵀ(y − Xw) = 2 Xᵀ(Xw − y)"
MEAN = "mean instead of sum: E = ½ Σ_n (y_n − o_n)² is a SUM over the examples, so do not divide by N"
LR_MEAN = "mean instead of sum: E(w) = Σ_n (y_n − x_n·w)² is a SUM over the examples, so do not divide by N"
LOSS_NO_HALF = "the ½ is missing: E = ½ Σ_n (y_n − o_n)²"
DELTA_SIGN = "sign slip in δ: δ_n = ∂E/∂a^(2)_n = −(y_n − o_n)·o_n(1 − o_n) = (o_n − y_n)·o_n(1 − o_n)"
NO_HIDDEN_DERIV = ("missing h(1 − h): δ^(1)_{n,j} = δ_n·w2_j·h_{n,j}(1 − h_{n,j}), "
                   "the sigmoid's derivative at the hidden layer")
NO_OUTPUT_DERIV = "missing o(1 − o): δ_n = (o_n − y_n)·o_n(1 − o_n), the sigmoid's derivative at the output"
L1_ZERO = "L1 gradient at 0: sign(0) = 0, so an exact zero weight gets gradient 0 (not λ or −λ)"
L2_NO_HALF = "the ½ is missing in L2: R(W) = λ/2·‖W‖²_F, whose gradient is λW"
L2_NO_HALF_BOTH = "the ½ is missing in L2: R(W) = λ/2·‖W‖²_F with gradient λW (not λ‖W‖² and 2λW)"
SGD_SIGN = "the step goes uphill: gradient DEScent is w_new = w − η·∂E/∂w"
BACKWARD_HINT = ("δ_n = (o_n − y_n)·o_n(1 − o_n); dw2 = Σ_n δ_n h_n, db2 = Σ_n δ_n; "
                 "δ^(1) = δ·w2·h(1 − h); dW1 = δ^(1)ᵀX, db1 = Σ_n δ^(1)_n (sums over the N examples)")
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


def hand_backward(params, X, y, *, hidden_deriv=True, output_deriv=True):
    """The delta formulas of mlp_backward's docstring with one sigmoid derivative dropped (a slip)."""
    def build(s):
        h = s.student("sigmoid")(X @ params["W1"].T + params["b1"])        # (N, H)
        o = s.student("mlp_forward")(params, X)[0]                          # (N,)
        delta = (o - y) * o * (1.0 - o) if output_deriv else o - y
        delta_h = s.lib("numpy.outer")(delta, params["w2"])
        if hidden_deriv:
            delta_h = delta_h * h * (1.0 - h)
        s.output("grads['W1']", delta_h.T @ X)
        s.output("grads['b1']", s.lib("numpy.sum")(delta_h, axis=0))
        s.output("grads['w2']", h.T @ delta)
        s.output("grads['b2']", s.lib("numpy.sum")(delta))
    return build


def backward_slips(params, X, y):
    n = X.shape[0]
    slips = (Slip(NO_HIDDEN_DERIV, hand_backward(params, X, y, hidden_deriv=False)),
             Slip(NO_OUTPUT_DERIV, hand_backward(params, X, y, output_deriv=False)),
             Slip(DELTA_SIGN, backward(params, X, y, -1.0)))
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


TESTS = [
    GradedTest("graph_example_lecture_point", "1.1", 3, graph(2.0, 1.0), hidden=False,
               slips=(Slip(ONE_PATH + " (yours gives de/db = d: the path through d is missing)",
                           graph(2.0, 1.0, de_db_slip=2.0)),
                      Slip(ONE_PATH + " (yours gives de/db = c: the path through c is missing)",
                           graph(2.0, 1.0, de_db_slip=3.0))),
               hint="c = a + b, d = b + 1, e = c·d: at a = 2, b = 1 the answer is (6, 2, 5)"),
    GradedTest("linear_regression_grad_basic", "1.2", 4, linreg(LR_W, LR_X, LR_Y), hidden=False,
               slips=(Slip(LR_NO_TWO, linreg(LR_W, LR_X, LR_Y, 0.5)),
                      Slip(LR_SIGN, linreg(LR_W, LR_X, LR_Y, -1.0)),
                      Slip(LR_MEAN, linreg(LR_W, LR_X, LR_Y, 1 / 4))),
               hint="∇E(w) = −2 Xᵀ(y − Xw), shape (D,)"),
    GradedTest("mlp_forward_basic", "1.3", 5, forward(PARAMS, X, Z), hidden=False,
               hint="σ(z) = 1/(1 + e^(−z)); h = σ(X W1ᵀ + b1) is (N, H) and o = σ(h·w2 + b2) is (N,)"),
    GradedTest("mlp_loss_basic", "1.4", 4, loss(PARAMS, X, Y), hidden=False,
               slips=(Slip(MEAN, loss(PARAMS, X, Y, 1 / 4)),
                      Slip(LOSS_NO_HALF, loss(PARAMS, X, Y, 2.0))),
               hint="E = ½ Σ_n (y_n − o_n)², a float"),
    GradedTest("mlp_backward_basic", "1.5", 8, backward(PARAMS, X, Y), hidden=False,
               slips=backward_slips(PARAMS, X, Y), hint=BACKWARD_HINT),
    GradedTest("penalties_basic", "1.6", 4, penalties(PEN_W, LAM), hidden=False,
               slips=(Slip(L2_NO_HALF, penalties(PEN_W, LAM, l2_value_scale=2.0)),
                      Slip(L2_NO_HALF_BOTH, penalties(PEN_W, LAM, l2_value_scale=2.0, l2_grad_scale=2.0)),
                      Slip(L1_ZERO + " (yours gives +λ)", penalties(PEN_W, LAM, l1_grad_at_zero=1.0)),
                      Slip(L1_ZERO + " (yours gives −λ)", penalties(PEN_W, LAM, l1_grad_at_zero=-1.0))),
               hint="L2: (λ/2·Σ W², λW); L1: (λ·Σ|W|, λ·sign(W)) with sign(0) = 0"),
    GradedTest("sgd_step_basic", "1.7", 3, sgd(PARAMS, GRADS, 0.5), hidden=False,
               slips=(Slip(SGD_SIGN, sgd(PARAMS, GRADS, -0.5)),),
               hint="new[k] = params[k] − lr·grads[k] for every key; b2 stays a float"),
]
