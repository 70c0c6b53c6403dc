"""autodiff on PyTorch: Dual numbers by torch.func.jvp (forward mode), Tensor by torch.autograd.

numerical_gradient is left out: it differentiates an opaque NumPy function, which PyTorch
cannot see into, so its tests get no golden.
"""

import operator

import torch

from autograder.course.oracles import DEVICE, numpy, tensor

__all__ = ["Dual", "exp", "log", "sin", "cos", "tanh", "sigmoid", "derivative", "Tensor"]
# the student API PyTorch cannot compute (tests/test_goldens.py holds every other test to a golden)
LEFT_OUT = ("numerical_gradient",)


def _scalar(value):
    return torch.tensor(float(value), dtype=torch.float64, device=DEVICE)


class Dual:
    """value + deriv·ε; every operation is one torch.func.jvp of the torch function."""

    def __init__(self, value, deriv=0.0):
        self.value, self.deriv = float(value), float(deriv)


def _jvp(fn, *operands):
    """fn's value and forward-mode derivative at Duals (numbers are constants: deriv 0)."""
    duals = [x if isinstance(x, Dual) else Dual(x) for x in operands]
    value, deriv = torch.func.jvp(fn, tuple(_scalar(d.value) for d in duals), tuple(_scalar(d.deriv) for d in duals))
    return Dual(value.item(), deriv.item())


for _name in ("add", "sub", "mul", "truediv"):
    _op = getattr(operator, _name)
    setattr(Dual, f"__{_name}__", lambda a, b, op=_op: _jvp(op, a, b))
    setattr(Dual, f"__r{_name}__", lambda a, b, op=_op: _jvp(op, b, a))
Dual.__neg__ = lambda a: _jvp(operator.neg, a)
Dual.__pow__ = lambda a, p: _jvp(lambda v: v**p, a)


def _elementary(torch_fn):
    """A module function: Dual -> Dual, torch tensor -> tensor (inside derivative), float -> float."""

    def fn(x):
        if isinstance(x, Dual):
            return _jvp(torch_fn, x)
        if isinstance(x, torch.Tensor):
            return torch_fn(x)
        return torch_fn(_scalar(x)).item()

    return fn


exp, log, sin, cos, tanh, sigmoid = (
    _elementary(getattr(torch, n)) for n in ("exp", "log", "sin", "cos", "tanh", "sigmoid")
)


def derivative(f, x):
    """f'(x): torch.func.jvp of f itself (f's arithmetic and module functions act on tensors)."""
    _, deriv = torch.func.jvp(f, (_scalar(x),), (_scalar(1.0),))
    return deriv.item()


def _torch(x):
    return x._t if isinstance(x, Tensor) else x if isinstance(x, (int, float)) else tensor(x)


class Tensor:
    """A torch tensor (a requires_grad leaf, or a node of torch's graph); .data and .grad are
    NumPy float64 arrays; backward accumulates into leaves' .grad as PyTorch does."""

    def __init__(self, data, requires_grad=False):
        self._t = tensor(data, requires_grad=requires_grad)

    @classmethod
    def _wrap(cls, t):
        out = cls.__new__(cls)
        out._t = t
        return out

    data = property(lambda self: numpy(self._t))
    grad = property(lambda self: None if self._t.grad is None else numpy(self._t.grad))
    requires_grad = property(lambda self: self._t.requires_grad)

    def sum(self, axis=None, keepdims=False):
        return Tensor._wrap(torch.sum(self._t, dim=axis, keepdim=keepdims))

    def mean(self, axis=None, keepdims=False):
        return Tensor._wrap(torch.mean(self._t, dim=axis, keepdim=keepdims))

    def reshape(self, *shape):
        return Tensor._wrap(self._t.reshape(shape[0] if len(shape) == 1 else shape))

    def transpose(self):
        return Tensor._wrap(self._t.permute(*reversed(range(self._t.ndim))))

    T = property(transpose)

    def backward(self, grad=None):
        if grad is None and self._t.numel() != 1:
            raise ValueError("backward: grad can be omitted only for a one-element output")
        self._t.backward(None if grad is None else tensor(grad))


for _name in ("add", "sub", "mul", "truediv", "pow", "matmul"):
    _op = getattr(operator, _name)
    setattr(Tensor, f"__{_name}__", lambda a, b, op=_op: Tensor._wrap(op(a._t, _torch(b))))
    setattr(Tensor, f"__r{_name}__", lambda a, b, op=_op: Tensor._wrap(op(_torch(b), a._t)))
Tensor.__neg__ = lambda a: Tensor._wrap(-a._t)


def _unary(fn):
    return lambda a: Tensor._wrap(fn(a._t))


for _name in ("exp", "log", "relu", "sigmoid", "tanh"):
    setattr(Tensor, _name, _unary(getattr(torch, _name)))
