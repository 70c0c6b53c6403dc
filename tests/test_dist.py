"""`make dist`: reproducible zips, and refusals that name the file and the reason (`otter run` on
the built zip, giving the scores of `make grade`, is tests/test_otter_run.py)."""

import hashlib
import os
import subprocess
import sys
import zipfile

import nbformat
import pytest
import yaml

from autograder import assignments
from autograder.course import samples
from tools import dist
from tools.generate import ROOT

NAMES = list(assignments.ASSIGNMENTS)


# ---------------------------------------------------------------- student zip refusals


@pytest.fixture(scope="module")
def student():
    """cnn_layer's student zip files (the tests pass edited copies, never change it)."""
    return dist.student_files("cnn_layer")


def test_clean_student_zip_passes(student):
    dist.check_student_zip("cnn_layer-student.zip", student, "cnn_layer")


def _refused(files, match):
    with pytest.raises(dist.ReleaseError, match=match):
        dist.check_student_zip("cnn_layer-student.zip", files, "cnn_layer")


def test_refuses_a_line_of_solution_code(student):
    skeleton = student["cnn_layer/cnn_layer.py"].decode()
    leaked = skeleton + "    db = dout.sum(axis=(0, 2, 3))\n"
    _refused(
        {**student, "cnn_layer/cnn_layer.py": leaked.encode()},
        r"cnn_layer/cnn_layer\.py:\d+: contains a line of the reference solution",
    )


def test_refuses_hidden_tests_by_path_and_by_name(student):
    _refused(
        {**student, "cnn_layer/autograder/course/cnn_layer/hidden.py": b"x = 1\n"}, r"cnn_layer/hidden\.py: not allowed"
    )
    _refused(
        {**student, "cnn_layer/notes.md": b"see conv2d_backward_stride2_pad1\n"},
        r"notes\.md: names the hidden test 'conv2d_backward_stride2_pad1'",
    )


@pytest.mark.parametrize(
    "path",
    [
        "cnn_layer/autograder/__pycache__/engine.cpython-311.pyc",
        "cnn_layer/.ipynb_checkpoints/cnn_layer-checkpoint.ipynb",
        "cnn_layer/.OTTER_LOG",
        "cnn_layer/autograder/course/cnn_layer/grader/gpu.golden",
        "cnn_layer/autograder/course/cnn_layer/authoring/samples.toml",
        "cnn_layer/autograder/course/samples.py",
        "cnn_layer/autograder/course/cnn_layer/authoring/oracle.py",
        "cnn_layer/solution/cnn_layer.py",
    ],
)
def test_refuses_caches_goldens_and_solutions(student, path):
    _refused({**student, path: b"\x00"}, "not allowed in a student zip")


def test_refuses_expected_values_other_than_the_public_ones(student):
    _refused({**student, "cnn_layer/autograder/course/all.expected": b""}, "expected values other than the public")


def test_refuses_notebook_outputs(student):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1 + 1", execution_count=1)])
    _refused({**student, "cnn_layer/cnn_layer.ipynb": nbformat.writes(nb).encode()}, r"cell 0 has outputs")


# ---------------------------------------------------------------- the built autograder zip


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """cnn_layer's zips built twice into two folders (no verification: that is tested below)."""
    first, second = tmp_path_factory.mktemp("dist1"), tmp_path_factory.mktemp("dist2")
    code = f"from tools import dist; dist.build({str(second)!r}, ['cnn_layer'], verify=False)"
    other = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT)  # a second process, side by side
    dist.build(str(first), ["cnn_layer"], verify=False)
    assert other.wait() == 0
    return first, second


def test_two_builds_give_identical_bytes(built):
    first, second = built
    names = sorted(os.listdir(first))
    assert names == ["MANIFEST.sha256", "cnn_layer-autograder.zip", "cnn_layer-student.zip", "solutions.zip"]
    for name in names:
        assert (first / name).read_bytes() == (second / name).read_bytes(), name
    manifest = (first / "MANIFEST.sha256").read_text().splitlines()
    for line in manifest:
        digest, name = line.split("  ")
        assert hashlib.sha256((first / name).read_bytes()).hexdigest() == digest


def test_zip_entries_have_no_machine_paths_or_timestamps(built):
    with zipfile.ZipFile(built[0] / "cnn_layer-autograder.zip") as zf:
        for info in zf.infolist():
            assert info.date_time == dist.EPOCH and not info.filename.startswith("/")
        text = b"".join(zf.read(n) for n in zf.namelist())
    assert ROOT.encode() not in text


def test_student_zip_works_on_its_own(built, tmp_path):
    """Unzipped alone, the student zip's self-check runs and reports the stubs."""
    with zipfile.ZipFile(built[0] / "cnn_layer-student.zip") as zf:
        zf.extractall(tmp_path)
    import subprocess
    import sys

    proc = subprocess.run(
        [sys.executable, "-m", "autograder", "check", "cnn_layer"],
        cwd=tmp_path / "cnn_layer",
        capture_output=True,
        text=True,
        env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"},
    )
    assert proc.returncode == 1
    assert "not implemented yet" in proc.stdout and "0/3 public checks passed" in proc.stdout


def test_refuses_when_a_buggy_sample_is_not_caught(built, tmp_path, monkeypatch):
    """The samples graded by the zip's engine; Otter's runs on the reference and the blank skeleton
    stood in for by their right scores (real Otter runs: the test below, the Otter tests, make dist)."""
    monkeypatch.setattr(
        dist, "otter_run", lambda _, path, *args: (100.0 if path.endswith("reference.py") else 0.0, 100.0)
    )
    made = samples.sources("cnn_layer")
    sources = {"reference": made["reference"], "blank": made["blank"], "looks_buggy": made["reference"]}
    work = tmp_path / "work"
    work.mkdir()
    with pytest.raises(dist.ReleaseError, match=r"the buggy sample looks_buggy\.py is not caught"):
        dist.verify_autograder_zip(str(built[0] / "cnn_layer-autograder.zip"), "cnn_layer", str(work), sources)


def test_refuses_when_the_reference_in_the_zip_is_wrong(built, tmp_path):
    """An autograder zip whose reference is buggy cannot give the reference sample full marks."""
    broken = tmp_path / "broken.zip"
    with zipfile.ZipFile(built[0] / "cnn_layer-autograder.zip") as zf:
        files = {n: zf.read(n) for n in zf.namelist()}
    flipped = samples.sources("cnn_layer")["kernel_flipped"].encode()
    files["solution/cnn_layer.py"] = flipped
    dist.write_zip(str(broken), files)
    work = tmp_path / "work"
    work.mkdir()
    reference_and_blank = {k: v for k, v in samples.sources("cnn_layer").items() if k in ("reference", "blank")}
    with pytest.raises(dist.ReleaseError, match=r"the reference scores \d+(\.\d+)?/100(\.0)?, not full marks"):
        dist.verify_autograder_zip(str(broken), "cnn_layer", str(work), reference_and_blank)


def test_autograder_zip_carries_only_its_own_assignment(built):
    with zipfile.ZipFile(built[0] / "cnn_layer-autograder.zip") as zf:
        names = zf.namelist()
    per_assignment = [n for n in names if n.startswith(("autograder/course/", "solution/"))]
    assert sorted(per_assignment) == [
        "autograder/course/__init__.py",
        "autograder/course/cnn_layer/__init__.py",
        "autograder/course/cnn_layer/assignment.toml",
        "autograder/course/cnn_layer/grader/__init__.py",
        "autograder/course/cnn_layer/grader/hidden.py",
        "autograder/course/cnn_layer/public.expected",
        "autograder/course/cnn_layer/public.py",
        "solution/__init__.py",
        "solution/cnn_layer.py",
    ]
    assert not any(
        n.startswith("autograder/course/") and n.endswith(("samples.toml", "samples.py", "notebook.py")) for n in names
    )


# ---------------------------------------------------------------- what each zip installs


def _requirement(line):
    name, _, version = line.partition("==")
    return name.split("[")[0].lower(), version


def _check_pins(name, lines):
    """Every package pinned to what the kit runs with; torch (the CPU build) and scikit-learn for
    gpu_training only."""
    from importlib.metadata import version

    options = [line for line in lines if line.startswith("-")]
    packages = dict(_requirement(line) for line in lines if not line.startswith("-"))
    for package, pinned in packages.items():
        installed = version(package).split("+")[0]
        assert pinned in (installed, f"{installed}+cpu"), (package, pinned, installed)
    if name == "gpu_training":
        assert packages["torch"] == version("torch").split("+")[0] + "+cpu"
        assert options == [f"--extra-index-url {dist.TORCH_CPU_INDEX}"]
        assert "scikit-learn" in packages
    else:
        assert not any("torch" in line for line in lines) and options == []
        assert "scikit-learn" not in packages
    return packages


@pytest.mark.parametrize("name", NAMES)
def test_requirements_pin_the_tested_versions_and_torch_only_where_needed(name):
    """What autograder_zip_files gives `otter generate -r` for each assignment."""
    _check_pins(name, dist.gradescope_requirements(name))


@pytest.mark.parametrize("name", ["momentum", "gpu_training"])
def test_zip_installs_the_tested_versions_and_torch_only_where_needed(name, autograder_zip):
    """The environment.yml Otter made from those requirements, in a NumPy zip and the torch one."""
    from importlib.metadata import requires

    with zipfile.ZipFile(autograder_zip(name)[0]) as zf:
        env = yaml.safe_load(zf.read("environment.yml"))
    conda = [d for d in env["dependencies"] if isinstance(d, str)]
    (pip,) = [d["pip"] for d in env["dependencies"] if isinstance(d, dict)]
    assert f"python={sys.version_info.major}.{sys.version_info.minor}" in conda
    packages = _check_pins(name, pip)
    assert {"otter-grader", "numpy", "nbformat"} <= set(packages)
    assert "torch" not in " ".join(requires("otter-grader"))  # nor does Otter pull it in
