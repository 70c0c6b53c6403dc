"""backprop on PyTorch: every gradient by torch.autograd instead of the hand-derived formulas. The
error signals δ = ∂E/∂a are autograd's gradients with respect to the pre-activations, recovered
from the given outputs by the inverse of their activation (logit for σ)."""

import torch

from autograder.course.oracles import numpy, scalar_or_array, tensor
from solution.backprop import graph_inputs  # given code: each student's numbers

__all__ = [
    "graph_example",
    "graph_inputs",
    "graph_by_hand",
    "linear_regression_grad",
    "sigmoid",
    "mlp_forward",
    "mlp_loss",
    "delta_output",
    "grad_b2",
    "delta_hidden",
    "grad_b1",
    "mlp_backward",
    "tanh_bce_loss",
    "delta_output_bce",
    "tanh_bce_backward",
    "l2_penalty",
    "l1_penalty",
    "sgd_step",
]
KEYS = ("W1", "b1", "w2", "b2")


def graph_example(a, b):
    a, b = tensor(a, requires_grad=True), tensor(b, requires_grad=True)
    e = (a + b) * (b + 1)
    de_da, de_db = torch.autograd.grad(e, (a, b))
    return e.item(), de_da.item(), de_db.item()


def graph_by_hand(student_id):
    a, b = (tensor(v, requires_grad=True) for v in graph_inputs(student_id))
    c, d = a + b, b + 1
    e = c * d
    de_dc, de_dd = torch.autograd.grad(e, (c, d), retain_graph=True)
    de_da, de_db = torch.autograd.grad(e, (a, b))
    return {
        k: v.item()
        for k, v in dict(a=a, b=b, c=c, d=d, e=e, de_dc=de_dc, de_dd=de_dd, de_da=de_da, de_db=de_db).items()
    }


def linear_regression_grad(w, X, y):
    w = tensor(w, requires_grad=True)
    E = ((tensor(y) - tensor(X) @ w) ** 2).sum()
    return numpy(torch.autograd.grad(E, w)[0])


def sigmoid(z):
    return scalar_or_array(torch.sigmoid(tensor(z)))


def _network(params, X, requires_grad=False):
    p = {k: tensor(params[k], requires_grad=requires_grad) for k in KEYS}
    h = torch.sigmoid(tensor(X) @ p["W1"].T + p["b1"])
    return p, h, torch.sigmoid(h @ p["w2"] + p["b2"])


def _loss(o, y):
    return 0.5 * ((tensor(y) - o) ** 2).sum()


def mlp_forward(params, X):
    _, h, o = _network(params, X)
    return numpy(o), {"X": numpy(tensor(X)), "h": numpy(h), "o": numpy(o)}


def mlp_loss(params, X, y):
    return _loss(_network(params, X)[2], y).item()


def mlp_backward(params, X, y):
    p, _, o = _network(params, X, requires_grad=True)
    grads = torch.autograd.grad(_loss(o, y), tuple(p.values()))
    return {k: scalar_or_array(g) for k, g in zip(p, grads, strict=False)}


def _delta_at_output(o, y, loss):
    """∂loss/∂a for o = σ(a), the pre-activation a recovered as logit(o)."""
    a = torch.logit(tensor(o)).requires_grad_(True)
    return numpy(torch.autograd.grad(loss(torch.sigmoid(a), tensor(y)), a)[0])


def delta_output(o, y):
    return _delta_at_output(o, y, lambda o, y: 0.5 * ((y - o) ** 2).sum())


def delta_output_bce(o, y):
    return _delta_at_output(o, y, lambda o, y: torch.nn.functional.binary_cross_entropy(o, y, reduction="sum"))


def delta_hidden(delta, w2, h):
    """∂E/∂a^(1) given ∂E/∂a^(2) = delta: a vector-Jacobian product through a^(2) = σ(a^(1))·w2."""
    a1 = torch.logit(tensor(h)).requires_grad_(True)
    a2 = torch.sigmoid(a1) @ tensor(w2)
    return numpy(torch.autograd.grad(a2, a1, grad_outputs=tensor(delta))[0])


def grad_b2(params, X, y):
    return mlp_backward(params, X, y)["b2"]


def grad_b1(params, X, y):
    return mlp_backward(params, X, y)["b1"]


def _bce(params, X, y, requires_grad=False):
    p = {k: tensor(params[k], requires_grad=requires_grad) for k in KEYS}
    logits = torch.tanh(tensor(X) @ p["W1"].T + p["b1"]) @ p["w2"] + p["b2"]
    return p, torch.nn.functional.binary_cross_entropy_with_logits(logits, tensor(y), reduction="sum")


def tanh_bce_loss(params, X, y):
    return _bce(params, X, y)[1].item()


def tanh_bce_backward(params, X, y):
    p, E = _bce(params, X, y, requires_grad=True)
    grads = torch.autograd.grad(E, tuple(p.values()))
    return {k: scalar_or_array(g) for k, g in zip(p, grads, strict=False)}


def _penalty(W, lam, fn):
    W = tensor(W, requires_grad=True)
    value = lam * fn(W)
    return value.item(), numpy(torch.autograd.grad(value, W)[0])


def l2_penalty(W, lam):
    return _penalty(W, lam, lambda W: 0.5 * (W * W).sum())


def l1_penalty(W, lam):
    return _penalty(W, lam, lambda W: W.abs().sum())  # autograd's |w|' is sign(w), 0 at 0


def sgd_step(params, grads, lr):
    return {k: scalar_or_array(tensor(v) - lr * tensor(grads[k])) for k, v in params.items()}
