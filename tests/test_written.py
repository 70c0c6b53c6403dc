"""Written (hand-graded) questions: written.toml validates, the notebook carries them as Otter
manual questions that `otter export --filtering` keeps, the Gradescope template PDF is
reproducible and readable, and only the solutions zip holds the answers and rubrics."""

import copy
import hashlib
import io
import os
import subprocess
import sys
import zipfile

import nbformat
import pytest
from pypdf import PdfReader

from autograder.assignments import ASSIGNMENTS
from tools import dist, written
from tools.generate import ROOT

NAME = "backprop"


@pytest.fixture(scope="module")
def questions():
    return written.load(NAME)


@pytest.fixture(scope="module")
def template(questions):
    return written.template_pdf(questions)


@pytest.fixture(scope="module")
def answers_pdf(questions):
    return written.answers_pdf(questions)


@pytest.fixture(scope="module")
def student():
    return dist.student_files(NAME)


def _pdf_pages(data):
    return [written.normalize(page.extract_text()) for page in PdfReader(io.BytesIO(data)).pages]


def _first_words(markdown, n=6):
    """The prompt's first words before any math (a PDF's text does not keep math as typed)."""
    return written.normalize(markdown.split("$")[0]).split()[:n]


# ---------------------------------------------------------------- written.toml


def test_backprop_has_three_questions_whose_rubrics_add_up(questions):
    assert [q.name for q in questions.questions] == ["linear_collapse", "symmetric_init", "cross_entropy_delta"]
    for q in questions.questions:
        assert sum(r.points for r in q.rubric) == q.points and len(q.rubric) >= 3
    assert questions.path == os.path.join("autograder", "course", NAME, "authoring", "written.toml")


def test_only_assignments_with_a_written_toml_have_questions():
    for name in ASSIGNMENTS:
        has_file = os.path.exists(ASSIGNMENTS[name].authoring_path(written.FILENAME))
        assert (written.load(name) is not None) == has_file


GOOD = """
[[question]]
name = "q1"
title = "A title"
points = 2
prompt = "Show that $x = 1$."
answer = "Because $x - 1 = 0$."
rubric = [{ points = 1, item = "Sets up the equation." }, { points = 1, item = "Solves it." }]
"""


@pytest.mark.parametrize(
    "edit, message",
    [
        (("points = 2", "points = 3"), r"question 'q1': rubric points sum to 2, not the question's 3 points"),
        (('title = "A title"\n', 'title = "A title"\nhint = "x"\n'), r"question 'q1': unknown key\(s\) \['hint'\]"),
        (('answer = "Because $x - 1 = 0$."\n', ""), r"question 'q1': missing key\(s\) \['answer'\]"),
        (('name = "q1"', 'name = "q 1"'), r"question 'q 1': name must be an identifier"),
        (("points = 2", "points = 0"), r"question 'q1': points must be a positive number"),
        (('"Show that $x = 1$."', '"Show that $x = 1."'), r"question 'q1': prompt: unbalanced \$"),
        (('"Solves it."', '"Solves $x$."'), r"question 'q1': rubric item 2: item must be non-empty plain text"),
        (
            ('{ points = 1, item = "Solves it." }', '{ points = 1, text = "Solves it." }'),
            r"question 'q1': rubric item 2: must be a table with exactly the keys",
        ),
        (("[[question]]", 'title = "x"\n[[question]]'), r"expected only \[\[question\]\] tables"),
        (('name = "q1"', 'name = "q1" name'), r"not valid TOML"),
    ],
)
def test_bad_written_toml_is_refused_naming_file_and_question(edit, message):
    written.parse(GOOD, "course/x/written.toml")  # the unedited file is fine
    with pytest.raises(written.WrittenError, match=r"^course/x/written\.toml: .*" + message):
        written.parse(GOOD.replace(*edit), "course/x/written.toml")


def test_repeated_names_and_non_tables_are_refused():
    with pytest.raises(written.WrittenError, match=r"question names repeat: \['q1', 'q1'\]"):
        written.parse(GOOD + GOOD, "w.toml")
    with pytest.raises(written.WrittenError, match=r"^w\.toml: question 1: must be a \[\[question\]\] table"):
        written.parse("question = [1]", "w.toml")


def test_math_that_mathtext_cannot_set_is_refused_naming_the_question():
    bad = written.parse(GOOD.replace("$x = 1$", r"$\\notacommand{x}$"), "w.toml")  # TOML: \\ is one \
    with pytest.raises(written.WrittenError, match=r"^w\.toml: question 'q1': prompt: mathtext cannot set this"):
        written.template_pdf(bad)


def test_math_too_wide_for_the_page_is_refused_naming_the_question():
    wide = " + ".join(f"x_{{{i}}}" for i in range(80))
    bad = written.parse(GOOD.replace("$x = 1$", f"${wide}$"), "w.toml")
    with pytest.raises(written.WrittenError, match=r"^w\.toml: question 'q1': prompt: too wide for the page"):
        written.template_pdf(bad)


# ---------------------------------------------------------------- the notebook


def test_notebook_ends_with_otter_manual_questions(questions):
    from otter.assign.solutions import ANSWER_CELL_TAG
    from otter.export.exporters.utils import has_begin, has_end

    nb = nbformat.read(os.path.join(ROOT, "assignments", NAME, f"{NAME}.ipynb"), as_version=4)
    n = len(questions.questions)
    tail = nb.cells[-3 * n :]
    assert nb.cells[-3 * n - 1].source.startswith("## Written questions (graded by hand)")
    for q, (prompt, answer, end) in zip(questions.questions, zip(*[iter(tail)] * 3, strict=False), strict=False):
        assert has_begin(prompt.source.splitlines()[0]) and q.prompt in prompt.source
        assert f"_Points:_ {q.points:g}" in prompt.source
        assert answer.source == written.ANSWER_PLACEHOLDER and answer.metadata["tags"] == [ANSWER_CELL_TAG]
        assert has_end(end.source) and end.source.strip() == written.END
    lines = [line for c in nb.cells for line in c.source.splitlines()]
    assert sum(map(has_begin, lines)) == sum(map(has_end, lines)) == n


def test_otter_export_filtering_keeps_exactly_the_questions(questions):
    """Otter's own filter (what `otter export --filtering` runs before making the PDF)."""
    from otter.export.exporters.base_exporter import BaseExporter

    nb = nbformat.read(os.path.join(ROOT, "assignments", NAME, f"{NAME}.ipynb"), as_version=4)
    kept = BaseExporter.filter_cells(copy.deepcopy(nb), pagebreaks=True).cells
    assert [c.id for c in kept] == [c.id for c in nb.cells[-3 * len(questions.questions) :]]
    text = "\n".join(c.source for c in kept)
    assert all(q.prompt in text for q in questions.questions)
    assert "check(" not in text and "import" not in text


# ---------------------------------------------------------------- the PDFs


def test_template_has_a_cover_and_one_page_per_question(questions, template):
    assert template.startswith(b"%PDF-")
    pages = _pdf_pages(template)
    assert len(pages) == 1 + len(questions.questions)
    assert "name:" in pages[0] and "student id:" in pages[0] and f"total {questions.points:g} points" in pages[0]
    for number, (q, page) in enumerate(zip(questions.questions, pages[1:], strict=False), start=1):
        assert page.startswith(written.normalize(f"Question {number}: {q.title}"))
        assert f"{q.points:g} points" in page and "your answer:" in page
        assert " ".join(_first_words(q.prompt)) in page


def test_template_is_byte_reproducible_whatever_the_machines_matplotlibrc(questions, template, tmp_path):
    """Built again in a fresh process, with another hash seed and a matplotlibrc that changes fonts."""
    (tmp_path / "matplotlibrc").write_text("font.size: 30\nfont.family: serif\npdf.fonttype: 3\npdf.compression: 0\n")
    code = (
        f"import sys; from tools import written; sys.stdout.buffer.write(written.template_pdf(written.load({NAME!r})))"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345", "MPLCONFIGDIR": str(tmp_path), "PYTHONPATH": ROOT}
    again = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, check=True).stdout
    assert hashlib.sha256(again).hexdigest() == hashlib.sha256(template).hexdigest()
    assert b"CreationDate" not in template and b"ModDate" not in template


def test_answers_pdf_and_markdown_hold_every_answer_and_rubric_item(questions, answers_pdf):
    markdown = written.answers_markdown(questions)
    pdf_text = " ".join(_pdf_pages(answers_pdf))
    for q in questions.questions:
        assert q.answer in markdown and q.prompt in markdown
        assert " ".join(_first_words(q.answer)) in pdf_text
        for r in q.rubric:
            assert f"- **+{r.points:g}** {r.item}" in markdown
            assert written.normalize(r.item)[:40] in pdf_text


# ---------------------------------------------------------------- the zips


def test_student_zip_has_the_questions_and_no_answers(questions, template, student):
    dist.check_student_zip(f"{NAME}-student.zip", student, NAME)
    assert student[f"{NAME}/{NAME}-written.pdf"] == template
    assert not any(path.endswith(written.FILENAME) for path in student)
    notebook = student[f"{NAME}/{NAME}.ipynb"].decode()
    readme = student[f"{NAME}/README.md"].decode()
    assert "otter export" in readme and f"{NAME}-written.pdf" in readme
    everything = " ".join(written.normalize(data.decode("utf-8", "replace")) for data in student.values())
    for q in questions.questions:
        assert nbformat.reads(notebook, as_version=4) and q.title in notebook
        assert all(phrase not in everything for phrase in written.secret_phrases(questions))


@pytest.mark.parametrize("leak", ["markdown", "pdf", "toml"])
def test_student_zip_with_answers_or_rubric_is_refused(questions, answers_pdf, student, leak):
    path, data, match = {
        "markdown": (
            f"{NAME}/notes.md",
            written.answers_markdown(questions).encode(),
            r"notes\.md: contains the model answer",
        ),
        "pdf": (f"{NAME}/{NAME}-written.pdf", answers_pdf, r"-written\.pdf: contains the model answer"),
        "toml": (f"{NAME}/autograder/course/{NAME}/written.toml", b"", r"written\.toml: not allowed"),
    }[leak]
    with pytest.raises(dist.ReleaseError, match=rf"^{NAME}-student\.zip: {NAME}/.*{match}"):
        dist.check_student_zip(f"{NAME}-student.zip", {**student, path: data}, NAME)


def test_one_rubric_item_alone_is_refused(questions, student):
    item = questions.questions[1].rubric[2].item
    with pytest.raises(dist.ReleaseError, match=r"contains rubric item 3 of question 'symmetric_init'"):
        dist.check_student_zip(f"{NAME}-student.zip", {**student, f"{NAME}/x.txt": item.encode()}, NAME)


def test_dist_writes_the_template_and_the_answers(questions, template, answers_pdf, tmp_path, monkeypatch):
    """`make dist` of backprop (the autograder zip stubbed: tests/test_dist.py builds and grades one):
    the template beside the zips and in the manifest, the answers and rubrics in solutions.zip."""
    monkeypatch.setattr(dist, "autograder_zip_files", lambda name, workdir: {"stub": b""})
    dist.build(str(tmp_path), [NAME], verify=False)
    assert sorted(os.listdir(tmp_path)) == [
        "MANIFEST.sha256",
        f"{NAME}-autograder.zip",
        f"{NAME}-student.zip",
        f"{NAME}-written.pdf",
        "solutions.zip",
    ]
    assert (tmp_path / f"{NAME}-written.pdf").read_bytes() == template
    manifest = dict(reversed(line.split("  ")) for line in (tmp_path / "MANIFEST.sha256").read_text().splitlines())
    assert manifest[f"{NAME}-written.pdf"] == hashlib.sha256(template).hexdigest()
    with zipfile.ZipFile(tmp_path / "solutions.zip") as zf:
        assert zf.read(f"{NAME}/written-answers.md").decode() == written.answers_markdown(questions)
        assert zf.read(f"{NAME}/written-answers.pdf") == answers_pdf
        assert [n for n in zf.namelist() if "written" in n] == [
            f"{NAME}/written-answers.md",
            f"{NAME}/written-answers.pdf",
        ]
