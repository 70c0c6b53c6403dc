"""Callables that graded tests pass to a submission (the f in numerical_gradient(f, x), say).

Each factory takes the module under test, so a probe built for forward mode uses that module's
own exp/sin: the same probe runs on the reference and on the submission.
"""

import numpy as np


def sum_sin_square(module):
    """f(x) = Σ sin(x)·x², a smooth scalar function of an array of any shape."""
    return lambda x: float(np.sum(np.sin(x) * x**2))


def log_sum_exp(module):
    return lambda x: float(np.log(np.sum(np.exp(x))))


def quadratic_form(module, matrix):
    """f(x) = ½ xᵀAx for a flat x."""
    a = np.asarray(matrix, dtype=float)
    return lambda x: float(0.5 * x.ravel() @ a @ x.ravel())


def dual_poly(module):
    """f(x) = 3x³ − 2x + 1/x, pure arithmetic (no module functions)."""
    return lambda x: 3 * x**3 - 2 * x + 1 / x


def dual_composite(module):
    """f(x) = sin(x)·exp(x) + log(x)·tanh(x) − cos(x)/sigmoid(x), through the module's functions."""
    m = module
    return lambda x: m.sin(x) * m.exp(x) + m.log(x) * m.tanh(x) - m.cos(x) / m.sigmoid(x)


def quadratic_gradient(module, diagonal):
    """∇J for J(θ) = ½ Σ d_i θ_i², an ill-conditioned bowl when the d_i differ."""
    d = np.asarray(diagonal, dtype=float)
    return lambda theta: d * theta


def tensor_info(module):
    """t -> {"shape", "dtype", "device"} of a torch tensor, as plain strings and lists."""
    return lambda t: {"shape": list(t.shape), "dtype": str(t.dtype), "device": t.device.type}


def state_shapes(module):
    """model -> {state_dict key: shape as a list}."""
    return lambda model: {k: list(v.shape) for k, v in model.state_dict().items()}


def state_arrays(module):
    """model -> {state_dict key: array}, the parameters as plain float64 arrays."""
    return lambda model: {k: v.detach().cpu().double().numpy() for k, v in model.state_dict().items()}


def load_state(module, arrays):
    """model -> model with its state_dict set from plain arrays (same keys)."""
    import torch

    def load(model):
        device = next(model.parameters()).device
        model.load_state_dict(
            {k: torch.as_tensor(np.asarray(v), dtype=torch.float32, device=device) for k, v in arrays.items()}
        )
        return model

    return load


def to_device(module, array, dtype):
    """device -> the array as a torch tensor of `dtype` ("float32" or "int64") on that device."""
    import torch

    return lambda device: torch.as_tensor(np.asarray(array), dtype=getattr(torch, dtype), device=device)


def strict_float32(module):
    """() -> None: TF32 off for matmuls and cuDNN, so float32 results on a GPU are true float32
    and comparable with the goldens (which are recorded that way)."""
    import torch

    def apply():
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False

    return apply
