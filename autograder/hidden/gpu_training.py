"""Hidden tests for gpu_training (100 points with the public ones): the split itself, device
placement, two momentum steps, evaluate on a model with known predictions, and a full training
run (>= 97% test accuracy; on a GPU grader also within a tight time budget)."""
import numpy as np

from autograder.compare import PASS, Verdict, unwrap
from autograder.public.gpu_training import TESTS as PUBLIC, model_shapes, train_steps
from autograder.sandbox import Limits
from autograder.testcase import GradedTest

_rng = np.random.default_rng(61)
LOGITS = _rng.standard_normal((20, 10))
Y_KNOWN = LOGITS.argmax(axis=1)
Y_KNOWN[:6] = (Y_KNOWN[:6] + 1) % 10          # 6 of 20 wrong: accuracy 0.7
TRAIN_ARGS = dict(epochs=15, batch_size=64, lr=0.05, momentum=0.9, seed=0)
GPU_BUDGET_SECONDS = 5.0
TORCH_LIMITS = Limits(cpu_seconds=240, memory_bytes=3 << 30)


def _split(s):
    X_train, y_train, X_test, y_test = s.student("load_digits_data")(s.lib("torch.device")("cpu")).unpack(4)
    for name, t in (("X_train", X_train), ("y_train", y_train), ("X_test", X_test), ("y_test", y_test)):
        s.output(name, t)


def _placement(s):
    device = s.student("get_device")()
    data = s.student("load_digits_data")(device)
    info = s.probe("tensor_info")
    s.output("device of X_train", info(data[0])["device"])
    s.output("device of y_test", info(data[3])["device"])
    s.output("device type", device.type)


def _evaluate(s):
    device = s.student("get_device")()
    model = s.probe("fixed_logits_model", LOGITS)
    X = s.lib("torch.zeros")(20, 1, 8, 8, device=device)
    y = s.probe("to_device", Y_KNOWN, "int64")(device)
    s.output("accuracy", s.student("evaluate")(model, X, y))


def _train(s):
    s.lib("torch.manual_seed")(0)
    device = s.student("get_device")()
    data = s.student("load_digits_data")(device)
    model = s.student("DigitsCNN")()
    history = s.student("train")(model, data, TRAIN_ARGS["epochs"], TRAIN_ARGS["batch_size"], TRAIN_ARGS["lr"],
                                 momentum=TRAIN_ARGS["momentum"], seed=TRAIN_ARGS["seed"])
    s.output("history", history)


def _judge_training(budget=None):
    def judge(expected, got):
        history, _ = unwrap(got.get("history"))
        if not isinstance(history, dict) or not {"loss", "test_acc", "seconds"} <= set(history):
            return Verdict(False, "train must return a dict with keys 'loss', 'test_acc', 'seconds'")
        epochs = TRAIN_ARGS["epochs"]
        lengths = {k: len(v) if isinstance(v, (list, tuple)) else None for k, v in history.items()}
        if any(lengths[k] != epochs for k in ("loss", "test_acc", "seconds")):
            return Verdict(False, f"one entry per epoch expected ({epochs}), got lengths {lengths}")
        acc, seconds = [float(a) for a in history["test_acc"]], [float(t) for t in history["seconds"]]
        if not all(0.0 <= a <= 1.0 for a in acc):
            return Verdict(False, f"test_acc must be accuracies in [0, 1], got {acc}")
        if any(b < a for a, b in zip(seconds, seconds[1:])):
            return Verdict(False, "seconds must be the wall time since the start, so never decreasing")
        if max(acc) < 0.97:
            return Verdict(False, f"best test accuracy {max(acc):.3f} < 0.97 after {epochs} epochs "
                                  f"(reference: {max(expected['history']['test_acc']):.3f})")
        if budget is not None and seconds[-1] > budget:
            return Verdict(False, f"{epochs} epochs took {seconds[-1]:.2f} s on the GPU; the budget is {budget} s "
                                  "(keep the data on the device, no per-batch host transfers)")
        return PASS
    return judge


HIDDEN = [
    GradedTest("digits_split_is_sklearns", "6.1", 5, _split,
               hint="use sklearn.datasets.load_digits and train_test_split(X, y, test_size=0.25, random_state=0, "
                    "stratify=y); X = images/16"),
    GradedTest("data_lives_on_get_device", "6.1", 5, _placement,
               hint="move the four tensors to the device you are given, once"),
    GradedTest("digits_cnn_without_dropout", "6.2", 5, model_shapes(0.0)),
    GradedTest("train_step_two_momentum_steps", "6.3", 10, train_steps(2, lr=0.05, momentum=0.9),
               rtol=1e-4, atol=1e-6, timeout=60, limits=TORCH_LIMITS,
               hint="the optimizer is the caller's: call zero_grad, backward and step on it, once per call"),
    GradedTest("evaluate_known_predictions", "6.3", 10, _evaluate, atol=1e-6,
               hint="accuracy = mean(argmax(model(X), dim=1) == y) under torch.no_grad() in eval mode"),
    GradedTest("train_reaches_97_percent", "6.4", 20, _train, judge=_judge_training(), timeout=240,
               limits=TORCH_LIMITS, hint="shuffle with a torch.Generator seeded by `seed`, step through "
                                          "minibatches, SGD(lr, momentum); record loss, test_acc, seconds per epoch"),
    GradedTest("train_on_gpu_within_budget", "6.4", 10, _train, judge=_judge_training(GPU_BUDGET_SECONDS),
               timeout=120, limits=Limits(cpu_seconds=240, memory_bytes=0), needs_gpu=True),
]

TESTS = PUBLIC + HIDDEN
