"""Hidden tests for gpu_training (100 points with the public ones): the split itself, device
placement, two momentum steps, untouched batches, evaluate on a model with known predictions and
on one left in training mode, and a full training run measured by the grader (the trained
weights' accuracy on the test split >= 97%, the loss lowered on the grader's batches; on a GPU
grader also within a tight time budget measured around the call)."""

import functools

import numpy as np

from autograder.compare import PASS, Verdict, compare, describe, unwrap
from autograder.course.gpu_training.grader import probes
from autograder.course.gpu_training.public import (
    SHAPES,
    XB,
    YB,
    _initial_state,
    model_shapes,
    train_steps,
)
from autograder.course.gpu_training.public import (
    TESTS as PUBLIC,
)
from autograder.policy import FLOAT32_ATOL, FLOAT32_RTOL, Limits
from autograder.testcase import GradedTest

# tests/test_leaks.py fails when one of these (regular expressions, case-insensitive) appears in a
# file of the student zip; each must match the reference or the grader-only files.
FORMULAS = [
    r"optimizer\.zero_grad\(\)\s*[;\n]\s*(.*[;\n]\s*)?loss\s*=",  # the step's lines written together
    r"loss\.backward\(\)\s*[;\n]\s*optimizer\.step\(\)",
    r"model\.eval\(\)\s*[;\n](.*\n)?\s*with\s+torch\.no_grad\(\)",  # evaluate's mode and context
    r"\(\s*predictions\s*==\s*y\s*\)\.float\(\)\.mean\(\)",
    r"F\.cross_entropy\(\s*model\(\s*xb\s*\)\s*,\s*yb\s*\)",
]

_rng = np.random.default_rng(61)
LOGITS = _rng.standard_normal((20, 10))
Y_KNOWN = LOGITS.argmax(axis=1)
Y_KNOWN[:6] = (Y_KNOWN[:6] + 1) % 10  # 6 of 20 wrong: accuracy 0.7
MODE_LOGITS = _rng.standard_normal((20, 10))
Y_MODE = MODE_LOGITS.argmax(axis=1)
Y_MODE[:4] = (Y_MODE[:4] + 3) % 10  # eval mode: 0.8; train mode (all class 0): far less
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
    s.output("y_test", data[3])  # placement pays only for the right data


def _evaluate(s):
    device = s.student("get_device")()
    model = s.probe(probes.fixed_logits_model, LOGITS)
    X = s.lib("torch.zeros")(20, 1, 8, 8, device=device)
    y = s.probe("to_device", Y_KNOWN, "int64")(device)
    s.output("accuracy", s.student("evaluate")(model, X, y))


def _evaluate_in_eval_mode(s):
    device = s.student("get_device")()
    model = s.probe(probes.mode_dependent_model, MODE_LOGITS)
    model.train()  # left in training mode by the caller: evaluate must switch dropout off itself
    X = s.lib("torch.zeros")(20, 1, 8, 8, device=device)
    y = s.probe("to_device", Y_MODE, "int64")(device)
    s.output("accuracy", s.student("evaluate")(model, X, y))


def _inputs_unchanged(s):
    """train_step and evaluate on tensors read back afterwards, next to their results."""
    device = s.student("get_device")()
    model = s.probe("load_state", _initial_state())(s.student("DigitsCNN")(p_drop=0.0).to(device))
    optimizer = s.lib("torch.optim.SGD")(model.parameters(), lr=0.05, momentum=0.9)
    xb, yb = s.probe("to_device", XB, "float32")(device), s.probe("to_device", YB, "int64")(device)
    s.output("evaluate accuracy", s.student("evaluate")(model, xb, yb))
    s.output("train_step loss", s.student("train_step")(model, optimizer, xb, yb))
    s.output("xb after the calls", xb)
    s.output("yb after the calls", yb)


def _train(s):
    """train() on the grader's own copy of the split; what comes back is measured here (judge):
    the weights before and after, the trained model's logits on the test split, the wall time
    around the call, the data afterwards, and (only to compare) the history it reports."""
    s.lib("torch.manual_seed")(0)
    device = s.student("get_device")()
    data = s.probe(probes.pinned_digits)(device)
    model = s.student("DigitsCNN")()
    s.output("parameters before", s.probe("state_arrays")(model))
    clock = s.probe(probes.wall_clock)
    start = clock()
    history = s.student("train")(
        model,
        data,
        TRAIN_ARGS["epochs"],
        TRAIN_ARGS["batch_size"],
        TRAIN_ARGS["lr"],
        momentum=TRAIN_ARGS["momentum"],
        seed=TRAIN_ARGS["seed"],
    )
    s.output("measured seconds", clock() - start)
    s.output("history", history)
    s.output("parameters after", s.probe("state_arrays")(model))
    s.output("test logits", s.probe(probes.eval_logits)(model, data[2]))
    for name, i in (("X_train", 0), ("y_train", 1), ("X_test", 2), ("y_test", 3)):
        s.output(f"{name} after train", data[i])


@functools.lru_cache(maxsize=1)
def _pinned():
    """The split and the grader's own batches, made in the grader (trusted) process."""
    X_train, y_train, X_test, y_test = probes.digits_split()
    return {
        "X_train": X_train,
        "y_train": y_train,
        "X_test": X_test,
        "y_test": y_test,
        "batches": (X_train[:512], y_train[:512]),
    }


def _reference_logits(params, X):
    """The reference DigitsCNN with the given weights, in eval mode, on the host."""
    import torch

    from solution.gpu_training import DigitsCNN

    model = DigitsCNN(p_drop=0.0)
    model.load_state_dict({k: torch.as_tensor(np.asarray(v), dtype=torch.float32) for k, v in params.items()})
    model.eval()
    with torch.no_grad():
        return model(torch.as_tensor(X)).double().numpy()


def _cross_entropy(logits, y):
    z = logits - logits.max(axis=1, keepdims=True)
    return float(np.mean(np.log(np.exp(z).sum(axis=1)) - z[np.arange(len(y)), y]))


def _params(got, name):
    value, _ = unwrap(got.get(name))
    if (
        not isinstance(value, dict)
        or set(value) != set(SHAPES)
        or any(np.shape(unwrap(value[k])[0]) != SHAPES[k] for k in SHAPES)
    ):
        return None
    return {k: np.asarray(unwrap(v)[0], dtype=np.float64) for k, v in value.items()}


def _judge_training(budget=None):
    def judge(expected, got):
        pinned = _pinned()
        history, _ = unwrap(got.get("history"))
        if not isinstance(history, dict) or not {"loss", "test_acc", "seconds"} <= set(history):
            return Verdict(False, "train must return a dict with keys 'loss', 'test_acc', 'seconds'")
        epochs = TRAIN_ARGS["epochs"]
        lengths = {k: len(v) if isinstance(v, (list, tuple)) else None for k, v in history.items()}
        if any(lengths[k] != epochs for k in ("loss", "test_acc", "seconds")):
            return Verdict(False, f"one entry per epoch expected ({epochs}), got lengths {lengths}")
        for name in ("X_train", "y_train", "X_test", "y_test"):
            verdict = compare(pinned[name], got.get(f"{name} after train"), rtol=0, atol=1e-6, name=name)
            if not verdict.passed:
                return Verdict(False, f"train changed the data it was given: {verdict.message}")
        before, after = _params(got, "parameters before"), _params(got, "parameters after")
        if before is None or after is None:
            return Verdict(
                False,
                f"the model's state_dict must hold exactly {sorted(SHAPES)} with the spec's "
                "shapes before and after train",
            )
        if max(np.abs(after[k] - before[k]).max() for k in SHAPES) < 1e-4:
            return Verdict(False, "train did not change the model's weights: it must train the model it is given")
        logits, _ = unwrap(got.get("test logits"))
        reference = _reference_logits(after, pinned["X_test"])
        if np.shape(logits) != reference.shape or not np.isfinite(logits).all():
            return Verdict(
                False,
                f"the trained model's test logits: expected finite values of shape "
                f"{reference.shape}, got {describe(logits)}",
            )
        agree = float(np.mean(np.argmax(logits, axis=1) == reference.argmax(axis=1)))
        if agree < 0.99:
            return Verdict(
                False,
                f"the trained model's predictions are not those of DigitsCNN with the weights it "
                f"holds ({agree:.1%} agree)",
            )
        X_batch, y_batch = pinned["batches"]
        loss_before = _cross_entropy(_reference_logits(before, X_batch), y_batch)
        loss_after = _cross_entropy(_reference_logits(after, X_batch), y_batch)
        if not loss_after < 0.5 * loss_before:
            return Verdict(
                False,
                f"training did not lower the loss on the grader's batches enough: "
                f"{loss_before:.3f} before, {loss_after:.3f} after",
            )
        measured = float(np.mean(np.argmax(logits, axis=1) == pinned["y_test"]))
        if measured < 0.97:
            return Verdict(
                False,
                f"the trained model scores {measured:.3f} < 0.97 on the test split after {epochs} "
                f"epochs (measured by the grader; reference: {_reference_accuracy(expected):.3f})",
            )
        reported = history["test_acc"][-1]
        if not isinstance(reported, (int, float)) or not abs(reported - measured) <= 0.02:
            return Verdict(
                False,
                f"train reports a final test_acc of {reported!r}, but the model it trained scores "
                f"{measured:.3f} on the test split (measured by the grader)",
            )
        seconds = got.get("measured seconds")
        if budget is not None and not (isinstance(seconds, float) and seconds <= budget):
            return Verdict(
                False,
                f"{epochs} epochs took {seconds:.2f} s on the GPU (measured by the grader); the "
                f"budget is {budget} s (keep the data on the device, no per-batch host transfers)",
            )
        return PASS

    return judge


def _reference_accuracy(expected):
    logits = np.asarray(expected["test logits"])
    return float(np.mean(logits.argmax(axis=1) == _pinned()["y_test"]))


HIDDEN = [
    GradedTest(
        "digits_split_is_sklearns",
        "6.1",
        5,
        _split,
        hint="use sklearn.datasets.load_digits and train_test_split(X, y, test_size=0.25, random_state=0, "
        "stratify=y); X = images/16",
    ),
    GradedTest(
        "data_lives_on_get_device", "6.1", 5, _placement, hint="move the four tensors to the device you are given, once"
    ),
    GradedTest("digits_cnn_without_dropout", "6.2", 5, model_shapes(0.0), rtol=1e-4, atol=1e-5),
    GradedTest(
        "train_step_two_momentum_steps",
        "6.3",
        8,
        train_steps(2, lr=0.05, momentum=0.9),
        rtol=FLOAT32_RTOL,
        atol=FLOAT32_ATOL,
        timeout=60,
        limits=TORCH_LIMITS,
        hint="the optimizer is the caller's: call zero_grad, backward and step on it, once per call",
    ),
    GradedTest(
        "train_step_evaluate_inputs_unchanged",
        "6.3",
        2,
        _inputs_unchanged,
        rtol=FLOAT32_RTOL,
        atol=FLOAT32_ATOL,
        timeout=60,
        limits=TORCH_LIMITS,
        hint="train_step and evaluate must not modify the batch tensors they are given",
    ),
    GradedTest(
        "evaluate_known_predictions",
        "6.3",
        5,
        _evaluate,
        atol=1e-6,
        hint="accuracy = mean(argmax(model(X), dim=1) == y) under torch.no_grad() in eval mode",
    ),
    GradedTest(
        "evaluate_in_eval_mode",
        "6.3",
        5,
        _evaluate_in_eval_mode,
        atol=1e-6,
        hint="evaluate must call model.eval() (dropout off) before predicting, and put the model back "
        "in the mode it was in afterwards",
    ),
    GradedTest(
        "train_reaches_97_percent",
        "6.4",
        20,
        _train,
        judge=_judge_training(),
        timeout=240,
        limits=TORCH_LIMITS,
        hint="shuffle with a torch.Generator seeded by `seed`, step through "
        "minibatches, SGD(lr, momentum); record loss, test_acc, seconds per epoch",
    ),
    GradedTest(
        "train_on_gpu_within_budget",
        "6.4",
        10,
        _train,
        judge=_judge_training(GPU_BUDGET_SECONDS),
        timeout=120,
        limits=Limits(cpu_seconds=240, memory_bytes=0),
        needs_gpu=True,
    ),
]

TESTS = PUBLIC + HIDDEN
