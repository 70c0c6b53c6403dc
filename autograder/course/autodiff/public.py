"""Public tests for autodiff: small, readable cases students can run with
`python -m autograder check autodiff`. The hidden tests extend these.

Each test records calls to your module (numerical_gradient, Dual, sin, derivative, Tensor);
the same calls run on the reference solution for the expected values."""

import operator

import numpy as np

from autograder.course.autodiff import probes
from autograder.testcase import GradedTest, Slip

_rng = np.random.default_rng(1)
X2 = _rng.uniform(-2.5, 2.5, (2, 3))  # numerical_gradient input, shape (2, 3)
BX = _rng.standard_normal((2, 3))  # broadcast test: x (2, 3) ...
BB = _rng.standard_normal(3)  # ... and b (3,)

# Likely slips named in feedback (the hidden tests reuse them).
FORWARD_DIFF = (
    "forward difference (f(x + eps) − f(x)) / eps instead of the centered "
    "(f(x + eps) − f(x − eps)) / (2·eps): its error is O(eps), not O(eps²)"
)
PRODUCT_RULE = "product rule missing a term: (a·b)' = a'·b + a·b' needs both terms"
QUOTIENT_SIGN = "quotient rule sign: (a/b)' = (a'·b − a·b') / b², with a minus sign"
NOT_REDUCED = (
    "broadcast gradient not reduced: sum the upstream gradient over the broadcast "
    "axes so each operand's .grad has that operand's own shape"
)
COUNTS_ONCE = (
    "a node used twice counts once: every use adds its contribution to the node's "
    "gradient (add into .grad, never assign)"
)
# Slips are told apart by their hint text (the engine keys them by it), so variants say which.
DUAL_SLIPS = {
    "a'b": PRODUCT_RULE + " (here only a'·b is kept)",
    "ab'": PRODUCT_RULE + " (here only a·b' is kept)",
    "sign": QUOTIENT_SIGN + " (here the two terms are added)",
    "swapped": QUOTIENT_SIGN + " (here a·b' − a'·b: the terms are swapped)",
}
UNBROADCAST_HINT = (
    "each operand's gradient must have the operand's shape: sum the upstream "
    "gradient over the axes that broadcasting added or stretched"
)


# -------------------------------------------------------------------- Task 2.1


def numgrad(probe, x, probe_args=(), **kwargs):
    """numerical_gradient(f, x, **kwargs) for the probe f (probes.py here, grader/probes.py)."""

    def build(s):
        f = s.probe(probe, *probe_args)
        s.output("grad", s.student("numerical_gradient")(f, x, **kwargs))

    return build


def forward_difference_separable(probe, x, eps):
    """What a forward difference gives for a SEPARABLE f (f(x) = Σ h(x_i)): the centered
    difference with step eps/2 around x + eps/2, i.e. (h(x_i + eps) − h(x_i)) / eps."""
    return numgrad(probe, x + eps / 2, eps=eps / 2)


# -------------------------------------------------------------------- Task 2.2


def _dual(s, operand):
    """A (value, deriv) pair becomes a Dual; a plain number stays a number."""
    if isinstance(operand, tuple):
        return s.student("Dual")(*operand)
    return operand


def _slipped(a, b, op, slip):
    """The operands that make a CORRECT op reproduce a slipped one.

    mul "a'b": deriv = a'·b only (the a·b' term dropped); mul "ab'": deriv = a·b' only. Here
    a is the Dual that Python dispatches to (the left one, or the right one in number * Dual).
    div "sign": (a'·b + a·b')/b² (divisor's deriv negated); div "swapped": (a·b' − a'·b)/b²
    (both derivs negated)."""
    if op == "mul" and slip in ("a'b", "ab'"):
        dual_a, other = (a, b) if isinstance(a, tuple) else (b, a)
        if slip == "a'b" and isinstance(other, tuple):
            other = (other[0], 0.0)  # only a'·b survives
        if slip == "ab'":
            dual_a = (dual_a[0], 0.0)  # only a·b' survives
        return (dual_a, other) if isinstance(a, tuple) else (other, dual_a)
    if op == "truediv" and slip in ("sign", "swapped"):
        if slip == "swapped" and isinstance(a, tuple):
            a = (a[0], -a[1])
        if isinstance(b, tuple):
            b = (b[0], -b[1])
        return a, b
    return a, b


def dual_ops(cases, slip=None):
    """Record `left op right` for each (label, op, left, right); (v, d) tuples are Duals.

    Outputs "<label>.value" and "<label>.deriv". With `slip`, the operands are changed so that
    the reference reproduces that mistake (see _slipped)."""

    def build(s):
        for label, op, left, right in cases:
            if slip is not None:
                left, right = _slipped(left, right, op, slip)
            out = -_dual(s, left) if op == "neg" else getattr(operator, op)(_dual(s, left), _dual(s, right))
            s.output(f"{label}.value", out.value)
            s.output(f"{label}.deriv", out.deriv)

    return build


def dual_op_slips(cases):
    """The four Dual mul/div slips for these cases (each must change some output, or it would
    be named for an unrelated failure)."""
    return tuple(Slip(hint, dual_ops(cases, key)) for key, hint in DUAL_SLIPS.items())


def dual_func(cases, unit_deriv=False):
    """Record module function calls: (label, name, x) with x a (v, d) pair or a float.

    With unit_deriv, every Dual's deriv is replaced by 1 (reproduces a missing chain factor)."""

    def build(s):
        for label, name, x in cases:
            if isinstance(x, tuple) and unit_deriv:
                x = (x[0], 1.0)
            out = s.student(name)(_dual(s, x))
            if isinstance(x, tuple):
                s.output(f"{label}.value", out.value)
                s.output(f"{label}.deriv", out.deriv)
            else:
                s.output(label, out)

    return build


DUAL_A, DUAL_B = (2.0, 1.0), (3.0, -0.5)
ARITH = [
    ("a+b", "add", DUAL_A, DUAL_B),
    ("a-b", "sub", DUAL_A, DUAL_B),
    ("a*b", "mul", DUAL_A, DUAL_B),
    ("a/b", "truediv", DUAL_A, DUAL_B),
]
SIN = [("sin(x)", "sin", (0.7, 2.0))]
CHAIN_FACTOR = "chain rule: f(x) for a Dual x has deriv f'(x.value)·x.deriv; the factor x.deriv is missing"


# -------------------------------------------------------------------- Task 2.3


def deriv(probe, *points, probe_args=()):
    """derivative(f, x) at each point, f a probe (probes.py here, grader/probes.py)."""

    def build(s):
        f = s.probe(probe, *probe_args)
        for x in points:
            s.output(f"f'({x})", s.student("derivative")(f, x))

    return build


def poly_slips(points):
    """f = 3x³ − 2x + 1/x: number·Dual keeps only a·b' → the x-terms vanish; 1/x with the
    quotient sign flipped gives +1/x²."""
    return (
        Slip(DUAL_SLIPS["ab'"], const({f"f'({x})": -1 / x**2 for x in points})),
        Slip(QUOTIENT_SIGN, const({f"f'({x})": 9 * x * x - 2 + 1 / x**2 for x in points})),
    )


# -------------------------------------------------------------------- Tasks 2.4-2.5


def lecture_graph(a=2.0, b=1.0):
    """Lecture 000: c = a + b, d = b + 1, e = c·d; e.backward()."""

    def build(s):
        Tensor = s.student("Tensor")
        ta, tb = Tensor(a, requires_grad=True), Tensor(b, requires_grad=True)
        c = ta + tb
        d = tb + 1
        e = c * d
        e.backward()
        s.output("e", e.data)
        s.output("a.grad", ta.grad)
        s.output("b.grad", tb.grad)

    return build


def const(outputs):
    """A slip build that outputs the given {name: value} (what the mistaken code computes)."""

    def build(s):
        for name, value in outputs.items():
            s.output(name, value)

    return build


def broadcast_add_mul(x, b):
    """((x + b) * b).sum().backward() with x (2, 3), b (3,)."""

    def build(s):
        Tensor = s.student("Tensor")
        tx, tb = Tensor(x, requires_grad=True), Tensor(b, requires_grad=True)
        loss = ((tx + tb) * tb).sum()
        loss.backward()
        s.output("loss", loss.data)
        s.output("x.grad", tx.grad)
        s.output("b.grad", tb.grad)

    return build


NG_TOL = dict(rtol=1e-5, atol=1e-6)  # finite differences differ with summation order

TESTS = [
    GradedTest(
        "numerical_gradient_2d",
        "2.1",
        5,
        numgrad(probes.sum_sin_square, X2, eps=1e-3),
        hidden=False,
        **NG_TOL,
        slips=(Slip(FORWARD_DIFF, forward_difference_separable(probes.sum_sin_square, X2, 1e-3)),),
        hint="for every index i: (f(x + eps·e_i) − f(x − eps·e_i)) / (2·eps), restoring x[i] after",
    ),
    GradedTest(
        "dual_arithmetic",
        "2.2",
        4,
        dual_ops(ARITH),
        hidden=False,
        slips=dual_op_slips(ARITH),
        hint="(a, a') ± (b, b') = (a ± b, a' ± b'); (a, a')·(b, b') = (ab, a'b + ab'); "
        "(a, a')/(b, b') = (a/b, (a'b − ab')/b²)",
    ),
    GradedTest(
        "dual_sin",
        "2.2",
        2,
        dual_func(SIN),
        hidden=False,
        slips=(Slip(CHAIN_FACTOR, dual_func(SIN, unit_deriv=True)),),
        hint="sin(x, x') = (sin x, cos x · x')",
    ),
    GradedTest(
        "derivative_polynomial",
        "2.3",
        4,
        deriv(probes.dual_poly, 2.0),
        hidden=False,
        slips=poly_slips((2.0,)),
        hint="f(x) = 3x³ − 2x + 1/x has f'(2) = 9·4 − 2 − 1/4 = 33.75: seed Dual(x, 1.0), return the result's .deriv",
    ),
    GradedTest(
        "tensor_lecture_graph",
        "2.5",
        8,
        lecture_graph(),
        hidden=False,
        slips=(
            Slip(COUNTS_ONCE + " (b.grad got only c = 3, its share through d = b + 1)", const({"b.grad": 3.0})),
            Slip(COUNTS_ONCE + " (b.grad got only d = 2, its share through c = a + b)", const({"b.grad": 2.0})),
        ),
        hint="lecture 000: e = (a + b)(b + 1) = 6, de/da = d = 2, de/db = c + d = 5",
    ),
    GradedTest(
        "tensor_broadcast_add_mul",
        "2.4",
        7,
        broadcast_add_mul(BX, BB),
        hidden=False,
        slips=(
            Slip(NOT_REDUCED, const({"b.grad": BX + 2 * BB})),
            Slip(COUNTS_ONCE + " (b is used by + and by *; b.grad kept only the + share)", const({"b.grad": 2 * BB})),
            Slip(
                COUNTS_ONCE + " (b is used by + and by *; b.grad kept only the * share)",
                const({"b.grad": (BX + BB).sum(axis=0)}),
            ),
        ),
        hint=UNBROADCAST_HINT,
    ),
]
