"""Callables that graded tests pass to a submission (the f in numerical_gradient(f, x), say).

Each factory takes the module under test, so a probe built for forward mode uses that module's
own exp/sin: the same probe runs on the reference and on the submission.
"""

import sys
import time

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


def fixed_logits_model(module, logits):
    """A torch module that ignores its input and returns the given logits (evaluate's oracle)."""
    import torch

    table = torch.as_tensor(np.asarray(logits), dtype=torch.float32)

    class FixedLogits(torch.nn.Module):
        def forward(self, x):
            return table.to(x.device)[: x.shape[0]]

    return FixedLogits()


def mode_dependent_model(module, logits):
    """A torch module with a dropout layer of p = 1: in training mode every logit is dropped to 0
    (so argmax picks class 0 everywhere); in eval mode it returns the given logits. Whether
    evaluate switched to eval mode shows in the accuracy, with no randomness."""
    import torch

    table = torch.as_tensor(np.asarray(logits), dtype=torch.float32)

    class DropoutLogits(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.dropout = torch.nn.Dropout(p=1.0)

        def forward(self, x):
            return self.dropout(table.to(x.device)[: x.shape[0]])

    return DropoutLogits()


def pinned_digits(module):
    """device -> (X_train, y_train, X_test, y_test): the spec's split of scikit-learn's digits,
    made here (not by the submission), so training is measured on data the grader chose."""
    import torch

    def load(device):
        return tuple(torch.as_tensor(a).to(device) for a in digits_split())

    return load


def digits_split():
    """The spec's split as NumPy arrays: X = images/16 (N, 1, 8, 8) float32, y int64."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    X = (digits.images / 16.0).astype(np.float32)[:, None, :, :]
    y = digits.target.astype(np.int64)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0, stratify=y)
    return X_train, y_train, X_test, y_test


def eval_logits(module):
    """(model, X) -> the model's logits on X in eval mode without gradients, as float64 on the
    host; the model is put back in the mode it was in."""
    import torch

    def logits(model, X):
        was_training = model.training
        model.eval()
        try:
            with torch.no_grad():
                return model(X).detach().to("cpu").double().numpy()
        finally:
            model.train(was_training)

    return logits


def wall_clock(module):
    """() -> seconds on the host's monotonic clock, after queued GPU work has finished."""

    def now():
        torch = sys.modules.get("torch")
        if torch is not None and torch.cuda.is_available() and torch.cuda.is_initialized():
            torch.cuda.synchronize()
        return time.perf_counter()

    return now


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
