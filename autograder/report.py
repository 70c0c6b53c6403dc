"""One results list, three renderings: the gradebook CSV, per-student Markdown/JSON feedback,
and the end-of-run summary."""
import csv
import json
import os
import statistics
from collections import Counter


def write_gradebook(results, out_dir, tests):
    os.makedirs(os.path.join(out_dir, "feedback"), exist_ok=True)
    path = os.path.join(out_dir, "grades.csv")
    with open(path, "w", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(["student", "score", "max_score"] + [t.name for t in tests])
        for r in results:
            points = {t.name: t.points for t in r.tests}
            writer.writerow([r.student, _num(r.score), _num(r.max_score)]
                            + [_num(points.get(t.name, 0.0)) for t in tests])
    for r in results:
        base = os.path.join(out_dir, "feedback", r.student)
        with open(base + ".json", "w") as f:
            json.dump(as_dict(r), f, indent=2)
        with open(base + ".md", "w") as f:
            f.write(as_markdown(r))
    return path


def _num(x):
    return f"{x:g}"


def as_dict(r):
    return {"student": r.student, "assignment": r.assignment, "score": r.score,
            "max_score": r.max_score, "notes": r.notes,
            "tests": [{"name": t.name, "task": t.task, "points": t.points, "max_points": t.max_points,
                       "status": t.status, "hidden": t.hidden, "message": t.message,
                       "output": t.stdout, "seconds": t.seconds} for t in r.tests]}


def as_markdown(r, *, show_passed=True):
    lines = [f"# {r.assignment}: {r.student}", "", f"**Score: {_num(r.score)} / {_num(r.max_score)}**", ""]
    for note in r.notes:
        lines.append(f"> {note}")
    if r.notes:
        lines.append("")
    lines += ["| test | task | points | result |", "| --- | --- | --- | --- |"]
    for t in r.tests:
        mark = {"passed": "passed", "failed": "FAILED", "skipped": "skipped"}[t.status]
        lines.append(f"| {t.name}{' (hidden)' if t.hidden else ''} | {t.task} | "
                     f"{_num(t.points)} / {_num(t.max_points)} | {mark} |")
    details = [t for t in r.tests if t.message and (t.status != "passed" or show_passed)]
    if details:
        lines += ["", "## Details", ""]
    for t in details:
        lines += [f"### {t.name} (task {t.task})", "", "```", t.message.strip(), "```", ""]
        if t.stdout.strip() and t.status == "failed":
            lines += ["Your code printed:", "", "```", t.stdout.strip()[:1500], "```", ""]
    return "\n".join(lines) + "\n"


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
    dist.add_row(_num(min(scores)), _num(statistics.median(scores)), f"{statistics.mean(scores):.1f}",
                 _num(max(scores)), str(sum(s == top for s in scores)), str(sum(s == 0 for s in scores)))
    console.print(dist)
    failures = Counter(t.name for r in results for t in r.tests if t.status == "failed")
    skipped = Counter(t.name for r in results for t in r.tests if t.status == "skipped")
    fails = Table(title="failures by test")
    fails.add_column("test")
    fails.add_column("task")
    fails.add_column("failed", justify="right")
    for t in tests:
        note = f" ({skipped[t.name]} skipped: needs a GPU)" if skipped[t.name] else ""
        fails.add_row(t.name, t.task, f"{failures[t.name]} / {len(results)}{note}")
    console.print(fails)
