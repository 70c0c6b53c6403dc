"""The PyTorch golden pipeline (tools/goldens.py, autograder/course/<name>/authoring/oracle.py):
recorded outputs agree with the NumPy reference, their hashes go stale when a test or the oracle
changes, committed goldens are fresh, and the grader fails a submission that matches the reference
but not the golden."""

import dataclasses
import importlib
import os
import shutil

import numpy as np
import pytest

from autograder import assignments, engine, golden, wire
from autograder.sandbox import Sandbox
from tools import goldens

NAMES = [n for n in assignments.ASSIGNMENTS if goldens.available(n)]


def _left_out(name):
    """The student API PyTorch cannot compute (the oracle's LEFT_OUT): tests that call it get no golden."""
    return getattr(importlib.import_module(f"autograder.course.{name}.authoring.oracle"), "LEFT_OUT", ())


def _uses(test, name):
    return any(step[:2] == ["student", name] for step in test.script().to_message()["steps"])


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    """Every assignment recorded on the CPU by the command line, read back from its files."""
    out = tmp_path_factory.mktemp("goldens")
    goldens.main(["--allow-cpu", "-o", str(out), *NAMES])
    data = {}
    for name in NAMES:
        with open(out / f"{name}.golden", "rb") as f:
            data[name] = wire.decode(f.read())
    return data


@pytest.fixture(scope="module")
def reference_outputs(reference_outcomes):
    """{assignment: {test name: run_reference's result on the NumPy reference}} (conftest.py)."""
    return {name: reference_outcomes(name) for name in NAMES}


def _disagreements(name, data, reference):
    """(test, message) for every golden output the reference does not match within the test's
    tolerance, judged the way the grader judges a submission against a golden."""
    tests = {t.name: t for t in assignments.get(name).tests()}
    bad = []
    for test_name, entry in data["tests"].items():
        want = reference[test_name]
        if want.outputs is None:
            bad.append((test_name, f"the reference raised {want.raises}"))
            continue
        verdict = engine._compare_outputs(tests[test_name], entry["outputs"], want.outputs)
        if not verdict.passed:
            bad.append((test_name, verdict.message))
    return bad


@pytest.mark.parametrize("name", NAMES)
def test_oracle_agrees_with_the_numpy_reference(name, recorded, reference_outputs):
    data = recorded[name]
    assert data["provenance"]["device"] == "cpu"
    assert data["provenance"]["gpu"] == goldens.CPU_GPU_NAME
    assert data["tests"], f"{name}: nothing recorded"
    assert _disagreements(name, data, reference_outputs[name]) == []


@pytest.mark.parametrize("name", NAMES)
def test_every_test_with_numeric_outputs_gets_a_golden(name, recorded, reference_outputs):
    """Only tests the oracle cannot run by design go without: expected exceptions, judged
    properties, string-only outputs, and calls to names PyTorch cannot compute."""
    missing = []
    for test in assignments.get(name).tests():
        want = reference_outputs[name][test.name]
        if test.name in recorded[name]["tests"] or test.judge is not None:
            continue
        if want.raises is not None or not goldens.portable(want.outputs):
            continue
        if any(_uses(test, api) for api in _left_out(name)):
            continue
        missing.append(test.name)
    assert missing == []


def test_hashes_are_fresh_right_after_recording(recorded):
    for name, data in recorded.items():
        assert goldens.stale(name, data) == [], name


def test_stale_reports_a_test_whose_inputs_changed(recorded, monkeypatch):
    name = "cnn_layer"
    hidden = importlib.import_module(f"autograder.course.{name}.grader.hidden")
    index = next(i for i, t in enumerate(hidden.TESTS) if t.name == "conv1d_forward_basic")
    tests = list(hidden.TESTS)
    tests[index] = dataclasses.replace(tests[index], build=tests[index + 1].build)
    monkeypatch.setattr(hidden, "TESTS", tests)
    assert goldens.stale(name, recorded[name]) == ["conv1d_forward_basic"]


def test_stale_reports_a_test_that_no_longer_exists(recorded, monkeypatch):
    name = "momentum"
    hidden = importlib.import_module(f"autograder.course.{name}.grader.hidden")
    gone = hidden.TESTS[0].name
    monkeypatch.setattr(hidden, "TESTS", hidden.TESTS[1:])
    assert goldens.stale(name, recorded[name]) == [gone]


def test_stale_reports_every_test_when_the_oracle_changes(recorded, monkeypatch, tmp_path):
    name = "momentum"
    copies = []
    for file in goldens.oracle_files(name):
        copies.append(str(tmp_path / f"{len(copies)}_{os.path.basename(file)}"))
        shutil.copy(file, copies[-1])
    monkeypatch.setattr(goldens, "oracle_files", lambda _: copies)
    assert goldens.stale(name, recorded[name]) == []
    with open(copies[1], "a") as f:
        f.write("# an edit\n")
    assert goldens.stale(name, recorded[name]) == list(recorded[name]["tests"])


def test_refuses_without_a_gpu_unless_allowed(tmp_path):
    if goldens.oracle.DEVICE.type == "cuda":
        pytest.skip("this machine has a CUDA GPU")
    with pytest.raises(SystemExit, match="no CUDA GPU.*--allow-cpu"):
        goldens.main(["-o", str(tmp_path), "momentum"])
    assert not os.listdir(tmp_path)


COMMITTED = [n for n in NAMES if os.path.isfile(golden.path(n))]


@pytest.mark.skipif(not COMMITTED, reason="no GPU goldens committed yet: run `make goldens` on a CUDA machine")
@pytest.mark.parametrize("name", COMMITTED)
def test_committed_goldens_are_fresh_gpu_recordings_that_agree_with_the_reference(name, reference_outputs):
    data = golden.load(name)
    assert data["provenance"]["device"] == "cuda", f"{golden.path(name)} was not recorded on a GPU"
    assert {"gpu", "driver", "cuda", "torch", "date"} <= set(data["provenance"])
    assert goldens.stale(name, data) == [], "stale goldens: run `make goldens` on a CUDA machine"
    assert _disagreements(name, data, reference_outputs[name]) == []


def test_grader_fails_a_submission_that_differs_from_the_gpu_golden(tmp_path):
    """The reference sample matches the float64 reference; against a golden whose outputs are
    perturbed it must fail, and the message must say the golden is what it missed."""
    name = "cnn_layer"
    assignment = assignments.get(name)
    tests = [t for t in assignment.tests() if t.name in ("conv2d_forward_basic", "conv1d_forward_basic")]
    oracle = importlib.import_module(f"autograder.course.{name}.authoring.oracle")
    fake = {
        "provenance": {
            "gpu": "Fake GPU",
            "driver": "0",
            "cuda": "0",
            "torch": "0",
            "date": "2000-01-01",
            "device": "cuda",
        },
        "tests": {},
    }
    for test in tests:
        outputs = engine.run_reference(test.build, oracle).outputs
        if test.name == "conv1d_forward_basic":
            outputs = {k: v + 1e-3 * np.abs(v).max() for k, v in outputs.items()}
        fake["tests"][test.name] = {"hash": "", "calls": golden.calls_hash(test), "outputs": outputs}
    expected = engine.expected_values(tests, assignment.reference(), fake)
    sample = os.path.join(goldens.ROOT, "solution", f"{name}.py")
    with Sandbox(preload=assignment.preload) as sandbox:
        result = engine.grade_submission("reference", sample, assignment, tests, expected, sandbox)
    by_name = {t.name: t for t in result.tests}
    assert by_name["conv2d_forward_basic"].status == "passed", by_name["conv2d_forward_basic"].message
    failed = by_name["conv1d_forward_basic"]
    assert failed.status == "failed"
    assert "PyTorch outputs recorded on a GPU" in failed.message
    assert "Fake GPU" in failed.message


def test_grader_ignores_a_golden_recorded_for_other_calls():
    """A test edited after `make goldens` falls back to the reference alone (no false failures)."""
    assignment = assignments.get("cnn_layer")
    tests = [t for t in assignment.tests() if t.name == "conv1d_forward_basic"]
    outputs = engine.run_reference(tests[0].build, assignment.reference()).outputs
    stale_entry = {"hash": "", "calls": "0" * 64, "outputs": {k: v + 1.0 for k, v in outputs.items()}}
    fake = {"provenance": {"gpu": "Fake GPU"}, "tests": {"conv1d_forward_basic": stale_entry}}
    assert engine.expected_values(tests, assignment.reference(), fake)["conv1d_forward_basic"].golden is None
