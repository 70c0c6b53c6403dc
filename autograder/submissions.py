"""Reading a submissions folder: who submitted what, and the source code to grade.

Nothing here runs submission code; a file that cannot be read raises SubmissionError with the reason.
Only regular files and folders are read: every entry is looked at with lstat, opened without
following a link or blocking (a FIFO would wait for a writer forever, a device would never end),
and read with a size cap before anything is decoded or parsed.
"""

import errno
import hashlib
import io
import json
import os
import re
import stat
import tokenize

from autograder.errors import KitError
from autograder.policy import STUDENT_ID_MAX, SUBMISSION_MAX_BYTES


class SubmissionError(Exception):
    """The submission cannot be read or imported; the message says why."""


_ID = re.compile(r"[^A-Za-z0-9_.@+-]")
_HASH = 8


def student_id(name) -> str:
    """A file-system- and spreadsheet-safe id for an entry name: odd characters become '_', it
    starts with a letter, digit or '_' (never '=', '+', '-', '@' or '.'), and a long one is cut to
    64 characters ending in a hash of the full name, so two long names stay apart."""
    student = _ID.sub("_", name)
    if not student[:1].isalnum() and not student.startswith("_"):
        student = "_" + student  # "+1", "-1", "=1", "@1": a spreadsheet would read a formula
    if len(student) > STUDENT_ID_MAX:
        student = f"{student[: STUDENT_ID_MAX - _HASH - 1]}-{_digest(name)}"
    return student


def _digest(name, length=_HASH):
    return hashlib.sha256(name.encode("utf-8", "surrogateescape")).hexdigest()[:length]


def kind_of(mode) -> str:
    """What a file-system object is, in words, for a reason a student or TA reads."""
    for test, words in (
        (stat.S_ISREG, "a regular file"),
        (stat.S_ISDIR, "a folder"),
        (stat.S_ISLNK, "a symbolic link"),
        (stat.S_ISFIFO, "a named pipe (FIFO)"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
    ):
        if test(mode):
            return words
    return "not a regular file"


class Entries(list):
    """(student id, path) pairs, with what the run's summary must say: `renamed` [(entry name,
    id)] whose id differs from the entry's name, `hidden` [entry name] not graded."""

    def __init__(self, items=(), renamed=(), hidden=()):
        super().__init__(items)
        self.renamed = list(renamed)
        self.hidden = list(hidden)


def discover(folder, assignment) -> Entries:
    """(student id, path) for every entry of a submissions folder, sorted by entry name.

    An entry whose name is already a valid id keeps it, whatever else the folder holds; a name
    that had to be changed gets a suffix from a hash of the whole entry name, and never an id
    another entry has or would have, compared without case (two ids differing only in case would
    overwrite each other's feedback on a case-insensitive file system)."""
    try:
        st = os.lstat(folder)
    except OSError:
        raise KitError(f"submissions folder not found: {folder}") from None
    if not stat.S_ISDIR(st.st_mode):
        raise KitError(f"submissions folder is {kind_of(st.st_mode)}, not a folder: {folder}")
    names, hidden = [], []
    for name in sorted(os.listdir(folder)):
        if name == "__pycache__":
            continue
        (hidden if name.startswith(".") else names).append(name)
    stems = {name: _stem(folder, name) for name in names}
    taken = set()
    ids = {}
    for name in names:  # valid ids first, in sort order: a look-alike sorted before cannot take one
        stem = stems[name]
        if student_id(stem) == stem and stem.casefold() not in taken:
            ids[name] = stem
            taken.add(stem.casefold())
    wanted = {student_id(stems[n]).casefold() for n in names}  # ids others would get unchanged
    renamed = []
    for name in names:
        if name in ids:
            continue
        base = student_id(stems[name])[: STUDENT_ID_MAX - _HASH - 1]
        length, unique = _HASH, None
        while unique is None or unique.casefold() in taken | wanted:
            unique = f"{base}-{_digest(name, length)}"
            length += 1
        ids[name] = unique
        taken.add(unique.casefold())
        renamed.append((name, unique))
    return Entries(
        [(ids[name], os.path.join(folder, name)) for name in names], renamed, [n for n in hidden if n not in ".."]
    )


def _stem(folder, name):
    """The id part of an entry name: a folder's whole name, a file's name less its extension."""
    try:
        is_dir = stat.S_ISDIR(os.lstat(os.path.join(folder, name)).st_mode)
    except OSError:
        is_dir = False
    return name if is_dir else os.path.splitext(name)[0]


def read_bytes(path) -> bytes:
    """The content of a regular file, never through a link, never blocking, at most
    SUBMISSION_MAX_BYTES. Anything else raises SubmissionError naming what it is."""
    name = os.path.basename(path)
    try:
        st = os.lstat(path)
    except OSError as err:
        raise SubmissionError(f"{name} cannot be read: {err.strerror}") from None
    if not stat.S_ISREG(st.st_mode):
        raise SubmissionError(f"{name} is {kind_of(st.st_mode)}, not a regular file: it is not read")
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    except OSError as err:
        why = "a symbolic link" if err.errno == errno.ELOOP else err.strerror
        raise SubmissionError(f"{name} cannot be read: {why}") from None
    try:
        st = os.fstat(fd)  # what was opened, whatever the name pointed to a moment before
        if not stat.S_ISREG(st.st_mode):
            raise SubmissionError(f"{name} is {kind_of(st.st_mode)}, not a regular file: it is not read")
        if st.st_size > SUBMISSION_MAX_BYTES:
            raise SubmissionError(f"{name} is over {SUBMISSION_MAX_BYTES >> 20} MB")
        chunks, size = [], 0
        while size <= SUBMISSION_MAX_BYTES:  # a file growing while read is still capped
            chunk = os.read(fd, min(1 << 20, SUBMISSION_MAX_BYTES + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > SUBMISSION_MAX_BYTES:
            raise SubmissionError(f"{name} is over {SUBMISSION_MAX_BYTES >> 20} MB")
        return b"".join(chunks)
    except OSError as err:
        raise SubmissionError(f"{name} cannot be read: {err.strerror}") from None
    finally:
        os.close(fd)


def decode_source(data: bytes, name) -> str:
    """Python source bytes as Python decodes them: a UTF-8 BOM, a PEP 263 coding line, else UTF-8."""
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        text = data.decode(encoding)
    except (SyntaxError, LookupError, UnicodeDecodeError) as err:
        raise SubmissionError(f"{name} cannot be decoded as Python source: {err}") from None
    return text.removeprefix("\ufeff")


def _pick(folder, assignment) -> str:
    """The file a folder submission is graded by: <assignment>.py, else its first notebook by name.
    Entries are taken by name, never followed (a link or a FIFO so named is refused by read_bytes),
    and the folder is scanned without keeping its listing: a million entries cost no memory."""
    first_notebook = None
    with os.scandir(folder) as entries:
        for entry in entries:
            if entry.name == assignment.filename:
                return entry.path
            if entry.name.endswith(".ipynb") and (first_notebook is None or entry.name < first_notebook):
                first_notebook = entry.name
    if first_notebook is None:
        raise SubmissionError(f"folder holds neither {assignment.filename} nor a notebook")
    return os.path.join(folder, first_notebook)


def read_submission(path, assignment) -> tuple[str, str]:
    """(source code, file name shown in feedback). Raises SubmissionError with a clear reason."""
    name = os.path.basename(path)
    try:
        mode = os.lstat(path).st_mode
    except OSError as err:
        raise SubmissionError(f"{name} cannot be read: {err.strerror}") from None
    if stat.S_ISDIR(mode):
        try:
            path = _pick(path, assignment)
        except OSError as err:
            raise SubmissionError(f"folder {name} cannot be read: {err.strerror}") from None
        name = os.path.basename(path)
    elif not stat.S_ISREG(mode):
        raise SubmissionError(f"{name} is {kind_of(mode)}, not a submitted file or folder: it is not read")
    if not name.endswith((".py", ".ipynb")):
        raise SubmissionError(f"{name} is not a .py file or a notebook")
    data = read_bytes(path)
    if name.endswith(".ipynb"):
        return notebook_source(data, name, assignment.name), name
    return decode_source(data, name), assignment.filename


def _json_kind(value):
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list holding more than text"
    if value is None or isinstance(value, bool):
        return json.dumps(value)
    return "a number" if isinstance(value, (int, float)) else type(value).__name__


def notebook_source(data: bytes, name, module) -> str:
    """The notebook's code as the module to grade (see notebook.py for what is left out)."""
    import nbformat

    from autograder.notebook import neutralize_in_child

    try:
        nb = nbformat.reads(data.decode("utf-8-sig"), as_version=4)
        cells = [c.source for c in nb.cells if c.cell_type == "code"]
    except Exception as err:
        raise SubmissionError(f"{name} is not a readable notebook: {type(err).__name__}: {err}"[:500]) from None
    for index, cell in enumerate(cells):
        if isinstance(cell, list) and all(isinstance(line, str) for line in cell):
            cells[index] = "".join(cell)  # nbformat joins these on read; kept in case it does not
        elif not isinstance(cell, str):
            raise SubmissionError(
                f"{name} is not a valid notebook: code cell {index + 1}'s source is {_json_kind(cell)}, not text"
            )
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
