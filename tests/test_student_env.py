"""The student journey from the zip alone: a fresh virtual environment made from the zip's
requirements.txt runs the notebook top to bottom, `python -m autograder check` and
`pytest test_public.py`, with nothing of this checkout on its path."""

import os
import subprocess
import sys

import pytest

from autograder.course import samples
from tools import dist

NAME = "momentum"  # a NumPy assignment: no torch to install


def _run(args, cwd, timeout=900):
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env)


@pytest.mark.slow
def test_a_fresh_venv_from_the_zip_requirements_runs_the_notebook_and_check(tmp_path):
    for path, data in dist.student_files(NAME).items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_bytes(data)
    folder = tmp_path / NAME
    readme = (folder / "README.md").read_text()
    assert "python -m pip install -r requirements.txt" in readme and "source .venv/bin/activate" in readme
    venv = folder / ".venv"
    base = getattr(sys, "_base_executable", sys.executable)
    done = _run([base, "-m", "venv", str(venv)], folder)
    assert done.returncode == 0, done.stderr
    python = str(venv / "bin" / "python")
    # The README's install line; --no-compile only skips byte-compiling every installed file (10 s here).
    install = ["install", "-q", "--no-compile", "--disable-pip-version-check", "-r", "requirements.txt"]
    done = _run([python, "-m", "pip", *install], folder)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert (venv / "bin" / "jupyter-lab").exists()  # the README's `jupyter lab <name>.ipynb`

    code, out = _check(python, folder)  # the skeleton as shipped: every check says what is missing
    assert code == 1 and "not implemented yet" in out, out
    (folder / f"{NAME}.py").write_text(samples.reference_source(NAME))  # a student who is done
    code, out = _check(python, folder)
    assert code == 0 and "public checks passed" in out, out
    done = _run([python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_public.py"], folder)
    assert done.returncode == 0, done.stdout[-3000:]
    runner = (
        "import nbformat, nbclient, sys\n"
        f"nb = nbformat.read('{NAME}.ipynb', as_version=4)\n"
        "nbclient.NotebookClient(nb, timeout=600, kernel_name='python3', resources={'metadata': {'path': '.'}})"
        ".execute()\n"
        "print('executed', sum(c.cell_type == 'code' for c in nb.cells), 'code cells')\n"
    )
    done = _run([python, "-c", runner], folder)
    assert done.returncode == 0 and "executed" in done.stdout, done.stdout[-3000:] + done.stderr[-3000:]


def _check(python, folder):
    done = _run([python, "-m", "autograder", "check", NAME], folder)
    return done.returncode, done.stdout + done.stderr
