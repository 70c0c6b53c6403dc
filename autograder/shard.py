"""Grading one shard of a submissions folder, and merging the shards into one gradebook.

`grade A SUBS -o OUT --shard K/N` grades the entries whose stable hash (sha256 of the student id)
falls in shard K of N into OUT/shard-K-of-N/, with a shard.json manifest written last (a shard
without one did not finish). `merge OUT` checks that the shards fit together (one assignment, one
kit version, one submissions folder, every shard there once, no student graded twice or never) and
writes the grades.csv, students.csv, feedback and report that a single run writes.
"""

import glob
import hashlib
import json
import os
import re
from importlib import metadata

from autograder import ROOT, report, submissions
from autograder.engine import Status, SubmissionResult, TestResult
from autograder.errors import KitError

MANIFEST = "shard.json"
_SPEC = re.compile(r"(\d+)/(\d+)")
_FOLDER = re.compile(r"shard-(\d+)-of-(\d+)")
_KIT_FILES = (".py", ".toml", ".expected", ".golden")


class ShardError(Exception):
    """Shards that cannot be merged; the message says which and why."""


def parse(spec: str) -> tuple[int, int]:
    """'K/N' -> (K, N) with 1 <= K <= N."""
    match = _SPEC.fullmatch(spec.strip())
    if not match or not 1 <= int(match[1]) <= int(match[2]):
        raise KitError(f"--shard: expected K/N with 1 <= K <= N (e.g. 2/8), got {spec!r}")
    return int(match[1]), int(match[2])


def shard_of(student: str, n: int) -> int:
    """The shard (1..n) a student id belongs to: a hash of the id, never its place in a listing."""
    return int.from_bytes(hashlib.sha256(student.encode("utf-8", "surrogateescape")).digest()[:8], "big") % n + 1


def folder_name(k: int, n: int) -> str:
    return f"shard-{k}-of-{n}"


def kit_version() -> dict:
    """The kit's version and a hash of everything that decides a grade (the engine, the course
    folders, the reference solutions): shards graded by different kits must not be merged."""
    try:
        version = metadata.version("dl-assignment-kit")
    except metadata.PackageNotFoundError:
        with open(os.path.join(ROOT, "pyproject.toml"), encoding="utf-8") as f:
            version = re.search(r'^version\s*=\s*"([^"]+)"', f.read(), re.M)[1]
    digest = hashlib.sha256()
    for top in ("autograder", "solution"):
        for dirpath, dirnames, filenames in os.walk(os.path.join(ROOT, top)):
            dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
            for name in sorted(f for f in filenames if f.endswith(_KIT_FILES)):
                path = os.path.join(dirpath, name)
                digest.update(os.path.relpath(path, ROOT).encode() + b"\0")
                with open(path, "rb") as f:
                    digest.update(f.read() + b"\0")
    return {"version": version, "code": digest.hexdigest()[:16]}


def grade_shard(assignment, folder, out, *, spec, jobs, console, grade_folder):
    """Grade shard K/N of `folder` into out/shard-K-of-N/ (grade_folder's files plus shard.json);
    `grade_folder` is the CLI's, which writes a single run's files."""
    k, n = parse(spec)
    entries = submissions.discover(folder, assignment)
    mine = {student for student, _ in entries if shard_of(student, n) == k}
    target = os.path.join(out, folder_name(k, n))
    results = grade_folder(assignment, folder, target, jobs=jobs, console=console, only=mine)
    manifest = {
        "assignment": assignment.name,
        "kit": kit_version(),
        "shard": k,
        "of": n,
        "entries": [[student, os.path.basename(path)] for student, path in entries],
        "results": [report.as_dict(r, for_ta=True) for r in results],  # merge renders both views
    }
    tmp = os.path.join(target, MANIFEST + ".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(manifest, f)
    os.replace(tmp, os.path.join(target, MANIFEST))  # the shard counts only once complete
    return results


def _result(data) -> SubmissionResult:
    tests = [
        TestResult(
            name=t["name"],
            task=t["task"],
            points=t["points"],
            max_points=t["max_points"],
            status=Status(t["status"]),
            message=t["message"],
            hidden=t["hidden"],
            stdout=t["output"],
            seconds=t["seconds"],
            brief=t.get("brief", ""),
        )
        for t in data["tests"]
    ]
    return SubmissionResult(
        data["student"], data["assignment"], tests, list(data["notes"]), status=data.get("status", "graded")
    )


def load_shards(out) -> list[dict]:
    """Every shard under `out` that finished, checked to fit together; ShardError says what does not."""
    folders = sorted(p for p in glob.glob(os.path.join(out, "shard-*")) if os.path.isdir(p))
    if not folders:
        raise ShardError(f"no shard folders (shard-K-of-N) under {out}")
    shards, unfinished = [], []
    for path in folders:
        name = os.path.basename(path)
        if not _FOLDER.fullmatch(name):
            raise ShardError(f"{name}: not a shard folder name (shard-K-of-N)")
        try:
            with open(os.path.join(path, MANIFEST), encoding="utf-8") as f:
                shard = json.load(f)
        except FileNotFoundError:
            unfinished.append(name)
            continue
        except (OSError, ValueError) as err:
            raise ShardError(f"{name}: unreadable {MANIFEST}: {err}") from None
        if name != folder_name(shard["shard"], shard["of"]):
            raise ShardError(f"{name}: its {MANIFEST} says shard {shard['shard']}/{shard['of']}")
        shard["folder"] = name
        shards.append(shard)
    if unfinished:
        raise ShardError(
            f"unfinished shards (no {MANIFEST}; grading stopped or still running): {', '.join(unfinished)}"
        )
    _check_fit(shards)
    return shards


def _check_fit(shards):
    first = shards[0]

    def differs(key, what):
        for s in shards[1:]:
            if s[key] != first[key]:
                raise ShardError(
                    f"mismatched shards: {first['folder']} and {s['folder']} {what} "
                    f"({_show(first[key])} vs {_show(s[key])})"
                )

    differs("assignment", "grade different assignments")
    differs("kit", "were graded by different kit versions")
    differs("of", "split the submissions into different numbers of shards")
    differs("entries", "were graded from different submissions folders")
    here = kit_version()
    if first["kit"] != here:
        raise ShardError(
            f"mismatched shards: graded by kit {_show(first['kit'])}, but this kit is {_show(here)}; "
            "merge with the kit that graded them"
        )
    n = first["of"]
    missing = sorted(set(range(1, n + 1)) - {s["shard"] for s in shards})
    if missing:
        raise ShardError(f"missing shards: {', '.join(folder_name(k, n) for k in missing)}")
    graded_by = {}
    for s in shards:
        for r in s["results"]:
            if r["student"] in graded_by:
                raise ShardError(
                    f"overlapping shards: {r['student']} is graded in both {graded_by[r['student']]} and {s['folder']}"
                )
            graded_by[r["student"]] = s["folder"]
    absent = [student for student, _ in first["entries"] if student not in graded_by]
    extra = sorted(set(graded_by) - {student for student, _ in first["entries"]})
    if absent or extra:
        raise ShardError(
            "shards do not cover the submissions: "
            + "; ".join(
                part
                for part in (
                    f"never graded: {', '.join(absent[:10])}" if absent else "",
                    f"not in the submissions: {', '.join(extra[:10])}" if extra else "",
                )
                if part
            )
        )


def _show(value):
    if isinstance(value, dict):
        return " ".join(f"{k} {v}" for k, v in value.items())
    if isinstance(value, list):
        return f"{len(value)} entries"
    return str(value)


def merge(out, console):
    """Join the shards under `out` into out/grades.csv, students.csv, tests.csv, feedback/ and the
    report, as one run over all the submissions writes them. Returns the results."""
    from autograder import assignments, ta_report  # ta_report ships to graders only (tools/dist.py)

    shards = load_shards(out)
    assignment = assignments.get(shards[0]["assignment"])
    tests = assignment.tests()
    by_student = {r["student"]: _result(r) for s in shards for r in s["results"]}
    entries = shards[0]["entries"]
    results = [by_student[student] for student, _ in entries]
    path, problems = report.write_gradebook(results, out, tests, dict(entries))
    for problem in problems:
        console.print(f"{assignment.name}: {problem}", style="red", markup=False, highlight=False)
    ta_report.write(results, tests, out, assignment.name, dict(entries))
    report.summary(results, tests, console)
    console.print(
        f"{assignment.name}: merged {len(shards)} shards, {len(results)} submissions -> {path} "
        f"(report: {os.path.join(out, 'report.html')})"
    )
    return results
