"""What leaves the kit after `make grade`: ids safe as file names and as spreadsheet cells, feedback
that untrusted text cannot restyle, the gradebook's companion files, and the TA report, whose numbers
are checked against the gradebook and the feedback files themselves."""

import csv
import html as html_lib
import io
import json
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path
from types import SimpleNamespace

import pytest
from markdown_it import MarkdownIt
from rich.console import Console

from autograder import assignments, cli, report
from autograder.course import samples
from autograder.engine import SubmissionResult
from autograder.engine import TestResult as Result

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _grade(folder, out, name="momentum"):
    return cli.grade_folder(assignments.get(name), str(folder), str(out), jobs=2, console=Console(file=io.StringIO()))


def _rows(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


def _is_number(cell):
    try:
        float(cell)
        return True
    except ValueError:
        return False


# ---------------------------------------------------------------- ids


def test_a_251_character_id_is_capped_and_everyone_after_it_gets_feedback(tmp_path):
    subs = tmp_path / "subs"
    subs.mkdir()
    long_a, long_b = "a" * 248, "a" * 247 + "b"  # 251 characters each with ".py"
    for stem in (long_a, long_b, "zed"):
        (subs / f"{stem}.py").write_text("x = 1\n")
    results = _grade(subs, tmp_path / "out")
    ids = [r.student for r in results]
    assert len(set(ids)) == 3 and all(len(i) <= 64 for i in ids)
    feedback = sorted(os.listdir(tmp_path / "out" / "feedback"))
    assert feedback == sorted(f"{i}.{ext}" for i in ids for ext in ("json", "md"))
    mapping = dict(_rows(tmp_path / "out" / "students.csv")[1:])
    assert sorted(mapping.values()) == sorted([f"{long_a}.py", f"{long_b}.py", "zed.py"])
    assert mapping["zed"] == "zed.py"


def test_ids_starting_with_formula_characters_are_neutralised_everywhere(tmp_path):
    subs = tmp_path / "subs"
    subs.mkdir()
    names = ["+1 555.py", "-2+3.py", "=HYPERLINK(x).py", "@SUM(A1).py"]
    for name in names:
        (subs / name).write_text("x = 1\n")
    _grade(subs, tmp_path / "out")
    out = tmp_path / "out"
    for table in ("grades.csv", "students.csv", "tests.csv"):
        for row in _rows(out / table):
            for cell in row:
                assert not cell.startswith(FORMULA_START) or _is_number(cell), (table, cell)
    files = [f for _, f in _rows(out / "students.csv")[1:]]
    assert sorted(f[1:] if f.startswith("'") else f for f in files) == sorted(names)
    for student, _ in _rows(out / "students.csv")[1:]:
        assert (out / "feedback" / f"{student}.md").exists()


@pytest.mark.parametrize(
    "text, cell",
    [
        ("=1+1", "'=1+1"),
        ("+x", "'+x"),
        ("-x", "'-x"),
        ("@x", "'@x"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("-0.5", "-0.5"),
        ("plain", "plain"),
    ],
)
def test_safe_cell(text, cell):
    assert report.safe_cell(text) == cell


# ---------------------------------------------------------------- feedback Markdown

HOSTILE = (
    "ValueError: nope\n```\n\n**Score: 100 / 100**\n\n| test | points |\n| --- | --- |\n"
    "<!-- the real failures are hidden\n````` <script>alert(1)</script> & more"
)


def _result(message=HOSTILE, stdout="printed ``` and ```` too\n<!--"):
    tests = [
        Result("t_fail", "1.1", 0.0, 10.0, "failed", message, False, stdout),
        Result("t_pass", "1.2", 5.0, 5.0, "passed", "", True),
    ]
    return SubmissionResult("stu", "momentum", tests, notes=[f"import failed: {HOSTILE}"])


def _code_blocks_and_text(markdown):
    tokens = MarkdownIt("commonmark").enable("table").parse(markdown)
    blocks = [t.content for t in tokens if t.type in ("fence", "code_block")]
    html = [t for t in tokens if t.type.startswith("html")]
    inline = " ".join(t.content for t in tokens if t.type == "inline")
    for t in tokens:
        html += [c for c in (t.children or []) if c.type.startswith("html")]
    return blocks, html, inline


def test_untrusted_text_stays_inside_its_fence_and_no_html_renders():
    markdown = report.as_markdown(_result())
    blocks, html, text = _code_blocks_and_text(markdown)
    assert html == []
    assert text.count("Score:") == 1 and "Score: 5 / 15" in text  # only the kit's own score line
    assert HOSTILE.strip() + "\n" in blocks  # the message, verbatim
    assert f"import failed: {HOSTILE}\n" in blocks
    assert any("printed ``` and ```` too" in b for b in blocks)


def test_hostile_exception_text_through_a_real_grading(tmp_path):
    subs = tmp_path / "subs"
    subs.mkdir()
    (subs / "evil.py").write_text(f"def momentum_step(*a, **k):\n    raise ValueError({HOSTILE!r})\n")
    (results,) = _grade(subs, tmp_path / "out")
    assert results.score == 0
    markdown = (tmp_path / "out" / "feedback" / "evil.md").read_text()
    blocks, html, text = _code_blocks_and_text(markdown)
    assert html == [] and text.count("Score:") == 1 and "Score: 0 / 100" in text
    assert any("<!-- the real failures are hidden" in b for b in blocks)


def test_one_unwritable_feedback_costs_no_one_else(tmp_path):
    results = [_result(), _result(), _result()]
    for r, name in zip(results, ("a", "b", "c"), strict=False):
        r.student = name
    os.makedirs(tmp_path / "feedback" / "b.md")  # b's Markdown cannot be written
    path, problems = report.write_gradebook(results, str(tmp_path), assignments.get("momentum").tests()[:0])
    assert len(problems) == 1 and problems[0].startswith("b: feedback not written")
    for name in ("a", "c"):
        assert json.loads((tmp_path / "feedback" / f"{name}.json").read_text())["student"] == name
        assert (tmp_path / "feedback" / f"{name}.md").read_text().startswith(f"# momentum: {name}")
    assert [r[0] for r in _rows(path)[1:]] == ["a", "b", "c"]


# ---------------------------------------------------------------- gradebook companions


def test_skipped_cells_and_the_maximum_of_each_test(tmp_path):
    tests = assignments.get("gpu_training").tests()
    gpu = next(t for t in tests if t.needs_gpu)
    other = next(t for t in tests if not t.needs_gpu)
    result = SubmissionResult(
        "s",
        "gpu_training",
        [
            Result(gpu.name, gpu.task, 0.0, gpu.points, "skipped", "skipped: needs a CUDA GPU"),
            Result(other.name, other.task, 0.0, other.points, "failed", "wrong"),
        ],
    )
    path, _ = report.write_gradebook([result], str(tmp_path), [gpu, other], {"s": "s.py"})
    header, row = _rows(path)
    assert header[:3] == ["student", "score", "max_score"]
    cells = dict(zip(header, row, strict=False))
    assert cells[gpu.name] == "skipped" and cells[other.name] == "0"
    assert float(cells["max_score"]) == other.points  # a skipped test is not owed
    maxima = {r[0]: r for r in _rows(tmp_path / "tests.csv")[1:]}
    assert _rows(tmp_path / "tests.csv")[0] == ["test", "task", "max_points", "hidden", "needs_gpu"]
    assert float(maxima[gpu.name][2]) == gpu.points and maxima[gpu.name][4] == "true"
    assert float(maxima[other.name][2]) == other.points and maxima[other.name][4] == "false"


# ---------------------------------------------------------------- the TA report


class _Elements(HTMLParser):
    def __init__(self):
        super().__init__()
        self.elements = []

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))


@pytest.fixture(scope="module")
def graded_momentum(tmp_path_factory):
    out = tmp_path_factory.mktemp("momentum_out")
    _grade(samples.write("momentum", str(out.parent / "momentum_samples")), out)
    return out


def test_report_histogram_matches_the_gradebook(graded_momentum):
    out = graded_momentum
    page = (out / "report.html").read_text()
    parser = _Elements()
    parser.feed(page)
    bars = [a for tag, a in parser.elements if tag == "rect" and a.get("class") == "bar"]
    counts = [0] * 10
    for row in _rows(out / "grades.csv")[1:]:
        share = float(row[1]) / float(row[2])
        counts[min(int(share * 10), 9)] += 1
    assert [int(b["data-count"]) for b in bars] == counts
    tallest = max(float(b["height"]) for b in bars)
    for b in bars:  # bar heights drawn in proportion to the counts
        assert float(b["height"]) == pytest.approx(tallest * int(b["data-count"]) / max(counts), abs=0.1)
    assert "<script" not in page and "http://" not in page.replace("http://www.w3.org/2000/svg", "")
    assert "https://" not in page
    start = page.index("<svg")
    ET.fromstring(page[start : page.index("</svg>", start) + 6])  # well-formed inline SVG


def test_report_failure_rates_are_right_sorted_and_grouped(graded_momentum):
    out = graded_momentum
    parser = _Elements()
    parser.feed((out / "report.html").read_text())
    bars = [a for tag, a in parser.elements if tag == "rect" and a.get("class") == "rate"]
    statuses = {}
    for name in os.listdir(out / "feedback"):
        if name.endswith(".json"):
            for t in json.loads((out / "feedback" / name).read_text())["tests"]:
                statuses.setdefault(t["name"], []).append(t["status"])
    assert {b["data-test"] for b in bars} == set(statuses)
    for b in bars:
        s = statuses[b["data-test"]]
        assert (int(b["data-failed"]), int(b["data-graded"])) == (s.count("failed"), len(s) - s.count("skipped"))
    tasks = [b["data-task"] for b in bars]
    assert len(set(tasks)) == len([t for i, t in enumerate(tasks) if i == 0 or tasks[i - 1] != t])  # grouped
    rates = [int(b["data-failed"]) / int(b["data-graded"]) for b in bars]
    for i in range(1, len(bars)):
        if tasks[i] == tasks[i - 1]:
            assert rates[i] <= rates[i - 1]  # worst first within a task
    md = (out / "report.md").read_text()
    worst = max(bars, key=lambda b: int(b["data-failed"]))
    assert f"| {worst['data-test']} | {worst['data-failed']} / {worst['data-graded']} |" in md


def test_report_counts_each_known_slip(graded_momentum):
    out = graded_momentum
    parser = _Elements()
    parser.feed((out / "report.html").read_text())
    bars = {a["data-slip"]: a for tag, a in parser.elements if tag == "rect" and a.get("class") == "slip"}
    hints = {s.hint for t in assignments.get("momentum").tests() for s in t.slips}
    assert set(bars) == hints
    feedback = [(out / "feedback" / n).read_text() for n in os.listdir(out / "feedback") if n.endswith(".md")]
    for hint, bar in bars.items():
        line = f"Likely slip: {hint}"
        assert int(bar["data-submissions"]) == sum(line in md for md in feedback), hint
        assert int(bar["data-tests"]) == sum(md.splitlines().count(line) for md in feedback), hint
    assert sum(int(b["data-submissions"]) for b in bars.values()) > 0  # the samples do show slips


# ---------------------------------------------------------------- report.html in a real browser

BROWSER = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
# Run inside the rendered page: every label's box against every bar and the figure's edge.
_LAYOUT_PROBE = """<script>
const problems = [], labels = [];
for (const svg of document.querySelectorAll("svg.failure-rates, svg.slips")) {
  const edge = svg.getBoundingClientRect();
  const bars = [...svg.querySelectorAll("rect")].map(r => r.getBoundingClientRect()).filter(b => b.width > 0);
  for (const text of svg.querySelectorAll("text.label")) {
    const box = text.getBoundingClientRect();
    labels.push(text.textContent);
    if (box.right > edge.right + 0.5 || box.left < edge.left - 0.5) problems.push("cut: " + text.textContent);
    for (const bar of bars)
      if (box.left < bar.right && bar.left < box.right && box.top < bar.bottom && bar.top < box.bottom)
        problems.push("under a bar: " + text.textContent);
  }
}
const links = [...document.querySelectorAll("table.students a")].map(a => a.getAttribute("href"));
document.body.setAttribute("data-probe", JSON.stringify({problems, labels, links}));
</script></body>"""


def _long_named_results():
    """Two submissions of a made-up assignment whose test names and slip hints are long."""
    long_hint = "p used as the KEEP probability: here p is the probability of DROPPING a unit, " * 2 + "end"
    hints = [long_hint, long_hint.replace("end", "other end"), "short slip"]
    tests = [
        SimpleNamespace(name=f"a_test_with_a_rather_long_descriptive_name_number_{i}", task=f"1.{i % 3 + 1}", slips=[])
        for i in range(5)
    ]
    tests[0].slips = [SimpleNamespace(hint=h) for h in hints]
    message = "\n".join(["wrong"] + [f"Likely slip: {h}" for h in hints[:2]])
    results = [
        SubmissionResult(
            student,
            "made_up",
            [
                Result(t.name, t.task, 0.0 if failed else 1.0, 1.0, "failed" if failed else "passed", message)
                for t in tests
            ],
        )
        for student, failed in (("alice", True), ("bob_2", False))
    ]
    return results, tests, hints


@pytest.mark.skipif(BROWSER is None, reason="no Chromium installed (apt-get install chromium)")
def test_report_html_renders_in_a_browser_with_every_label_whole_and_a_link_per_student(tmp_path):
    from autograder import ta_report

    results, tests, hints = _long_named_results()
    html_path, _ = ta_report.write(results, tests, str(tmp_path), "made_up", {"alice": "alice.py", "bob_2": "bob_2"})
    (tmp_path / "feedback").mkdir()
    for r in results:
        (tmp_path / "feedback" / f"{r.student}.md").write_text("feedback")
    page = Path(html_path).read_text()
    probe = tmp_path / "probe.html"
    probe.write_text(page.replace("</body>", _LAYOUT_PROBE))
    done = subprocess.run(
        [
            BROWSER,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--window-size=1280,2000",
            "--dump-dom",
            probe.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "HOME": str(tmp_path)},
    )
    dom = done.stdout
    start = dom.index('data-probe="') + len('data-probe="')
    found = json.loads(html_lib.unescape(dom[start : dom.index('"', start)]))
    assert found["problems"] == []
    text = " ".join(found["labels"])
    for hint in hints:
        assert hint in text  # the whole slip, wrapped over lines, never cut
    for t in tests:
        assert f"{t.task} {t.name}" in text
    assert sorted(found["links"]) == ["feedback/alice.md", "feedback/bob_2.md"]
    assert all((tmp_path / link).exists() for link in found["links"])


# ---------------------------------------------------------------- unreadable and empty entries


def test_unreadable_and_empty_entries_are_told_apart_from_blank_code(tmp_path):
    subs = tmp_path / "subs"
    (subs / "emptydir").mkdir(parents=True)
    (subs / "notes").mkdir()
    (subs / "notes" / "notes.md").write_text("my answers")
    (subs / "erin.txt").write_text("def dropout_forward(): ...")
    (subs / "blank.py").write_text("\n  \n")
    (subs / "stub.py").write_text("x = 1\n")  # code that defines nothing: graded, 0
    buffer = io.StringIO()
    results = cli.grade_folder(
        assignments.get("dropout"), str(subs), str(tmp_path / "out"), jobs=2, console=Console(file=buffer, width=200)
    )
    status = {r.student: r.status for r in results}
    assert status == {
        "blank": "empty",
        "emptydir": "empty",
        "erin": "unreadable",
        "notes": "unreadable",
        "stub": "graded",
    }
    rows = _rows(tmp_path / "out" / "grades.csv")
    assert rows[0][:4] == ["student", "score", "max_score", "status"]
    assert {r[0]: r[3] for r in rows[1:]} == status and all(r[1] == "0" for r in rows[1:])
    console = buffer.getvalue()
    assert "4 entries not graded" in console
    for line in (
        "erin (erin.txt): unreadable: erin.txt is not a .py file or a notebook",
        "notes (notes): unreadable: folder holds neither dropout.py nor a notebook",
        "emptydir (emptydir): empty: the folder is empty",
        "blank (blank.py): empty: the submitted dropout.py is empty",
    ):
        assert line in console, console
    assert "stub (" not in console
    page = (tmp_path / "out" / "report.html").read_text()
    assert "<td>erin</td><td>erin.txt</td>" in page and "<td>unreadable</td>" in page


def test_an_empty_submissions_folder_is_an_error(tmp_path):
    (tmp_path / "subs").mkdir()
    done = subprocess.run(
        [sys.executable, "-m", "autograder", "grade", "dropout", str(tmp_path / "subs"), "-o", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode != 0
    assert "no submissions in" in done.stderr and "<id>.py" in done.stderr, done.stderr


# ---------------------------------------------------------------- make grade's verdict on the samples


def test_grading_the_samples_ends_with_a_verdict_and_its_exit_code(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "autograder", "grade", "dropout", "-o", str(tmp_path / "out"), "-q"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    buggy = samples.buggy("dropout")
    verdict = f"dropout: OK: reference 100/100, blank 0/100, {len(buggy)}/{len(buggy)} buggy samples caught"
    assert done.returncode == 0 and verdict in done.stderr, done.stderr
    assert all(s.name in done.stderr for s in buggy)


def test_a_failed_verdict_names_what_failed(tmp_path):
    folder = samples.write("dropout", str(tmp_path / "samples"))
    results = {r.student: r for r in _grade(folder, tmp_path / "out", "dropout")}
    ok, lines = cli.samples_verdict("dropout", list(results.values()))
    assert ok and lines[0].startswith("dropout: OK: ")
    first = samples.buggy("dropout")[0].name
    results["blank"], results[first] = results["reference"], results["blank"]  # a blank that scores, a bug not caught
    skipped = results["reference"].tests[0]
    results["reference"] = SubmissionResult(
        "reference",
        "dropout",
        [
            Result(skipped.name, skipped.task, 0.0, skipped.max_points, "skipped", "skipped: needs a CUDA GPU"),
            *results["reference"].tests[1:],
        ],
    )
    ok, lines = cli.samples_verdict("dropout", [replace_student(r, s) for s, r in results.items()])
    text = "\n".join(lines)
    assert not ok and "FAILED" in lines[0]
    rest, gpu = 100 - skipped.max_points, skipped.max_points
    assert f"reference {rest:g}/{rest:g} (GPU tests, {gpu:g} points, skipped" in text
    assert "the blank skeleton scores 100/100, not 0" in text
    assert f"buggy sample {first} loses points but its feedback does not say" in text


def replace_student(result, student):
    return SubmissionResult(student, result.assignment, result.tests, result.notes)
