"""Probes: callables that graded tests pass to a submission (the f in numerical_gradient(f, x), say).

Each factory takes the module under test (so a probe built for forward mode can use that module's
own exp/sin): the same probe runs on the reference and on the submission. This is the shared set,
named in a recording by its name; an assignment's own probes live in its course folder
(autograder/course/<name>/probes.py, or grader/probes.py when only hidden tests use them) and are
recorded as module:function (script.Script.probe).
"""

import numpy as np


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
