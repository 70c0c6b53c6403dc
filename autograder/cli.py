"""`python -m autograder grade|check ...`: thin wrappers over engine and report."""

import argparse
import os
import re
import sys
import tempfile
import time

from autograder import assignments, engine, golden, report, submissions

TASK = re.compile(r"\d+\.\d+")


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m autograder")
    verbs = parser.add_subparsers(dest="verb", required=True)
    grade = verbs.add_parser("grade", help="grade a folder of submissions")
    grade.add_argument("assignment", help=f"one of {', '.join(assignments.ASSIGNMENTS)}, or 'all' (samples)")
    grade.add_argument(
        "submissions", nargs="?", help="folder with one entry per student (default: the shipped samples)"
    )
    grade.add_argument("-o", "--out", default="out")
    grade.add_argument("-j", "--jobs", type=int, default=os.cpu_count() or 1)
    grade.add_argument("-q", "--quiet", action="store_true", help="no progress bar or summary")
    check = verbs.add_parser("check", help="run the public tests on your own file")
    check.add_argument("assignment")
    check.add_argument("path", nargs="?", help="your file or notebook (default: ./<assignment>.py)")
    check.add_argument("task", nargs="?", help="only this task's checks, e.g. 5.1")
    check.add_argument(
        "--show-inputs", action="store_true", help="print each public test's calls as runnable Python, full precision"
    )
    export = verbs.add_parser("export", help="the written answers as one PDF (otter export; needs pandoc and xelatex)")
    export.add_argument("notebook")
    _add_scale_verbs(verbs, grade)
    args = parser.parse_args(argv)
    if args.verb == "export":
        return export_pdf(args.notebook)
    if args.verb in ("merge", "similar"):
        return _scale_verb(args)
    if args.verb == "check":
        from autograder.check import run_check

        path, task = check_arguments(args.assignment, args.path, args.task)
        return run_check(args.assignment, path, task, show_inputs=args.show_inputs)
    return _grade(args)


def check_arguments(name, path, task):
    """(path, task) of `check NAME [FILE] [TASK]`: `check momentum 5.1` means the task, and a task id
    that is no task of the assignment, or a file that looks like one, stops with the valid tasks."""
    tasks = list(assignments.get(name).tasks)
    valid = f"the tasks of {name} are {', '.join(tasks)}"
    if task is None and path is not None and not os.path.exists(path) and re.fullmatch(r"[\d.]+", path):
        path, task = None, path  # `check momentum 5.1`, or a mistyped task (`check backprop 10`)
    if path is not None and not os.path.exists(path) and TASK.fullmatch(path):
        raise SystemExit(f"check: give the file before the task: check {name} [FILE] [TASK] ({valid})")
    if task is not None and task not in tasks:
        raise SystemExit(f"check: {task!r} is not a task of {name}: {valid} (usage: check {name} [FILE] [TASK])")
    return path, task


def export_pdf(notebook):
    """`otter export NOTEBOOK --filtering --pagebreaks`, after saying in one line what it needs
    that is missing (Otter, pandoc, xelatex) instead of Otter's long traceback."""
    import importlib.util
    import shutil
    import subprocess

    tex = "apt install texlive-xetex texlive-fonts-recommended texlive-plain-generic, or MacTeX / MiKTeX"
    needs = [
        ("otter-grader", importlib.util.find_spec("otter") is not None, "python -m pip install otter-grader"),
        ("pandoc", shutil.which("pandoc"), "apt install pandoc, brew install pandoc, or pandoc.org"),
        ("xelatex", shutil.which("xelatex"), tex),
    ]
    if not os.path.isfile(notebook):
        raise SystemExit(f"export: {notebook} not found")
    missing = [f"{what} ({how})" for what, found, how in needs if not found]
    if missing:
        raise SystemExit(f"export: {notebook} needs {'; '.join(missing)}")
    command = [sys.executable, "-m", "otter", "export", notebook, "--filtering", "--pagebreaks"]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        last = (done.stderr.strip() or done.stdout.strip() or "no output").splitlines()[-1]
        raise SystemExit(f"export: otter export failed: {last} (the whole story: {' '.join(command[2:])})")
    print(f"export: wrote {os.path.splitext(notebook)[0]}.pdf")
    return 0


def _grade(args):
    from rich.console import Console

    console = Console(stderr=True, quiet=args.quiet)
    if args.assignment == "all":
        if args.submissions:
            raise SystemExit("grade all: takes no SUBMISSIONS folder (it grades the shipped samples)")
        names = list(assignments.ASSIGNMENTS)
        for err in assignments.BROKEN.values():  # named, and the others still graded
            print(f"grade all: not graded: {err}", file=sys.stderr)
    else:
        names = [assignments.get(args.assignment).name]
    failed = []
    grade_folder_ = _sharded(args) if args.shard else grade_folder
    for name in names:
        out = os.path.join(args.out, name) if args.assignment == "all" else args.out
        if args.submissions:
            grade_folder_(assignments.get(name), args.submissions, out, jobs=max(1, args.jobs), console=console)
            continue
        from autograder.course import samples  # generated from solution/ and samples.toml

        with tempfile.TemporaryDirectory(prefix=f"{name}-samples-") as folder:
            try:
                written = samples.write(name, folder)
            except samples.SampleError as err:  # the other assignments are still graded
                ok, lines = False, [f"{name}: FAILED: the samples cannot be made: {err}"]
            else:
                results = grade_folder_(assignments.get(name), written, out, jobs=max(1, args.jobs), console=console)
                ok, lines = (True, []) if args.shard else samples_verdict(name, results)  # a shard: a part
        failed += [] if ok else [name]
        for line in lines:  # what grading the samples proved: printed even with -q
            if args.quiet:
                print(line, file=sys.stderr)
            else:
                console.print(line, style=None if ok else "bold red", soft_wrap=True, markup=False, highlight=False)
    if args.assignment == "all" and assignments.BROKEN:
        failed += list(assignments.BROKEN)
    if failed:
        print(f"grade: the samples of {', '.join(failed)} did not grade as they must (see above)", file=sys.stderr)
        return 1
    return 0


def samples_verdict(name, results) -> tuple[bool, list[str]]:
    """What grading the samples proved: the reference full marks (out of the maximum without the
    GPU-only tests on a machine without a GPU), the blank skeleton 0, each buggy sample caught with
    the feedback its samples.toml entry expects. (all held, lines to print)."""
    from autograder.course import samples

    by_id = {r.student: r for r in results}
    problems, lines = [], []
    reference, blank = by_id.get("reference"), by_id.get("blank")
    if reference is None or reference.score != reference.max_score:
        problems.append(f"the reference scores {_score(reference)}, not full marks")
    gpu = sum(t.max_points for t in reference.tests if t.status == "skipped") if reference else 0
    full = f"reference {_score(reference)}" + (
        f" (GPU tests, {gpu:g} points, skipped: this machine has no CUDA GPU)" if gpu else ""
    )
    if blank is None or blank.score != 0:
        problems.append(f"the blank skeleton scores {_score(blank)}, not 0")
    caught, buggy = [], samples.buggy(name)
    for sample in buggy:
        r = by_id.get(sample.name)
        text = "\n".join([*r.notes, *(t.message for t in r.tests)]) if r else ""
        if r is None or r.score >= r.max_score:
            problems.append(f"buggy sample {sample.name} is not caught ({_score(r)})")
        elif sample.expect not in text:
            problems.append(f"buggy sample {sample.name} loses points but its feedback does not say {sample.expect!r}")
        else:
            caught.append(sample.name)
    lines.append(
        f"{name}: {'OK' if not problems else 'FAILED'}: {full}, blank {_score(blank)}, "
        f"{len(caught)}/{len(buggy)} buggy samples caught with their slip named"
        + (f" ({', '.join(caught)})" if caught else "")
    )
    return not problems, lines + [f"{name}: FAILED: {p}" for p in problems]


def _score(result):
    return "nothing (not graded)" if result is None else f"{result.score:g}/{result.max_score:g}"


def grade_folder(assignment, folder, out, *, jobs, console, only=None):
    """Grade every entry of `folder` (or only the student ids in `only`, a shard's) into `out`."""
    started = time.monotonic()
    tests = assignment.tests()
    expected = engine.expected_values(tests, assignment.reference(), golden.load(assignment.name))
    entries = submissions.discover(folder, assignment)
    if not entries:
        raise SystemExit(
            f"grade {assignment.name}: no submissions in {folder} "
            f"(one entry per student: <id>.py, <id>.ipynb, or a folder <id>/ with {assignment.filename})"
        )
    for name, student in entries.renamed:  # students.csv maps each id to its entry too
        console.print(f"{assignment.name}: {name!r} graded as {student}", markup=False, highlight=False)
    for name in entries.hidden:
        console.print(f"{assignment.name}: {name!r} not graded: hidden entry", markup=False, highlight=False)
    if only is not None:
        entries = [e for e in entries if e[0] in only]
    if sys.stderr.isatty() and not console.quiet:
        from rich.progress import Progress

        with Progress(console=console, transient=True) as progress:
            task = progress.add_task(f"grading {assignment.name}", total=len(entries))
            results = engine.grade_all(
                assignment, entries, tests=tests, expected=expected, jobs=jobs, on_done=lambda _: progress.advance(task)
            )
    else:
        results = engine.grade_all(assignment, entries, tests=tests, expected=expected, jobs=jobs)
    files = {student: os.path.basename(path) for student, path in entries}
    path, problems = report.write_gradebook(results, out, tests, files)
    for problem in problems:  # one student's unwritable feedback costs no one else's files
        console.print(f"{assignment.name}: {problem}", style="red", markup=False, highlight=False)
    from autograder import ta_report

    ta_report.write(results, tests, out, assignment.name, files)
    report.summary(results, tests, console)
    unread_submissions(assignment.name, results, files, console)
    # soft_wrap: a path is never split across lines when the output is piped
    console.print(
        f"{assignment.name}: {len(results)} graded in {time.monotonic() - started:.1f} s -> {path} "
        f"(report: {os.path.join(out, 'report.html')})",
        soft_wrap=True,
        markup=False,
        highlight=False,
    )
    return results


def unread_submissions(name, results, files, console):
    """One line per entry that could not be read as a submission (status unreadable or empty), with
    the reason: it scores 0 like a blank file, and the TA must be able to tell them apart."""
    unread = [r for r in results if r.status != "graded"]
    if not unread:
        return
    console.print(f"{name}: {len(unread)} entr{'y' if len(unread) == 1 else 'ies'} not graded (0 points):")
    for r in unread:
        reason = next((n for n in r.notes if not n.startswith("isolation")), r.status)
        console.print(
            f"  {r.student} ({files.get(r.student, '?')}): {r.status}: {reason}",
            soft_wrap=True,
            markup=False,
            highlight=False,
            style="yellow",
        )


# ---------------------------------------------------------------- shards, merge, similarity


def _add_scale_verbs(verbs, grade):
    grade.add_argument(
        "--shard", metavar="K/N", help="grade only shard K of N (a stable hash of each id) into OUT/shard-K-of-N/"
    )
    merge = verbs.add_parser("merge", help="join the shards under OUT into one gradebook and report")
    merge.add_argument("out")
    merge.add_argument("-q", "--quiet", action="store_true")
    similar = verbs.add_parser("similar", help="code-similarity report of a folder of submissions")
    similar.add_argument("assignment")
    similar.add_argument("submissions")
    similar.add_argument("-o", "--out", default="out")
    similar.add_argument(
        "-t", "--threshold", type=float, default=0.5, help="report pairs this similar or more (0-1, default 0.5)"
    )


def _sharded(args):
    from autograder import shard

    if args.assignment == "all":
        raise SystemExit("grade --shard: name one assignment (not 'all')")
    shard.parse(args.shard)
    return lambda *a, **kw: shard.grade_shard(*a, spec=args.shard, grade_folder=grade_folder, **kw)


def _scale_verb(args):
    from rich.console import Console

    if args.verb == "merge":
        from autograder import shard

        try:
            shard.merge(args.out, Console(stderr=True, quiet=args.quiet))
        except shard.ShardError as err:
            raise SystemExit(f"merge: {err}") from None
        return 0
    from autograder import similar

    return similar.main(assignments.get(args.assignment), args.submissions, args.out, args.threshold)
