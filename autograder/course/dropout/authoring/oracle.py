"""dropout on PyTorch: the keep-mask exactly as the spec draws it (NumPy's generator), the
arithmetic in torch, and dropout_backward by torch.autograd through the forward pass."""

import numpy as np
import torch

from autograder.course.oracles import numpy, tensor

__all__ = ["dropout_forward", "dropout_backward", "classic_test_weights"]


def _check_p(p):
    if not 0.0 <= p < 1.0:
        raise ValueError(f"p is the drop probability and must satisfy 0 <= p < 1, got {p}")


def dropout_forward(x, p, train=True, rng=None, mask=None):
    _check_p(p)
    x = tensor(x, requires_grad=True)
    if not train:
        return numpy(x), {"p": p, "train": False, "mask": None, "x": x, "out": x.clone()}
    if mask is not None:
        keep = np.array(mask, dtype=bool)
    else:
        keep = (np.random.default_rng() if rng is None else rng).random(tuple(x.shape)) >= p
    out = x * tensor(keep) / (1.0 - p)
    return numpy(out), {"p": p, "train": True, "mask": keep, "x": x, "out": out}


def dropout_backward(dout, cache):
    return numpy(torch.autograd.grad(cache["out"], cache["x"], tensor(dout), retain_graph=True)[0])


def classic_test_weights(W, p):
    _check_p(p)
    return numpy(tensor(W) * (1.0 - p))
