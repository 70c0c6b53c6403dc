"""Hidden tests for autodiff (100 points with the public ones): numerical_gradient on 1-D and
3-D inputs (input untouched, default eps); every Dual operator with numbers on either side and
every elementary function; derivative of a composition; every Tensor op forward and backward
(reflected ops, negative/fractional powers, axis/keepdims reductions, shape ops); broadcasting
gradients reduced to each operand's shape; nodes used twice; accumulation across backward
calls; an explicit upstream gradient; a small MLP graph; a chain 100,000 nodes deep.

Not graded here, because the skeleton already holds the code (input checks outside the
solution markers), so a blank submission would earn the points: backward() without grad on a
non-scalar raising ValueError, the float path of exp/log/... (checked only alongside the Dual
path), Dual/Tensor constructors."""

import math

import numpy as np

from autograder.course.autodiff import probes as public_probes
from autograder.course.autodiff.grader import probes
from autograder.course.autodiff.public import (
    CHAIN_FACTOR,
    COUNTS_ONCE,
    DUAL_SLIPS,
    FORWARD_DIFF,
    NG_TOL,
    NOT_REDUCED,
    UNBROADCAST_HINT,
    const,
    deriv,
    dual_func,
    dual_op_slips,
    dual_ops,
    numgrad,
    poly_slips,
)
from autograder.course.autodiff.public import (
    TESTS as PUBLIC,
)
from autograder.testcase import GradedTest, Slip

# tests/test_leaks.py fails when one of these (regular expressions, case-insensitive) appears in a
# file of the student zip; each must match the reference or the grader-only files. The docstrings
# state each op's local derivative in maths; the asked part is writing it as code.
FORMULAS = [
    r"/\s*\(\s*2(\.0)?\s*\*\s*eps\s*\)",  # the centered difference's denominator
    r"\.deriv\s*\*\s*\w+\.value\s*\+\s*\w+\.value\s*\*\s*\w+\.deriv",  # the product rule on .deriv
    r"\.deriv\s*\*\s*\w+\.value\s*-\s*\w+\.value\s*\*\s*\w+\.deriv",  # the quotient rule's numerator
    r"\.deriv\s*/\s*\w+\.value\b",  # log: x'/x
    r"-\s*math\.sin\(\s*\w+\.value\s*\)\s*\*",  # cos' = -sin
    r"-\s*out\.grad\s*\*\s*\w+\.data\s*/\s*\w+\.data\s*\*\*\s*2",  # d(a/b)/db = -a/b**2
    r"-\s*a\s*/\s*b\s*\*\*\s*2",
    r"out\.grad\s*/\s*self\.data",  # log: dL/da = dL/dout / a
    r"\b(\w+(\.data)?)\s*\*\s*\(\s*1(\.0)?\s*-\s*\1\s*\)",  # the sigmoid's s * (1 - s)
    r"1(\.0)?\s*-\s*(\w+(\.data)?)\s*(\*\*\s*2|\*\s*\2\b)",  # tanh's 1 - t**2, 1 - t * t
    r"out\.grad\s*@\s*\w+\.data\.T",  # dL/dA = dL/dout @ B.T
    r"\w+\.data\.T\s*@\s*out\.grad",  # dL/dB = A.T @ dL/dout
    r"out\.grad\s*\*\s*\(\s*self\.data\s*>\s*0",  # relu's mask
]

_rng = np.random.default_rng(10)


def _r(*shape):
    return _rng.standard_normal(shape)


def _pos(*shape):
    return _rng.uniform(0.5, 2.0, shape)


# -------------------------------------------------------------------- Task 2.1

NG_X1 = _r(5)
NG_X3 = _rng.uniform(-2.0, 2.0, (2, 3, 2))
NG_A = _r(12, 12)
NG_EPS = 1e-3


def _numgrad_unchanged(s):
    x = s.value(NG_X3)
    s.output("grad", s.student("numerical_gradient")(s.probe(probes.quadratic_form, NG_A), x, eps=NG_EPS))
    s.output("x", x)  # the very array passed in, read back afterwards


# f = ½ xᵀAx: the centered difference is exact, g = ½(A + Aᵀ)x; a forward difference adds eps/2·A_ii.
_NG_G3 = (0.5 * (NG_A + NG_A.T) @ NG_X3.ravel()).reshape(NG_X3.shape)
_NG_FORWARD3 = _NG_G3 + NG_EPS / 2 * np.diag(NG_A).reshape(NG_X3.shape)


# -------------------------------------------------------------------- Task 2.2

DX, DY = (1.5, 2.0), (-0.5, 0.25)
ADD_SUB = [
    ("x+2.5", "add", DX, 2.5),
    ("2.5+x", "add", 2.5, DX),
    ("x+y", "add", DX, DY),
    ("x-4", "sub", DX, 4.0),
    ("4-x", "sub", 4.0, DX),
    ("x-y", "sub", DX, DY),
    ("-x", "neg", DX, None),
]
MUL_DIV = [
    ("x*3", "mul", DX, 3.0),
    ("3*x", "mul", 3.0, DX),
    ("x*y", "mul", DX, DY),
    ("x/4", "truediv", DX, 4.0),
    ("4/x", "truediv", 4.0, DX),
    ("x/y", "truediv", DX, DY),
    ("y/x", "truediv", DY, DX),
]
POWERS = (3, -2, 0.5, 2.5)


def _pow_cases(x):
    return [(f"x**{p}", "pow", x, p) for p in POWERS]


EXP_LOG = [
    ("exp(x)", "exp", (0.7, 1.3)),
    ("log(x)", "log", (0.7, 1.3)),
    ("exp(0.3)", "exp", 0.3),
    ("log(2.5)", "log", 2.5),
]
SIN_COS = [
    ("sin(x)", "sin", (-1.2, 0.6)),
    ("cos(x)", "cos", (-1.2, 0.6)),
    ("sin(2.0)", "sin", 2.0),
    ("cos(2.0)", "cos", 2.0),
]
TANH_SIG = [
    ("tanh(x)", "tanh", (0.4, -1.7)),
    ("sigmoid(x)", "sigmoid", (-0.9, 1.3)),
    ("tanh(0.5)", "tanh", 0.5),
    ("sigmoid(2.0)", "sigmoid", 2.0),
]


def _cos_sign():
    v, d = SIN_COS[1][2]
    return const({"cos(x).deriv": math.sin(v) * d})


# -------------------------------------------------------------------- Task 2.3


def _sig(x):
    return 1.0 / (1.0 + math.exp(-x))


def _composite_slip(x, slip):
    """f'(x) for f = sin·exp + log·tanh − cos/sigmoid as a slipped Dual computes it."""
    s, c, e, lg, th, sg = math.sin(x), math.cos(x), math.exp(x), math.log(x), math.tanh(x), _sig(x)
    d_th, d_sg = 1 - th * th, sg * (1 - sg)
    prod1, prod2 = c * e + s * e, (1 / x) * th + lg * d_th
    quot = (-s * sg - c * d_sg) / sg**2
    if slip == "a'b":
        prod1, prod2 = c * e, (1 / x) * th
    elif slip == "ab'":
        prod1, prod2 = s * e, lg * d_th
    elif slip == "sign":
        quot = (-s * sg + c * d_sg) / sg**2
    elif slip == "swapped":
        quot = -quot
    return prod1 + prod2 - quot


COMPOSITE_AT = (0.8, 2.5)
POLY_AT = (-1.5, 0.5)


def _composite_slips():
    return tuple(
        Slip(hint, const({f"f'({x})": _composite_slip(x, slip) for x in COMPOSITE_AT}))
        for slip, hint in DUAL_SLIPS.items()
    )


# -------------------------------------------------------------------- Tasks 2.4-2.5: graphs


def graph(cases, *, values=True):
    """For each (label, {leaf: array}, fn, upstream): make the leaves Tensors with
    requires_grad, out = fn(T, leaves) (T: the Tensor class, for constants), out.backward(upstream)
    (no argument if upstream is None); outputs out.data and every leaf's .grad."""

    def build(s):
        T = s.student("Tensor")
        for label, leaves, fn, upstream in cases:
            ts = {k: T(v, requires_grad=True) for k, v in leaves.items()}
            out = fn(T, ts)
            if upstream is None:
                out.backward()
            else:
                out.backward(upstream)
            if values:
                s.output(label, out.data)
            for k, t in ts.items():
                s.output(f"{label}: {k}.grad", t.grad)

    return build


def _g(*shape):
    """A fixed, non-uniform upstream gradient dL/dout."""
    return _rng.uniform(-1.5, 1.5, shape)


S = (2, 3)

ADD_SUB_CASES = [
    ("a+b", {"a": _r(*S), "b": _r(*S)}, lambda T, t: t["a"] + t["b"], _g(*S)),
    ("2-c", {"c": _r(*S)}, lambda T, t: 2 - t["c"], _g(*S)),
    ("d-e", {"d": _r(*S), "e": _r(*S)}, lambda T, t: t["d"] - t["e"], _g(*S)),
    ("1.5+f", {"f": _r(*S)}, lambda T, t: 1.5 + t["f"], _g(*S)),
    ("g-0.5", {"g": _r(*S)}, lambda T, t: t["g"] - 0.5, _g(*S)),
]
MUL_DIV_CASES = [
    ("a*b", {"a": _r(*S), "b": _r(*S)}, lambda T, t: t["a"] * t["b"], _g(*S)),
    ("3*c", {"c": _r(*S)}, lambda T, t: 3 * t["c"], _g(*S)),
    ("d/e", {"d": _r(*S), "e": _pos(*S)}, lambda T, t: t["d"] / t["e"], _g(*S)),
    ("3/f", {"f": _pos(*S)}, lambda T, t: 3 / t["f"], _g(*S)),
    ("g/2", {"g": _r(*S)}, lambda T, t: t["g"] / 2, _g(*S)),
]
NEG_POW_CASES = [
    ("-a", {"a": _r(*S)}, lambda T, t: -t["a"], _g(*S)),
    ("b**3", {"b": _r(*S)}, lambda T, t: t["b"] ** 3, _g(*S)),
    ("c**-1", {"c": _pos(*S)}, lambda T, t: t["c"] ** -1, _g(*S)),
    ("d**0.5", {"d": _pos(*S)}, lambda T, t: t["d"] ** 0.5, _g(*S)),
    ("e**-1.5", {"e": _pos(*S)}, lambda T, t: t["e"] ** -1.5, _g(*S)),
]
MM_C = _r(4, 2)
MATMUL_CASES = [
    ("A@B", {"A": _r(3, 4), "B": _r(4, 2)}, lambda T, t: t["A"] @ t["B"], _g(3, 2)),
    ("A2@C (C constant)", {"A2": _r(3, 4)}, lambda T, t: t["A2"] @ T(MM_C), _g(3, 2)),
    ("D.T@D2", {"D": _r(2, 5), "D2": _r(2, 3)}, lambda T, t: t["D"].T @ t["D2"], _g(5, 3)),
]
R3 = (2, 3, 4)
SUM_MEAN_CASES = [
    ("x1.sum(axis=1)", {"x1": _r(*R3)}, lambda T, t: t["x1"].sum(axis=1), _g(2, 4)),
    (
        "x2.mean(axis=(0, 2), keepdims=True)",
        {"x2": _r(*R3)},
        lambda T, t: t["x2"].mean(axis=(0, 2), keepdims=True),
        _g(1, 3, 1),
    ),
    ("x3.sum()", {"x3": _r(*R3)}, lambda T, t: t["x3"].sum(), None),
    ("x4.mean(axis=-1)", {"x4": _r(*R3)}, lambda T, t: t["x4"].mean(axis=-1), _g(2, 3)),
    ("x5.sum(axis=0, keepdims=True)", {"x5": _r(*R3)}, lambda T, t: t["x5"].sum(axis=0, keepdims=True), _g(1, 3, 4)),
    ("x6.mean()", {"x6": _r(*S)}, lambda T, t: t["x6"].mean(), None),
]
SHAPE_CASES = [
    ("x1.reshape(4, 6)", {"x1": _r(*R3)}, lambda T, t: t["x1"].reshape(4, 6), _g(4, 6)),
    ("x2.reshape((3, -1))", {"x2": _r(*R3)}, lambda T, t: t["x2"].reshape((3, -1)), _g(3, 8)),
    ("x3.T", {"x3": _r(*S)}, lambda T, t: t["x3"].T, _g(3, 2)),
    ("x4.transpose()", {"x4": _r(*R3)}, lambda T, t: t["x4"].transpose(), _g(4, 3, 2)),
]
_RELU_IN = _rng.uniform(0.1, 1.5, S) * np.array([[1, -1, 1], [-1, 1, -1]])  # no exact zeros
ELEMENTWISE_CASES = [
    ("a.exp()", {"a": _r(*S)}, lambda T, t: t["a"].exp(), _g(*S)),
    ("b.log()", {"b": _pos(*S)}, lambda T, t: t["b"].log(), _g(*S)),
    ("c.relu()", {"c": _RELU_IN}, lambda T, t: t["c"].relu(), _g(*S)),
    ("d.sigmoid()", {"d": 3 * _r(*S)}, lambda T, t: t["d"].sigmoid(), _g(*S)),
    ("e.tanh()", {"e": _r(*S)}, lambda T, t: t["e"].tanh(), _g(*S)),
]

# Broadcasting: each leaf's gradient is the upstream gradient summed back to the leaf's shape.
BC1 = dict(a=_r(3, 4), b=_r(4), c=_r(3, 4), d=_pos(4), e=_r(4), f=_r(3, 4), g1=_g(3, 4), g2=_g(3, 4), g3=_g(3, 4))
BROADCAST_ROW_CASES = [
    ("a+b", {"a": BC1["a"], "b": BC1["b"]}, lambda T, t: t["a"] + t["b"], BC1["g1"]),
    ("c/d", {"c": BC1["c"], "d": BC1["d"]}, lambda T, t: t["c"] / t["d"], BC1["g2"]),
    ("e-f", {"e": BC1["e"], "f": BC1["f"]}, lambda T, t: t["e"] - t["f"], BC1["g3"]),
]
BROADCAST_ROW_UNREDUCED = {
    "a+b: b.grad": BC1["g1"],
    "c/d: d.grad": -BC1["g2"] * BC1["c"] / BC1["d"] ** 2,
    "e-f: e.grad": BC1["g3"],
}
BC2 = dict(
    p=_r(3, 1),
    q=_r(1, 4),
    r=_r(2, 3, 4),
    s=_r(3, 1),
    k=np.array(1.7),
    t=_r(2, 3),
    g1=_g(3, 4),
    g2=_g(2, 3, 4),
    g3=_g(2, 3),
)
BROADCAST_OUTER_CASES = [
    ("p*q", {"p": BC2["p"], "q": BC2["q"]}, lambda T, t: t["p"] * t["q"], BC2["g1"]),
    ("r+s", {"r": BC2["r"], "s": BC2["s"]}, lambda T, t: t["r"] + t["s"], BC2["g2"]),
    ("k*t", {"k": BC2["k"], "t": BC2["t"]}, lambda T, t: t["k"] * t["t"], BC2["g3"]),
]
BROADCAST_OUTER_UNREDUCED = {
    "p*q: p.grad": BC2["g1"] * BC2["q"],
    "p*q: q.grad": BC2["g1"] * BC2["p"],
    "r+s: s.grad": BC2["g2"],
    "k*t: k.grad": BC2["g3"] * BC2["t"],
}


def _unreduced_slips(full):
    """One slip per unreduced leaf gradient (any of them shows the mistake)."""
    return tuple(
        Slip(f"{NOT_REDUCED} ({name.split(': ')[1]} came back with the broadcast shape)", const({name: value}))
        for name, value in full.items()
    )


# Forward values of every op (no backward needed).
FW_A, FW_B, FW_C, FW_P = _r(*S), _r(*S), _r(3, 2), _pos(*S)


def _forward_values(s):
    T = s.student("Tensor")
    a, b, c, p = (T(v, requires_grad=True) for v in (FW_A, FW_B, FW_C, FW_P))
    outs = {
        "a+b": a + b,
        "a-b": a - b,
        "a*b": a * b,
        "a/p": a / p,
        "2-a": 2 - a,
        "3/p": 3 / p,
        "a+1": a + 1,
        "2*a": 2 * a,
        "-a": -a,
        "p**-1.5": p**-1.5,
        "a**2": a**2,
        "a@c": a @ c,
        "a.sum(axis=0)": a.sum(axis=0),
        "a.mean(axis=1, keepdims=True)": a.mean(axis=1, keepdims=True),
        "a.sum()": a.sum(),
        "a.reshape(3, 2)": a.reshape(3, 2),
        "a.T": a.T,
        "a.exp()": a.exp(),
        "p.log()": p.log(),
        "a.relu()": a.relu(),
        "a.sigmoid()": a.sigmoid(),
        "a.tanh()": a.tanh(),
    }
    for name, out in outs.items():
        s.output(name, out.data)


# Nodes used twice, accumulation, explicit grad, an MLP, a deep chain.
TW_X = _r(*S)
TW_G = _g(*S)


def _square(s):
    x = s.student("Tensor")(TW_X, requires_grad=True)
    (x * x).sum().backward()
    s.output("x*x: x.grad", x.grad)


def _y_plus_y(s):
    x = s.student("Tensor")(TW_X, requires_grad=True)
    y = x * 2
    z = y + y
    z.backward(TW_G)
    s.output("z", z.data)
    s.output("x.grad", x.grad)


ACC_A = _r(*S)


def _accumulate(s):
    a = s.student("Tensor")(ACC_A, requires_grad=True)
    (a * a).sum().backward()
    (a * 3).sum().backward()  # a second graph: a.grad = 2a + 3
    s.output("a.grad", a.grad)


EX_A, EX_B, EX_C, EX_G = _r(2, 3), _r(3, 2), _r(2, 2), _g(2, 2)


def _explicit_grad(s):
    T = s.student("Tensor")
    a, c = T(EX_A, requires_grad=True), T(EX_C, requires_grad=True)
    y = (a @ T(EX_B)).tanh() * c
    y.backward(EX_G)
    s.output("y", y.data)
    s.output("a.grad", a.grad)
    s.output("c.grad", c.grad)


MLP = dict(X=_r(4, 3), W=_r(3, 5), b=_r(5), V=_r(5, 2))


def _mlp(s):
    T = s.student("Tensor")
    W, b, V = (T(MLP[k], requires_grad=True) for k in ("W", "b", "V"))
    h = (T(MLP["X"]) @ W + b).tanh()
    loss = (h @ V).sigmoid().mean()
    loss.backward()
    s.output("loss", loss.data)
    s.output("W.grad", W.grad)
    s.output("b.grad", b.grad)
    s.output("V.grad", V.grad)


def _mlp_bias_unreduced():
    """b.grad of the MLP left at the broadcast shape (4, 5): dL/d(X @ W + b) itself."""
    h = np.tanh(MLP["X"] @ MLP["W"] + MLP["b"])
    z = h @ MLP["V"]
    sg = 1 / (1 + np.exp(-z))
    dz = sg * (1 - sg) / z.size
    return (dz @ MLP["V"].T) * (1 - h**2)


IU_A, IU_B, IU_G = _r(*S), _r(*S), _g(*S)


def _tensor_inputs_unchanged(s):
    """a + a·b: a is used twice, so a leaf gradient that aliases the upstream array and is then
    accumulated in place changes the caller's grad argument."""
    T = s.student("Tensor")
    A, B, G = s.value(IU_A), s.value(IU_B), s.value(IU_G)
    a, b = T(A, requires_grad=True), T(B, requires_grad=True)
    y = a + a * b
    y.backward(G)
    s.output("y", y.data)  # no points for untouched inputs next to wrong results
    s.output("a.grad", a.grad)
    s.output("b.grad", b.grad)
    for name, ref in (("A", A), ("B", B), ("grad", G)):
        s.output(f"{name} after backward", ref)


DEPTH, FACTOR = 100_000, 1.00001


def _deep_chain(s):
    x = s.student("Tensor")(0.5, requires_grad=True)
    y = s.repeat(x, "mul", FACTOR, DEPTH)  # y = x·1.00001·1.00001·… (100,000 nodes)
    y.backward()
    s.output("y", y.data)
    s.output("x.grad", x.grad)  # 1.00001^100000 ≈ e


TWICE_VISITED = (
    "a node visited twice: the topological order must list each node once "
    "(keep a visited set), or its _backward runs twice and its inputs get double"
)
OVERWRITTEN = (
    "gradient overwritten instead of accumulated: leaf .grad must ADD across "
    "backward calls (as in PyTorch); do not reset leaves at the start of backward"
)

HIDDEN = [
    # Task 2.1
    GradedTest(
        "numerical_gradient_1d_default_eps",
        "2.1",
        3,
        numgrad(probes.log_sum_exp, NG_X1),
        **NG_TOL,
        hint="eps defaults to 1e-6; x may be 1-D, 2-D, 3-D, ... (loop over np.ndindex(x.shape))",
    ),
    GradedTest(
        "numerical_gradient_3d_x_unchanged",
        "2.1",
        4,
        _numgrad_unchanged,
        **NG_TOL,
        slips=(Slip(FORWARD_DIFF, const({"grad": _NG_FORWARD3})),),
        hint="work on any shape (here (2, 3, 2)) and leave the caller's x as it was "
        "(restore x[i] after each evaluation, or work on a copy)",
    ),
    # Task 2.2
    GradedTest(
        "dual_add_sub_neg_numbers",
        "2.2",
        2,
        dual_ops(ADD_SUB),
        hint="a number c is the constant Dual (c, 0): c − x = (c − x.value, −x.deriv); "
        "define __radd__/__rsub__ for number + Dual and number − Dual",
    ),
    GradedTest(
        "dual_mul_div_numbers",
        "2.2",
        3,
        dual_ops(MUL_DIV),
        slips=dual_op_slips(MUL_DIV),
        hint="c·x = (c·x.value, c·x.deriv); c / x = (c / x.value, −c·x.deriv / x.value²): define __rmul__/__rtruediv__",
    ),
    GradedTest(
        "dual_pow_number",
        "2.2",
        2,
        dual_ops(_pow_cases(DX)),
        slips=(Slip(CHAIN_FACTOR, dual_ops(_pow_cases((DX[0], 1.0)))),),
        hint="x ** p = (x.value^p, p·x.value^(p−1)·x.deriv), for negative and fractional p too",
    ),
    GradedTest(
        "dual_exp_log",
        "2.2",
        2,
        dual_func(EXP_LOG),
        slips=(Slip(CHAIN_FACTOR, dual_func(EXP_LOG, unit_deriv=True)),),
        hint="exp(x, x') = (e^x, e^x·x'), log(x, x') = (ln x, x'/x); a float in gives a float out",
    ),
    GradedTest(
        "dual_sin_cos",
        "2.2",
        2,
        dual_func(SIN_COS),
        slips=(
            Slip(CHAIN_FACTOR, dual_func(SIN_COS, unit_deriv=True)),
            Slip("cos' = −sin: the minus sign is missing", _cos_sign()),
        ),
        hint="sin(x, x') = (sin x, cos x·x'), cos(x, x') = (cos x, −sin x·x'); a float in gives a float out",
    ),
    GradedTest(
        "dual_tanh_sigmoid",
        "2.2",
        2,
        dual_func(TANH_SIG),
        slips=(Slip(CHAIN_FACTOR, dual_func(TANH_SIG, unit_deriv=True)),),
        hint="tanh' = 1 − tanh², σ' = σ(1 − σ), both times x'; a float in gives a float out",
    ),
    # Task 2.3
    GradedTest(
        "derivative_composite",
        "2.3",
        4,
        deriv(probes.dual_composite, *COMPOSITE_AT),
        slips=_composite_slips(),
        hint="f = sin·exp + log·tanh − cos/sigmoid through your module's functions: every "
        "Dual operator and elementary function must be right (see the Task 2.2 tests)",
    ),
    GradedTest(
        "derivative_polynomial_more_points",
        "2.3",
        2,
        deriv(public_probes.dual_poly, *POLY_AT),
        slips=poly_slips(POLY_AT),
        hint="f(x) = 3x³ − 2x + 1/x, f'(x) = 9x² − 2 − 1/x², at negative x and x < 1 too",
    ),
    # Task 2.4
    GradedTest(
        "tensor_forward_values",
        "2.4",
        3,
        _forward_values,
        hint="each op's forward value is the NumPy result on .data (transpose reverses all axes)",
    ),
    GradedTest(
        "tensor_add_sub_backward",
        "2.4",
        2,
        graph(ADD_SUB_CASES),
        hint="d(a ± b)/da = 1, d(a ± b)/db = ±1; 2 − t and 1.5 + t need __rsub__/__radd__",
    ),
    GradedTest(
        "tensor_mul_div_backward",
        "2.4",
        3,
        graph(MUL_DIV_CASES),
        hint="d(ab)/da = b, d(a/b)/da = 1/b, d(a/b)/db = −a/b²; 3 * t and 3 / t need __rmul__/__rtruediv__",
    ),
    GradedTest(
        "tensor_neg_pow_backward",
        "2.4",
        3,
        graph(NEG_POW_CASES),
        hint="d(a^p)/da = p·a^(p−1) for any number p (negative and fractional too); d(−a)/da = −1",
    ),
    GradedTest(
        "tensor_matmul_backward",
        "2.4",
        3,
        graph(MATMUL_CASES),
        hint="out = A @ B: dL/dA = dL/dout @ Bᵀ, dL/dB = Aᵀ @ dL/dout; a constant operand gets no grad",
    ),
    GradedTest(
        "tensor_sum_mean_axis_backward",
        "2.4",
        3,
        graph(SUM_MEAN_CASES),
        hint="broadcast dL/dout back over the summed axes (re-insert them when keepdims=False); "
        "mean divides by the number of summed elements; negative and tuple axes work too",
    ),
    GradedTest(
        "tensor_reshape_transpose_backward",
        "2.4",
        2,
        graph(SHAPE_CASES),
        hint="reshape: dL/dout reshaped back to the input's shape (reshape(3, -1) and "
        "reshape((3, -1)) both work); transpose/.T reverse all axes, so transpose back",
    ),
    GradedTest(
        "tensor_elementwise_backward",
        "2.4",
        3,
        graph(ELEMENTWISE_CASES),
        hint="exp' = exp, log' = 1/a, relu' = 1 where a > 0 else 0, σ' = σ(1 − σ), tanh' = 1 − tanh²",
    ),
    GradedTest(
        "tensor_broadcast_3x4_and_4",
        "2.4",
        2,
        graph(BROADCAST_ROW_CASES),
        slips=_unreduced_slips(BROADCAST_ROW_UNREDUCED),
        hint=UNBROADCAST_HINT,
    ),
    GradedTest(
        "tensor_broadcast_3x1_and_1x4",
        "2.4",
        2,
        graph(BROADCAST_OUTER_CASES),
        slips=_unreduced_slips(BROADCAST_OUTER_UNREDUCED),
        hint=UNBROADCAST_HINT + " (leading axes: sum them away; size-1 axes: sum with keepdims; "
        "a 0-d operand gets a 0-d grad)",
    ),
    # Task 2.5
    GradedTest(
        "backward_node_used_twice_square",
        "2.5",
        2,
        _square,
        slips=(Slip(COUNTS_ONCE, const({"x*x: x.grad": TW_X})),),
        hint="x * x uses x twice: d(x·x)/dx = x + x = 2x",
    ),
    GradedTest(
        "backward_node_used_twice_y_plus_y",
        "2.5",
        2,
        _y_plus_y,
        slips=(Slip(COUNTS_ONCE, const({"x.grad": 2 * TW_G})), Slip(TWICE_VISITED, const({"x.grad": 8 * TW_G}))),
        hint="y = 2x, z = y + y: dz/dy = 2 (both uses add), dz/dx = 4",
    ),
    GradedTest(
        "backward_accumulates_across_calls",
        "2.5",
        3,
        _accumulate,
        slips=(Slip(OVERWRITTEN, const({"a.grad": np.full(S, 3.0)})),),
        hint="two backward calls on two graphs using a: a.grad = 2a + 3 (the sum of both)",
    ),
    GradedTest(
        "backward_explicit_grad",
        "2.5",
        2,
        _explicit_grad,
        hint="backward(grad) on a non-scalar output seeds dL/dout = grad (same shape as the output)",
    ),
    GradedTest(
        "backward_mlp_graph",
        "2.5",
        3,
        _mlp,
        slips=(Slip(NOT_REDUCED + " (b.grad came back with shape (4, 5))", const({"b.grad": _mlp_bias_unreduced()})),),
        hint="loss = mean(σ(tanh(X @ W + b) @ V)): every op's backward in sequence; b (5,) is "
        "broadcast over X's 4 rows, so its grad is summed over them",
    ),
    GradedTest(
        "tensor_inputs_unchanged",
        "2.5",
        2,
        _tensor_inputs_unchanged,
        hint="never modify the arrays passed to Tensor(...) or backward(grad): copy before "
        "accumulating (a leaf's first gradient must not be the upstream array itself)",
    ),
    GradedTest(
        "backward_deep_chain_100000",
        "2.5",
        4,
        _deep_chain,
        timeout=20.0,
        hint="a chain 100,000 nodes deep: build the topological order with an explicit stack "
        "(a recursive DFS hits Python's recursion limit: RecursionError) and keep it O(n) "
        "(a set of visited ids, not a list)",
    ),
]

TESTS = PUBLIC + HIDDEN
