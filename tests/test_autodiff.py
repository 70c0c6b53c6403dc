"""Tests for solution/autodiff.py (Assignment 2).

Oracles: torch.autograd in float64 on the CPU, analytic derivatives written out by
hand, central finite differences computed here, and lecture 000's hand-computed graph
e = (a + b)(b + 1) at a = 2, b = 1: e = 6, de/da = d = 2, de/db = c + d = 5.
"""

import ast
import math
import operator
import pathlib
import time

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from solution import autodiff as ad
from solution.autodiff import Dual, Tensor, derivative, numerical_gradient
from tests.strategies import arrays, broadcastable_pair, finite, positive, small_shapes

SOURCE = pathlib.Path(ad.__file__)
SPEC_API = {"numerical_gradient", "Dual", "exp", "log", "sin", "cos", "tanh", "sigmoid", "derivative", "Tensor"}


# Helpers ----------------------------------------------------------------------------


def _torch_leaf(a):
    return torch.tensor(np.asarray(a, dtype=np.float64), dtype=torch.float64, requires_grad=True)


def _np(t):
    return t.detach().cpu().numpy()


def assert_close(got, expected, name, rtol=1e-9):
    """Same shape, and equal to rtol relative to the largest expected entry."""
    expected = np.asarray(expected, dtype=np.float64)
    assert got is not None, f"{name}: got None, expected shape {expected.shape}"
    got = np.asarray(got, dtype=np.float64)
    assert got.shape == expected.shape, f"{name}: shape {got.shape}, expected {expected.shape}"
    scale = 1.0 + float(np.max(np.abs(expected), initial=0.0))
    np.testing.assert_allclose(got, expected, rtol=rtol, atol=rtol * scale, err_msg=name)


def _upstream(shape):
    """A fixed, non-uniform dL/dout so that misplaced gradient entries show."""
    size = math.prod(shape)
    return np.linspace(-1.0, 2.0, size).reshape(shape) if size > 1 else np.full(shape, 1.5)


def check_against_torch(fn, *inputs, rtol=1e-9):
    """Run fn on Tensors and on float64 torch leaves; compare output and every grad.

    A scalar output is differentiated with the default grad, any other output with a
    fixed non-uniform upstream gradient.
    """
    ours = [Tensor(x, requires_grad=True) for x in inputs]
    theirs = [_torch_leaf(x) for x in inputs]
    out, ref = fn(*ours), fn(*theirs)
    assert isinstance(out, Tensor), f"expected a Tensor, got {type(out).__name__}"
    assert out.requires_grad
    assert_close(out.data, _np(ref), "forward value", rtol)
    if ref.numel() == 1 and ref.dim() == 0:
        out.backward()
        ref.backward()
    else:
        g = _upstream(tuple(ref.shape))
        out.backward(g)
        ref.backward(torch.tensor(g))
    for i, (o, r) in enumerate(zip(ours, theirs, strict=False)):
        if r.grad is None:  # input not used by fn
            assert o.grad is None, f"input {i}: unused, yet got a grad"
        else:
            assert_close(o.grad, _np(r.grad), f"grad of input {i}", rtol)


def seed_graph(a, b):
    """Lecture 000: c = a + b, d = b + 1, e = c · d (works for Tensor, Dual, floats)."""
    c = a + b
    d = b + 1
    return c * d


# Module ----------------------------------------------------------------------------


@pytest.mark.task2_1
def test_task2_1_all_is_exactly_the_spec_api():
    assert set(ad.__all__) == SPEC_API
    assert len(ad.__all__) == len(SPEC_API)
    for name in ad.__all__:
        assert hasattr(ad, name), name


@pytest.mark.task2_1
def test_task2_1_module_imports_only_numpy_and_stdlib():
    tree = ast.parse(SOURCE.read_text())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported.add((node.module or "").split(".")[0])
    assert imported <= {"numpy", "math", "numbers", "__future__"}, imported


# ## Task 2.1: numerical_gradient -------------------------------------------------

NG_FUNCS = {
    "sin_times_square": lambda x, m: (m.sin(x) * x**2).sum(),
    "log_sum_exp": lambda x, m: m.log(m.exp(x).sum()),
    "tanh_cos_squared": lambda x, m: (m.tanh(x) * m.cos(x)).sum() ** 2 / 10.0,
}


@pytest.mark.task2_1
@pytest.mark.parametrize("shape", [(5,), (3, 4), (2, 3, 2)], ids=["1d", "2d", "3d"])
@pytest.mark.parametrize("name", sorted(NG_FUNCS))
@given(data=st.data())
def test_task2_1_numerical_gradient_matches_torch(name, shape, data):
    f = NG_FUNCS[name]
    x = data.draw(arrays(shape))
    x_before = x.copy()
    got = numerical_gradient(lambda v: f(v, np), x)
    t = _torch_leaf(x)
    f(t, torch).backward()
    assert isinstance(got, np.ndarray) and got.dtype == np.float64
    assert got.shape == x.shape
    np.testing.assert_allclose(got, _np(t.grad), rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(x, x_before)


@pytest.mark.task2_1
@given(x=arrays(small_shapes))
def test_task2_1_numerical_gradient_leaves_x_unchanged(x):
    x_before = x.copy()
    seen = []

    def f(v):
        seen.append(v)
        return float(np.sum(v**3))

    got = numerical_gradient(f, x)
    np.testing.assert_array_equal(x, x_before)
    assert got is not x
    assert all(v is not x for v in seen), "f must be evaluated on a copy of x"
    np.testing.assert_allclose(got, 3 * x**2, rtol=1e-6, atol=1e-6)


@pytest.mark.task2_1
def test_task2_1_numerical_gradient_quadratic_form_analytic():
    rng = np.random.default_rng(0)
    A = rng.standard_normal((4, 4))
    x = rng.standard_normal(4)
    got = numerical_gradient(lambda v: v @ A @ v, x)
    np.testing.assert_allclose(got, (A + A.T) @ x, rtol=1e-6, atol=1e-6)


@pytest.mark.task2_1
def test_task2_1_numerical_gradient_accepts_ints_and_lists_returns_float64():
    x = np.array([1, 2, 3])
    got = numerical_gradient(lambda v: np.sum(v**2), x)
    assert got.dtype == np.float64
    np.testing.assert_allclose(got, [2.0, 4.0, 6.0], rtol=1e-6)
    assert x.dtype.kind == "i" and list(x) == [1, 2, 3]
    np.testing.assert_allclose(numerical_gradient(lambda v: v[0, 0] * v[0, 1], [[2.0, 5.0]]), [[5.0, 2.0]], rtol=1e-6)


@pytest.mark.task2_1
def test_task2_1_numerical_gradient_rejects_non_scalar_f_and_bad_eps():
    with pytest.raises(ValueError, match=r"numerical_gradient.*\(3,\)"):
        numerical_gradient(lambda v: v * 2, np.ones(3))
    with pytest.raises(ValueError, match="eps"):
        numerical_gradient(lambda v: v.sum(), np.ones(3), eps=0.0)


# ## Task 2.2: Dual numbers -----------------------------------------------------------


def _sig(x):
    return 1.0 / (1.0 + math.exp(-x))


# name: (values drawn from, f, analytic f')
ELEMENTARY = {
    "exp": (finite, math.exp, math.exp),
    "log": (positive, math.log, lambda x: 1.0 / x),
    "sin": (finite, math.sin, math.cos),
    "cos": (finite, math.cos, lambda x: -math.sin(x)),
    "tanh": (finite, math.tanh, lambda x: 1.0 - math.tanh(x) ** 2),
    "sigmoid": (finite, _sig, lambda x: _sig(x) * (1.0 - _sig(x))),
}


@pytest.mark.task2_2
@pytest.mark.parametrize("name", sorted(ELEMENTARY))
@given(data=st.data(), seed=finite)
def test_task2_2_elementary_function_derivatives_analytic(name, data, seed):
    values, f, df = ELEMENTARY[name]
    x = data.draw(values)
    out = getattr(ad, name)(Dual(x, seed))
    assert isinstance(out, Dual)
    assert out.value == pytest.approx(f(x), rel=1e-12, abs=1e-12)
    assert out.deriv == pytest.approx(df(x) * seed, rel=1e-10, abs=1e-12)


@pytest.mark.task2_2
@pytest.mark.parametrize("name", sorted(ELEMENTARY))
@given(data=st.data())
def test_task2_2_elementary_function_float_in_float_out(name, data):
    values, f, _ = ELEMENTARY[name]
    x = data.draw(values)
    for arg in (x, np.float64(x)):
        out = getattr(ad, name)(arg)
        assert type(out) is float, f"{name}({type(arg).__name__}) returned {type(out).__name__}"
        assert out == pytest.approx(f(x), rel=1e-12, abs=1e-12)
    assert type(getattr(ad, name)(1)) is float


def _comp_1(x):
    return ad.sin(x) * ad.exp(x)


def _comp_2(x):
    return ad.log(1 + x**2) / (2 + ad.cos(x))


def _comp_3(x):
    return ad.sigmoid(ad.tanh(3 * x - 1))


def _comp_4(x):
    return (x**2 + 1) ** 0.5


def _comp_5(x):
    return x**3 - 2 * x**2 + 5 / (x**2 + 1) - 4


def _comp_6(x):
    return ad.exp(ad.sin(x)) - 1.5 / (2 - ad.tanh(x))


def _d_comp_2(x):
    u, v = math.log(1 + x * x), 2 + math.cos(x)
    return (2 * x / (1 + x * x) * v + u * math.sin(x)) / v**2


def _d_comp_3(x):
    t = math.tanh(3 * x - 1)
    return _sig(t) * (1 - _sig(t)) * (1 - t * t) * 3


COMPOSITIONS = {
    "sin_exp": (_comp_1, lambda x: (math.cos(x) + math.sin(x)) * math.exp(x)),
    "log_over_cos": (_comp_2, _d_comp_2),
    "sigmoid_tanh": (_comp_3, _d_comp_3),
    "sqrt": (_comp_4, lambda x: x / math.sqrt(x * x + 1)),
    "rational": (_comp_5, lambda x: 3 * x * x - 4 * x - 10 * x / (x * x + 1) ** 2),
    "exp_sin_tanh": (
        _comp_6,
        lambda x: math.cos(x) * math.exp(math.sin(x)) - 1.5 * (1 - math.tanh(x) ** 2) / (2 - math.tanh(x)) ** 2,
    ),
}


@pytest.mark.task2_2
@pytest.mark.parametrize("name", sorted(COMPOSITIONS))
@given(x=finite)
def test_task2_2_compositions_match_analytic_derivative(name, x):
    f, df = COMPOSITIONS[name]
    out = f(Dual(x, 1.0))
    assert isinstance(out, Dual)
    assert out.value == pytest.approx(f(x), rel=1e-12, abs=1e-12)  # float path agrees
    assert out.deriv == pytest.approx(df(x), rel=1e-9, abs=1e-9)


# name: (expression of the Dual x and the number c, value, d/dx)
MIXED = {
    "x+c": (lambda x, c: x + c, lambda v, c: v + c, lambda v, c: 1.0),
    "c+x": (lambda x, c: c + x, lambda v, c: c + v, lambda v, c: 1.0),
    "x-c": (lambda x, c: x - c, lambda v, c: v - c, lambda v, c: 1.0),
    "c-x": (lambda x, c: c - x, lambda v, c: c - v, lambda v, c: -1.0),
    "x*c": (lambda x, c: x * c, lambda v, c: v * c, lambda v, c: c),
    "c*x": (lambda x, c: c * x, lambda v, c: c * v, lambda v, c: c),
    "x/c": (lambda x, c: x / c, lambda v, c: v / c, lambda v, c: 1.0 / c),
    "c/x": (lambda x, c: c / x, lambda v, c: c / v, lambda v, c: -c / v**2),
    "-x": (lambda x, c: -x, lambda v, c: -v, lambda v, c: -1.0),
    "x**c": (lambda x, c: x**c, lambda v, c: v**c, lambda v, c: c * v ** (c - 1)),
    "x**2": (lambda x, c: x**2, lambda v, c: v * v, lambda v, c: 2 * v),
    "x**-1": (lambda x, c: x**-1, lambda v, c: 1 / v, lambda v, c: -1 / v**2),
}


@pytest.mark.task2_2
@pytest.mark.parametrize("name", sorted(MIXED))
@given(v=positive, c=st.one_of(positive, positive.map(operator.neg)), kind=st.sampled_from([float, np.float64]))
def test_task2_2_mixed_number_dual_arithmetic_both_sides(name, v, c, kind):
    expr, value, deriv = MIXED[name]
    out = expr(Dual(v, 1.0), kind(c))
    assert isinstance(out, Dual), f"{name} returned {type(out).__name__}"
    assert out.value == pytest.approx(value(v, c), rel=1e-12)
    assert out.deriv == pytest.approx(deriv(v, c), rel=1e-10)


@pytest.mark.task2_2
@given(a=finite, da=finite, b=positive, db=finite)
def test_task2_2_dual_dual_product_and_quotient_rules(a, da, b, db):
    x, y = Dual(a, da), Dual(b, db)
    for got, val, der in [
        (x + y, a + b, da + db),
        (x - y, a - b, da - db),
        (x * y, a * b, da * b + a * db),
        (x / y, a / b, (da * b - a * db) / b**2),
    ]:
        assert got.value == pytest.approx(val, rel=1e-12, abs=1e-12)
        assert got.deriv == pytest.approx(der, rel=1e-10, abs=1e-10)


@pytest.mark.task2_2
def test_task2_2_dual_int_operands_and_attributes():
    x = Dual(3, 1)
    assert isinstance(x.value, float) and isinstance(x.deriv, float)
    assert Dual(2.0).deriv == 0.0
    out = 2 - x * 4 + 1 / x
    assert out.value == pytest.approx(2 - 12 + 1 / 3)
    assert out.deriv == pytest.approx(-4 - 1 / 9)
    assert "Dual" in repr(x)


@pytest.mark.task2_2
def test_task2_2_seed_graph_by_forward_mode():
    # de/da: seed a; de/db: seed b (lecture 000, a = 2, b = 1).
    e_a = seed_graph(Dual(2.0, 1.0), Dual(1.0, 0.0))
    e_b = seed_graph(Dual(2.0, 0.0), Dual(1.0, 1.0))
    assert e_a.value == 6.0 and e_b.value == 6.0
    assert e_a.deriv == 2.0
    assert e_b.deriv == 5.0


@pytest.mark.task2_2
def test_task2_2_type_errors():
    with pytest.raises(TypeError):
        Dual(1.0) + "a"
    with pytest.raises(TypeError):
        Dual(2.0) ** Dual(2.0)
    with pytest.raises(TypeError):
        Dual("x")
    with pytest.raises(TypeError, match="exp"):
        ad.exp("a")


# ## Task 2.3: derivative -------------------------------------------------------------


@pytest.mark.task2_3
@given(coeffs=st.lists(finite, min_size=1, max_size=6), x=finite)
def test_task2_3_derivative_of_polynomials(coeffs, x):
    def p(t):
        return sum(c * t**k for k, c in enumerate(coeffs))

    expected = sum(k * c * x ** (k - 1) for k, c in enumerate(coeffs) if k > 0)
    got = derivative(p, x)
    assert isinstance(got, float)
    assert got == pytest.approx(expected, rel=1e-9, abs=1e-9)


@pytest.mark.task2_3
@given(x=finite)
def test_task2_3_derivative_of_quotients(x):
    got1 = derivative(lambda t: (t**2 + 1) / (t - 5), x)
    assert got1 == pytest.approx((2 * x * (x - 5) - (x * x + 1)) / (x - 5) ** 2, rel=1e-9, abs=1e-12)
    got2 = derivative(lambda t: (3 * t + 2) / (t * t + 1), x)
    assert got2 == pytest.approx((3 * (x * x + 1) - (3 * x + 2) * 2 * x) / (x * x + 1) ** 2, rel=1e-9, abs=1e-12)


@pytest.mark.task2_3
def test_task2_3_derivative_constant_int_input_and_seed_graph():
    assert derivative(lambda t: 4.0, 1.0) == 0.0
    assert derivative(lambda t: t * t, 3) == pytest.approx(6.0)
    assert derivative(lambda a: seed_graph(a, 1.0), 2.0) == pytest.approx(2.0)
    assert derivative(lambda b: seed_graph(2.0, b), 1.0) == pytest.approx(5.0)
    with pytest.raises(TypeError):
        derivative(lambda t: t, "x")


# ## Task 2.4: Tensor operations -------------------------------------------------------


@pytest.mark.task2_4
def test_task2_4_tensor_construction_copies_to_float64():
    src = np.array([[1, 2], [3, 4]])
    t = Tensor(src)
    src[0, 0] = 100
    assert t.data.dtype == np.float64 and t.data[0, 0] == 1.0
    assert t.grad is None and t.requires_grad is False
    assert Tensor([1, 2.5]).data.dtype == np.float64
    assert Tensor(3).data.shape == ()
    r = Tensor([1.0, 2.0], requires_grad=True)
    assert r.requires_grad is True
    assert "Tensor(" in repr(r) and "requires_grad=True" in repr(r)


BINARY = {"add": operator.add, "sub": operator.sub, "mul": operator.mul, "truediv": operator.truediv}


@pytest.mark.task2_4
@pytest.mark.parametrize("op", sorted(BINARY))
@given(data=st.data(), swap=st.booleans())
def test_task2_4_binary_ops_with_broadcasting_match_torch(op, data, swap):
    shape_a, shape_b = data.draw(broadcastable_pair())
    if swap:
        shape_a, shape_b = shape_b, shape_a
    a = data.draw(arrays(shape_a))
    b = data.draw(arrays(shape_b, elements=positive if op == "truediv" else finite))
    check_against_torch(BINARY[op], a, b)


NUMBER_OPS = {
    "t+1.5": (lambda t: t + 1.5, finite),
    "1.5+t": (lambda t: 1.5 + t, finite),
    "t-4": (lambda t: t - 4, finite),
    "2-t": (lambda t: 2 - t, finite),
    "t*-2": (lambda t: t * -2.0, finite),
    "3*t": (lambda t: 3 * t, finite),
    "t/4": (lambda t: t / 4, finite),
    "3/t": (lambda t: 3 / t, positive),
    "-t": (lambda t: -t, finite),
    "t**2": (lambda t: t**2, finite),
    "t**3": (lambda t: t**3, finite),
    "t**0": (lambda t: t**0, finite),
    "t**-1": (lambda t: t**-1, positive),
    "t**-2.5": (lambda t: t**-2.5, positive),
    "t**0.5": (lambda t: t**0.5, positive),
    "t**1.5": (lambda t: t**1.5, positive),
}


@pytest.mark.task2_4
@pytest.mark.parametrize("name", sorted(NUMBER_OPS))
@given(data=st.data())
def test_task2_4_ops_with_numbers_reflected_and_pow_match_torch(name, data):
    fn, elements = NUMBER_OPS[name]
    check_against_torch(fn, data.draw(arrays(small_shapes, elements=elements)))


@pytest.mark.task2_4
def test_task2_4_numpy_operands_defer_to_tensor():
    t = Tensor([1.0, 2.0], requires_grad=True)
    for out in (np.float64(2.0) - t, np.array([2.0, 2.0]) - t):
        assert isinstance(out, Tensor)
        out.sum().backward()
    np.testing.assert_array_equal(t.grad, [-2.0, -2.0])
    with pytest.raises(TypeError):
        t + "a"
    with pytest.raises(TypeError):
        t ** Tensor(2.0)


ELEMENTWISE = {
    "exp": (lambda t: t.exp(), finite),
    "log": (lambda t: t.log(), positive),
    "relu": (lambda t: t.relu(), finite),
    "sigmoid": (lambda t: t.sigmoid(), finite),
    "tanh": (lambda t: t.tanh(), finite),
}


@pytest.mark.task2_4
@pytest.mark.parametrize("name", sorted(ELEMENTWISE))
@given(data=st.data())
def test_task2_4_elementwise_functions_match_torch(name, data):
    fn, elements = ELEMENTWISE[name]
    check_against_torch(fn, data.draw(arrays(small_shapes, elements=elements)))


@pytest.mark.task2_4
def test_task2_4_sigmoid_is_stable_for_large_inputs():
    x = np.array([-800.0, -40.0, 0.0, 40.0, 800.0])
    t = Tensor(x, requires_grad=True)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        out = t.sigmoid()
        out.sum().backward()
    ref = torch.sigmoid(torch.tensor(x))
    assert_close(out.data, _np(ref), "sigmoid", rtol=1e-12)
    assert_close(t.grad, _np(ref * (1 - ref)), "sigmoid grad", rtol=1e-12)


@pytest.mark.task2_4
@given(data=st.data(), n=st.integers(1, 4), k=st.integers(1, 4), m=st.integers(1, 4))
def test_task2_4_matmul_matches_torch(data, n, k, m):
    check_against_torch(operator.matmul, data.draw(arrays((n, k))), data.draw(arrays((k, m))))


@pytest.mark.task2_4
def test_task2_4_matmul_rejects_non_2d_and_mismatched_shapes():
    for a, b in [((3,), (3, 2)), ((2, 3), (3,)), ((2, 2, 3), (3, 2))]:
        with pytest.raises(ValueError, match=r"2-D"):
            Tensor(np.ones(a)) @ Tensor(np.ones(b))
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(4, 2\)"):
        Tensor(np.ones((2, 3))) @ Tensor(np.ones((4, 2)))


@st.composite
def array_axis_keepdims(draw):
    shape = draw(small_shapes)
    nd = len(shape)
    axis = draw(
        st.one_of(
            st.none(),
            st.integers(-nd, nd - 1),
            st.lists(st.integers(0, nd - 1), min_size=1, max_size=nd, unique=True).map(tuple),
        )
    )
    return draw(arrays(shape)), axis, draw(st.booleans())


@pytest.mark.task2_4
@pytest.mark.parametrize("reduction", ["sum", "mean"])
@given(case=array_axis_keepdims())
def test_task2_4_sum_mean_axis_keepdims_match_torch(reduction, case):
    x, axis, keepdims = case
    dims = tuple(range(x.ndim)) if axis is None else axis

    def fn(t):
        if isinstance(t, Tensor):
            return getattr(t, reduction)(axis=axis, keepdims=keepdims)
        return getattr(t, reduction)(dim=dims, keepdim=keepdims)

    check_against_torch(fn, x)


@pytest.mark.task2_4
@pytest.mark.parametrize("reduction", ["sum", "mean"])
@given(x=arrays(small_shapes))
def test_task2_4_sum_mean_default_is_scalar(reduction, x):
    check_against_torch(lambda t: getattr(t, reduction)() * 2.0, x)


@pytest.mark.task2_4
@given(x=arrays(small_shapes), target=st.sampled_from(["flat", "reversed", "col", "minus1"]), as_tuple=st.booleans())
def test_task2_4_reshape_matches_torch(x, target, as_tuple):
    shape = {"flat": (x.size,), "reversed": x.shape[::-1], "col": (x.size, 1), "minus1": (-1,) + x.shape[1:]}[target]

    def fn(t):
        return t.reshape(shape) if as_tuple else t.reshape(*shape)

    check_against_torch(fn, x)


@pytest.mark.task2_4
def test_task2_4_reshape_rejects_wrong_size():
    with pytest.raises(ValueError, match=r"reshape.*\(2, 3\)"):
        Tensor(np.ones((2, 3))).reshape(4, 2)


@pytest.mark.task2_4
@pytest.mark.parametrize("use_property", [False, True])
@given(x=arrays(st.sampled_from([(3,), (2, 3), (4, 1), (2, 3, 4)])))
def test_task2_4_transpose_and_T_match_torch(use_property, x):
    def fn(t):
        if isinstance(t, Tensor):
            return t.T if use_property else t.transpose()
        return t.permute(*reversed(range(t.dim())))

    check_against_torch(fn, x)


# Random expressions over 2-3 broadcastable tensors, run identically on Tensor and torch.
UNARY_EXPR = {
    "tanh": lambda x: x.tanh(),
    "sigmoid": lambda x: x.sigmoid(),
    "exp_tanh": lambda x: x.tanh().exp(),
    "log_1p_sq": lambda x: (x * x + 1.0).log(),
    "relu": lambda x: x.relu(),
    "neg": lambda x: -x,
    "square": lambda x: x**2,
    "rsub": lambda x: 2.0 - x,
    "rdiv": lambda x: 1.0 / (1.0 + x * x),
    "sum_last_keep": lambda x: x.sum(-1, True),
    "mean_first_keep": lambda x: x.mean(0, True),
}
BINARY_EXPR = {
    "add": lambda x, y: x + y,
    "sub": lambda x, y: x - y,
    "mul": lambda x, y: x * y,
    "div": lambda x, y: x / (y * y + 1.0),
}


@st.composite
def expressions(draw):
    """Input arrays with broadcastable shapes and a program of unary/binary steps."""
    full, other = draw(broadcastable_pair())
    third = tuple(draw(st.sampled_from([d, 1])) for d in full)
    third = third[draw(st.integers(0, len(third) - 1)) :]
    n_inputs = draw(st.integers(2, 3))
    shapes = draw(st.permutations([full, other, third]))[:n_inputs]
    inputs = [draw(arrays(s)) for s in shapes]
    program, pool = [], n_inputs
    for _ in range(draw(st.integers(1, 6))):
        if draw(st.booleans()):
            program.append((draw(st.sampled_from(sorted(UNARY_EXPR))), draw(st.integers(0, pool - 1))))
        else:
            program.append(
                (
                    draw(st.sampled_from(sorted(BINARY_EXPR))),
                    draw(st.integers(0, pool - 1)),
                    draw(st.integers(0, pool - 1)),
                )
            )
        pool += 1
    return inputs, program


def _run_program(program, *leaves):
    pool = list(leaves)
    for name, *args in program:
        op = UNARY_EXPR.get(name) or BINARY_EXPR[name]
        pool.append(op(*(pool[i] for i in args)))
    return pool[-1]


@pytest.mark.task2_4
@given(case=expressions())
def test_task2_4_random_expressions_match_torch(case):
    inputs, program = case
    check_against_torch(lambda *leaves: _run_program(program, *leaves), *inputs)


@pytest.mark.task2_4
def test_task2_4_requires_grad_propagates_from_inputs():
    a, b = Tensor([1.0, 2.0]), Tensor([3.0, 4.0])
    assert (a * b + 1).requires_grad is False
    c = Tensor([5.0, 6.0], requires_grad=True)
    out = (a * c).sum()
    assert out.requires_grad is True
    out.backward()
    assert a.grad is None  # a leaf without requires_grad gets no gradient
    np.testing.assert_array_equal(c.grad, [1.0, 2.0])


# ## Task 2.5: backward ------------------------------------------------------------------


@pytest.mark.task2_5
def test_task2_5_seed_graph_hand_computed():
    a = Tensor(2.0, requires_grad=True)
    b = Tensor(1.0, requires_grad=True)
    e = seed_graph(a, b)
    e.backward()
    assert float(e.data) == 6.0
    assert float(a.grad) == 2.0  # de/da = d = b + 1
    assert float(b.grad) == 5.0  # de/db = c + d = (a + b) + (b + 1)


@pytest.mark.task2_5
@given(a=finite, b=finite)
def test_task2_5_seed_graph_analytic(a, b):
    ta, tb = Tensor(a, requires_grad=True), Tensor(b, requires_grad=True)
    seed_graph(ta, tb).backward()
    assert float(ta.grad) == pytest.approx(b + 1, rel=1e-12, abs=1e-12)
    assert float(tb.grad) == pytest.approx(a + 2 * b + 1, rel=1e-12, abs=1e-12)


@pytest.mark.task2_5
def test_task2_5_gradients_accumulate_across_backward_calls():
    x = Tensor([1.0, -2.0, 3.0], requires_grad=True)
    loss = ((x * 2.0).tanh() * x).sum()
    loss.backward()
    first = x.grad.copy()
    loss.backward()  # same graph again: leaf grads add up, intermediates restart
    np.testing.assert_allclose(x.grad, 2 * first, rtol=1e-12)
    ((x * 2.0).tanh() * x).sum().backward()  # a fresh graph on the same leaf
    np.testing.assert_allclose(x.grad, 3 * first, rtol=1e-12)
    t = _torch_leaf([1.0, -2.0, 3.0])
    ((t * 2.0).tanh() * t).sum().backward()
    assert_close(first, _np(t.grad), "first grad")


@pytest.mark.task2_5
@given(x=arrays(small_shapes))
def test_task2_5_node_used_twice_gets_both_contributions(x):
    t = Tensor(x, requires_grad=True)
    (t * t).sum().backward()
    assert_close(t.grad, 2 * x, "d(x*x)/dx")
    u = Tensor(x, requires_grad=True)
    (u + u).sum().backward()
    assert_close(u.grad, np.full(x.shape, 2.0), "d(x+x)/dx")


@pytest.mark.task2_5
def test_task2_5_shared_subexpressions_double_each_level():
    # y_{k+1} = y_k + y_k, 60 levels: 2^60 paths, so the walk must visit each node once.
    x = Tensor(0.75, requires_grad=True)
    y = x
    for _ in range(60):
        y = y + y
    y.backward()
    assert float(y.data) == 0.75 * 2.0**60
    assert float(x.grad) == 2.0**60


@pytest.mark.task2_5
def test_task2_5_chain_100000_deep_no_recursion():
    n, c = 100_000, 1.000001
    x = Tensor(0.5, requires_grad=True)
    y = x
    for _ in range(n):
        y = y * c
    start = time.perf_counter()
    y.backward()
    seconds = time.perf_counter() - start
    assert float(y.data) == pytest.approx(0.5 * math.pow(c, n), rel=1e-9)
    assert float(x.grad) == pytest.approx(math.pow(c, n), rel=1e-9)
    assert seconds < 10.0, f"backward over {n} nodes took {seconds:.1f} s"

    z = Tensor([1.0, 2.0], requires_grad=True)
    w = z
    for _ in range(n):
        w = w + 1
    w.sum().backward()
    np.testing.assert_array_equal(w.data, [1.0 + n, 2.0 + n])
    np.testing.assert_array_equal(z.grad, [1.0, 1.0])


@pytest.mark.task2_5
def test_task2_5_default_grad_for_one_element_outputs():
    t = Tensor([[3.0]], requires_grad=True)
    (t * t).backward()
    assert t.grad.shape == (1, 1) and t.grad[0, 0] == 6.0
    leaf = Tensor(2.0, requires_grad=True)
    leaf.backward()
    assert float(leaf.grad) == 1.0


@pytest.mark.task2_5
def test_task2_5_explicit_grad_matches_torch():
    x = np.array([[0.5, -1.0, 2.0], [1.5, 0.2, -0.3]])
    g = np.array([[1.0, 2.0, -1.0], [0.5, 0.0, 3.0]])
    t = Tensor(x, requires_grad=True)
    (t.sigmoid() * t).backward(g)
    r = _torch_leaf(x)
    (r.sigmoid() * r).backward(torch.tensor(g))
    assert_close(t.grad, _np(r.grad), "grad")


@pytest.mark.task2_5
def test_task2_5_backward_errors():
    t = Tensor(np.ones((2, 3)), requires_grad=True)
    out = t * 2.0
    with pytest.raises(ValueError, match=r"\(2, 3\)"):
        out.backward()
    with pytest.raises(ValueError, match=r"\(3, 2\)"):
        out.backward(np.ones((3, 2)))
    with pytest.raises(ValueError):
        out.backward(np.ones(6))
    assert t.grad is None  # nothing propagated by the failed calls
    with pytest.raises(RuntimeError, match="require"):
        Tensor(1.0).backward()


@pytest.mark.task2_5
def test_task2_5_scalar_leaf_grad_stays_an_ndarray_when_accumulated():
    """b feeds two nodes in the lecture graph: its accumulated .grad is still an ndarray (spec)."""
    a, b = Tensor(2.0, requires_grad=True), Tensor(1.0, requires_grad=True)
    ((a + b) * (b + 1)).backward()
    assert type(b.grad) is np.ndarray and b.grad.shape == () and float(b.grad) == 5.0
