"""The grader pays for right answers only: blank, NaN and all-zero submissions score 0 in every
assignment; a property (inputs unchanged, an error on invalid input) pays only with right results;
every known slip reproduces a real, different answer; training is measured by the grader."""

import ast
import os

import numpy as np
import pytest

from autograder import assignments, compare, engine, script
from tools.generate import ROOT

NAMES = list(assignments.ASSIGNMENTS)

# Appended to a garbled module: every float the reference returns or stores on an object becomes
# FILL, with its shape, dtype, device and autograd graph kept; ints become 0; bools and objects stay.
_GARBLE = """

def _garble(value):
    import sys
    import numpy
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(value, torch.Tensor):
        return value * 0 + FILL if value.is_floating_point() else value * 0
    if isinstance(value, numpy.ndarray) and value.dtype.kind in "fiu":
        return (value * 0 + FILL).astype(value.dtype) if value.dtype.kind == "f" else value * 0
    if isinstance(value, (float, numpy.floating)):
        return type(value)(FILL)
    if type(value) is int:
        return 0
    if type(value) in (tuple, list):
        return type(value)(_garble(v) for v in value)
    if type(value) is dict:
        return {k: _garble(v) for k, v in value.items()}
    return value
"""


class _Garbler(ast.NodeTransformer):
    """`return x` -> `return _garble(x)` in the student API (the names in __all__, methods
    included) and `obj.attr = x` -> `obj.attr = _garble(x)` everywhere: the reference's own
    shapes, with every float it hands out replaced. Private helpers (input checks) stay right."""

    def __init__(self, public):
        self.public, self.inside_public = set(public), False

    def _visit_definition(self, node):
        if self.inside_public or node.name not in self.public:
            return self.generic_visit(node)
        self.inside_public = True
        try:
            return self.generic_visit(node)
        finally:
            self.inside_public = False

    visit_FunctionDef = visit_ClassDef = _visit_definition

    def visit_Return(self, node):
        if node.value is not None and self.inside_public:
            node.value = _call_garble(node.value)
        return node

    def visit_Assign(self, node):
        if any(isinstance(t, ast.Attribute) for t in node.targets):
            node.value = _call_garble(node.value)
        return node


def _call_garble(value):
    return ast.Call(func=ast.Name("_garble", ast.Load()), args=[value], keywords=[])


def garbled(name, fill) -> str:
    """The reference solution of `name` computing `fill` (nan or 0.0) wherever it computes a float."""
    reference = assignments.get(name).reference()
    with open(os.path.join(ROOT, "solution", f"{name}.py")) as f:
        tree = _Garbler(reference.__all__).visit(ast.parse(f.read()))
    return ast.unparse(ast.fix_missing_locations(tree)) + _GARBLE + f"\nFILL = float({str(fill)!r})\n"


def _grade(name, submissions, tmp_path, test_names=None):
    """{student: SubmissionResult} for {student: source}, graded by the engine as `make grade` does."""
    assignment = assignments.get(name)
    tests = [t for t in assignment.tests() if test_names is None or t.name in test_names]
    expected = engine.expected_values(tests, assignment.reference())
    folder = tmp_path / name
    folder.mkdir()
    entries = []
    for student, source in submissions.items():
        (folder / f"{student}.py").write_text(source)
        entries.append((student, str(folder / f"{student}.py")))
    results = engine.grade_all(assignment, entries, tests=tests, expected=expected, jobs=2)
    return {r.student: r for r in results}


def _reference_source(name):
    with open(os.path.join(ROOT, "solution", f"{name}.py")) as f:
        return f.read()


@pytest.mark.parametrize("name", NAMES)
def test_blank_nan_and_zero_submissions_score_zero(name, graded_samples, tmp_path):
    """NaN and zeros graded here; the blank skeleton and the reference (full marks) are the samples
    `make grade` graded (conftest.py, tests/test_grading.py)."""
    results = _grade(name, {"nan": garbled(name, float("nan")), "zeros": garbled(name, 0.0)}, tmp_path)
    results["blank"] = graded_samples(name).results["blank"]
    for student in ("blank", "nan", "zeros"):
        paid = [(t.name, t.points) for t in results[student].tests if t.points]
        assert paid == [], f"{name}: the {student} submission earns points"
    # The garbage is well formed: most of its failures are wrong values, not exceptions.
    for student in ("nan", "zeros"):
        failed = [t for t in results[student].tests if t.status == "failed"]
        wrong_values = [t for t in failed if not t.message.startswith(("raised", "the module failed"))]
        assert len(wrong_values) >= len(failed) / 2, [(t.name, t.message[:80]) for t in failed]


def _outputs_of_student_code(message, upto=None):
    """Names of outputs whose value a recorded step computes (not an input read back as given)."""
    steps = message["steps"]
    return [name for name, i in message["outputs"].items() if (upto is None or i < upto) and steps[i][0] != "const"]


@pytest.mark.parametrize("name", NAMES)
def test_every_graded_test_judges_a_result_of_student_code(name, reference_outcomes):
    """A test that reads back only its inputs, or only expects an error, could pay a wrong answer."""
    assignment = assignments.get(name)
    for test in assignment.tests():
        message = test.script().to_message()
        want = reference_outcomes(name)[test.name]
        if want.raises is not None:
            assert _outputs_of_student_code(message, want.step), f"{test.name}: no valid call is judged"
            assert want.valid, test.name
        else:
            assert _outputs_of_student_code(message), f"{test.name}: judges no result of the student's code"


SLIPS = [
    (name, test.name, index)
    for name in NAMES
    for test in assignments.get(name).tests()
    for index in range(len(test.slips))
]


@pytest.mark.parametrize("name,test_name,index", SLIPS)
def test_every_slip_reproduces_a_different_answer(name, test_name, index, reference_outcomes):
    """A slip's values come from valid calls (the reference's input checks would otherwise turn
    it into an exception and the hint would never show) and differ from the right answer."""
    assignment = assignments.get(name)
    test = next(t for t in assignment.tests() if t.name == test_name)
    slip = test.slips[index]
    alt = engine.run_reference(slip.build, assignment.reference())
    assert alt.outputs is not None, f"{slip.hint[:60]!r}: the reference raised {alt.raises}"
    want = reference_outcomes(name)[test_name].outputs
    shared = [k for k in alt.outputs if k in want]
    assert shared, "the slip names none of the test's outputs"
    assert any(not compare.compare(want[k], alt.outputs[k], rtol=test.rtol, atol=test.atol).passed for k in shared), (
        f"{slip.hint[:60]!r} gives the right answer"
    )


def _replace_body(source, function, body):
    """`source` with `function`'s definition replaced by `body` (a full def or class)."""
    tree = ast.parse(source)
    node = next(n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef)) and n.name == function)
    lines = source.splitlines(keepends=True)
    start = node.lineno - 1 - len(node.decorator_list)
    return "".join(lines[:start]) + body + "".join(lines[node.end_lineno :])


def test_a_property_pays_only_with_right_results(tmp_path):
    """An error raised from every call (valid ones too) earns no point for rejecting bad input, and
    untouched inputs earn none next to wrong results."""
    reference = _reference_source("dropout")
    always_raises = _replace_body(
        reference,
        "dropout_forward",
        (
            "def dropout_forward(x, p, train=True, rng=None, mask=None):\n"
            "    raise ValueError('dropout_forward: p must be in [0, 1)')\n"
        ),
    )
    scaled = _replace_body(
        reference,
        "classic_test_weights",
        (
            "def classic_test_weights(W, p):\n"
            "    if not 0 <= p < 1:\n"
            "        raise ValueError('classic_test_weights: p must be in [0, 1)')\n"
            "    return W / (1 - p)\n"
        ),
    )
    names = {
        "dropout_forward_rejects_p_one",
        "dropout_forward_rejects_negative_p",
        "dropout_inputs_unchanged",
        "classic_test_weights_rejects_p_one",
        "classic_test_weights_input_unchanged",
    }
    results = _grade(
        "dropout", {"always_raises": always_raises, "scaled": scaled, "reference": reference}, tmp_path, names
    )
    by_test = {s: {t.name: t for t in r.tests} for s, r in results.items()}
    assert all(t.status == "passed" for t in by_test["reference"].values())
    raises = by_test["always_raises"]
    for test in ("dropout_forward_rejects_p_one", "dropout_forward_rejects_negative_p", "dropout_inputs_unchanged"):
        assert raises[test].points == 0, test
    assert "already in a valid call" in raises["dropout_forward_rejects_p_one"].message
    wrong = by_test["scaled"]
    assert wrong["classic_test_weights_rejects_p_one"].points == 0
    assert "valid call before the invalid one is wrong" in wrong["classic_test_weights_rejects_p_one"].message
    assert wrong["classic_test_weights_input_unchanged"].points == 0
    assert wrong["classic_test_weights_input_unchanged"].message.startswith(
        "inputs left unchanged pay only next to right results, and a result is wrong: W_test"
    )


def test_valid_calls_are_the_steps_before_the_raising_one():
    s = script.Script()
    f = s.student("f")
    s.output("first", f(1))
    s.output("second", f(2))
    f(-1)
    assert script.valid_calls(s.to_message(), 3) == {"steps": s.steps[:3], "outputs": {"first": 1, "second": 2}}
    assert script.valid_calls(s.to_message(), 2) == {"steps": s.steps[:2], "outputs": {"first": 1}}


# -------------------------------------------------------------------- gpu_training: measured, not told

_MADE_UP_TRAIN = '''def train(model, data, epochs, batch_size, lr, momentum=0.9, seed=0):
    """A history that looks like training; the model is never touched."""
    return {"loss": [1.0 / (e + 1) for e in range(epochs)], "test_acc": [0.99] * epochs,
            "seconds": [0.1 * (e + 1) for e in range(epochs)]}
'''

_ZERO_MODEL = '''class DigitsCNN(nn.Module):
    """Six zero parameters with the spec's names and shapes; forward returns zeros."""

    def __init__(self, p_drop=0.25):
        super().__init__()
        for name, shapes in (("conv1", ((16, 1, 3, 3), (16,))), ("conv2", ((32, 16, 3, 3), (32,))),
                             ("fc", ((10, 512), (10,)))):
            layer = nn.Module()
            layer.weight = nn.Parameter(torch.zeros(shapes[0]))
            layer.bias = nn.Parameter(torch.zeros(shapes[1]))
            setattr(self, name, layer)

    def forward(self, x):
        return torch.zeros(x.shape[0], 10, device=x.device) + 0 * self.fc.bias
'''


@pytest.fixture(scope="module")
def gpu_graded(tmp_path_factory):
    pytest.importorskip("torch")
    reference = _reference_source("gpu_training")
    submissions = {
        "made_up_history": _replace_body(reference, "train", _MADE_UP_TRAIN),
        "zero_model": _replace_body(reference, "DigitsCNN", _ZERO_MODEL),
    }
    names = {"digits_cnn_layers", "digits_cnn_without_dropout", "train_reaches_97_percent"}
    results = _grade("gpu_training", submissions, tmp_path_factory.mktemp("gpu"), names)
    return {s: {t.name: t for t in r.tests} for s, r in results.items()}


def test_reference_trains_and_passes_the_measured_checks(graded_samples):
    """The reference sample as `make grade` graded it (conftest.py)."""
    tests = {t.name: t.status for t in graded_samples("gpu_training").results["reference"].tests}
    names = ("digits_cnn_layers", "digits_cnn_without_dropout", "train_reaches_97_percent")
    assert {n: tests[n] for n in names} == dict.fromkeys(names, "passed")


def test_a_made_up_history_earns_nothing(gpu_graded):
    test = gpu_graded["made_up_history"]["train_reaches_97_percent"]
    assert test.points == 0
    assert "did not change the model's weights" in test.message


def test_zero_parameters_of_the_right_shapes_earn_nothing(gpu_graded):
    for name in ("digits_cnn_layers", "digits_cnn_without_dropout"):
        test = gpu_graded["zero_model"][name]
        assert test.points == 0 and "logits with fixed weights" in test.message, test.message
    assert gpu_graded["zero_model"]["train_reaches_97_percent"].points == 0


def test_accuracy_is_measured_from_the_returned_weights():
    """The judge recomputes predictions with the reference DigitsCNN: logits that do not come
    from the weights, or a reported accuracy that differs from the measured one, fail."""
    from autograder.course.gpu_training.grader import hidden

    pinned = hidden._pinned()
    rng = np.random.default_rng(0)
    before = {k: rng.uniform(-0.1, 0.1, shape) for k, shape in hidden.SHAPES.items()}
    after = {k: v + 0.01 for k, v in before.items()}
    honest_logits = hidden._reference_logits(after, pinned["X_test"])
    got = {
        "history": {"loss": [1.0] * 15, "test_acc": [0.99] * 15, "seconds": [1.0] * 15},
        "parameters before": before,
        "parameters after": after,
        "measured seconds": 1.0,
        **{f"{k} after train": pinned[k] for k in ("X_train", "y_train", "X_test", "y_test")},
    }
    judge = hidden._judge_training()
    forged = np.eye(10)[pinned["y_test"]] * 5.0  # perfect predictions not made by the weights
    verdict = judge({"test logits": forged}, dict(got, **{"test logits": forged}))
    assert not verdict.passed and "not those of DigitsCNN" in verdict.message
    verdict = judge({"test logits": forged}, dict(got, **{"test logits": honest_logits}))
    assert not verdict.passed and "did not lower the loss" in verdict.message


def test_reported_numbers_are_only_compared_with_measured_ones(reference_training):
    from autograder.course.gpu_training.grader import hidden

    got = reference_training
    assert hidden._judge_training()(got, got).passed
    history = dict(got["history"], test_acc=[0.5] * 15)
    verdict = hidden._judge_training()(got, dict(got, history=history))
    assert not verdict.passed and "train reports a final test_acc of 0.5" in verdict.message
    assert "measured by the grader" in verdict.message
    slow = dict(got, **{"measured seconds": hidden.GPU_BUDGET_SECONDS + 1.0})
    verdict = hidden._judge_training(hidden.GPU_BUDGET_SECONDS)(got, slow)
    assert not verdict.passed and "took" in verdict.message
    assert hidden._judge_training(hidden.GPU_BUDGET_SECONDS)(got, dict(got, **{"measured seconds": 0.5})).passed


def test_training_that_changes_its_data_fails(reference_training):
    from autograder.course.gpu_training.grader import hidden

    got = reference_training
    scaled = dict(got, **{"X_test after train": np.asarray(got["X_test after train"]["$tensor"]) * 16})
    verdict = hidden._judge_training()(got, scaled)
    assert not verdict.passed and "changed the data" in verdict.message
