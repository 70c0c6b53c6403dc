"""The TA's picture of one graded set: report.html (one self-contained page, plain inline SVG, no
scripts, no links but to the feedback files beside it, opens offline) and report.md with the same
numbers, beside grades.csv.

Four views: the score histogram, each test's failure rate (grouped by task, worst first), how
often each known slip was recognised in the feedback ("Likely slip: ..." lines), and one row per
student with a link to their feedback file.
"""

import html
import os
import textwrap
from collections import Counter, defaultdict
from dataclasses import dataclass
from urllib.parse import quote

from autograder.report import inline

BINS = 10  # score histogram: 0-10%, ..., 90-100% of each submission's maximum
SLIP_PREFIX = "Likely slip: "


@dataclass
class TestRate:
    name: str
    task: str
    failed: int
    graded: int  # submissions where the test ran (not skipped)
    skipped: int

    @property
    def rate(self):
        return self.failed / self.graded if self.graded else 0.0


def histogram(results) -> list[int]:
    """Submissions per tenth of the maximum score; full marks fall in the last bin."""
    counts = [0] * BINS
    for r in results:
        share = r.score / r.max_score if r.max_score else 0.0
        counts[min(int(share * BINS), BINS - 1)] += 1
    return counts


def failure_rates(results, tests) -> list[tuple[str, list[TestRate]]]:
    """[(task, [TestRate...])]: tests sorted by failure rate within their task, tasks by their
    worst rate (ties in the assignment's order)."""
    groups = defaultdict(list)
    for t in tests:
        statuses = [x.status for r in results for x in r.tests if x.name == t.name]
        groups[t.task].append(
            TestRate(
                t.name,
                t.task,
                statuses.count("failed"),
                statuses.count("failed") + statuses.count("passed"),
                statuses.count("skipped"),
            )
        )
    order = {task: i for i, task in enumerate(dict.fromkeys(t.task for t in tests))}
    for rates in groups.values():
        rates.sort(key=lambda x: (-x.rate, x.name))
    return sorted(groups.items(), key=lambda item: (-item[1][0].rate, order[item[0]]))


def slips_seen(results, tests) -> list[tuple[str, int, int]]:
    """[(hint, submissions, failed tests)] for every known slip, most often seen first.
    Only the kit's own hints count: a submission cannot invent a slip by printing one."""
    known = list(dict.fromkeys(s.hint for t in tests for s in t.slips))
    submissions, failures = Counter(), Counter()
    for r in results:
        seen = set()
        for t in r.tests:
            if t.status != "failed":
                continue
            for line in t.message.splitlines():
                hint = line[len(SLIP_PREFIX) :].strip() if line.startswith(SLIP_PREFIX) else None
                if hint in known:
                    failures[hint] += 1
                    seen.add(hint)
        submissions.update(seen)
    return sorted(((h, submissions[h], failures[h]) for h in known), key=lambda x: (-x[1], -x[2], known.index(x[0])))


def write(results, tests, out_dir, assignment, files=None):
    """Write report.html and report.md into out_dir; returns the two paths. `files`: id -> the
    entry each submission came from."""
    hist, rates, slips = histogram(results), failure_rates(results, tests), slips_seen(results, tests)
    paths = os.path.join(out_dir, "report.html"), os.path.join(out_dir, "report.md")
    with open(paths[0], "w", encoding="utf-8") as f:
        f.write(as_html(assignment, results, hist, rates, slips, files))
    with open(paths[1], "w", encoding="utf-8") as f:
        f.write(as_markdown(assignment, results, hist, rates, slips))
    return paths


def _bin_label(i):
    return f"{i * 100 // BINS}-{(i + 1) * 100 // BINS}%"


def _pct(x):
    return f"{100 * x:.0f}%"


# ---------------------------------------------------------------- Markdown


def as_markdown(assignment, results, hist, rates, slips):
    lines = [
        f"# {assignment}: {len(results)} submission(s)",
        "",
        "## Scores (share of the maximum)",
        "",
        "| score | submissions | |",
        "| --- | ---: | --- |",
    ]
    lines += [f"| {_bin_label(i)} | {n} | {'█' * n} |" for i, n in enumerate(hist)]
    lines += [
        "",
        "## Failure rate by test (grouped by task, worst first)",
        "",
        "| task | test | failed | rate | skipped |",
        "| --- | --- | ---: | ---: | ---: |",
    ]
    for task, group in rates:
        lines += [
            f"| {task} | {x.name} | {x.failed} / {x.graded} | {_pct(x.rate)} | {x.skipped or ''} |" for x in group
        ]
    lines += ["", "## Known slips seen", "", "| slip | submissions | failed tests |", "| --- | ---: | ---: |"]
    lines += [f"| {hint.replace('|', chr(92) + '|')} | {subs} | {fails} |" for hint, subs, fails in slips]
    if not slips:
        lines.append("| (this assignment names no slips) | | |")
    lines += ["", "## Students", "", "| student | score | status | feedback |", "| --- | ---: | --- | --- |"]
    lines += [
        f"| {inline(r.student)} | {r.score:g} / {r.max_score:g} | {r.status} | "
        f"[feedback](feedback/{quote(r.student)}.md) |"
        for r in sorted(results, key=lambda r: r.student)
    ]
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- HTML with inline SVG


def _e(text):
    return html.escape(str(text), quote=True)


def histogram_svg(hist, width=520, height=220):
    top = max(hist) or 1
    plot_h, bar_w = height - 50, (width - 40) / len(hist)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="histogram" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="score histogram">'
    ]
    for i, n in enumerate(hist):
        h = plot_h * n / top
        x, y = 20 + i * bar_w, 20 + plot_h - h
        parts.append(
            f'<rect class="bar" x="{x:.1f}" y="{y:.1f}" width="{bar_w - 4:.1f}" height="{h:.1f}" '
            f'data-bin="{_bin_label(i)}" data-count="{n}" fill="#4c78a8">'
            f"<title>{_bin_label(i)}: {n}</title></rect>"
        )
        parts.append(
            f'<text x="{x + bar_w / 2 - 2:.1f}" y="{y - 4:.1f}" text-anchor="middle" font-size="11">{n}</text>'
        )
        parts.append(
            f'<text x="{x + bar_w / 2 - 2:.1f}" y="{height - 14}" text-anchor="middle" '
            f'font-size="10">{_bin_label(i)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


LABEL_CHARS = 80  # a bar's label wraps at this many characters; it is never cut
LINE = 14  # px per label line (font-size 11)
BAR = 12  # px bar height


def _bars_svg(css, aria, rows, width=520):
    """Horizontal bars, each under its full label (wrapped, never cut and never under a bar).
    rows: [(label, fraction 0..1, value text, {data attributes}, tooltip)]."""
    parts, y = [], 4
    for label, fraction, value, data, tooltip in rows:
        lines = textwrap.wrap(label, LABEL_CHARS, break_long_words=True, break_on_hyphens=False) or [""]
        for line in lines:
            y += LINE
            parts.append(f'<text class="label" x="0" y="{y - 3}" font-size="11">{_e(line)}</text>')
        bar = (width - 60) * fraction
        attrs = "".join(f' data-{k}="{_e(v)}"' for k, v in data.items())
        parts.append(
            f'<rect class="{css}" x="0" y="{y + 1}" width="{bar:.1f}" height="{BAR}"{attrs} fill="{_COLOURS[css]}">'
            f"<title>{_e(tooltip)}</title></rect>"
        )
        parts.append(f'<text class="value" x="{bar + 4:.1f}" y="{y + BAR - 1}" font-size="11">{_e(value)}</text>')
        y += BAR + 8
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="{aria[0]}" width="{width}" height="{y}" '
        f'viewBox="0 0 {width} {y}" role="img" aria-label="{aria[1]}">'
    )
    return head + "".join(parts) + "</svg>"


_COLOURS = {"rate": "#e45756", "slip": "#f58518"}


def rates_svg(rates, width=520):
    rows = [
        (
            f"{x.task} {x.name}",
            x.rate,
            _pct(x.rate),
            {"test": x.name, "task": x.task, "failed": x.failed, "graded": x.graded},
            f"{x.name}: {x.failed} / {x.graded}",
        )
        for _, group in rates
        for x in group
    ]
    return _bars_svg("rate", ("failure-rates", "failure rate by test"), rows, width)


def slips_svg(slips, width=520):
    top = max((subs for _, subs, _ in slips), default=0) or 1
    rows = [
        (hint, subs / top, str(subs), {"slip": hint, "submissions": subs, "tests": fails}, f"{hint}: {subs}")
        for hint, subs, fails in slips
    ]
    return _bars_svg("slip", ("slips", "known slips seen"), rows, width)


def students_table(results, files=None) -> str:
    """One row per submission: id, file, score, status, and a link to its feedback file."""
    files = files or {}
    rows = "".join(
        f"<tr><td>{_e(r.student)}</td><td>{_e(files.get(r.student, ''))}</td>"
        f'<td class="num">{r.score:g} / {r.max_score:g}</td><td>{_e(r.status)}</td>'
        f'<td><a href="feedback/{quote(r.student)}.md">feedback</a></td></tr>'
        for r in sorted(results, key=lambda r: r.student)
    )
    return (
        '<table class="students"><tr><th>student</th><th>file</th><th>score</th><th>status</th>'
        f"<th>feedback</th></tr>{rows}</table>"
    )


def as_html(assignment, results, hist, rates, slips, files=None):
    rows = "".join(
        f"<tr><td>{_e(x.task)}</td><td>{_e(x.name)}</td><td>{x.failed} / {x.graded}</td>"
        f"<td>{_pct(x.rate)}</td><td>{x.skipped or ''}</td></tr>"
        for _, group in rates
        for x in group
    )
    slip_rows = "".join(f"<tr><td>{_e(h)}</td><td>{s}</td><td>{f}</td></tr>" for h, s, f in slips)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{_e(assignment)}: grading report</title>
<style>body{{font-family:sans-serif;max-width:60em;margin:2em auto}}table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:2px 8px}}td.num{{text-align:right}}svg{{display:block}}</style></head>
<body><h1>{_e(assignment)}: {len(results)} submission(s)</h1>
<h2>Scores (share of the maximum)</h2>
{histogram_svg(hist)}
<h2>Failure rate by test (grouped by task, worst first)</h2>
{rates_svg(rates)}
<table><tr><th>task</th><th>test</th><th>failed</th><th>rate</th><th>skipped (no GPU)</th></tr>{rows}</table>
<h2>Known slips seen</h2>
{slips_svg(slips) if slips else "<p>This assignment names no slips.</p>"}
<table><tr><th>slip</th><th>submissions</th><th>failed tests</th></tr>{slip_rows}</table>
<h2>Students</h2>
<p>Each feedback file is in <code>feedback/</code> beside this page.</p>
{students_table(results, files)}
</body></html>
"""
