"""gpu_training's grader-only probes: the pinned digits split the training test runs on (a
student must make it themselves: it is Task 6.1) models with known predictions for evaluate,
the trained model's logits and the clock around train().
Never in a student zip (tools/dist.py ships grader/ only in the autograder zip)."""

import sys
import time

import numpy as np


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
