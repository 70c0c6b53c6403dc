"""Public tests for gpu_training: the data split, the model's layers, one training step."""

import numpy as np

from autograder.policy import FLOAT32_ATOL, FLOAT32_RTOL
from autograder.testcase import GradedTest

_rng = np.random.default_rng(6)
XB = _rng.uniform(0, 1, size=(16, 1, 8, 8)).astype(np.float32)  # one batch (B, 1, 8, 8)
YB = _rng.integers(0, 10, size=16)


def data_summary(s):
    device = s.student("get_device")()
    X_train, y_train, X_test, y_test = s.student("load_digits_data")(device).unpack(4)
    info = s.probe("tensor_info")
    for name, t in (("X_train", X_train), ("y_train", y_train), ("X_test", X_test), ("y_test", y_test)):
        s.output(f"{name} (shape, dtype)", info(t))
    s.output("X_train[:5]", X_train[:5])
    s.output("y_test", y_test)


def model_shapes(p_drop):
    """The layers' shapes, paid only together with behaviour: the same fixed weights loaded, the
    model must compute the reference's logits in eval mode (float32 tolerance)."""

    def build(s):
        model = s.student("DigitsCNN")(p_drop=p_drop)
        s.output("state_dict shapes", s.probe("state_shapes")(model))
        model = s.probe("load_state", _initial_state())(model)
        model.train(False)  # eval mode: dropout off
        logits = model(s.probe("to_device", XB, "float32")(s.lib("torch.device")("cpu")))
        s.output("logits shape", s.probe("tensor_info")(logits)["shape"])
        s.output("logits with fixed weights", logits)

    return build


SHAPES = {
    "conv1.weight": (16, 1, 3, 3),
    "conv1.bias": (16,),
    "conv2.weight": (32, 16, 3, 3),
    "conv2.bias": (32,),
    "fc.weight": (10, 512),
    "fc.bias": (10,),
}


def _initial_state(seed=60):
    """Fixed initial weights of the spec's shapes, scaled like PyTorch's default init."""
    rng = np.random.default_rng(seed)
    fan_in = {"conv1": 9, "conv2": 144, "fc": 512}
    return {k: rng.uniform(-1, 1, size=shape) / np.sqrt(fan_in[k.split(".")[0]]) for k, shape in SHAPES.items()}


def train_steps(n_steps, lr=0.1, momentum=0.9):
    """n steps of train_step from the same initial weights and batch (dropout off): losses and
    the parameters afterwards. Judged against the reference at float32 tolerance."""
    state = _initial_state()

    def build(s):
        s.probe("strict_float32")()
        device = s.student("get_device")()
        model = s.probe("load_state", state)(s.student("DigitsCNN")(p_drop=0.0).to(device))
        optimizer = s.lib("torch.optim.SGD")(model.parameters(), lr=lr, momentum=momentum)
        xb = s.probe("to_device", XB, "float32")(device)
        yb = s.probe("to_device", YB, "int64")(device)
        for step in range(n_steps):
            s.output(f"loss at step {step + 1}", s.student("train_step")(model, optimizer, xb, yb))
        s.output("parameters after", s.probe("state_arrays")(model))

    return build


TESTS = [
    GradedTest(
        "digits_data_split",
        "6.1",
        10,
        data_summary,
        hidden=False,
        hint="X = images/16 as float32 (N, 1, 8, 8), y int64; train_test_split(X, y, test_size=0.25, "
        "random_state=0, stratify=y)",
    ),
    GradedTest(
        "digits_cnn_layers",
        "6.2",
        10,
        model_shapes(0.25),
        hidden=False,
        rtol=1e-4,
        atol=1e-5,
        hint="conv1 = Conv2d(1, 16, 3, padding=1), conv2 = Conv2d(16, 32, 3, padding=1), MaxPool2d(2), "
        "Flatten, Dropout, fc = Linear(32*4*4, 10); only conv1, conv2 and fc hold parameters",
    ),
    GradedTest(
        "train_step_one_step",
        "6.3",
        15,
        train_steps(1),
        hidden=False,
        rtol=FLOAT32_RTOL,
        atol=FLOAT32_ATOL,
        timeout=60,
        hint="one SGD step in training mode: clear the old gradients, compute the batch's mean "
        "cross-entropy, backpropagate, update the weights; return the loss",
    ),
]
