"""The course folder is the unit: the engine imports nothing from tools and names no assignment;
assignment.toml is validated (errors name the file and key) and a broken folder breaks only itself;
a new assignment is picked up by the generator, grading and the release check with no list edited."""

import ast
import csv
import os
import re
import shutil
import subprocess
import sys
import textwrap
import tokenize
from pathlib import Path

import pytest

from autograder import ROOT, assignments
from autograder.course import samples

ENGINE = os.path.join(ROOT, "autograder")


def _python_files(folder, *, recursive=True):
    for top, dirs, files in os.walk(folder):
        dirs[:] = [d for d in dirs if d != "__pycache__"] if recursive else []
        yield from (os.path.join(top, f) for f in sorted(files) if f.endswith(".py"))


def test_the_engine_imports_nothing_from_tools():
    found = []
    for path in _python_files(ENGINE):
        for node in ast.walk(ast.parse(Path(path).read_text(encoding="utf-8"), path)):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            found += [f"{os.path.relpath(path, ROOT)}:{node.lineno}" for n in names if n.split(".")[0] == "tools"]
    assert found == []


def _module_imports():
    """{module: kit modules it imports anywhere (function bodies too)} for autograder/ and tools/."""
    modules = {}
    for top in ("autograder", "tools"):
        for path in _python_files(os.path.join(ROOT, top)):
            name = os.path.relpath(path, ROOT)[:-3].replace(os.sep, ".").removesuffix(".__init__")
            modules[name] = path
    graph = {}
    for name, path in modules.items():
        found = set()
        for node in ast.walk(ast.parse(Path(path).read_text(encoding="utf-8"), path)):
            if isinstance(node, ast.Import):
                found.update(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module:
                found.update([node.module, *(f"{node.module}.{a.name}" for a in node.names)])
        graph[name] = {m for m in found if m in modules and m != name}
    return graph


def test_no_import_cycles():
    graph, cycles = _module_imports(), []

    def visit(module, path):
        for other in graph[module]:
            if other in path:
                cycles.append(path[path.index(other) :] + [other])
            elif other not in done:
                done.add(other)
                visit(other, [*path, other])

    done = set()
    for module in sorted(graph):
        if module not in done:
            done.add(module)
            visit(module, [module])
    assert cycles == []


def test_engine_and_tools_name_no_assignment():
    """Requirements, oracle sources and the like come from assignment.toml, not from an `if name == ...`."""
    names = set(assignments.ASSIGNMENTS)
    files = [*_python_files(ENGINE, recursive=False), *_python_files(os.path.join(ENGINE, "course"), recursive=False)]
    files += list(_python_files(os.path.join(ROOT, "tools")))
    found = []
    for path in files:
        with open(path, "rb") as f:
            for tok in tokenize.tokenize(f.readline):  # code and string literals; comments are prose
                if tok.type == tokenize.NAME and tok.string in names:
                    found.append(f"{os.path.relpath(path, ROOT)}:{tok.start[0]}: {tok.string}")
                elif tok.type == tokenize.STRING and not tok.string.startswith(('"""', "'''")):
                    hits = names & set(re.findall(r"\w+", tok.string))
                    found += [f"{os.path.relpath(path, ROOT)}:{tok.start[0]}: {h}" for h in sorted(hits)]
    assert found == []


# ---------------------------------------------------------------- assignment.toml


GOOD = """\
number = 9
title = "A toy"
preload = ["numpy"]
requirements = ["numpy"]

[tasks]
"9.1" = "double"
"""


def _course(tmp_path, **tomls):
    for name, text in tomls.items():
        (tmp_path / name).mkdir()
        (tmp_path / name / "assignment.toml").write_text(text)
    return str(tmp_path)


@pytest.mark.parametrize(
    "edit, message",
    [
        (('requirements = ["numpy"]\n', ""), r"missing key 'requirements'"),
        (("number = 9", 'number = "9"'), r"'number' must be a whole number"),
        (("number = 9", "number = 0"), r"'number' must be a whole number >= 1"),
        (('"9.1" = "double"', '"3.1" = "double"'), r"task '3\.1' must be numbered 9\.1"),
        (('"9.1" = "double"', '"9.1" = ""'), r"task '9\.1' must say what it asks for"),
        (('preload = ["numpy"]', 'preload = "numpy"'), r"'preload' must be a list of module names"),
        (("title", "titel"), r"unknown key 'titel'"),
        (("[tasks]", "[tasks"), r"cannot be read"),
        (("number = 9", 'number = 9\nhidden_visibility = "sometimes"'), r"'hidden_visibility' must be one of"),
    ],
)
def test_a_broken_assignment_toml_breaks_only_its_folder(tmp_path, edit, message):
    folder = _course(tmp_path, toy=GOOD.replace(*edit), other=GOOD.replace("9", "10"))
    good, broken = assignments.discover(folder)
    assert list(good) == ["other"] and list(broken) == ["toy"]
    assert re.search(r"toy/assignment\.toml: .*" + message, str(broken["toy"])), str(broken["toy"])
    assert isinstance(broken["toy"], assignments.CourseError)


def test_numbers_are_unique(tmp_path):
    folder = _course(tmp_path, toy=GOOD, twin=GOOD, other=GOOD.replace("9", "10"))
    good, broken = assignments.discover(folder)
    assert list(good) == ["other"]
    assert "number 9 is also twin's" in str(broken["toy"]) and "number 9 is also toy's" in str(broken["twin"])


def test_the_course_loads_and_an_unknown_name_is_a_kit_error():
    assert assignments.BROKEN == {}
    assert [a.number for a in assignments.ASSIGNMENTS.values()] == sorted(
        a.number for a in assignments.ASSIGNMENTS.values()
    )
    with pytest.raises(assignments.KitError, match="unknown assignment 'nope'; choose one of"):
        assignments.get("nope")


def test_samples_minimum_follows_the_tasks():
    for name, a in assignments.ASSIGNMENTS.items():
        assert samples.minimum(name) == max(3, len(a.tasks))


# ---------------------------------------------------------------- a ninth assignment, end to end

TOY_SOLUTION = '''\
"""A toy assignment: one function."""

import numpy as np

__all__ = ["double"]


def double(x):
    """Task 9.1: 2·x, elementwise, as float64."""
    # BEGIN SOLUTION (Task 9.1: return 2·x)
    return 2.0 * np.asarray(x, dtype=float)
    # END SOLUTION
'''

TOY_FILES = {
    "__init__.py": "",
    "assignment.toml": GOOD,
    "public.py": """\
        import numpy as np

        from autograder.testcase import GradedTest


        def _small(s):
            s.output("double(X)", s.student("double")(np.array([1.0, -2.0, 0.5])))


        TESTS = [GradedTest("double_small", "9.1", 40, _small, hidden=False, hint="double(x) is 2·x, elementwise")]
        """,
    "grader/__init__.py": "",
    "grader/hidden.py": """\
        import numpy as np

        from autograder.course.toy.public import TESTS as PUBLIC
        from autograder.testcase import GradedTest


        def _matrix(s):
            s.output("double(M)", s.student("double")(np.arange(12.0).reshape(3, 4)))


        TESTS = PUBLIC + [GradedTest("double_matrix", "9.1", 60, _matrix, hint="double(x) is 2·x, elementwise")]
        """,
    "authoring/__init__.py": "",
    "authoring/notebook.py": """\
        # %% [markdown]
        # # Assignment 9: A toy
        #
        # ## Task 9.1: double

        # %%
        from autograder.check import check

        check("toy", "9.1")
        """,
    "authoring/samples.toml": "".join(
        f'[{key}]\nabout = "{about}"\nexpect = "double(x) is 2·x, elementwise"\n'
        f'[[{key}.edit]]\nfind = "return 2.0 * np.asarray(x, dtype=float)"\nreplace = "{replace}"\n\n'
        for key, about, replace in [
            ("triples", "3·x", "return 3.0 * np.asarray(x, dtype=float)"),
            ("adds", "x + 2", "return np.asarray(x, dtype=float) + 2.0"),
            ("identity", "x", "return np.asarray(x, dtype=float)"),
        ]
    ),
}


@pytest.fixture(scope="module")
def kit(tmp_path_factory):
    """A copy of the kit with a ninth assignment (toy) and a folder whose assignment.toml lost a key."""
    root = tmp_path_factory.mktemp("kit")
    for part in ("autograder", "solution", "tools"):
        shutil.copytree(os.path.join(ROOT, part), root / part, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(os.path.join(ROOT, "pyproject.toml"), root / "pyproject.toml")  # the zips' pinned requirements
    course = root / "autograder" / "course"
    for rel, text in TOY_FILES.items():
        (course / "toy" / rel).parent.mkdir(parents=True, exist_ok=True)
        (course / "toy" / rel).write_text(textwrap.dedent(text))
    (root / "solution" / "toy.py").write_text(TOY_SOLUTION)
    shutil.copytree(course / "momentum", course / "broken", ignore=shutil.ignore_patterns("__pycache__"))
    toml = (course / "broken" / "assignment.toml").read_text()
    (course / "broken" / "assignment.toml").write_text(toml.replace("requirements", "# requirements"))
    return root


def _run(kit, *args, timeout=600):
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return subprocess.run(
        [sys.executable, *args], cwd=kit, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


def _grades(out):
    return list(csv.DictReader((out / "grades.csv").read_text().splitlines()))


def test_a_broken_folder_is_named_and_the_others_still_grade(kit, tmp_path):
    listed = _run(kit, "-c", "from autograder import assignments as a; print(*a.ASSIGNMENTS); print(*a.BROKEN)")
    good, broken = listed.stdout.splitlines()
    assert good.split() == [*assignments.ASSIGNMENTS, "toy"] and broken == "broken"
    run = _run(kit, "-m", "autograder", "check", "broken", "solution/momentum.py")
    assert run.returncode == 2, run.stderr
    assert "autograder/course/broken/assignment.toml: missing key 'requirements'" in run.stderr
    assert "Traceback" not in run.stderr
    folder = tmp_path / "submissions"
    folder.mkdir()
    shutil.copy(os.path.join(ROOT, "solution", "momentum.py"), folder / "ref.py")
    run = _run(kit, "-m", "autograder", "grade", "momentum", str(folder), "-o", str(tmp_path / "out"), "-q")
    assert run.returncode == 0, run.stderr
    (row,) = _grades(tmp_path / "out")
    assert float(row["score"]) == float(row["max_score"]) == 100


def test_a_new_course_folder_is_picked_up_with_no_list_edited(kit, tmp_path):
    generated = _run(kit, "-m", "tools.generate", "toy")
    assert generated.returncode == 0, generated.stderr
    for rel in ("assignments/toy/toy.py", "assignments/toy/toy.ipynb", "assignments/toy/test_public.py"):
        assert (kit / rel).is_file(), rel
    assert (kit / "autograder/course/toy/public.expected").is_file()
    assert "raise NotImplementedError('Task 9.1: double" in (kit / "assignments/toy/toy.py").read_text()
    # the samples: reference full marks, blank 0, every buggy sample caught with its feedback
    graded = _run(kit, "-m", "autograder", "grade", "toy", "-o", str(tmp_path / "out"), "-q")
    assert graded.returncode == 0, graded.stderr
    scores = {r["student"]: float(r["score"]) for r in _grades(tmp_path / "out")}
    assert scores == {"reference": 100, "blank": 0, "triples": 0, "adds": 0, "identity": 0}
    # the generated public tests run the self-check on the reference
    shutil.copy(kit / "solution" / "toy.py", kit / "assignments" / "toy" / "toy.py")
    public = _run(kit, "-m", "pytest", "-q", "-p", "no:cacheprovider", "assignments/toy/test_public.py")
    assert public.returncode == 0, public.stdout[-2000:]
    # the release's leak check: the student zip passes it, and has no grader/ or authoring/ file
    check = _run(
        kit,
        "-c",
        "from tools import dist; files = dist.student_files('toy'); dist.check_student_zip('toy.zip', files, 'toy');"
        "print(*sorted(files))",
    )
    assert check.returncode == 0, check.stderr
    shipped = check.stdout.split()
    assert "toy/autograder/course/toy/public.py" in shipped
    assert not [f for f in shipped if "/grader/" in f or "/authoring/" in f]
