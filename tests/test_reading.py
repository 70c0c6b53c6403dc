"""The trusted side of grading, before and after a submission runs (SPEC guarantees 4 and 8): how
entries are found and read, which id each gets, how source is decoded, and what of a submission's
text reaches the files students and TAs open.

The catalog here is the hostile catalog's part for entries that are not plain source text: FIFOs,
sockets, devices and links (at the top and inside a folder submission), look-alike ids, encodings,
escapes and malformed notebooks. It is graded in a child process with a time-out, so a grader that
blocks on a FIFO fails this test instead of hanging the suite."""

import codecs
import contextlib
import csv
import json
import os
import socket
import subprocess
import sys
import threading
import time
import types
from pathlib import Path

import pytest

import autograder
from autograder import assignments, engine, report, submissions
from autograder.sandbox import RunResult

ROOT = Path(autograder.ROOT)
REFERENCE = (ROOT / "solution" / "cnn_layer.py").read_text()
ASSIGNMENT = assignments.get("cnn_layer")
ROOT_USER = os.geteuid() == 0
ESCAPES = "\x1b]8;;http://evil.example/\x07click\x1b]8;;\x07 \x1b[2J \u202eevil\u202c \x9b31m"

pytestmark = pytest.mark.skipif(not hasattr(os, "pidfd_open"), reason="the sandbox needs Linux")


def _notebook(source) -> bytes:
    cell = {"cell_type": "code", "source": source, "metadata": {}, "outputs": [], "execution_count": None}
    return json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [cell]}).encode()


def _fifo(path):
    os.mkfifo(path)


def _socket(path):
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(path))
    return sock  # kept open while the folder is graded


def _device(kind, major, minor):
    def make(path):
        os.mknod(path, 0o644 | kind, os.makedev(major, minor))

    return make


CHAR = _device(0o020000, 1, 3)  # /dev/null's numbers: harmless if wrongly read
BLOCK = _device(0o060000, 7, 0)  # a loop device's numbers


def _link_to(target):
    return lambda path: os.symlink(target, path)


def _folder_holding(name, make):
    def build(path):
        os.mkdir(path)
        make(path / name)

    return build


# entry name -> (how it is made, a text the reason must hold); every one scores 0 and none blocks
REFUSED = {
    "fifo.py": (_fifo, "named pipe (FIFO)"),
    "fifo_nb.ipynb": (_fifo, "named pipe (FIFO)"),
    "socket.py": (_socket, "a socket"),
    "link.py": (_link_to(str(ROOT / "solution" / "cnn_layer.py")), "symbolic link"),
    "link_to_folder": (_link_to(str(ROOT / "solution")), "symbolic link"),
    "fifo_in_folder": (_folder_holding("cnn_layer.py", _fifo), "named pipe (FIFO)"),
    "link_in_folder": (
        _folder_holding("cnn_layer.py", _link_to(str(ROOT / "solution" / "cnn_layer.py"))),
        "symbolic link",
    ),
    "nb_dict_source.ipynb": (lambda p: p.write_bytes(_notebook({"a": 1})), "source is an object, not text"),
    "nb_number_source.ipynb": (lambda p: p.write_bytes(_notebook(5)), "source is a number, not text"),
    "nb_not_json.ipynb": (lambda p: p.write_bytes(b"\xff\xfe{"), "not a readable notebook"),
}
if ROOT_USER:
    REFUSED |= {
        "chardev.py": (CHAR, "character device"),
        "blockdev.py": (BLOCK, "block device"),
        "chardev_in_folder": (_folder_holding("cnn_layer.py", CHAR), "character device"),
    }

# entry name -> bytes: correct code that Python itself imports, so each must score 100
HONEST = {
    "good.py": REFERENCE.encode(),
    "bom.py": codecs.BOM_UTF8 + REFERENCE.encode(),
    "latin1.py": b"# -*- coding: latin-1 -*-\n# \xe9tudiante: Ren\xe9e\n" + REFERENCE.encode(),
    "crlf.py": REFERENCE.replace("\n", "\r\n").encode(),
}
# A failing test prints terminal escapes and bidi controls, and raises them in its message.
HONEST["escapes.py"] = (
    REFERENCE
    + f"""
_ref1 = conv1d_forward
def conv1d_forward(*args, **kwargs):
    print({ESCAPES!r})
    raise ValueError({ESCAPES!r})
"""
).encode()


def _grade_in_child(subs, out, timeout=240):
    """cli.grade_folder in a child process (its own session, killed on time-out)."""
    code = (
        "import sys; from rich.console import Console; from autograder import assignments, cli\n"
        "cli.grade_folder(assignments.get('cnn_layer'), sys.argv[1], sys.argv[2], jobs=2, console=Console(width=300))\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code, str(subs), str(out)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        console, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, 9)
        proc.communicate()
        pytest.fail(f"grading did not finish within {timeout} s (blocked on an entry?)")
    assert proc.returncode == 0, console[-3000:]
    return console


@pytest.fixture(scope="module")
def catalog(tmp_path_factory):
    base = tmp_path_factory.mktemp("reading")
    subs, out = base / "subs", base / "out"
    subs.mkdir()
    keep = []
    for name, (make, _) in REFUSED.items():
        keep.append(make(subs / name))
    for name, data in HONEST.items():
        (subs / name).write_bytes(data)
    (subs / ".hidden.py").write_bytes(REFERENCE.encode())
    (subs / "jane doe.py").write_bytes(b"x = 1\n")  # sorts before jane_doe.py
    (subs / "jane_doe.py").write_bytes(REFERENCE.encode())
    (subs / "Good.py").write_bytes(b"x = 1\n")  # only the case differs from good.py
    console = _grade_in_child(subs, out)
    for sock in keep:
        if isinstance(sock, socket.socket):
            sock.close()
    feedback = {p.stem: json.loads(p.read_text()) for p in (out / "feedback").glob("*.json")}
    return {"console": console, "out": out, "feedback": feedback}


def _student(catalog, entry):
    """The feedback of the student whose entry was `entry` (students.csv maps them)."""
    rows = list(csv.reader((catalog["out"] / "students.csv").open()))[1:]
    (student,) = [s for s, f in rows if f == entry]
    return catalog["feedback"][student]


@pytest.mark.parametrize("entry", sorted(REFUSED))
def test_an_entry_that_is_no_regular_file_or_folder_scores_0_with_a_reason_naming_it(catalog, entry):
    fb = _student(catalog, entry)
    assert fb["score"] == 0
    assert any(REFUSED[entry][1] in note for note in fb["notes"]), fb["notes"]
    assert "internal grading error" not in json.dumps(fb)
    assert "Traceback" not in json.dumps(fb) and "autograder/" not in json.dumps(fb)


@pytest.mark.parametrize("entry", ["good.py", "bom.py", "latin1.py", "crlf.py"])
def test_source_is_decoded_as_python_decodes_it(catalog, entry):
    fb = _student(catalog, entry)
    assert fb["score"] == fb["max_score"] == 100, fb["notes"]


def test_a_valid_id_is_kept_whatever_sorts_before_it(catalog):
    rows = dict(list(csv.reader((catalog["out"] / "students.csv").open()))[1:])
    assert rows["jane_doe"] == "jane_doe.py"
    assert catalog["feedback"]["jane_doe"]["score"] == 100
    (look_alike,) = [s for s, f in rows.items() if f == "jane doe.py"]
    assert look_alike.startswith("jane_doe-") and catalog["feedback"][look_alike]["score"] == 0
    ids = [s.casefold() for s in rows]
    assert len(ids) == len(set(ids)), "two ids differ only in case"
    assert f"'jane doe.py' graded as {look_alike}" in catalog["console"]
    (case_only,) = [s for s, f in rows.items() if f == "good.py"]  # "Good.py" sorts first and keeps "Good"
    assert case_only.startswith("good-") and f"'good.py' graded as {case_only}" in catalog["console"]


def test_hidden_entries_are_reported_not_silently_skipped(catalog):
    assert "'.hidden.py' not graded: hidden entry" in catalog["console"]


def test_student_text_reaches_no_file_with_a_control_character(catalog):
    out = catalog["out"]
    escapes = catalog["feedback"]["escapes"]
    assert 0 < escapes["score"] < 100
    files = [out / "feedback" / "escapes.md", out / "feedback" / "escapes.json", out / "ta" / "escapes.md"]
    for path in files:
        text = path.read_text()
        assert not set(text) & {"\x1b", "\x07", "\u202e", "\u202c", "\x9b"}, path
    ta = (out / "ta" / "escapes.md").read_text()
    assert "\\x1b]8;;http" in ta and "\\u202eevil" in ta  # shown, escaped


def test_student_feedback_shows_no_detail_of_hidden_tests_and_ta_files_do(catalog):
    out = catalog["out"]
    hidden = {t["name"] for t in catalog["feedback"]["escapes"]["tests"] if t["hidden"] and t["status"] == "failed"}
    public = {t["name"] for t in catalog["feedback"]["escapes"]["tests"] if not t["hidden"] and t["status"] == "failed"}
    assert hidden and public
    for t in catalog["feedback"]["escapes"]["tests"]:
        if t["name"] in hidden:
            assert t["message"].splitlines()[0] == "raised ValueError" and t["output"] == "", t
            assert "evil" not in t["message"]  # the course's hint may follow, never the submission's text
        if t["name"] in public:
            assert "evil" in t["message"] and "evil" in t["output"]
    student_md = (out / "feedback" / "escapes.md").read_text()
    ta_md = (out / "ta" / "escapes.md").read_text()
    assert student_md.count("evil") < ta_md.count("evil")
    assert all(f"### {name} " in ta_md for name in hidden)


# ---------------------------------------------------------------- unit level


def test_ids_are_stable_and_distinct(tmp_path):
    names = ["jane doe.py", "jane_doe.py", "Bob.py", "bob.py", "a" * 70 + "x.py", "a" * 70 + "y.py", "z.ipynb", "z.py"]
    for name in names:
        (tmp_path / name).write_text("x = 1\n")
    (tmp_path / ".x.py").write_text("x = 1\n")
    entries = submissions.discover(str(tmp_path), ASSIGNMENT)
    ids = dict((os.path.basename(p), s) for s, p in entries)
    assert ids["jane_doe.py"] == "jane_doe" and ids["Bob.py"] == "Bob"
    assert len({i.casefold() for i in ids.values()}) == len(names)
    assert all(len(i) <= 64 for i in ids.values())
    assert sorted(n for n, _ in entries.renamed) == sorted(n for n, i in ids.items() if i != os.path.splitext(n)[0])
    assert entries.hidden == [".x.py"]
    # an entry's id does not depend on what else the folder holds
    (tmp_path / "bob.py").unlink()
    again = dict((os.path.basename(p), s) for s, p in submissions.discover(str(tmp_path), ASSIGNMENT))
    assert again["jane doe.py"] == ids["jane doe.py"] and again["jane_doe.py"] == "jane_doe"


def test_a_renamed_id_never_takes_one_another_entry_would_have(tmp_path):
    (tmp_path / "jane doe.py").write_text("x = 1\n")
    squatter = submissions.discover(str(tmp_path), ASSIGNMENT)[0][0]
    (tmp_path / f"{squatter}.py").write_text("x = 1\n")  # the valid name the renamed one got
    ids = [s for s, _ in submissions.discover(str(tmp_path), ASSIGNMENT)]
    assert squatter in ids and len(set(ids)) == 2


def test_a_character_device_is_never_read(tmp_path):
    """/dev/zero's numbers under a submission's name, read in a child under a 2 GiB address-space
    cap and a time-out: refused by what it is, the grader's memory stays bounded."""
    if not ROOT_USER:
        pytest.skip("mknod needs root")
    _device(0o020000, 1, 5)(tmp_path / "zero.py")
    code = (
        "import resource, sys; resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))\n"
        "from autograder import assignments, submissions\n"
        "try:\n    submissions.read_submission(sys.argv[1], assignments.get('cnn_layer'))\n"
        "except submissions.SubmissionError as err:\n    print(err)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "zero.py")], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert "zero.py is a character device" in done.stdout, done.stderr[-2000:]


def test_an_oversized_file_is_refused_before_it_is_decoded(tmp_path):
    path = tmp_path / "big.py"
    path.write_bytes(b"#" * (submissions.SUBMISSION_MAX_BYTES + 1))
    with pytest.raises(submissions.SubmissionError, match="over"):
        submissions.read_submission(str(path), ASSIGNMENT)


@pytest.mark.parametrize(
    "data, text",
    [
        (codecs.BOM_UTF8 + b"x = 1\n", "x = 1\n"),
        (b"# coding: latin-1\ns = '\xe9'\n", "# coding: latin-1\ns = '\u00e9'\n"),
        (b"# vim: set fileencoding=cp1252 :\ns = '\x80'\n", "# vim: set fileencoding=cp1252 :\ns = '\u20ac'\n"),
    ],
)
def test_decode_source_follows_python(data, text):
    assert submissions.decode_source(data, "x.py") == text
    compile(data, "x.py", "exec")  # what Python itself accepts


@pytest.mark.parametrize(
    "data", [b"s = '\xe9'\n", b"# coding: no-such-codec\n", codecs.BOM_UTF8 + b"# coding: latin-1\n"]
)
def test_undecodable_source_is_the_students_error(data):
    with pytest.raises(submissions.SubmissionError, match="cannot be decoded as Python source"):
        submissions.decode_source(data, "x.py")
    with pytest.raises(SyntaxError):
        compile(data, "x.py", "exec")


def test_visible_escapes_every_control_and_bidi_character():
    controls = [chr(c) for c in [*range(0, 9), *range(11, 32), *range(0x7F, 0xA0)]]
    bidi = [
        "\u061c",
        "\u200e",
        "\u200f",
        "\u2028",
        "\u2029",
        *map(chr, range(0x202A, 0x202F)),
        *map(chr, range(0x2066, 0x206A)),
    ]
    text = report.visible("".join(controls + bidi) + "\tok\n")
    assert text.endswith("\tok\n") and text.isascii() and text[:-4].isprintable()
    assert report.visible("\x1b") == "\\x1b" and report.visible("\u202e") == "\\u202e"


def test_a_hidden_tests_brief_never_carries_text_the_submission_chose():
    class Want:
        raises = None

    forged = RunResult(status="error", error={"phase": "sandbox", "type": "Leak[1, 2, 3]", "message": "x = [1, 2]"})
    assert engine._brief(Want, forged, "") == "raised an exception of the submission's own class"
    budget = RunResult(status="error", error={"phase": "run", "type": "TimeBudgetExceeded", "message": "[1, 2]"})
    assert "[1, 2]" not in engine._brief(Want, budget, "")
    wrong = RunResult(status="ok", outputs={"out": [1.0]})
    assert (
        engine._brief(Want, wrong, "out: expected 1.5, got 1.0")
        == "a result is wrong (or an input was changed in place)"
    )


def _unblock_after(fifo, seconds):
    """Open `fifo` for writing after `seconds`, so a reader wrongly blocked on it fails the test
    instead of hanging the suite."""

    def unblock():
        time.sleep(seconds)
        with contextlib.suppress(OSError):
            os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))

    threading.Thread(target=unblock, daemon=True).start()


@pytest.mark.parametrize("make, reason", [(_fifo, "named pipe (FIFO)"), (_link_to("/etc/hostname"), "symbolic link")])
def test_the_otter_plugin_reads_the_upload_as_make_grade_does(tmp_path, monkeypatch, make, reason):
    """An upload named <assignment>.py that is a FIFO or a link: a 0 with the same reason as
    `make grade` gives, never a hang, an 'Autograder Failed' or a copy of what the link points to."""
    from autograder import otter, otter_verdicts

    (tmp_path / "source" / "tests").mkdir(parents=True)
    folder = tmp_path / "submission"
    folder.mkdir()
    make(folder / "cnn_layer.py")
    (folder / "cnn_layer.ipynb").write_bytes(_notebook("x = 1"))  # what Otter picked
    _unblock_after(folder / "cnn_layer.py", 30)
    calls = []

    def engine_call(source, assignment, path, student, refused=""):
        calls.append(refused)
        return otter_verdicts.grade_for_otter(assignment, path, student, refused)

    monkeypatch.setattr(otter, "grade_with_zip_engine", engine_call)
    plugin = otter.KitPlugin(str(folder / "cnn_layer.ipynb"), {}, {"assignment": "cnn_layer"})
    started = time.monotonic()
    plugin.before_grading(types.SimpleNamespace(autograder_dir=str(tmp_path)))
    assert time.monotonic() - started < 20
    assert plugin.error is None and calls and reason in calls[0]
    assert all(t["points"] == 0 and reason in t["message"] for t in plugin.verdicts["tests"])
