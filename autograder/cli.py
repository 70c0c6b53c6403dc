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
    _add_scale_verbs(verbs, grade)
    args = parser.parse_args(argv)
    if args.verb in ("merge", "similar"):
        return _scale_verb(args)
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
    else:
        names = [assignments.get(args.assignment).name]
    grade_folder_ = _sharded(args) if args.shard else grade_folder
    for name in names:
        out = os.path.join(args.out, name) if args.assignment == "all" else args.out
        if args.submissions:
            grade_folder_(assignments.get(name), args.submissions, out, jobs=max(1, args.jobs), console=console)
            continue
        from autograder.course import samples  # generated from solution/ and samples.toml

        with tempfile.TemporaryDirectory(prefix=f"{name}-samples-") as folder:
            grade_folder_(
                assignments.get(name), samples.write(name, folder), out, jobs=max(1, args.jobs), console=console
            )
    return 0


def grade_folder(assignment, folder, out, *, jobs, console, only=None):
    """Grade every entry of `folder` (or only the student ids in `only`, a shard's) into `out`."""
    started = time.monotonic()
    tests = assignment.tests()
    expected = engine.expected_values(tests, assignment.reference(), golden.load(assignment.name))
    entries = [e for e in submissions.discover(folder, assignment) if only is None or e[0] in only]
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
    return lambda *a, **kw: shard.grade_shard(*a, spec=args.shard, **kw)


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
