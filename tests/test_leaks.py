"""No student zip holds a formula its assignment asks students to derive.

Each assignment may keep a FORMULAS list (regular expressions, case-insensitive) in a grader-only
file of its course folder (hidden.py or slips.py): the derivations as they would be written out.
Every file of the student zip (tools/dist.py's student_files) is scanned for each of them: the
skeleton, the notebook's cells, public.py and its expected values, the engine, the README, and the
written questions' prompts (the template PDF's text). So that this stays fast, the generated files
are read as committed (tests/test_generator.py keeps them fresh) and the PDF is replaced by the
prompts it typesets.
"""

import importlib
import importlib.util
import json
import os
import re

import pytest

from autograder import assignments
from tools import dist, written
from tools.generate import ROOT


def formulas(name):
    found = []
    for module in (f"autograder.course.{name}.grader.hidden", f"autograder.course.{name}.grader.slips"):
        if importlib.util.find_spec(module) is not None:
            found += getattr(importlib.import_module(module), "FORMULAS", [])
    return [re.compile(pattern, re.IGNORECASE) for pattern in found]


def _committed_outputs(name):
    """What tools.generate.outputs(name) makes, as committed: the files of assignments/<name>/ and
    the public tests' expected values."""
    folder = os.path.join(ROOT, "assignments", name)
    paths = [os.path.join(folder, f) for f in sorted(os.listdir(folder))]
    paths.append(assignments.get(name).path("public.expected"))
    return {os.path.relpath(p, ROOT): open(p, "rb").read() for p in paths if os.path.isfile(p)}


def _prompts(questions):
    return "\n".join(f"{q.title}\n{q.prompt}" for q in questions.questions).encode()


def _text(path, data):
    if path.endswith(".ipynb"):
        cells = json.loads(data)["cells"]
        return "\n".join("".join(cell["source"]) for cell in cells)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return ""


def student_texts(name, monkeypatch):
    monkeypatch.setattr(dist, "outputs", _committed_outputs)
    monkeypatch.setattr(written, "template_pdf", _prompts)
    return {path: _text(path, data) for path, data in dist.student_files(name).items()}


def grader_text(name):
    """The reference and the grader-only course files, where every asked formula is written out."""
    a = assignments.get(name)
    paths = [os.path.join(ROOT, "solution", a.filename)] + [
        a.grader_path("hidden.py"),
        a.grader_path("slips.py"),
        a.authoring_path("written.toml"),
    ]
    return "\n".join(open(p, encoding="utf-8").read() for p in paths if os.path.exists(p))


@pytest.mark.parametrize("name", list(assignments.ASSIGNMENTS))
def test_no_student_file_holds_an_asked_formula(name, monkeypatch):
    patterns = formulas(name)
    texts = student_texts(name, monkeypatch)
    assert any(path.endswith(".ipynb") for path in texts) or name == "gpu_training"
    leaks = [
        f"{path}: {match.group(0)!r} (pattern {pattern.pattern!r})"
        for pattern in patterns
        for path, text in texts.items()
        for match in [pattern.search(text)]
        if match
    ]
    assert not leaks, f"{name}: the student zip holds formulas the assignment asks for:\n" + "\n".join(leaks)


@pytest.mark.parametrize("name", list(assignments.ASSIGNMENTS))
def test_every_formula_pattern_matches_the_grader_side(name):
    """A pattern that matches nothing could not catch a leak: each must match the reference or the
    grader-only files, where the formulas are written out."""
    text = grader_text(name)
    dead = [pattern.pattern for pattern in formulas(name) if not pattern.search(text)]
    assert not dead, f"{name}: these FORMULAS match nothing on the grader side: {dead}"


@pytest.mark.parametrize("name", list(assignments.ASSIGNMENTS))
def test_every_assignment_lists_its_formulas(name):
    """Every assignment asks students to work something out, so each keeps at least three
    patterns: an assignment without them would pass the leak scan unchecked."""
    found = formulas(name)
    assert len(found) >= 3, f"{name}: {len(found)} FORMULAS patterns in its grader-only files, want at least 3"
