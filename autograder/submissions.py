"""Reading a submissions folder: who submitted what, and the source code to grade.

Nothing here runs submission code; a file that cannot be read raises SubmissionError with the reason.
"""

import hashlib
import os
import re

from autograder.policy import STUDENT_ID_MAX, SUBMISSION_MAX_BYTES


class SubmissionError(Exception):
    """The submission cannot be read or imported; the message says why."""


_ID = re.compile(r"[^A-Za-z0-9_.@+-]")


def student_id(name) -> str:
    """A file-system- and spreadsheet-safe id for an entry name: odd characters become '_', it
    starts with a letter, digit or '_' (never '=', '+', '-', '@' or '.'), and a long one is cut to
    64 characters ending in a hash of the full name, so two long names stay apart."""
    student = _ID.sub("_", name)
    if not student[:1].isalnum() and not student.startswith("_"):
        student = "_" + student  # "+1", "-1", "=1", "@1": a spreadsheet would read a formula
    if len(student) > STUDENT_ID_MAX:
        digest = hashlib.sha256(name.encode("utf-8", "surrogateescape")).hexdigest()[:8]
        student = f"{student[: STUDENT_ID_MAX - 9]}-{digest}"
    return student


def discover(folder, assignment) -> list[tuple[str, str]]:
    """(student id, path) for every entry of a submissions folder, sorted by entry name."""
    if not os.path.isdir(folder):
        raise SystemExit(f"submissions folder not found: {folder}")
    entries, taken = [], set()
    for name in sorted(os.listdir(folder)):
        if name.startswith(".") or name == "__pycache__":
            continue
        path = os.path.join(folder, name)
        student = student_id(os.path.splitext(name)[0] if os.path.isfile(path) else name)
        unique, n = student, 1
        while unique in taken:  # "a b.py" and "a_b.py" must not share a feedback file
            n += 1
            unique = f"{student}-{n}"
        taken.add(unique)
        entries.append((unique, path))
    return entries


def read_submission(path, assignment) -> tuple[str, str]:
    """(source code, file name shown in feedback). Raises SubmissionError with a clear reason."""
    if os.path.islink(path):
        raise SubmissionError(f"{os.path.basename(path)} is a symbolic link, not a submitted file")
    if os.path.isdir(path):
        candidates = [os.path.join(path, assignment.filename)] + sorted(
            os.path.join(path, f) for f in os.listdir(path) if f.endswith(".ipynb")
        )
        found = [c for c in candidates if os.path.isfile(c)]
        if not found:
            raise SubmissionError(f"folder holds neither {assignment.filename} nor a notebook")
        path = found[0]
        if os.path.islink(path):
            raise SubmissionError(f"{os.path.basename(path)} is a symbolic link, not a submitted file")
    if os.path.getsize(path) > SUBMISSION_MAX_BYTES:
        raise SubmissionError(f"{os.path.basename(path)} is over {SUBMISSION_MAX_BYTES >> 20} MB")
    if path.endswith(".ipynb"):
        return notebook_source(path, assignment.name), os.path.basename(path)
    if not path.endswith(".py"):
        raise SubmissionError(f"{os.path.basename(path)} is not a .py file or a notebook")
    try:
        with open(path, encoding="utf-8") as f:
            return f.read(), assignment.filename
    except UnicodeDecodeError as err:
        raise SubmissionError(f"{os.path.basename(path)} is not UTF-8 text: {err}") from None


def notebook_source(path, module) -> str:
    """The notebook's code as the module to grade (see notebook.py for what is left out)."""
    import nbformat

    from autograder.notebook import neutralize_in_child

    name = os.path.basename(path)
    try:
        nb = nbformat.read(path, as_version=4)
        cells = [c.source for c in nb.cells if c.cell_type == "code"]
    except Exception as err:
        raise SubmissionError(f"{name} is not a readable notebook: {err}") from None
    result = neutralize_in_child(cells, module)
    if "error" in result:
        raise SubmissionError(f"{name}: {result['error']}")
    if result["imports_module"] and not set(result["defined"]) & graded_names(module):
        # the teaching notebook as run: demo helpers of its own, the graded code in <module>.py
        raise SubmissionError(
            f"{name} defines none of the graded functions; it imports them from {module}.py, "
            f"so your code is in that file: submit {module}.py"
        )
    if not result["defined"]:
        where = (
            f"it imports them from {module}.py, so your code is in that file: submit {module}.py"
            if result["imports_module"]
            else f"submit {module}.py, or the notebook with your code in it"
        )
        raise SubmissionError(f"{name} defines no function or class to grade: {where}")
    return result["source"]


def graded_names(module) -> set[str]:
    """The names of the student API the public tests call (s.student(...)) in `module`."""
    from autograder import assignments

    return {
        step[1]
        for test in assignments.get(module).tests(public_only=True)
        for step in test.script().to_message()["steps"]
        if step[0] == "student"
    }


class EmptySubmission(SubmissionError):
    """The entry holds nothing to grade: an empty folder, or a file with no code in it."""


def read_nonempty(path, assignment) -> tuple[str, str]:
    """read_submission, with an empty folder or an empty (or blank) file told apart from code
    that computes nothing: EmptySubmission, so the gradebook can say so."""
    try:
        empty_folder = not os.path.islink(path) and os.path.isdir(path) and not os.listdir(path)
    except OSError:
        empty_folder = False  # read_submission says why it cannot be read
    if empty_folder:
        raise EmptySubmission("the folder is empty")
    source, filename = read_submission(path, assignment)
    if not source.strip():
        raise EmptySubmission(f"the submitted {filename} is empty")
    return source, filename
