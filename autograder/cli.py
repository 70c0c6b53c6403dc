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
    args = parser.parse_args(argv)
    if args.verb == "check":
        from autograder.check import run_check

        if args.task is None and args.path and TASK.fullmatch(args.path):  # `check momentum 5.1`
            args.path, args.task = None, args.path
        return run_check(args.assignment, args.path, args.task)
    return _grade(args)


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
    for name in names:
        out = os.path.join(args.out, name) if args.assignment == "all" else args.out
        if args.submissions:
            grade_folder(assignments.get(name), args.submissions, out, jobs=max(1, args.jobs), console=console)
            continue
        from autograder.course import samples  # generated from solution/ and samples.toml

        with tempfile.TemporaryDirectory(prefix=f"{name}-samples-") as folder:
            grade_folder(
                assignments.get(name), samples.write(name, folder), out, jobs=max(1, args.jobs), console=console
            )
    return 1 if args.assignment == "all" and assignments.BROKEN else 0


def grade_folder(assignment, folder, out, *, jobs, console):
    started = time.monotonic()
    tests = assignment.tests()
    expected = engine.expected_values(tests, assignment.reference(), golden.load(assignment.name))
    entries = submissions.discover(folder, assignment)
    for name, student in entries.renamed:  # students.csv maps each id to its entry too
        console.print(f"{assignment.name}: {name!r} graded as {student}", markup=False, highlight=False)
    for name in entries.hidden:
        console.print(f"{assignment.name}: {name!r} not graded: hidden entry", markup=False, highlight=False)
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

    ta_report.write(results, tests, out, assignment.name)
    report.summary(results, tests, console)
    console.print(
        f"{assignment.name}: {len(results)} graded in {time.monotonic() - started:.1f} s -> {path} "
        f"(report: {os.path.join(out, 'report.html')})"
    )
    return results
