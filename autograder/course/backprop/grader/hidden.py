"""Hidden tests for backprop (100 points with the public ones): graph_example at several points,
graph_by_hand at each student's own numbers, N = 1 / H = 1 / D = 1 shapes, extreme sigmoid inputs
(an overflow is an error there) and cross-entropy inputs, the loss and gradients as SUMS, every
derivation step on larger cases, L1 at 0, L2's ½, sgd_step returning a new dict and leaving its
inputs untouched, bad shapes. The other functions' given input checks copy their inputs, so only
sgd_step has a test that inputs are unchanged (elsewhere such a test could not fail)."""

import numpy as np

from autograder.course.backprop.grader import slips
from autograder.course.backprop.public import (
    BACKWARD_HINT,
    BCE_HINT,
    BCE_KEEPS_DERIV,
    DELTA_SIGN,
    DELTA_TWO,
    KEYS,
    L1_ZERO,
    L2_NO_HALF,
    L2_NO_HALF_BOTH,
    LOSS_NO_HALF,
    LR_MEAN,
    LR_NO_TWO,
    LR_SIGN,
    MEAN,
    NO_HIDDEN_DERIV,
    NO_OUTPUT_DERIV,
    ONE_PATH,
    SGD_SIGN,
    backward,
    backward_slips,
    bce,
    bce_slips,
    bias_grads,
    delta_bce,
    forward,
    linreg,
    loss,
    penalties,
    sgd,
    steps_hidden,
    steps_output,
)
from autograder.course.backprop.public import (
    TESTS as PUBLIC,
)
from autograder.testcase import GradedTest, Slip, per_student, valid_then
from solution.backprop import GRAPH_KEYS, graph_inputs

_rng = np.random.default_rng(20)


def _params(D, H, b2):
    return {
        "W1": _rng.standard_normal((H, D)),
        "b1": _rng.standard_normal(H),
        "w2": 2.0 * _rng.standard_normal(H),
        "b2": float(b2),
    }


def _net(N, D, H, b2):
    params = _params(D, H, b2)
    X = _rng.standard_normal((N, D))
    y = _rng.uniform(0.0, 1.0, N)
    return params, X, y


POINTS = [(2.0, 1.0), (-1.5, 0.5), (0.0, -1.0), (3.25, -4.0), (0.1, 0.2), (-2.0, 2.0)]
LR_N1 = (_rng.standard_normal(3), _rng.standard_normal((1, 3)), _rng.standard_normal(1))
LR_BIG = (_rng.standard_normal(6), _rng.standard_normal((20, 6)), _rng.standard_normal(20))
Z_EXTREME = np.array([-1000.0, -745.0, -50.0, -1.0, -1e-12, 0.0, 1e-12, 1.0, 50.0, 745.0, 1000.0])
Z_2D = np.linspace(-8.0, 8.0, 12).reshape(3, 4)
NET_1 = _net(1, 3, 1, b2=-0.4)  # N = 1, H = 1
NET_BIG = _net(9, 5, 4, b2=0.8)
NET_D1 = _net(5, 1, 3, b2=0.1)  # D = 1
NET_LOSS = _net(12, 4, 3, b2=0.2)
W_3D = _rng.standard_normal((2, 3, 4))
W_ZEROS = np.where(_rng.uniform(size=(4, 5)) < 0.4, 0.0, _rng.standard_normal((4, 5)))
NET_SGD = _net(3, 4, 3, b2=0.25)
# the derivation steps: outputs at the edges of (0, 1), a 2-D batch, and a larger hidden layer
O_EDGES = np.array([1e-9, 0.01, 0.5, 0.99, 1.0 - 1e-9, 0.3])
Y_EDGES = np.array([0.0, 1.0, 0.5, 0.0, 1.0, 0.7])
O_2D, Y_2D = _rng.uniform(0.05, 0.95, (3, 4)), _rng.uniform(0.0, 1.0, (3, 4))
DELTA_BIG, W2_BIG, H_BIG = _rng.standard_normal(9), _rng.standard_normal(4), _rng.uniform(0.02, 0.98, (9, 4))
NET_BCE = _net(8, 4, 3, b2=-0.3)
NET_BCE_1 = _net(1, 2, 1, b2=0.5)
NET_BCE_FAR = (
    {"W1": 3.0 * _rng.standard_normal((3, 2)), "b1": np.zeros(3), "w2": np.array([30.0, -25.0, 20.0]), "b2": 0.0},
    3.0 * _rng.standard_normal((6, 2)),
    np.array([1.0, 0.0, 1.0, 0.0, 1.0, 0.0]),
)
GRADS_SGD = {
    "W1": _rng.standard_normal((3, 4)),
    "b1": _rng.standard_normal(3),
    "w2": _rng.standard_normal(3),
    "b2": 1.5,
}


def _graph_points(de_db_slip=None):
    """Three outputs per point; de_db_slip "c" or "d" reproduces de/db with one path only."""

    def build(s):
        for a, b in POINTS:
            e, de_da, de_db = s.student("graph_example")(a, b).unpack(3)
            s.output(f"e at (a, b) = ({a}, {b})", e)
            s.output(f"de_da at (a, b) = ({a}, {b})", de_da)
            if de_db_slip is not None:
                de_db = a + b if de_db_slip == "c" else b + 1.0
            s.output(f"de_db at (a, b) = ({a}, {b})", de_db)

    return build


LECTURE_POINT = {
    "a": 2.0,
    "b": 1.0,
    "c": 3.0,
    "d": 2.0,
    "e": 6.0,
    "de_dc": 2.0,
    "de_dd": 3.0,
    "de_da": 2.0,
    "de_db": 5.0,
}


def _graph_by_hand(student):
    """graph_by_hand for one student: their own (a, b), each entry judged."""
    a, b = graph_inputs(student)
    where = f"at your (a, b) = ({a:g}, {b:g})"

    def entries(s):
        got = s.student("graph_by_hand")(student)
        for key in GRAPH_KEYS:
            s.output(f"{key} {where}", got[key])

    def lecture_numbers(s):
        for key in GRAPH_KEYS:
            s.output(f"{key} {where}", LECTURE_POINT[key])

    def one_path(through):
        def build(s):
            got = s.student("graph_by_hand")(student)
            for key in GRAPH_KEYS:
                s.output(f"{key} {where}", got[key] if key != "de_db" else (b + 1.0 if through == "d" else a + b))

        return build

    return GradedTest(
        "graph_by_hand_own_numbers",
        "1.1",
        6,
        entries,
        slips=(
            Slip("these are the lecture's numbers at a = 2, b = 1; graph_by_hand wants yours", lecture_numbers),
            Slip(ONE_PATH + " (yours keeps only the path through d)", one_path("d")),
            Slip(ONE_PATH + " (yours keeps only the path through c)", one_path("c")),
        ),
        hint=f"graded with your id {student!r}: graph_inputs({student!r}) = ({a:g}, {b:g}); work c, d, e forward, "
        "then de/dc, de/dd and back to a and b, and return them all as numbers",
    )


def _sigmoid_extreme(s):
    # An overflow raises FloatingPointError here instead of warning: the naive 1/(1 + e^{−z}) gives
    # the same float64 values for |z| up to 1000, with an overflow warning, so only this tells them apart.
    s.lib("numpy.seterr")(over="raise")
    sig = s.student("sigmoid")
    s.output("sigmoid(z) for |z| up to 1000", sig(Z_EXTREME))
    s.output("sigmoid(2-D z)", sig(Z_2D))
    s.output("sigmoid(0.75) (a float)", sig(0.75))
    s.output("sigmoid(-800.0) (a float)", sig(-800.0))
    s.lib("numpy.seterr")(over="warn")  # NumPy's default again


def _lr_valid(s):
    s.output("grad (valid call)", s.student("linear_regression_grad")(*LR_N1))


def _lr_bad(s):
    w, X, y = LR_N1
    s.student("linear_regression_grad")(w, np.zeros((1, 4)), y)  # D = 4 but len(w) = 3


def _fwd_valid(s):
    s.output("o (valid call)", s.student("mlp_forward")(NET_BIG[0], NET_BIG[1])[0])


def _fwd_bad(s):
    s.student("mlp_forward")(NET_BIG[0], np.zeros((9, 4)))  # D = 4 but W1 is (4, 5)


def _bwd_valid(s):
    grads = s.student("mlp_backward")(*NET_BIG)
    for key in ("W1", "b1", "w2", "b2"):
        s.output(f"grads[{key!r}] (valid call)", grads[key])


def _bwd_bad(s):
    params, X, y = NET_BIG
    s.student("mlp_backward")(params, X, np.zeros(8))  # 8 targets for 9 examples


def _sgd_valid(s):
    new = s.student("sgd_step")(NET_SGD[0], GRADS_SGD, 0.1)
    for key in NET_SGD[0]:
        s.output(f"new[{key!r}] (valid call)", new[key])


def _sgd_bad(s):
    grads = dict(GRADS_SGD, W1=np.zeros((4, 3)))  # W1 is (3, 4)
    s.student("sgd_step")(NET_SGD[0], grads, 0.1)


def _sgd_inputs_unchanged(in_place=False):
    def build(s):
        params, grads = s.value(NET_SGD[0]), s.value(GRADS_SGD)
        new = s.student("sgd_step")(params, grads, 0.1)
        for key in KEYS:
            s.output(f"new[{key!r}]", new[key])
        s.output("params (after the call)", new if in_place else params)
        s.output("grads (after the call)", grads)

    return build


def _bce_valid(s):
    s.output("E (valid call)", s.student("tanh_bce_loss")(*NET_BCE))


def _bce_bad(s):
    params, X, y = NET_BCE
    s.student("tanh_bce_backward")(params, X[:, :3], y)  # D = 3 but W1 is (3, 4)


def _penalties_lambda_zero(s):
    """λ = 0 next to λ = 1 on the same W: zeros pay only from code that computes the penalty."""
    for lam in (0.0, 1.0):
        for name in ("l2_penalty", "l1_penalty"):
            value, grad = s.student(name)(W_3D, lam).unpack(2)
            s.output(f"{name} value (λ = {lam:g})", value)
            s.output(f"{name} grad (λ = {lam:g})", grad)


HIDDEN = [
    # 1.1
    GradedTest(
        "graph_example_several_points",
        "1.1",
        3,
        _graph_points(),
        slips=(
            Slip(ONE_PATH + " (yours gives de/db = c: the path through c is missing)", _graph_points("c")),
            Slip(ONE_PATH + " (yours gives de/db = d: the path through d is missing)", _graph_points("d")),
        ),
        hint="c = a + b, d = b + 1, e = c·d; b feeds both c and d",
    ),
    per_student(_graph_by_hand),
    # 1.2
    GradedTest(
        "linear_regression_grad_single_example",
        "1.2",
        2,
        linreg(*LR_N1),
        slips=(Slip(LR_NO_TWO, linreg(*LR_N1, 0.5)), Slip(LR_SIGN, linreg(*LR_N1, -1.0))),
        hint="N = 1: X is (1, D) and the gradient is still (D,)",
    ),
    GradedTest(
        "linear_regression_grad_larger",
        "1.2",
        3,
        linreg(*LR_BIG),
        slips=(
            Slip(LR_NO_TWO, linreg(*LR_BIG, 0.5)),
            Slip(LR_SIGN, linreg(*LR_BIG, -1.0)),
            Slip(LR_MEAN, linreg(*LR_BIG, 1 / 20)),
        ),
        hint="∇E(w) = −2 Xᵀ(y − Xw), shape (D,)",
    ),
    GradedTest(
        "linear_regression_grad_rejects_bad_shape",
        "1.2",
        1,
        valid_then(_lr_valid, _lr_bad),
        hint="after a valid call, X with X.shape[1] != len(w) must raise ValueError",
    ),
    # 1.3
    GradedTest(
        "sigmoid_extreme_and_scalar_inputs",
        "1.3",
        2,
        _sigmoid_extreme,
        hint="σ(z) for |z| up to 1000 without overflow (an overflow raises FloatingPointError in this test; "
        "use e^(−|z|)), keep z's shape, and return a float for a scalar z",
    ),
    GradedTest(
        "mlp_forward_single_example_single_hidden",
        "1.3",
        2,
        forward(*NET_1[:2]),
        hint="N = 1 and H = 1: o still has shape (N,) = (1,); keep 2-D h = σ(X W1ᵀ + b1) of shape (N, H)",
    ),
    GradedTest(
        "mlp_forward_larger",
        "1.3",
        3,
        forward(*NET_BIG[:2]),
        hint="h = σ(X W1ᵀ + b1) is (N, H) and o = σ(h·w2 + b2) is (N,)",
    ),
    GradedTest(
        "mlp_forward_rejects_bad_X",
        "1.3",
        1,
        valid_then(_fwd_valid, _fwd_bad),
        hint="after a valid call, X whose D differs from W1.shape[1] must raise ValueError",
    ),
    GradedTest(
        "mlp_loss_is_a_sum",
        "1.3",
        3,
        loss(*NET_LOSS),
        slips=(Slip(MEAN, loss(*NET_LOSS, 1 / 12)), Slip(LOSS_NO_HALF, loss(*NET_LOSS, 2.0))),
        hint="E = ½ Σ_n (y_n − o_n)² over all N = 12 examples, a float",
    ),
    # 1.4
    GradedTest(
        "delta_output_edges_and_2d",
        "1.4",
        2,
        lambda s: (
            steps_output(O_EDGES, Y_EDGES)(s),
            s.output("delta (2-D o and y)", s.student("delta_output")(O_2D, Y_2D)),
        ),
        slips=(
            Slip(DELTA_SIGN, steps_output(O_EDGES, Y_EDGES, -1.0)),
            Slip(DELTA_TWO, steps_output(O_EDGES, Y_EDGES, 2.0)),
            Slip(NO_OUTPUT_DERIV, slips.delta_output_without_sigma_prime(O_EDGES, Y_EDGES)),
        ),
        hint="δ works elementwise for o and y of any one shape; at o = 0 or 1 the sigmoid is flat",
    ),
    GradedTest(
        "grad_b2_larger",
        "1.4",
        2,
        bias_grads(*NET_BIG, "grad_b2"),
        slips=(
            Slip(MEAN, bias_grads(*NET_BIG, "grad_b2", 1 / 9)),
            Slip(NO_OUTPUT_DERIV, slips.bias_grad_by_hand(*NET_BIG, "grad_b2", output_deriv=False)),
        ),
        hint="∂E/∂b^(2) sums δ_n over all N = 9 examples: a float",
    ),
    # 1.5
    GradedTest(
        "delta_hidden_larger",
        "1.5",
        3,
        steps_hidden(DELTA_BIG, W2_BIG, H_BIG),
        slips=(Slip(NO_HIDDEN_DERIV, slips.delta_hidden_without_sigma_prime(DELTA_BIG, W2_BIG, H_BIG)),),
        hint="δ^(1) has shape (N, H) = (9, 4): one value per example and hidden unit",
    ),
    GradedTest(
        "grad_b1_single_example_and_larger",
        "1.5",
        2,
        lambda s: (
            bias_grads(*NET_1, "grad_b1")(s),
            s.output("grad_b1 (N = 9, H = 4)", s.student("grad_b1")(*NET_BIG)),
        ),
        slips=(
            Slip(NO_HIDDEN_DERIV, slips.bias_grad_by_hand(*NET_1, "grad_b1", hidden_deriv=False)),
            Slip(NO_OUTPUT_DERIV, slips.bias_grad_by_hand(*NET_1, "grad_b1", output_deriv=False)),
        ),
        hint="b1's gradient has shape (H,), even for H = 1 and N = 1",
    ),
    # 1.6
    GradedTest(
        "mlp_backward_single_example_single_hidden",
        "1.6",
        3,
        backward(*NET_1),
        slips=backward_slips(*NET_1),
        hint="N = 1, H = 1: W1 (1, D), b1 (1,), w2 (1,) arrays and b2 a float. " + BACKWARD_HINT,
    ),
    GradedTest("mlp_backward_larger", "1.6", 5, backward(*NET_BIG), slips=backward_slips(*NET_BIG), hint=BACKWARD_HINT),
    GradedTest(
        "mlp_backward_single_input_feature",
        "1.6",
        2,
        backward(*NET_D1),
        slips=backward_slips(*NET_D1),
        hint="D = 1: W1 and its gradient are (H, 1). " + BACKWARD_HINT,
    ),
    GradedTest(
        "mlp_backward_rejects_bad_y",
        "1.6",
        1,
        valid_then(_bwd_valid, _bwd_bad),
        hint="after a valid call, y whose length differs from X's N must raise ValueError",
    ),
    # 1.7
    GradedTest("tanh_bce_larger", "1.7", 3, bce(*NET_BCE), slips=bce_slips(*NET_BCE), hint=BCE_HINT),
    GradedTest(
        "tanh_bce_single_example",
        "1.7",
        1,
        bce(*NET_BCE_1),
        slips=bce_slips(*NET_BCE_1),
        hint="N = 1, H = 1: the gradients keep params' shapes; b2's is a float",
    ),
    GradedTest(
        "tanh_bce_far_from_zero",
        "1.7",
        1,
        lambda s: (bce(*NET_BCE_FAR)(s), delta_bce(O_EDGES, Y_EDGES)(s)),
        slips=(Slip(BCE_KEEPS_DERIV, slips.delta_bce_keeping_sigma_prime(O_EDGES, Y_EDGES)),),
        hint="outputs within 1e-9 of 0 or 1: log(o) is −inf there once o rounds to 0, so compute E "
        "from a^(2) (np.logaddexp); δ = ∂E/∂a^(2) stays finite",
    ),
    GradedTest(
        "tanh_bce_backward_rejects_bad_X",
        "1.7",
        1,
        valid_then(_bce_valid, _bce_bad),
        hint="after a valid call, X whose D differs from W1.shape[1] must raise ValueError",
    ),
    # 1.8
    GradedTest(
        "l2_penalty_3d",
        "1.8",
        3,
        penalties(W_3D, 0.35, ("l2",)),
        slips=(
            Slip(L2_NO_HALF, penalties(W_3D, 0.35, ("l2",), l2_value_scale=2.0)),
            Slip(L2_NO_HALF_BOTH, penalties(W_3D, 0.35, ("l2",), l2_value_scale=2.0, l2_grad_scale=2.0)),
        ),
        hint="W may have any shape: λ/2·Σ W² over every element, gradient λW of W's shape",
    ),
    GradedTest(
        "l1_penalty_grad_zero_at_zero",
        "1.8",
        2,
        penalties(W_ZEROS, 0.2, ("l1",)),
        slips=(
            Slip(L1_ZERO + " (yours gives +λ)", penalties(W_ZEROS, 0.2, ("l1",), l1_grad_at_zero=1.0)),
            Slip(L1_ZERO + " (yours gives −λ)", penalties(W_ZEROS, 0.2, ("l1",), l1_grad_at_zero=-1.0)),
        ),
        hint=L1_ZERO,
    ),
    GradedTest(
        "penalties_lambda_zero",
        "1.8",
        1,
        _penalties_lambda_zero,
        hint="λ = 0: value 0.0 and a gradient of zeros with W's shape",
    ),
    # 1.9
    GradedTest(
        "sgd_step_mlp_params",
        "1.9",
        2,
        sgd(NET_SGD[0], GRADS_SGD, 0.05),
        slips=(Slip(SGD_SIGN, sgd(NET_SGD[0], GRADS_SGD, -0.05)),),
        hint="every key gets w − lr·grad; b2 stays a float",
    ),
    GradedTest(
        "sgd_step_inputs_unchanged",
        "1.9",
        2,
        _sgd_inputs_unchanged(),
        slips=(
            Slip(
                "params was updated in place (`params[k] -= lr * grads[k]`): build and return a NEW "
                "dict of new arrays and leave the caller's params untouched",
                _sgd_inputs_unchanged(True),
            ),
        ),
        hint="sgd_step must return a NEW dict of new arrays: `params[k] -= lr * grads[k]` "
        "updates the caller's params in place",
    ),
    GradedTest(
        "sgd_step_rejects_shape_mismatch",
        "1.9",
        1,
        valid_then(_sgd_valid, _sgd_bad),
        hint="after a valid call, grads[k] with a shape other than params[k]'s must raise ValueError",
    ),
]

TESTS = PUBLIC + HIDDEN
