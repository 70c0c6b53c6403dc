"""Assignment 2: automatic differentiation, three ways.

What it teaches: how a deep-learning library gets the gradient of a loss.
  1. Finite differences (Task 2.1): the slow, approximate reference every other
     method is checked against.
  2. Forward mode with dual numbers (Tasks 2.2-2.3): carry (value, derivative)
     pairs through the program; one pass gives df/dx for one input x.
  3. Reverse mode on a computation graph (Tasks 2.4-2.5): record every operation
     while computing forward, then walk the graph backwards applying the chain
     rule; one pass gives the gradient with respect to every input.

Notation follows lecture 000. Its running example is the graph
    c = a + b,   d = b + 1,   e = c · d          (so e = (a + b)(b + 1))
with de/da = de/dc · dc/da = d and de/db = de/dd · dd/db + de/dc · dc/db = c + d:
b feeds two nodes, so its two contributions add. In reverse mode every node z
receives the cumulative gradient dL/dz from the nodes that use it, multiplies it by
its own *local* gradient dz/dx and passes dL/dx = dL/dz · dz/dx on to each input x.
Each op's local gradient sits in a `_backward` closure right under its forward
computation (micrograd's layout), so the code reads like the lecture. (Lecture 000's
layer graph writes z^(l) before the activation and a^(l) after it; lecture 002 and the
backprop assignment write a^(l) for the value before the activation.)

Shapes: a Tensor holds a float64 ndarray of any shape (S). Binary ops broadcast as
NumPy does, so an operand's gradient is the upstream gradient summed back to that
operand's shape (`_unbroadcast`). Matrix products are 2-D only: (N, K) @ (K, M).

Where it departs from PyTorch:
  - `backward` keeps the graph (PyTorch frees it unless retain_graph=True), so it may
    be called again; leaf gradients still accumulate across calls, as in PyTorch.
  - Intermediate (non-leaf) tensors keep the `.grad` of the last backward pass
    (PyTorch only does so after `retain_grad()`); they are reset at each call.
  - `transpose()` / `.T` reverse all axes, like NumPy's `.T` (PyTorch's `transpose`
    swaps two given dims); `**` takes a number exponent only; `@` is 2-D only.
  - There is no dtype or device: data is always float64 on the CPU.
"""

import math
import numbers

import numpy as np

__all__ = [
    "numerical_gradient",
    "Dual",
    "exp",
    "log",
    "sin",
    "cos",
    "tanh",
    "sigmoid",
    "derivative",
    "Tensor",
]


def _is_real(x):
    """A plain real number (Python or NumPy scalar), not a bool."""
    return isinstance(x, numbers.Real) and not isinstance(x, (bool, np.bool_))


# ## Task 2.1: numerical_gradient


def _scalar_output(fn, value):
    """f(x) as a float; f must return a scalar (a number or a size-1 array)."""
    arr = np.asarray(value, dtype=np.float64)
    if arr.size != 1:
        raise ValueError(f"{fn}: f must return a scalar, got an output of shape {arr.shape}")
    return float(arr.reshape(()))


def numerical_gradient(f, x, eps=1e-6):
    """Gradient of a scalar function by centered finite differences.

        df/dx_i ≈ (f(x + eps·e_i) − f(x − eps·e_i)) / (2·eps)

    for every index i of x, with e_i the unit array that is 1 at i. The error is
    O(eps²) from truncation plus O(ulp·|f| / eps) from rounding; eps = 1e-6 balances
    the two in float64.

    Args:
        f: function of an ndarray of x's shape (S) returning a scalar.
        x: ndarray (or nested list / number) of any shape (S).
        eps: step size, > 0.

    Returns:
        ndarray of shape (S), float64. x itself is never modified: f is evaluated
        on a float64 copy.
    """
    fn = "numerical_gradient"
    if not callable(f):
        raise TypeError(f"{fn}: f must be callable, got {type(f).__name__}")
    if not _is_real(eps) or not eps > 0:
        raise ValueError(f"{fn}: eps must be a positive number, got {eps!r}")
    try:
        x = np.array(x, dtype=np.float64)  # a copy: the caller's x is never touched
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{fn}: x must be a real array, got {type(x).__name__}") from exc
    # BEGIN SOLUTION (Task 2.1: return the centered-difference gradient, shape x.shape)
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + eps
        f_plus = _scalar_output(fn, f(x))
        x[i] = old - eps
        f_minus = _scalar_output(fn, f(x))
        x[i] = old  # restore before moving on
        grad[i] = (f_plus - f_minus) / (2.0 * eps)
    return grad
    # END SOLUTION


# ## Task 2.2: Dual numbers and elementary functions


class Dual:
    """A dual number value + deriv·ε with ε² = 0: forward-mode AD for one input.

    If a = f(x) and da = f'(x), arithmetic on (a, da) pairs follows the rules of
    differentiation, e.g. (a, da)·(b, db) = (a·b, da·b + a·db). Seeding the input
    with deriv = 1 makes every intermediate carry its derivative d/dx.

    Operators: + − * / with a Dual or a number on either side, unary −, ** number.
    """

    def __init__(self, value, deriv=0.0):
        if not _is_real(value):
            raise TypeError(f"Dual: value must be a real number, got {type(value).__name__}")
        if not _is_real(deriv):
            raise TypeError(f"Dual: deriv must be a real number, got {type(deriv).__name__}")
        self.value = float(value)
        self.deriv = float(deriv)

    def __repr__(self):
        return f"Dual(value={self.value!r}, deriv={self.deriv!r})"

    @staticmethod
    def _lift(other):
        """A number becomes a constant Dual (deriv 0); anything else is not ours."""
        if isinstance(other, Dual):
            return other
        if _is_real(other):
            return Dual(other, 0.0)
        return NotImplemented

    def __add__(self, other):
        other = self._lift(other)
        if other is NotImplemented:
            return NotImplemented
        # BEGIN SOLUTION (Task 2.2: (a + b)' = a' + b')
        return Dual(self.value + other.value, self.deriv + other.deriv)
        # END SOLUTION

    def __radd__(self, other):  # other + self
        return self + other

    def __sub__(self, other):
        other = self._lift(other)
        if other is NotImplemented:
            return NotImplemented
        # BEGIN SOLUTION (Task 2.2: (a − b)' = a' − b')
        return Dual(self.value - other.value, self.deriv - other.deriv)
        # END SOLUTION

    def __rsub__(self, other):  # other - self
        other = self._lift(other)
        if other is NotImplemented:
            return NotImplemented
        return other - self

    def __mul__(self, other):
        other = self._lift(other)
        if other is NotImplemented:
            return NotImplemented
        # BEGIN SOLUTION (Task 2.2: product rule (a·b)' = a'·b + a·b')
        return Dual(self.value * other.value, self.deriv * other.value + self.value * other.deriv)
        # END SOLUTION

    def __rmul__(self, other):  # other * self
        return self * other

    def __truediv__(self, other):
        other = self._lift(other)
        if other is NotImplemented:
            return NotImplemented
        # BEGIN SOLUTION (Task 2.2: quotient rule (a/b)' = (a'·b − a·b') / b²)
        return Dual(self.value / other.value, (self.deriv * other.value - self.value * other.deriv) / other.value**2)
        # END SOLUTION

    def __rtruediv__(self, other):  # other / self
        other = self._lift(other)
        if other is NotImplemented:
            return NotImplemented
        return other / self

    def __neg__(self):
        # BEGIN SOLUTION (Task 2.2: (−a)' = −a')
        return Dual(-self.value, -self.deriv)
        # END SOLUTION

    def __pow__(self, p):
        if not _is_real(p):
            raise TypeError(f"Dual.__pow__: the exponent must be a number, got {type(p).__name__}")
        # BEGIN SOLUTION (Task 2.2: power rule (a^p)' = p·a^(p−1)·a')
        if p == 0:  # a^0 = 1 is constant (and 0^(−1) would be undefined)
            return Dual(1.0, 0.0)
        return Dual(math.pow(self.value, p), p * math.pow(self.value, p - 1) * self.deriv)
        # END SOLUTION


def _real(fn, func, x):
    """The float path of the elementary functions: float in, float out.

    A NumPy array is also accepted (elementwise, array out); the Tensor class reuses
    these for its forward passes.
    """
    if isinstance(x, np.ndarray):
        return func(x.astype(np.float64))
    if _is_real(x):
        return float(func(float(x)))
    raise TypeError(f"{fn}: x must be a Dual or a real number, got {type(x).__name__}")


def _sigmoid(z):
    """σ(z) = 1 / (1 + e^(−z)) without overflow: e^(−|z|) ≤ 1 on both branches."""
    z = np.asarray(z, dtype=np.float64)
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def exp(x):
    """e^x; for a Dual, d/dx e^x = e^x."""
    if not isinstance(x, Dual):
        return _real("exp", np.exp, x)
    # BEGIN SOLUTION (Task 2.2: exp of a Dual)
    v = math.exp(x.value)
    return Dual(v, v * x.deriv)
    # END SOLUTION


def log(x):
    """Natural log; for a Dual, d/dx ln x = 1/x (x > 0)."""
    if not isinstance(x, Dual):
        return _real("log", np.log, x)
    if not x.value > 0:
        raise ValueError(f"log: the value must be positive, got {x.value}")
    # BEGIN SOLUTION (Task 2.2: log of a Dual)
    return Dual(math.log(x.value), x.deriv / x.value)
    # END SOLUTION


def sin(x):
    """sin x; for a Dual, d/dx sin x = cos x."""
    if not isinstance(x, Dual):
        return _real("sin", np.sin, x)
    # BEGIN SOLUTION (Task 2.2: sin of a Dual)
    return Dual(math.sin(x.value), math.cos(x.value) * x.deriv)
    # END SOLUTION


def cos(x):
    """cos x; for a Dual, d/dx cos x = −sin x."""
    if not isinstance(x, Dual):
        return _real("cos", np.cos, x)
    # BEGIN SOLUTION (Task 2.2: cos of a Dual)
    return Dual(math.cos(x.value), -math.sin(x.value) * x.deriv)
    # END SOLUTION


def tanh(x):
    """tanh x; for a Dual, d/dx tanh x = 1 − tanh² x."""
    if not isinstance(x, Dual):
        return _real("tanh", np.tanh, x)
    # BEGIN SOLUTION (Task 2.2: tanh of a Dual)
    t = math.tanh(x.value)
    return Dual(t, (1.0 - t * t) * x.deriv)
    # END SOLUTION


def sigmoid(x):
    """σ(x) = 1 / (1 + e^(−x)); for a Dual, σ'(x) = σ(x)(1 − σ(x))."""
    if not isinstance(x, Dual):
        return _real("sigmoid", _sigmoid, x)
    # BEGIN SOLUTION (Task 2.2: sigmoid of a Dual)
    s = sigmoid(x.value)
    return Dual(s, s * (1.0 - s) * x.deriv)
    # END SOLUTION


# ## Task 2.3: derivative (forward mode)


def derivative(f, x):
    """f'(x) by forward mode: evaluate f on the dual number x + 1·ε.

    Args:
        f: function of one real number built from Dual arithmetic and the module's
           elementary functions (exp, log, sin, cos, tanh, sigmoid).
        x: real number.

    Returns:
        float f'(x) (0.0 when f ignores its input and returns a plain number).
    """
    if not callable(f):
        raise TypeError(f"derivative: f must be callable, got {type(f).__name__}")
    if not _is_real(x):
        raise TypeError(f"derivative: x must be a real number, got {type(x).__name__}")
    # BEGIN SOLUTION (Task 2.3: seed deriv = 1 and read off the output's deriv)
    out = f(Dual(x, 1.0))
    if isinstance(out, Dual):
        return out.deriv
    return 0.0  # f returned a constant
    # END SOLUTION


# ## Task 2.4: Tensor operations (reverse mode)


def _unbroadcast(grad, shape):
    """Sum a gradient of the broadcast shape back down to an operand's shape.

    Broadcasting copies an operand along (a) leading axes it lacks and (b) axes where
    it has size 1; each copy received part of the upstream gradient, so the operand's
    gradient is the sum over those axes (dz/dx = 1 for each copy).
    """
    grad = np.asarray(grad, dtype=np.float64)
    if grad.shape == tuple(shape):
        return grad
    extra = grad.ndim - len(shape)
    if extra > 0:
        grad = grad.sum(axis=tuple(range(extra)))
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if axes:
        grad = grad.sum(axis=axes, keepdims=True)
    return grad.reshape(shape)


def _normalize_axes(fn, axis, ndim):
    """axis (None, an int or a tuple of ints) as a sorted tuple of non-negative axes."""
    if axis is None:
        return tuple(range(ndim))
    raw = axis if isinstance(axis, (tuple, list)) else (axis,)
    axes = []
    for a in raw:
        if isinstance(a, (bool, np.bool_)) or not isinstance(a, (numbers.Integral, np.integer)):
            raise TypeError(f"{fn}: axis must be None, an int or a tuple of ints, got {axis!r}")
        if not -ndim <= a < ndim:
            raise ValueError(f"{fn}: axis {a} is out of range for a {ndim}-D tensor")
        axes.append(int(a) % ndim)
    if len(set(axes)) != len(axes):
        raise ValueError(f"{fn}: repeated axis in {axis!r}")
    return tuple(sorted(axes))


def _as_tensor(fn, other):
    """The other operand of a binary op: a Tensor, or a number/ndarray as a constant."""
    if isinstance(other, Tensor):
        return other
    if _is_real(other) or isinstance(other, np.ndarray):
        return Tensor(other)
    raise TypeError(f"{fn}: the other operand must be a Tensor or a number, got {type(other).__name__}")


def _noop():
    pass


class Tensor:
    """A float64 ndarray that records the operations applied to it (reverse-mode AD).

    Attributes:
        data: float64 ndarray of shape (S) (a copy of what was passed in).
        grad: ndarray of shape (S), or None until a backward pass reaches it.
        requires_grad: whether gradients are wanted for this tensor; the result of
            an op requires grad if any of its inputs does (then it records the op).

    Each op below computes its output `out` and defines `_backward()`, which reads
    the cumulative gradient out.grad = dL/dout and adds dL/dx = dL/dout · dout/dx
    into each input x (`x._accumulate(...)`).
    """

    __array_ufunc__ = None  # ndarray (op) Tensor defers to Tensor's reflected ops

    def __init__(self, data, requires_grad=False):
        if isinstance(data, Tensor):
            data = data.data
        try:
            self.data = np.array(data, dtype=np.float64)  # always a copy
        except (TypeError, ValueError) as exc:
            raise TypeError(f"Tensor: data must be a number or a real array, got {type(data).__name__}") from exc
        self.grad = None
        self.requires_grad = bool(requires_grad)
        self._prev = ()  # the tensors this one was computed from (graph edges)
        self._op = ""  # the op that made it, for __repr__ and debugging
        self._backward = _noop  # adds this node's gradient into its inputs' .grad

    @classmethod
    def _result(cls, data, parents, op):
        """The output of an op: it requires grad (and keeps its parents) if any input does."""
        out = cls.__new__(cls)
        out.data = np.asarray(data, dtype=np.float64)
        out.grad = None
        out.requires_grad = any(p.requires_grad for p in parents)
        out._prev = tuple(parents) if out.requires_grad else ()
        out._op = op if out.requires_grad else ""
        out._backward = _noop
        return out

    def _accumulate(self, grad):
        """self.grad += grad (grad has self's shape); nothing if no grad is wanted."""
        if not self.requires_grad:
            return
        if self.grad is None:
            self.grad = np.array(grad, dtype=np.float64)  # a copy we own
        else:
            self.grad = np.asarray(self.grad + grad)  # stays an ndarray for 0-d tensors too

    def __repr__(self):
        body = np.array2string(self.data, separator=", ", prefix="Tensor(")
        extra = ""
        if self._op:
            extra = f", op={self._op!r}"
        elif self.requires_grad:
            extra = ", requires_grad=True"
        return f"Tensor({body}{extra})"

    @property
    def shape(self):
        return self.data.shape

    @property
    def ndim(self):
        return self.data.ndim

    # Binary operators: out = self (op) other, broadcast as NumPy does.

    def __add__(self, other):
        """out = a + b;  dout/da = 1, dout/db = 1."""
        other = _as_tensor("Tensor.__add__", other)
        # BEGIN SOLUTION (Task 2.4: forward a + b and its _backward)
        out = Tensor._result(self.data + other.data, (self, other), "+")

        def _backward():
            self._accumulate(_unbroadcast(out.grad, self.data.shape))
            other._accumulate(_unbroadcast(out.grad, other.data.shape))

        out._backward = _backward
        return out
        # END SOLUTION

    def __radd__(self, other):  # other + self
        return _as_tensor("Tensor.__radd__", other) + self

    def __sub__(self, other):
        """out = a − b;  dout/da = 1, dout/db = −1."""
        other = _as_tensor("Tensor.__sub__", other)
        # BEGIN SOLUTION (Task 2.4: forward a − b and its _backward)
        out = Tensor._result(self.data - other.data, (self, other), "-")

        def _backward():
            self._accumulate(_unbroadcast(out.grad, self.data.shape))
            other._accumulate(_unbroadcast(-out.grad, other.data.shape))

        out._backward = _backward
        return out
        # END SOLUTION

    def __rsub__(self, other):  # other - self
        return _as_tensor("Tensor.__rsub__", other) - self

    def __mul__(self, other):
        """out = a · b (elementwise);  dout/da = b, dout/db = a."""
        other = _as_tensor("Tensor.__mul__", other)
        # BEGIN SOLUTION (Task 2.4: forward a · b and its _backward)
        out = Tensor._result(self.data * other.data, (self, other), "*")

        def _backward():
            self._accumulate(_unbroadcast(out.grad * other.data, self.data.shape))
            other._accumulate(_unbroadcast(out.grad * self.data, other.data.shape))

        out._backward = _backward
        return out
        # END SOLUTION

    def __rmul__(self, other):  # other * self
        return _as_tensor("Tensor.__rmul__", other) * self

    def __truediv__(self, other):
        """out = a / b;  dout/da = 1/b, dout/db = −a/b²."""
        other = _as_tensor("Tensor.__truediv__", other)
        # BEGIN SOLUTION (Task 2.4: forward a / b and its _backward)
        out = Tensor._result(self.data / other.data, (self, other), "/")

        def _backward():
            self._accumulate(_unbroadcast(out.grad / other.data, self.data.shape))
            other._accumulate(_unbroadcast(-out.grad * self.data / other.data**2, other.data.shape))

        out._backward = _backward
        return out
        # END SOLUTION

    def __rtruediv__(self, other):  # other / self
        return _as_tensor("Tensor.__rtruediv__", other) / self

    def __neg__(self):
        """out = −a;  dout/da = −1."""
        # BEGIN SOLUTION (Task 2.4: forward −a and its _backward)
        out = Tensor._result(-self.data, (self,), "neg")

        def _backward():
            self._accumulate(-out.grad)

        out._backward = _backward
        return out
        # END SOLUTION

    def __pow__(self, p):
        """out = a^p for a number p;  dout/da = p · a^(p−1)."""
        if not _is_real(p):
            raise TypeError(f"Tensor.__pow__: the exponent must be a number, got {type(p).__name__}")
        # BEGIN SOLUTION (Task 2.4: forward a ** p and its _backward)
        out = Tensor._result(self.data**p, (self,), f"**{p}")

        def _backward():
            if p == 0:  # a^0 = 1 is constant (and 0^(−1) would be undefined)
                local = np.zeros_like(self.data)
            else:
                local = p * self.data ** (p - 1)
            self._accumulate(out.grad * local)

        out._backward = _backward
        return out
        # END SOLUTION

    def __matmul__(self, other):
        """out = A @ B with A (N, K), B (K, M), out (N, M);
        dL/dA = dL/dout @ Bᵀ (N, K), dL/dB = Aᵀ @ dL/dout (K, M)."""
        other = _as_tensor("Tensor.__matmul__", other)
        if self.data.ndim != 2 or other.data.ndim != 2:
            raise ValueError(
                f"Tensor.__matmul__: both operands must be 2-D (N, K) @ (K, M), "
                f"got shapes {self.data.shape} and {other.data.shape}"
            )
        if self.data.shape[1] != other.data.shape[0]:
            raise ValueError(
                f"Tensor.__matmul__: inner dimensions differ, got shapes {self.data.shape} and {other.data.shape}"
            )
        # BEGIN SOLUTION (Task 2.4: forward A @ B and its _backward)
        out = Tensor._result(self.data @ other.data, (self, other), "@")

        def _backward():
            self._accumulate(out.grad @ other.data.T)
            other._accumulate(self.data.T @ out.grad)

        out._backward = _backward
        return out
        # END SOLUTION

    def __rmatmul__(self, other):  # other @ self
        return _as_tensor("Tensor.__rmatmul__", other) @ self

    # Reductions and shape ops.

    def sum(self, axis=None, keepdims=False):
        """out = Σ over `axis` (all axes when None);  dout/da_i = 1 for every summed
        element, so the gradient is dL/dout broadcast back to shape (S)."""
        axes = _normalize_axes("Tensor.sum", axis, self.data.ndim)
        # BEGIN SOLUTION (Task 2.4: forward sum and its _backward)
        out = Tensor._result(self.data.sum(axis=axes, keepdims=keepdims), (self,), "sum")

        def _backward():
            g = out.grad if keepdims else np.expand_dims(out.grad, axes)
            self._accumulate(np.broadcast_to(g, self.data.shape))

        out._backward = _backward
        return out
        # END SOLUTION

    def mean(self, axis=None, keepdims=False):
        """out = (1/n) Σ over `axis`, n the number of summed elements;
        dout/da_i = 1/n."""
        axes = _normalize_axes("Tensor.mean", axis, self.data.ndim)
        n = math.prod(self.data.shape[a] for a in axes)
        # BEGIN SOLUTION (Task 2.4: forward mean and its _backward)
        out = Tensor._result(self.data.sum(axis=axes, keepdims=keepdims) / n, (self,), "mean")

        def _backward():
            g = out.grad if keepdims else np.expand_dims(out.grad, axes)
            self._accumulate(np.broadcast_to(g / n, self.data.shape))

        out._backward = _backward
        return out
        # END SOLUTION

    def reshape(self, *shape):
        """Same elements in a new shape: t.reshape(2, 3) or t.reshape((2, 3)), one
        entry may be −1. The gradient is dL/dout reshaped back to (S)."""
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        try:
            shape = np.empty(self.data.shape).reshape(shape).shape
        except (TypeError, ValueError) as exc:
            raise ValueError(f"Tensor.reshape: cannot reshape shape {self.data.shape} into {shape}") from exc
        # BEGIN SOLUTION (Task 2.4: forward reshape and its _backward)
        out = Tensor._result(self.data.reshape(shape), (self,), "reshape")

        def _backward():
            self._accumulate(out.grad.reshape(self.data.shape))

        out._backward = _backward
        return out
        # END SOLUTION

    def transpose(self):
        """Reverse the axes, as NumPy's `.T`: (N, M) -> (M, N). Reversing twice is
        the identity, so the gradient is dL/dout transposed back."""
        # BEGIN SOLUTION (Task 2.4: forward transpose and its _backward)
        out = Tensor._result(self.data.transpose(), (self,), "T")

        def _backward():
            self._accumulate(out.grad.transpose())

        out._backward = _backward
        return out
        # END SOLUTION

    @property
    def T(self):
        return self.transpose()

    # Elementwise functions.

    def exp(self):
        """out = e^a;  dout/da = e^a = out."""
        # BEGIN SOLUTION (Task 2.4: forward exp and its _backward)
        out = Tensor._result(np.exp(self.data), (self,), "exp")

        def _backward():
            self._accumulate(out.grad * out.data)

        out._backward = _backward
        return out
        # END SOLUTION

    def log(self):
        """out = ln a;  dout/da = 1/a."""
        # BEGIN SOLUTION (Task 2.4: forward log and its _backward)
        out = Tensor._result(np.log(self.data), (self,), "log")

        def _backward():
            self._accumulate(out.grad / self.data)

        out._backward = _backward
        return out
        # END SOLUTION

    def relu(self):
        """out = max(a, 0);  dout/da = 1 where a > 0, else 0 (0 at a = 0, as PyTorch)."""
        # BEGIN SOLUTION (Task 2.4: forward relu and its _backward)
        out = Tensor._result(np.maximum(self.data, 0.0), (self,), "relu")

        def _backward():
            self._accumulate(out.grad * (self.data > 0))

        out._backward = _backward
        return out
        # END SOLUTION

    def sigmoid(self):
        """out = σ(a) = 1 / (1 + e^(−a));  dout/da = σ(a)(1 − σ(a))."""
        # BEGIN SOLUTION (Task 2.4: forward sigmoid and its _backward)
        out = Tensor._result(_sigmoid(self.data), (self,), "sigmoid")

        def _backward():
            self._accumulate(out.grad * out.data * (1.0 - out.data))

        out._backward = _backward
        return out
        # END SOLUTION

    def tanh(self):
        """out = tanh a;  dout/da = 1 − tanh² a."""
        # BEGIN SOLUTION (Task 2.4: forward tanh and its _backward)
        out = Tensor._result(np.tanh(self.data), (self,), "tanh")

        def _backward():
            self._accumulate(out.grad * (1.0 - out.data**2))

        out._backward = _backward
        return out
        # END SOLUTION

    # ## Task 2.5: backward

    def backward(self, grad=None):
        """Reverse-mode sweep: dL/dx into `.grad` of every leaf x that requires grad.

        With L this tensor: seed dL/dL = grad (ones for a scalar when grad is None),
        order the graph topologically (every node after all the nodes it was computed
        from), then visit the nodes in reverse order, each passing its cumulative
        gradient to its inputs through `_backward`. A node used twice receives both
        contributions (lecture 000: de/db = c + d). Leaf gradients add to what
        `.grad` already holds, as in PyTorch; intermediate gradients restart at each
        call. The order is built with an explicit stack, so graphs 100,000 nodes deep
        work.

        Args:
            grad: dL/d(self), an array of self's shape (S); may be omitted when self
                has exactly one element.
        """
        if not self.requires_grad:
            raise RuntimeError(
                "Tensor.backward: this tensor does not require grad (create the inputs with requires_grad=True)"
            )
        if grad is None:
            if self.data.size != 1:
                raise ValueError(
                    f"Tensor.backward: grad can be omitted only for a scalar "
                    f"(one-element) output, got shape {self.data.shape}; "
                    f"pass grad= an array of that shape"
                )
            grad = np.ones_like(self.data)
        else:
            if isinstance(grad, Tensor):
                grad = grad.data
            grad = np.array(grad, dtype=np.float64)
            if grad.shape != self.data.shape:
                raise ValueError(
                    f"Tensor.backward: grad must have the output's shape {self.data.shape}, got shape {grad.shape}"
                )
        # BEGIN SOLUTION (Task 2.5: topological order, then propagate in reverse)
        order = _topological_order(self)
        for node in order:
            if node._prev:  # intermediate node: its gradient restarts at each call
                node.grad = None
        self._accumulate(grad)
        for node in reversed(order):
            if node._prev and node.grad is not None:
                node._backward()
        # END SOLUTION


def _topological_order(root):
    """The nodes reachable from root, each after all of its inputs (root last).

    Depth-first search with an explicit stack of (node, expanded) pairs instead of
    recursion: a node is pushed back as "expanded" under its inputs and appended to
    the order when it comes off the stack again, i.e. after all of its inputs.
    """
    # BEGIN SOLUTION (Task 2.5: iterative post-order DFS over ._prev)
    order, visited = [], set()
    stack = [(root, False)]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
            continue
        if id(node) in visited:
            continue
        visited.add(id(node))
        stack.append((node, True))
        for parent in node._prev:
            if id(parent) not in visited:
                stack.append((parent, False))
    return order
    # END SOLUTION
