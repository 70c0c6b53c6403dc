"""Hand-graded written questions: autograder/course/<name>/authoring/written.toml (optional) for Gradescope.

One source gives three things:
- the student notebook's closing section, in Otter's manual-question format: each prompt cell
  opens with `<!-- BEGIN QUESTION -->`, an answer cell follows, a cell `<!-- END QUESTION -->`
  closes it, so `otter export --filtering` puts exactly the questions and answers in the PDF;
- dist/<name>-written.pdf, the template of the Gradescope manual-grading assignment: a cover page,
  then one page per question with its prompt, points and a box to answer in;
- for instructors, <name>/written-answers.md and .pdf in solutions.zip: model answers and rubrics.

written.toml holds `[[question]]` tables with name (an identifier), title, points, prompt, answer
and rubric = [{points, item}, ...], the items' points summing to the question's. Prompts and
answers use a Markdown subset that Jupyter and the PDF typesetter both understand: paragraphs,
"- " lists, $inline$ and $$display$$ math in matplotlib's mathtext (a subset of LaTeX), **bold**
(set plain in the PDFs). The PDFs are drawn with matplotlib (no LaTeX) and are byte-reproducible.
"""

import contextlib
import io
import logging
import os
import re
import tomllib
import warnings
from dataclasses import dataclass

from autograder.errors import KitError

FILENAME = "written.toml"
BEGIN, END = "<!-- BEGIN QUESTION -->", "<!-- END QUESTION -->"
ANSWER_TAG = "otter_answer_cell"  # Otter's tag for the cell a student answers in
ANSWER_PLACEHOLDER = "_Type your answer here, replacing this text._"
QUESTION_KEYS = {"name", "title", "points", "prompt", "answer", "rubric"}
RUBRIC_KEYS = {"points", "item"}


class WrittenError(KitError, ValueError):
    """A written.toml that cannot be used; the message names the file and the question."""


@dataclass(frozen=True)
class RubricItem:
    points: float
    item: str


@dataclass(frozen=True)
class Question:
    name: str
    title: str
    points: float
    prompt: str
    answer: str
    rubric: tuple


@dataclass(frozen=True)
class Written:
    assignment: str  # the assignment's name
    heading: str  # "Assignment 1: Backpropagation by hand"
    path: str  # the file, relative to the repository, for messages
    questions: tuple

    @property
    def points(self):
        return sum(q.points for q in self.questions)


# ---------------------------------------------------------------- loading and validation


def load(name) -> Written | None:
    """The written questions of assignment `name`, or None if it has no written.toml."""
    from autograder import ROOT, assignments

    a = assignments.get(name)
    path = a.authoring_path(FILENAME)
    if not os.path.exists(path):
        return None
    with open(path, encoding="utf-8") as f:
        text = f.read()
    return parse(text, os.path.relpath(path, ROOT), name, f"Assignment {a.number}: {a.title}")


def parse(text, path, assignment="assignment", heading="Assignment") -> Written:
    """Validate written.toml's `text`; every error names `path` and the question."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise WrittenError(f"{path}: not valid TOML: {err}") from None
    if set(data) != {"question"} or not isinstance(data["question"], list) or not data["question"]:
        raise WrittenError(f"{path}: expected only [[question]] tables, got keys {sorted(data)}")
    questions = [_question(path, i, q) for i, q in enumerate(data["question"], start=1)]
    names = [q.name for q in questions]
    if len(set(names)) != len(names):
        raise WrittenError(f"{path}: question names repeat: {names}")
    return Written(assignment, heading, path, tuple(questions))


def _question(path, number, data) -> Question:
    if not isinstance(data, dict):
        raise WrittenError(f"{path}: question {number}: must be a [[question]] table, got {data!r}")
    where = f"{path}: question {data.get('name', number)!r}"
    if unknown := set(data) - QUESTION_KEYS:
        raise WrittenError(f"{where}: unknown key(s) {sorted(unknown)}; allowed: {sorted(QUESTION_KEYS)}")
    if missing := QUESTION_KEYS - set(data):
        raise WrittenError(f"{where}: missing key(s) {sorted(missing)}")
    if not isinstance(data["name"], str) or not data["name"].isidentifier():
        raise WrittenError(f"{where}: name must be an identifier, got {data['name']!r}")
    for key in ("title", "prompt", "answer"):
        if not isinstance(data[key], str) or not data[key].strip():
            raise WrittenError(f"{where}: {key} must be a non-empty string")
        _check_markdown(f"{where}: {key}", data[key])
    points = _points(where, data["points"])
    if not isinstance(data["rubric"], list) or not data["rubric"]:
        raise WrittenError(f"{where}: rubric must be a non-empty list of {{points, item}} tables")
    rubric = tuple(_rubric_item(f"{where}: rubric item {i}", item) for i, item in enumerate(data["rubric"], start=1))
    total = sum(r.points for r in rubric)
    if abs(total - points) > 1e-9:
        raise WrittenError(f"{where}: rubric points sum to {total:g}, not the question's {points:g} points")
    return Question(data["name"], data["title"].strip(), points, data["prompt"].strip(), data["answer"].strip(), rubric)


def _rubric_item(where, data) -> RubricItem:
    if not isinstance(data, dict) or set(data) != RUBRIC_KEYS:
        raise WrittenError(f"{where}: must be a table with exactly the keys {sorted(RUBRIC_KEYS)}, got {data!r}")
    if not isinstance(data["item"], str) or not data["item"].strip() or "$" in data["item"]:
        raise WrittenError(f"{where}: item must be non-empty plain text (no $math$: Gradescope shows it as typed)")
    return RubricItem(_points(where, data["points"]), data["item"].strip())


def _points(where, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise WrittenError(f"{where}: points must be a positive number, got {value!r}")
    return value


def _check_markdown(where, text):
    for block in blocks(text):
        if block[1].count("$") % 2:
            raise WrittenError(f"{where}: unbalanced $ in {block[1][:60]!r}")


def blocks(markdown) -> list[tuple[str, str]]:
    """The Markdown subset as (kind, text) blocks: "para", "item" (a "- " list entry) or
    "display" ($$...$$, given without the dollars); lines of a block are joined by spaces."""
    out = []
    for chunk in re.split(r"\n\s*\n", markdown.strip()):
        lines = [line.strip() for line in chunk.strip().splitlines()]
        joined = " ".join(lines)
        if joined.startswith("$$") and joined.endswith("$$") and len(joined) > 4:
            out.append(("display", joined[2:-2].strip()))
        elif lines[0].startswith("- "):
            for line in lines:
                if line.startswith("- "):
                    out.append(("item", line[2:]))
                else:
                    out[-1] = ("item", f"{out[-1][1]} {line}")
        else:
            out.append(("para", joined))
    return out


# ---------------------------------------------------------------- the notebook section


def notebook_cells(written) -> list:
    """The notebook's closing section: instructions, then per question Otter's manual-question cells."""
    import nbformat

    locked = {"deletable": False, "editable": False}
    name = written.assignment
    intro = (
        f"## Written questions (graded by hand)\n\n"
        f"These {len(written.questions)} questions ({written.points:g} points) are graded by hand on "
        f"Gradescope, in the assignment for this written part (not the one where you submit `{name}.py`). "
        f"Answer each in the cell under it, replacing the placeholder text; Markdown and `$math$` work. "
        f"Then make one PDF and upload it there, marking the page(s) of each question when Gradescope asks:\n\n"
        f"- `otter export {name}.ipynb --filtering --pagebreaks` (with `pip install otter-grader`) writes "
        f"`{name}.pdf` holding only these questions and your answers. It needs LaTeX; "
        f"`-e html` needs Chromium instead (`playwright install chromium`).\n"
        f"- Or print `{name}-written.pdf` (in your zip), write your answers in its boxes and scan it to one PDF.\n\n"
        f"Keep the question cells as they are: the export keeps only what lies between their markers."
    )
    cells = [nbformat.v4.new_markdown_cell(intro)]
    for number, q in enumerate(written.questions, start=1):
        prompt = f"{BEGIN}\n\n### Question {number}: {q.title}\n\n{q.prompt}\n\n_Points:_ {q.points:g} (graded by hand)"
        cells += [
            nbformat.v4.new_markdown_cell(prompt, metadata=dict(locked)),
            nbformat.v4.new_markdown_cell(ANSWER_PLACEHOLDER, metadata={"tags": [ANSWER_TAG]}),
            nbformat.v4.new_markdown_cell(END, metadata=dict(locked)),
        ]
    return cells


# ---------------------------------------------------------------- the instructors' Markdown


def answers_markdown(written) -> str:
    parts = [
        f"# {written.heading}: written questions, model answers and rubrics\n",
        f"For instructors and graders only. {len(written.questions)} questions, {written.points:g} points, "
        f"from `{written.path}`. In Gradescope's manual-grading assignment, enter each rubric as "
        f"positive-scoring items.\n",
    ]
    for number, q in enumerate(written.questions, start=1):
        rubric = "\n".join(f"- **+{r.points:g}** {r.item}" for r in q.rubric)
        parts.append(
            f"## Question {number}: {q.title} ({q.points:g} points)\n\n### Prompt\n\n{q.prompt}\n\n"
            f"### Model answer\n\n{q.answer}\n\n### Rubric\n\n{rubric}\n"
        )
    return "\n".join(parts)


def secret_phrases(written, min_length=24) -> dict[str, str]:
    """{normalized phrase: where it comes from} of the answers' and rubrics' prose (math left out,
    as a PDF's text does not keep it), without phrases the prompts share: a student file holding
    any of them leaks an answer."""
    public = normalize(" ".join(q.prompt + " " + q.title for q in written.questions))
    phrases = {}
    for q in written.questions:
        sources = [(f"the model answer of question {q.name!r}", q.answer)]
        sources += [(f"rubric item {i} of question {q.name!r}", r.item) for i, r in enumerate(q.rubric, start=1)]
        for where, text in sources:
            for piece in re.split(r"\$[^$]*\$|[.;:()]", text.replace("$$", "$")):
                phrase = normalize(piece).strip(" ,")
                if len(phrase) >= min_length and phrase not in public:
                    phrases.setdefault(phrase, where)
    return phrases


def normalize(text) -> str:
    """Lower case, Markdown emphasis removed, whitespace collapsed: how leak checks compare prose."""
    return " ".join(re.sub(r"[*`_]", "", text).lower().split())


# ---------------------------------------------------------------- PDFs, typeset with matplotlib

PAGE_W, PAGE_H = 612.0, 792.0  # US Letter, in points
MARGIN, BOTTOM = 60.0, 64.0  # side and top margin; the lowest baseline of the text
BODY = 10.5
MIN_ANSWER_BOX = 250.0  # the least answer space a question page may leave


@contextlib.contextmanager
def _typesetting():
    """matplotlib's own defaults (not the machine's matplotlibrc), TrueType fonts that matplotlib
    ships, and a glyph missing from them an error rather than a blank in the PDF."""
    import matplotlib
    import matplotlib.style

    # fontTools logs that the fonts' fixed 'created' date (set for byte-reproducible PDFs) "seems very low"
    font_log = logging.getLogger("fontTools")
    level = font_log.level
    font_log.setLevel(logging.ERROR)
    try:
        with matplotlib.style.context("default"), warnings.catch_warnings():
            matplotlib.rcParams.update({"pdf.fonttype": 42, "mathtext.fontset": "dejavusans"})
            warnings.filterwarnings("error", message=r"(?s).*missing from (current )?font")
            yield
    finally:
        font_log.setLevel(level)


def template_pdf(written) -> bytes:
    """The Gradescope template: a cover page, then one page per question with an answer box."""
    with _typesetting():
        doc = _Document(written, "written questions")
        doc.paragraph(written.heading, size=18, bold=True)
        doc.paragraph("Written questions, graded by hand", size=14)
        doc.skip(18)
        for label in ("Name:", "Student ID:"):
            doc.paragraph(label, size=12)
            doc.rule(MARGIN + 80, PAGE_W - MARGIN, doc.y)
            doc.skip(14)
        doc.skip(6)
        name = written.assignment
        doc.markdown(
            f"Answer each question on its own page, in the box under the question. Keep the pages in "
            f"this order and add none: Gradescope finds each answer by its page. Write legibly and scan "
            f"all pages to one PDF, or type your answers in the written questions at the end of "
            f"{name}.ipynb and export them with: otter export {name}.ipynb --filtering --pagebreaks. "
            f"Upload the PDF to the Gradescope assignment for the written part and mark the page(s) of "
            f"each question."
        )
        doc.skip(10)
        for number, q in enumerate(written.questions, start=1):
            doc.paragraph(f"Question {number}: {q.title}", right=f"{q.points:g} points")
        doc.paragraph("Total", bold=True, right=f"{written.points:g} points")
        for number, q in enumerate(written.questions, start=1):
            doc.new_page()
            doc.question_heading(number, q)
            doc.markdown(q.prompt, where=f"question {q.name!r}: prompt", flow=False)
            doc.skip(6)
            doc.paragraph("Your answer:", bold=True)
            top = doc.y - 6
            if top - BOTTOM < MIN_ANSWER_BOX:
                raise WrittenError(
                    f"{written.path}: question {q.name!r}: the prompt is too long to leave "
                    f"{MIN_ANSWER_BOX:g} pt of answer space on its page"
                )
            doc.box(top, BOTTOM - 10)
        return doc.pdf(f"{written.heading}: written questions")


def answers_pdf(written) -> bytes:
    """The model answers and rubrics, for graders: each question from a new page."""
    with _typesetting():
        doc = _Document(written, "model answers and rubrics (instructors only)")
        doc.paragraph(written.heading, size=18, bold=True)
        doc.paragraph("Written questions: model answers and rubrics (instructors only)", size=13)
        doc.skip(12)
        for number, q in enumerate(written.questions, start=1):
            if number > 1:
                doc.new_page()
            doc.question_heading(number, q)
            for label, text in (("Prompt", q.prompt), ("Model answer", q.answer)):
                doc.paragraph(label, size=12, bold=True)
                doc.markdown(text, where=f"question {q.name!r}: {label.lower()}")
                doc.skip(6)
            doc.paragraph("Rubric", size=12, bold=True)
            for r in q.rubric:
                doc.paragraph(r.item, indent=34, label=f"+{r.points:g}")
        return doc.pdf(f"{written.heading}: model answers and rubrics")


class _Document:
    """Pages laid out top to bottom: word-wrapped paragraphs with mathtext, display math, list
    items, rules and boxes; `y` is the next free height, in points from the page's bottom.
    Plain words are set as plain text and only $...$ words by mathtext, which is slow."""

    def __init__(self, written, footer):
        from matplotlib.font_manager import FontProperties
        from matplotlib.textpath import TextToPath

        self.written, self.footer, self.pages = written, f"{written.assignment}: {footer}", []
        self._fonts = {
            (size, bold): FontProperties(
                family="DejaVu Sans", size=size, math_fontfamily="dejavusans", weight="bold" if bold else "normal"
            )
            for size in (8, BODY, 12, 13, 14, 18)
            for bold in (False, True)
        }
        self._measure, self._metrics = TextToPath().get_text_width_height_descent, {}
        self.new_page()

    def new_page(self):
        self.pages.append([])  # ("text", x, y, string, size, bold) or ("rule", ...) or ("box", ...)
        self.y = PAGE_H - MARGIN

    def skip(self, points):
        self.y -= points

    def metrics(self, text, size=BODY, bold=False):
        """(width, ascent, descent) of `text` in points (as the PDF sets it: unhinted)."""
        key = (text, size, bold)
        if key not in self._metrics:
            w, h, d = self._measure(text, self._fonts[size, bold], ismath=_has_math(text))
            self._metrics[key] = (w, h - d, d)
        return self._metrics[key]

    def question_heading(self, number, q):
        self.paragraph(f"Question {number}: {q.title}", size=13, bold=True)
        self.paragraph(f"{q.points:g} points", size=BODY)
        self.skip(4)

    def markdown(self, text, where="", flow=True):
        for kind, body in blocks(text):
            body = re.sub(r"\*\*(.+?)\*\*|`(.+?)`", lambda m: m.group(1) or m.group(2), body)
            if kind == "display":
                self.paragraph(f"${body}$", display=True, where=where, flow=flow)
            else:
                self.paragraph(
                    body,
                    indent=14 if kind == "item" else 0,
                    label="•" if kind == "item" else None,
                    where=where,
                    flow=flow,
                )
            self.skip(0.5 * BODY)

    def paragraph(
        self, text, size=BODY, bold=False, indent=0.0, label=None, right=None, display=False, where="", flow=True
    ):
        """Greedy word wrap ($...$ spans never break), `label` hanging left of the first line,
        `right` set flush right on it. `flow`: continue on a new page when this one is full."""
        width = PAGE_W - 2 * MARGIN - indent - (self.metrics(right, size, bold)[0] + 12 if right else 0)
        try:
            words = re.findall(r"(?:\$[^$]*\$|[^\s$])+", text)
            lines = [words] if display else self._wrap(words, width, size, bold)
            runs = [[(run, *self.metrics(run, size, bold)) for run in _runs(line)] for line in lines]
        except ValueError as err:  # mathtext's ParseException is a ValueError
            raise WrittenError(
                f"{self.written.path}: {where}: mathtext cannot set this: {str(err).splitlines()[0]} in {text[:80]!r}"
            ) from None
        space = self._space(size, bold)
        for number, line in enumerate(runs):
            line_width = sum(w for _, w, _, _ in line) + space * (len(line) - 1)
            ascent = max([0.8 * size] + [a for _, _, a, _ in line])
            descent = max([0.25 * size] + [d for _, _, _, d in line])
            if line_width > width + 0.5:
                raise WrittenError(f"{self.written.path}: {where}: too wide for the page: {' '.join(words)[:80]!r}")
            if flow and self.y - ascent - descent < BOTTOM:
                self.new_page()
            pad = 4 if display else 0
            self.y -= ascent + pad
            x = (PAGE_W - line_width) / 2 if display else MARGIN + indent
            for run, w, _, _ in line:
                self.pages[-1].append(("text", x, self.y, run, size, bold))
                x += w + space
            if number == 0 and label is not None:
                self.pages[-1].append(
                    ("text", MARGIN + indent - 6 - self.metrics(label, size)[0], self.y, label, size, False)
                )
            if number == 0 and right is not None:
                self.pages[-1].append(
                    ("text", PAGE_W - MARGIN - self.metrics(right, size, bold)[0], self.y, right, size, bold)
                )
            self.y -= descent + 0.45 * size + pad

    def _space(self, size, bold):
        return self.metrics("a a", size, bold)[0] - 2 * self.metrics("a", size, bold)[0]

    def _wrap(self, words, width, size, bold):
        space, lines, used = self._space(size, bold), [[]], 0.0
        for word in words:
            w = self.metrics(word, size, bold)[0]
            if lines[-1] and used + space + w > width:
                lines.append([])
                used = 0.0
            used += (space if lines[-1] else 0.0) + w
            lines[-1].append(word)
        return lines

    def rule(self, x0, x1, y):
        self.pages[-1].append(("rule", x0, x1, y))

    def box(self, top, bottom):
        self.pages[-1].append(("box", top, bottom))

    def figures(self) -> list:
        from matplotlib.figure import Figure
        from matplotlib.lines import Line2D
        from matplotlib.patches import Rectangle

        figures = []
        for index, items in enumerate(self.pages, start=1):
            fig = Figure(figsize=(PAGE_W / 72, PAGE_H / 72))
            footer = f"{self.footer}, page {index} of {len(self.pages)}"
            items = items + [("text", (PAGE_W - self.metrics(footer, 8)[0]) / 2, 30, footer, 8, False)]
            for kind, *args in items:
                if kind == "text":
                    x, y, text, size, bold = args
                    fig.text(x / PAGE_W, y / PAGE_H, text, fontproperties=self._fonts[size, bold], va="baseline")
                elif kind == "rule":
                    x0, x1, y = args
                    fig.add_artist(Line2D([x0 / PAGE_W, x1 / PAGE_W], [y / PAGE_H] * 2, lw=0.6, color="black"))
                else:
                    top, bottom = args
                    fig.add_artist(
                        Rectangle(
                            (MARGIN / PAGE_W, bottom / PAGE_H),
                            1 - 2 * MARGIN / PAGE_W,
                            (top - bottom) / PAGE_H,
                            fill=False,
                            lw=0.8,
                            edgecolor="black",
                        )
                    )
            figures.append(fig)
        return figures

    def pdf(self, title) -> bytes:
        from matplotlib.backends.backend_pdf import PdfPages

        out = io.BytesIO()
        # No dates and no matplotlib version: the bytes depend only on the text.
        with PdfPages(
            out,
            metadata={
                "Title": title,
                "Creator": "tools/written.py",
                "Producer": None,
                "CreationDate": None,
                "ModDate": None,
            },
        ) as pdf:
            for fig in self.figures():
                pdf.savefig(fig)
        return out.getvalue()


def _runs(words) -> list[str]:
    """A line's words as runs: consecutive plain words joined, each word with $math$ alone."""
    runs = []
    for word in words:
        if runs and not _has_math(word) and not _has_math(runs[-1]):
            runs[-1] += " " + word
        else:
            runs.append(word)
    return runs


def _has_math(text):
    return text.count("$") >= 2
