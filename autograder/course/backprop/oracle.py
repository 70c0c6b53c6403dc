"""backprop on PyTorch: every gradient by torch.autograd instead of the hand-derived formulas."""
import torch

from tools.oracle import numpy, scalar_or_array, tensor

__all__ = ["graph_example", "linear_regression_grad", "sigmoid", "mlp_forward", "mlp_loss",
           "mlp_backward", "l2_penalty", "l1_penalty", "sgd_step"]
KEYS = ("W1", "b1", "w2", "b2")


def graph_example(a, b):
    a, b = tensor(a, requires_grad=True), tensor(b, requires_grad=True)
    e = (a + b) * (b + 1)
    de_da, de_db = torch.autograd.grad(e, (a, b))
    return e.item(), de_da.item(), de_db.item()


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
    return {k: scalar_or_array(g) for k, g in zip(p, grads)}


def _penalty(W, lam, fn):
    W = tensor(W, requires_grad=True)
    value = lam * fn(W)
    return value.item(), numpy(torch.autograd.grad(value, W)[0])


def l2_penalty(W, lam):
    return _penalty(W, lam, lambda W: 0.5 * (W * W).sum())


def l1_penalty(W, lam):
    return _penalty(W, lam, lambda W: W.abs().sum())    # autograd's |w|' is sign(w), 0 at 0


def sgd_step(params, grads, lr):
    return {k: scalar_or_array(tensor(v) - lr * tensor(grads[k])) for k, v in params.items()}
