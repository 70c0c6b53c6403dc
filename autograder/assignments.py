"""The assignments the grader knows: one folder each under autograder/course/<name>/.

A course folder holds everything about its assignment but the reference (solution/<name>.py) and
the generated student material (assignments/<name>/), in three parts by who gets them:

    assignment.toml   number, title, tasks, preload modules, Gradescope requirements  } the student
    public.py         public graded tests, public.expected their values              } zip's self-
    probes.py         optional: probes the public tests use                          } check
    grader/           only in the autograder zip:
        hidden.py     every graded test (TESTS = public + hidden, 100 points)
        slips.py      optional: slip recordings that spell out derivations
        probes.py     optional: probes only hidden tests use
        gpu.golden    optional: PyTorch outputs recorded on a GPU (`make goldens`)
    authoring/        never shipped:
        notebook.py   the teaching notebook's jupytext source
        samples.toml  known-buggy samples as edits of the reference (samples.py builds them)
        oracle.py     optional: the PyTorch oracle `make goldens` replays the tests on
        written.toml  optional: hand-graded written questions

`make dist` copies the folder's own files to the student zip, adds grader/ for the autograder zip
and never copies authoring/. Everything else (pytest task markers, dist, goldens, the generator,
the docs) reads these files.
"""

import importlib
import os
import re
import tomllib
from dataclasses import dataclass

from autograder import ROOT
from autograder.errors import KitError

COURSE_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "course")
GRADER, AUTHORING = "grader", "authoring"  # the course folder's parts (see above)
# Gradescope's visibility levels for a test result
VISIBILITIES = ("hidden", "after_due_date", "after_published", "visible")
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")  # a folder name that is also the student's module name


class CourseError(KitError):
    """A course folder that cannot be used; the message names the file and the key."""


@dataclass(frozen=True)
class Assignment:
    name: str
    number: int
    title: str
    tasks: dict  # task id ("3.1") -> what the task asks for
    preload: tuple  # modules the sandbox worker imports once, before any submission
    requirements: tuple  # packages its Gradescope environment installs
    # when Gradescope shows students the hidden tests' names, points and slips (never their inputs)
    hidden_visibility: str = "after_published"
    oracle_sources: tuple = ()  # files (from ROOT) its oracle runs besides its own module

    @property
    def filename(self):
        return f"{self.name}.py"

    @property
    def folder(self):
        return os.path.join(COURSE_DIR, self.name)

    def path(self, file):
        return os.path.join(self.folder, file)

    def grader_path(self, file):
        return os.path.join(self.folder, GRADER, file)

    def authoring_path(self, file):
        return os.path.join(self.folder, AUTHORING, file)

    def tests(self, *, public_only=False):
        """The graded tests: the public ones, or all of them (public and hidden) where available."""
        module = "public" if public_only else f"{GRADER}.hidden"
        return list(importlib.import_module(f"autograder.course.{self.name}.{module}").TESTS)

    def reference(self):
        return importlib.import_module(f"solution.{self.name}")


# key: (type, required, what it must be); the checks below add what a type cannot say
_KEYS = {
    "number": (int, True, "a whole number >= 1"),
    "title": (str, True, "a non-empty string"),
    "tasks": (dict, True, 'a table of task ids ("N.1", ...) to what each asks for'),
    "preload": (list, True, "a list of module names"),
    "requirements": (list, True, "a list of package names"),
    "hidden_visibility": (str, False, f"one of {', '.join(VISIBILITIES)}"),
    "oracle_sources": (list, False, "a list of file paths from the repository root"),
}


def load(name, folder=COURSE_DIR) -> Assignment:
    """The assignment in `folder`/<name>/assignment.toml, validated; CourseError names the file and key."""
    path = os.path.join(folder, name, "assignment.toml")
    where = os.path.relpath(path, ROOT)
    if not _NAME.match(name):
        raise CourseError(f"{where}: the folder name {name!r} must be a Python module name (a-z, 0-9, _)")
    try:
        with open(path, "rb") as f:
            data = tomllib.load(f)
    except (OSError, tomllib.TOMLDecodeError) as err:
        raise CourseError(f"{where}: cannot be read: {err}") from None

    def bad(key, why=None):
        return CourseError(f"{where}: {key!r} must be {why or _KEYS[key][2]}")

    for key in data.keys() - _KEYS.keys():
        raise CourseError(f"{where}: unknown key {key!r} (the keys are {', '.join(_KEYS)})")
    for key, (kind, required, _) in _KEYS.items():
        if key not in data:
            if required:
                raise CourseError(f"{where}: missing key {key!r} ({_KEYS[key][2]})")
        elif not isinstance(data[key], kind) or (kind is int and isinstance(data[key], bool)):
            raise bad(key)
    number, title, tasks = data["number"], data["title"], data["tasks"]
    if number < 1:
        raise bad("number")
    if not title.strip():
        raise bad("title")
    if not tasks:
        raise bad("tasks", "a table with at least one task")
    for task, about in tasks.items():
        if not re.fullmatch(rf"{number}\.[1-9]\d*", task):
            raise CourseError(
                f"{where}: task {task!r} must be numbered {number}.1, {number}.2, ... (its number is {number})"
            )
        if not isinstance(about, str) or not about.strip():
            raise CourseError(f"{where}: task {task!r} must say what it asks for (a non-empty string)")
    for key in ("preload", "requirements", "oracle_sources"):
        if not all(isinstance(item, str) and item for item in data.get(key, [])):
            raise bad(key)
    visibility = data.get("hidden_visibility", "after_published")
    if visibility not in VISIBILITIES:
        raise bad("hidden_visibility")
    return Assignment(
        name,
        number,
        title,
        dict(tasks),
        tuple(data["preload"]) + _probe_modules(os.path.join(folder, name), name),
        tuple(data["requirements"]),
        visibility,
        tuple(data.get("oracle_sources", ())),
    )


def _probe_modules(folder, name):
    """The assignment's own probes modules present here (a student zip has no grader/): the sandbox
    imports them before any submission runs."""
    found = []
    for sub in ("", GRADER):
        if os.path.isfile(os.path.join(folder, sub, "probes.py")):
            found.append(f"autograder.course.{name}.{sub + '.' if sub else ''}probes")
    return tuple(found)


def discover(folder=COURSE_DIR) -> tuple[dict[str, Assignment], dict[str, CourseError]]:
    """({name: Assignment} in number order, {name: CourseError}): a broken folder breaks only itself.
    Two folders claiming one number are both broken (neither may silently win)."""
    good, broken = {}, {}
    for name in sorted(os.listdir(folder)):
        if os.path.isfile(os.path.join(folder, name, "assignment.toml")):
            try:
                good[name] = load(name, folder)
            except CourseError as err:
                broken[name] = err
    by_number = {}
    for a in good.values():
        by_number.setdefault(a.number, []).append(a.name)
    for number, names in by_number.items():
        if len(names) > 1:
            for name in names:
                others = ", ".join(n for n in names if n != name)
                where = os.path.relpath(os.path.join(folder, name, "assignment.toml"), ROOT)
                broken[name] = CourseError(f"{where}: number {number} is also {others}'s (numbers must be unique)")
                del good[name]
    return dict(sorted(good.items(), key=lambda item: item[1].number)), broken


ASSIGNMENTS, BROKEN = discover()


def get(name: str) -> Assignment:
    if name in ASSIGNMENTS:
        return ASSIGNMENTS[name]
    if name in BROKEN:
        raise CourseError(str(BROKEN[name]))
    raise KitError(f"unknown assignment {name!r}; choose one of {', '.join(ASSIGNMENTS)}")
