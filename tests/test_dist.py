"""`make dist`: reproducible zips, refusals that name the file and the reason, and Otter
(`otter run` on the built autograder zip) giving exactly the scores of `make grade`."""
import hashlib
import io
import os
import shutil
import zipfile
from concurrent.futures import ThreadPoolExecutor

import nbformat
import pytest

from autograder import assignments
from tools import dist
from tools.generate import ROOT

SAMPLES = os.path.join(ROOT, "autograder", "samples")
NAMES = [n for n in assignments.ASSIGNMENTS if os.path.isdir(os.path.join(SAMPLES, n))]


# ---------------------------------------------------------------- student zip refusals

@pytest.fixture
def student():
    return dist.student_files("cnn_layer")


def test_clean_student_zip_passes(student):
    dist.check_student_zip("cnn_layer-student.zip", student, "cnn_layer")


def _refused(files, match):
    with pytest.raises(dist.ReleaseError, match=match):
        dist.check_student_zip("cnn_layer-student.zip", files, "cnn_layer")


def test_refuses_a_line_of_solution_code(student):
    skeleton = student["cnn_layer/cnn_layer.py"].decode()
    leaked = skeleton + "    db = dout.sum(axis=(0, 2, 3))\n"
    _refused({**student, "cnn_layer/cnn_layer.py": leaked.encode()},
             r"cnn_layer/cnn_layer\.py:\d+: contains a line of the reference solution")


def test_refuses_hidden_tests_by_path_and_by_name(student):
    _refused({**student, "cnn_layer/autograder/hidden/cnn_layer.py": b"x = 1\n"}, r"hidden/cnn_layer\.py: not allowed")
    _refused({**student, "cnn_layer/notes.md": b"see conv2d_backward_stride2_pad1\n"},
             r"notes\.md: names the hidden test 'conv2d_backward_stride2_pad1'")


@pytest.mark.parametrize("path", ["cnn_layer/autograder/__pycache__/engine.cpython-311.pyc",
                                  "cnn_layer/.ipynb_checkpoints/cnn_layer-checkpoint.ipynb",
                                  "cnn_layer/.OTTER_LOG", "cnn_layer/autograder/goldens/cnn_layer.npz",
                                  "cnn_layer/solution/cnn_layer.py"])
def test_refuses_caches_goldens_and_solutions(student, path):
    _refused({**student, path: b"\x00"}, "not allowed in a student zip")


def test_refuses_expected_values_other_than_the_public_ones(student):
    _refused({**student, "cnn_layer/autograder/public/all.expected": b""}, "expected values other than the public")


def test_refuses_notebook_outputs(student):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1 + 1", execution_count=1)])
    _refused({**student, "cnn_layer/cnn_layer.ipynb": nbformat.writes(nb).encode()}, r"cell 0 has outputs")


# ---------------------------------------------------------------- the built autograder zip

@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """cnn_layer's zips built twice into two folders (no verification: that is tested below)."""
    first, second = tmp_path_factory.mktemp("dist1"), tmp_path_factory.mktemp("dist2")
    dist.build(str(first), ["cnn_layer"], verify=False)
    dist.build(str(second), ["cnn_layer"], verify=False)
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
    proc = subprocess.run([sys.executable, "-m", "autograder", "check", "cnn_layer"], cwd=tmp_path / "cnn_layer",
                          capture_output=True, text=True, env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"})
    assert proc.returncode == 1
    assert "not implemented yet" in proc.stdout and "0/3 public checks passed" in proc.stdout


def test_refuses_when_a_buggy_sample_is_not_caught(built, tmp_path, monkeypatch):
    samples = tmp_path / "samples" / "cnn_layer"
    shutil.copytree(os.path.join(SAMPLES, "cnn_layer"), samples)
    shutil.copy(samples / "reference.py", samples / "looks_buggy.py")
    monkeypatch.setattr(dist, "ROOT", str(tmp_path / "fake"))
    os.makedirs(tmp_path / "fake" / "autograder")
    os.symlink(tmp_path / "samples", tmp_path / "fake" / "autograder" / "samples")
    work = tmp_path / "work"
    work.mkdir()
    with pytest.raises(dist.ReleaseError, match=r"the buggy sample looks_buggy\.py is not caught"):
        dist.verify_autograder_zip(str(built[0] / "cnn_layer-autograder.zip"), "cnn_layer", str(work))


def test_refuses_when_the_reference_in_the_zip_is_wrong(built, tmp_path):
    """An autograder zip whose reference is buggy cannot give the reference sample full marks."""
    broken = tmp_path / "broken.zip"
    with zipfile.ZipFile(built[0] / "cnn_layer-autograder.zip") as zf:
        files = {n: zf.read(n) for n in zf.namelist()}
    flipped = open(os.path.join(SAMPLES, "cnn_layer", "kernel_flipped.py"), "rb").read()
    files["solution/cnn_layer.py"] = flipped
    dist.write_zip(str(broken), files)
    work = tmp_path / "work"
    work.mkdir()
    with pytest.raises(dist.ReleaseError, match=r"the reference scores \d+(\.\d+)?/100(\.0)?, not full marks"):
        dist.verify_autograder_zip(str(broken), "cnn_layer", str(work))


# ---------------------------------------------------------------- Otter and make grade agree

@pytest.mark.parametrize("name", NAMES)
def test_otter_run_gives_the_same_scores_as_make_grade(name, tmp_path):
    from autograder.cli import grade_folder
    from rich.console import Console
    work = tmp_path / "work"
    work.mkdir()
    zip_path = str(tmp_path / f"{name}-autograder.zip")
    dist.write_zip(zip_path, dist.autograder_zip_files(name, str(work / "gen")),
                   executable={"run_autograder", "setup.sh"})
    source = str(work / "unzipped")
    zipfile.ZipFile(zip_path).extractall(source)
    folder = os.path.join(SAMPLES, name)
    results = grade_folder(assignments.get(name), folder, str(tmp_path / "out"), jobs=2,
                           console=Console(file=io.StringIO()))
    ours = {r.student: r.score for r in results}
    files = sorted(os.listdir(folder))
    with ThreadPoolExecutor(2) as pool:
        otter = dict(zip(files, pool.map(
            lambda f: dist.otter_run(zip_path, os.path.join(folder, f), source, str(work))[0], files)))
    assert {f[:-3]: s for f, s in otter.items()} == ours


def test_autograder_zip_carries_only_its_own_assignment(built):
    with zipfile.ZipFile(built[0] / "cnn_layer-autograder.zip") as zf:
        names = zf.namelist()
    per_assignment = [n for n in names if n.startswith(("autograder/hidden/", "autograder/public/", "solution/"))]
    assert sorted(per_assignment) == ["autograder/hidden/__init__.py", "autograder/hidden/cnn_layer.py",
                                      "autograder/public/__init__.py", "autograder/public/cnn_layer.expected",
                                      "autograder/public/cnn_layer.py", "solution/__init__.py",
                                      "solution/cnn_layer.py"]
    assert not any("samples/" in n for n in names)
