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
import tomllib
from dataclasses import dataclass

COURSE_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "course")
GRADER, AUTHORING = "grader", "authoring"  # the course folder's parts (see above)


@dataclass(frozen=True)
class Assignment:
    name: str
    number: int
    title: str
    tasks: dict  # task id ("3.1") -> what the task asks for
    preload: tuple  # modules the sandbox worker imports once, before any submission
    requirements: tuple  # packages its Gradescope environment installs

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


def load(name) -> Assignment:
    with open(os.path.join(COURSE_DIR, name, "assignment.toml"), "rb") as f:
        data = tomllib.load(f)
    return Assignment(
        name,
        data["number"],
        data["title"],
        dict(data["tasks"]),
        tuple(data["preload"]) + _probe_modules(name),
        tuple(data["requirements"]),
    )


def _probe_modules(name):
    """The assignment's own probes modules present here (a student zip has no grader/): the sandbox
    imports them before any submission runs."""
    found = []
    for sub in ("", GRADER):
        if os.path.isfile(os.path.join(COURSE_DIR, name, sub, "probes.py")):
            found.append(f"autograder.course.{name}.{sub + '.' if sub else ''}probes")
    return tuple(found)


def _discover():
    names = [n for n in os.listdir(COURSE_DIR) if os.path.isfile(os.path.join(COURSE_DIR, n, "assignment.toml"))]
    return {a.name: a for a in sorted(map(load, names), key=lambda a: a.number)}


ASSIGNMENTS = _discover()


def get(name: str) -> Assignment:
    try:
        return ASSIGNMENTS[name]
    except KeyError:
        raise SystemExit(f"unknown assignment {name!r}; choose one of {', '.join(ASSIGNMENTS)}") from None
