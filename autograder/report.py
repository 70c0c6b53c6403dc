"""One results list, three renderings: the gradebook CSVs, per-student Markdown/JSON feedback,
and the end-of-run summary.

Everything a submission controls (exception messages, printed output, file names) is untrusted:
CSV cells that a spreadsheet would run as a formula get a leading quote (OWASP's CSV-injection
advice), Markdown shows such text only inside a code fence it cannot close, never as HTML, and
terminal control characters and bidi controls are shown escaped (`visible`), never sent raw to
whoever `cat`s a file.

Students get feedback/<id>.md/.json: a hidden test's name, points, what kind of thing failed and
the likely slip, never its inputs, outputs, expected values or what the code printed (SPEC 4).
TAs get the full detail of every test in ta/<id>.md.
"""

import csv
import json
import os
import re
import statistics
from collections import Counter

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"-?\d+(\.\d+)?(e[+-]?\d+)?$")
# C0 controls but tab and newline, DEL, C1 controls (0x9b is a CSI on some terminals), bidi
# embeddings, overrides, isolates and marks, line and paragraph separators
_INVISIBLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]")


def visible(text) -> str:
    """`text` with every terminal control character and bidi control written as a visible escape
    (ESC as \\x1b, U+202E as \\u202e); tabs and line breaks kept."""
    return _INVISIBLE.sub(lambda m: f"\\x{ord(m[0]):02x}" if ord(m[0]) < 0x100 else f"\\u{ord(m[0]):04x}", str(text))


def write_gradebook(results, out_dir, tests, files=None):
    """grades.csv (its status column: graded, unreadable or empty), tests.csv (each test's maximum),
    students.csv (id -> submitted entry) and feedback/<id>.md/.json. Returns (grades.csv path,
    [problems]): a feedback file that cannot be written is reported there and costs no one else's files."""
    os.makedirs(os.path.join(out_dir, "feedback"), exist_ok=True)
    path = os.path.join(out_dir, "grades.csv")
    _write_csv(
        path,
        ["student", "score", "max_score", "status"] + [t.name for t in tests],
        [
            [r.student, _num(r.score), _num(r.max_score), r.status] + [_cell_points(r, t.name) for t in tests]
            for r in results
        ],
    )
    _write_csv(
        os.path.join(out_dir, "tests.csv"),
        ["test", "task", "max_points", "hidden", "needs_gpu"],
        [[t.name, t.task, _num(t.points), str(bool(t.hidden)).lower(), str(bool(t.needs_gpu)).lower()] for t in tests],
    )
    files = files or {}
    _write_csv(
        os.path.join(out_dir, "students.csv"),
        ["student", "file"],
        [[r.student, files.get(r.student, "")] for r in results],
    )
    problems = []
    os.makedirs(os.path.join(out_dir, "ta"), exist_ok=True)
    for r in results:
        base = os.path.join(out_dir, "feedback", r.student)
        try:
            with open(base + ".json", "w", encoding="utf-8") as f:
                json.dump(as_dict(r), f, indent=2)
            with open(base + ".md", "w", encoding="utf-8", errors="replace") as f:
                f.write(as_markdown(r))
            with open(os.path.join(out_dir, "ta", r.student + ".md"), "w", encoding="utf-8", errors="replace") as f:
                f.write(as_markdown(r, for_ta=True))
        except (OSError, ValueError) as err:
            problems.append(f"{r.student}: feedback not written: {err}")
    return path, problems


def _cell_points(result, test_name):
    """The points of one test; 'skipped' (not 0) where it could not run here (no GPU)."""
    for t in result.tests:
        if t.name == test_name:
            return "skipped" if t.status == "skipped" else _num(t.points)
    return _num(0.0)


def _write_csv(path, header, rows):
    with open(path, "w", newline="", encoding="utf-8", errors="replace") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow([safe_cell(c) for c in header])
        writer.writerows([safe_cell(c) for c in row] for row in rows)


def safe_cell(value) -> str:
    """A CSV cell no spreadsheet runs as a formula: text starting with = + - @ tab or CR gets a
    leading single quote (numbers written by the kit, like -0.5, stay numbers)."""
    text = str(value)
    if text.startswith(_FORMULA_START) and not _NUMBER.match(text):
        return "'" + text
    return text


def _num(x):
    return f"{x:g}"


def shown(t, for_ta=False) -> tuple[str, str]:
    """(message, printed output) of a test as shown: a hidden test's brief only, unless for TAs."""
    if t.hidden and not for_ta:
        return (t.brief if t.status == "failed" else ""), ""
    return t.message, t.stdout


def as_dict(r, *, for_ta=False):
    return {
        "student": r.student,
        "assignment": r.assignment,
        "score": r.score,
        "max_score": r.max_score,
        "status": r.status,
        "notes": r.notes,
        "tests": [
            {
                "name": t.name,
                "task": t.task,
                "points": t.points,
                "max_points": t.max_points,
                "status": t.status,
                "hidden": t.hidden,
                "message": shown(t, for_ta)[0],
                "output": shown(t, for_ta)[1],
                "seconds": t.seconds,
                **({"brief": t.brief} if for_ta else {}),  # what the student sees of a hidden failure
            }
            for t in r.tests
        ],
    }


# ---------------------------------------------------------------- Markdown, safe for untrusted text


def fenced(text) -> list[str]:
    """Lines of a code block holding `text` verbatim: the fence is longer than any run of
    backticks in it, so no line of the text can close it (CommonMark shows a code block's
    content as text: no HTML, no emphasis, no headings)."""
    text = visible(text.replace("\r\n", "\n").replace("\r", "\n"))
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return [fence, text, fence]


def inline(text) -> str:
    """Untrusted text on one Markdown line: & < > as entities, every other ASCII punctuation
    character backslash-escaped, line breaks as spaces."""
    out = []
    for ch in " ".join(visible(text).split()):
        if ch in "&<>":
            out.append({"&": "&amp;", "<": "&lt;", ">": "&gt;"}[ch])
        elif ch.isascii() and not ch.isalnum() and not ch.isspace():
            out.append("\\" + ch)
        else:
            out.append(ch)
    return "".join(out)


def as_markdown(r, *, show_passed=True, for_ta=False):
    """Test names and tasks are the kit's own; the id, notes, messages and output are not.
    For students a hidden test shows only what kind of thing failed (`shown`); for TAs all."""
    lines = [f"# {r.assignment}: {inline(r.student)}", "", f"**Score: {_num(r.score)} / {_num(r.max_score)}**", ""]
    if r.notes:
        lines += ["Notes:", ""] + fenced("\n".join(r.notes)) + [""]
    lines += ["| test | task | points | result |", "| --- | --- | --- | --- |"]
    for t in r.tests:
        mark = {"passed": "passed", "failed": "FAILED", "skipped": "skipped"}[t.status]
        lines.append(
            f"| {t.name}{' (hidden)' if t.hidden else ''} | {t.task} | "
            f"{_num(t.points)} / {_num(t.max_points)} | {mark} |"
        )
    details = [t for t in r.tests if shown(t, for_ta)[0] and (t.status != "passed" or show_passed)]
    if details:
        lines += ["", "## Details", ""]
    for t in details:
        message, stdout = shown(t, for_ta)
        lines += [f"### {t.name} (task {t.task})", ""] + fenced(message.strip()) + [""]
        if stdout.strip() and t.status == "failed":
            lines += ["Your code printed:", ""] + fenced(stdout.strip()[:1500]) + [""]
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- console summary


def summary(results, tests, console):
    """Score distribution and failures by test, as rich tables."""
    from rich.table import Table

    if not results:
        console.print("no submissions found")
        return
    scores = [r.score for r in results]
    dist = Table(title=f"{results[0].assignment}: {len(results)} submission(s)")
    for col in ("min", "median", "mean", "max", "full marks", "zero"):
        dist.add_column(col, justify="right")
    top = max(r.max_score for r in results)
    dist.add_row(
        _num(min(scores)),
        _num(statistics.median(scores)),
        f"{statistics.mean(scores):.1f}",
        _num(max(scores)),
        str(sum(s == top for s in scores)),
        str(sum(s == 0 for s in scores)),
    )
    console.print(dist)
    failures = Counter(t.name for r in results for t in r.tests if t.status == "failed")
    skipped = Counter(t.name for r in results for t in r.tests if t.status == "skipped")
    fails = Table(title="failures by test")
    fails.add_column("test")
    fails.add_column("task")
    fails.add_column("failed", justify="right")
    for t in sorted(tests, key=lambda t: task_key(t.task)):  # public and hidden tests of a task together
        note = f" ({skipped[t.name]} skipped: needs a GPU)" if skipped[t.name] else ""
        fails.add_row(t.name, t.task, f"{failures[t.name]} / {len(results)}{note}")
    console.print(fails)


def task_key(task):
    """Task ids in numeric order: "1.2" before "1.10"."""
    return tuple(int(p) if p.isdigit() else p for p in str(task).split("."))
