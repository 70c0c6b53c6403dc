"""Notebooks graded as students really leave them: check cells, magics, plots, demo cells and
`import <assignment>` kept in, code pasted in or not."""

import io
import os
import re
from pathlib import Path

import nbformat
import pytest
from rich.console import Console

from autograder import assignments, cli
from autograder.notebook import neutralize, neutralize_in_child
from autograder.submissions import SubmissionError, read_submission
from tools.generate import ROOT


def _teaching_notebook(name):
    return nbformat.read(os.path.join(ROOT, "assignments", name, f"{name}.ipynb"), as_version=4)


def _with_code_pasted(name, extra_cells=()):
    """The teaching notebook with the reference pasted into a cell after its imports, its check
    cells, magics and plotting cells all kept."""
    nb = _teaching_notebook(name)
    reference = Path(os.path.join(ROOT, "solution", f"{name}.py")).read_text(encoding="utf-8")
    first_code = next(i for i, c in enumerate(nb.cells) if c.cell_type == "code")
    nb.cells.insert(first_code + 1, nbformat.v4.new_code_cell(reference))
    nb.cells += [nbformat.v4.new_code_cell(text) for text in extra_cells]
    return nb


def _grade(name, notebooks, tmp_path):
    folder = tmp_path / "submissions"
    folder.mkdir()
    for student, nb in notebooks.items():
        nbformat.write(nb, str(folder / f"{student}.ipynb"))
    results = cli.grade_folder(
        assignments.get(name), str(folder), str(tmp_path / "out"), jobs=2, console=Console(file=io.StringIO())
    )
    return {r.student: r for r in results}


def _partly_done():
    """The reference pasted in with minimize unfinished, and a demo cell calling minimize."""
    nb = _with_code_pasted("momentum", ["trajectory = minimize(lambda t: 2 * t, np.ones(2), 0.1, 0.9, 5)"])
    unfinished = r"\1    raise NotImplementedError('Task 5.3')\n"
    for cell in nb.cells:
        if "def minimize(" in cell.source:
            cell.source = re.sub(r"(def minimize\(.*?\n)", unfinished, cell.source)
    return nb


def _pasted(name):
    return _with_code_pasted(name, [f"%time _ = {name}  # a magic\n!ls\nplt.show()"])


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """One `make grade` run per assignment: momentum's notebooks pasted (with a demo cell), as run
    (importing momentum.py) and partly done; cnn_layer's pasted."""
    notebooks = {
        "momentum": {
            "pasted": _pasted("momentum"),
            "as_run": _teaching_notebook("momentum"),
            "partial": _partly_done(),
        },
        "cnn_layer": {"pasted": _pasted("cnn_layer")},
    }
    return {name: _grade(name, nbs, tmp_path_factory.mktemp(name)) for name, nbs in notebooks.items()}


@pytest.mark.parametrize("name", ["momentum", "cnn_layer"])
def test_notebook_with_code_pasted_and_check_cells_kept_scores_full(name, graded):
    pasted = graded[name]["pasted"]
    assert [(t.name, t.message) for t in pasted.tests if t.status == "failed"] == []
    assert pasted.score == pasted.max_score == 100


def test_notebook_that_imports_the_module_says_which_file_to_submit(graded):
    as_run = graded["momentum"]["as_run"]
    assert as_run.score == 0
    assert "submit momentum.py" in as_run.notes[-1], as_run.notes


def test_a_demo_cell_calling_an_unfinished_function_costs_only_that_function(graded):
    result = graded["momentum"]["partial"]
    failed = {t.name for t in result.tests if t.status == "failed"}
    assert failed and all(t.task == "5.3" for t in result.tests if t.name in failed)
    assert result.score > 0


def test_a_syntax_error_names_the_cell_and_line(tmp_path):
    path = tmp_path / "broken.ipynb"
    nb = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell("import numpy as np"),
            nbformat.v4.new_code_cell("def f(x):\n    return x +\n"),
        ]
    )
    nbformat.write(nb, str(path))
    with pytest.raises(SubmissionError, match=r"syntax error in code cell 2, line 2"):
        read_submission(str(path), assignments.get("momentum"))


@pytest.mark.parametrize(
    "cell, kept, left_out",
    [
        ("if True:\n    %matplotlib inline\n    X = 1", ["X = 1"], ["%matplotlib"]),
        ("files = !ls\nY = 2", ["Y = 2"], ["files = !ls"]),
        ("%%writefile momentum.py\ndef f():\n    return 1", ["def f():"], ["%%writefile"]),
        ("%%bash\necho hi", [], ["echo hi"]),
        (
            "import momentum\nfrom momentum import f\nimport numpy as np",
            ["import numpy as np"],
            ["import momentum", "from momentum import f"],
        ),
        (
            "from autograder.check import check\ncheck('momentum', '5.1');\ngrader.check('q1')",
            [],
            ["check('momentum', '5.1')", "grader.check('q1')"],
        ),
        (
            "def g():\n    return 1\nZ = g()\nW = np.ones(3)\nfig, ax = plt.subplots()",
            ["W = np.ones(3)", "def g():"],
            ["Z = g()", "fig, ax = plt.subplots()"],
        ),
        ("try:\n    import torch\nexcept ImportError:\n    torch = None", ["    import torch"], []),
        ("if __name__ == '__main__':\n    g()", [], ["    g()"]),
    ],
)
def test_what_a_notebook_cell_keeps(cell, kept, left_out):
    source = neutralize([cell], "momentum")["source"]
    live = [ln for ln in source.splitlines() if not ln.lstrip().startswith("#")]
    for line in kept:
        assert line.strip() in [ln.strip() for ln in live], source
    for line in left_out:
        assert not any(line in ln for ln in live), source
    compile(source, "nb", "exec")


def test_a_parser_bomb_is_refused_in_the_child_not_the_grader():
    result = neutralize_in_child(["x = " + "(" * 10_000 + ")" * 10_000, "1" + "+1" * 2_000_000], "momentum")
    assert "error" in result


@pytest.mark.parametrize("name", list(assignments.ASSIGNMENTS))
def test_every_shipped_notebook_as_run_is_told_to_submit_its_module(name):
    """The teaching notebook imports <name>.py and may define demo helpers of its own: graded as a
    submission it names the file to submit, never "defines no <function>"."""
    with pytest.raises(
        SubmissionError, match=rf"imports them from {name}\.py, so your code is in that file: submit {name}\.py"
    ):
        read_submission(os.path.join(ROOT, "assignments", name, f"{name}.ipynb"), assignments.get(name))
