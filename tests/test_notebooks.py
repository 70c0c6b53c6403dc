"""The committed teaching notebooks are clean and run top to bottom against the reference.

Each notebook is executed the way a student runs it: in a folder holding the notebook, the
module `<name>.py` (here a copy of solution/<name>.py) and the `autograder` package its check
cells import. Missing public tests or expected values are the generator's business
(tests/test_generator.py fails on them); here they are filled in inside the temporary copy so
that this test judges the notebook alone: an assignment without public tests yet gets an empty
`TESTS` list (its check cells then print "no public test"), and a missing `.expected` file is
recorded from the reference.
"""

import os
import re
import shutil

import nbformat
import pytest

from autograder.assignments import ASSIGNMENTS
from tools import generate

ROOT = generate.ROOT
NAMES = list(ASSIGNMENTS)
CELL_TIMEOUT_S = 120


def notebook_path(name):
    return os.path.join(ROOT, "assignments", name, f"{name}.ipynb")


def needs_reference(name):
    if not os.path.exists(os.path.join(ROOT, "solution", f"{name}.py")):
        pytest.skip(f"solution/{name}.py does not exist yet")


def tasks_of(name):
    """The task IDs ("3.1", ...) of assignment `name` (its assignment.toml)."""
    return list(ASSIGNMENTS[name].tasks)


@pytest.fixture(scope="module")
def autograder_copy(tmp_path_factory):
    """One copy of the autograder package, completed as the module docstring says."""
    from autograder import check as autograder_check

    dest = tmp_path_factory.mktemp("autograder_copy") / "autograder"
    shutil.copytree(os.path.join(ROOT, "autograder"), dest, ignore=shutil.ignore_patterns("__pycache__"))
    for name in NAMES:
        course = dest / "course" / name
        if not (course / "public.py").exists():
            (course / "public.py").write_text("TESTS = []  # public tests not written yet\n")
        elif not (course / "public.expected").exists():
            (course / "public.expected").write_bytes(autograder_check.record_public_expected(name))
    return dest


@pytest.fixture(scope="module")
def kernel_env():
    """The kernel's environment: one CPU thread per library (several notebook kernels and test
    workers share small CI machines, where oversubscribed OpenMP threads slow torch tenfold), and
    nothing that could import the kit from the repository instead of the student's folder."""
    from jupyter_client.kernelspec import KernelSpecManager

    if "python3" not in KernelSpecManager().find_kernel_specs():
        pytest.fail(
            "no 'python3' Jupyter kernel: run `.venv/bin/python -m ipykernel install "
            "--sys-prefix --name python3` (make install does)"
        )
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "MPLBACKEND")}
    env.update(OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    return env


@pytest.mark.parametrize("name", NAMES)
def test_committed_notebook_has_no_outputs(name):
    nb = nbformat.read(notebook_path(name), as_version=4)
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            assert cell.outputs == [], f"{name}.ipynb cell {i} has outputs"
            assert cell.execution_count is None, f"{name}.ipynb cell {i} has an execution count"


@pytest.mark.parametrize("name", NAMES)
def test_notebook_has_a_section_and_a_check_per_task(name):
    nb = nbformat.read(notebook_path(name), as_version=4)
    markdown = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    assert "from autograder.check import check" in code
    tasks = tasks_of(name)
    assert tasks, f"no [tasks] in autograder/course/{name}/assignment.toml"
    for task in tasks:
        assert re.search(rf"^## Task {re.escape(task)}: ", markdown, re.M), f"{name}: no '## Task {task}' section"
        assert f'check("{name}", "{task}")' in code, f"{name}: no check cell for task {task}"


IN_A_CHECKOUT = "momentum"  # the notebook that runs where it is in a checkout


@pytest.mark.parametrize("name", NAMES)
def test_notebook_runs_top_to_bottom_with_the_reference(name, autograder_copy, kernel_env, tmp_path):
    """Each notebook as in the student zip: the autograder package beside it. momentum's runs where
    it is in a checkout instead: in assignments/momentum/ with no autograder/ beside it, its check
    cells import the kit's checker from the checkout (make install puts it on the venv's path)."""
    import nbclient

    needs_reference(name)
    if name == IN_A_CHECKOUT:
        folder = tmp_path / "assignments" / name
        folder.mkdir(parents=True)
    else:
        folder = tmp_path
        shutil.copytree(autograder_copy, folder / "autograder")
    shutil.copy(os.path.join(ROOT, "solution", f"{name}.py"), folder / f"{name}.py")
    nb = nbformat.read(notebook_path(name), as_version=4)
    client = nbclient.NotebookClient(
        nb, timeout=CELL_TIMEOUT_S, kernel_name="python3", resources={"metadata": {"path": str(folder)}}
    )
    client.execute(env=kernel_env)  # raises CellExecutionError, naming the cell, on any error
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors
    if name == IN_A_CHECKOUT:
        printed = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs)
        assert "public checks passed" in printed and "FAIL" not in printed, printed[-2000:]
