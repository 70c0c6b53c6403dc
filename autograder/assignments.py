"""The assignments the grader knows: one folder each under autograder/course/<name>/.

A course folder holds everything about its assignment but the reference (solution/<name>.py) and
the generated student material (assignments/<name>/):

    assignment.toml   number, title, tasks, preload modules, Gradescope requirements
    public.py         public graded tests (students get them), public.expected their values
    hidden.py         every graded test (TESTS = public + hidden, 100 points)
    slips.py          optional: slip recordings that spell out derivations (grader only)
    samples.toml      known-buggy samples as edits of the reference (samples.py builds them)
    notebook.py       the teaching notebook's jupytext source
    oracle.py         the PyTorch oracle `make goldens` replays the tests on; gpu.golden its outputs

Everything else (pytest task markers, dist, goldens, the generator, the docs) reads these files.
"""

import importlib
import os
import tomllib
from dataclasses import dataclass

COURSE_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "course")


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

    @property
    def filename(self):
        return f"{self.name}.py"

    @property
    def folder(self):
        return os.path.join(COURSE_DIR, self.name)

    def path(self, file):
        return os.path.join(self.folder, file)

    def tests(self, *, public_only=False):
        """The graded tests: the public ones, or all of them (public and hidden) where available."""
        module = "public" if public_only else "hidden"
        return list(importlib.import_module(f"autograder.course.{self.name}.{module}").TESTS)

    def reference(self):
        return importlib.import_module(f"solution.{self.name}")


# Gradescope's visibility levels for a test result
VISIBILITIES = ("hidden", "after_due_date", "after_published", "visible")


def load(name) -> Assignment:
    path = os.path.join(COURSE_DIR, name, "assignment.toml")
    with open(path, "rb") as f:
        data = tomllib.load(f)
    visibility = data.get("hidden_visibility", "after_published")
    if visibility not in VISIBILITIES:
        raise ValueError(f"{path}: hidden_visibility must be one of {', '.join(VISIBILITIES)}, got {visibility!r}")
    return Assignment(
        name,
        data["number"],
        data["title"],
        dict(data["tasks"]),
        tuple(data["preload"]),
        tuple(data["requirements"]),
        visibility,
    )


def _discover():
    names = [n for n in os.listdir(COURSE_DIR) if os.path.isfile(os.path.join(COURSE_DIR, n, "assignment.toml"))]
    return {a.name: a for a in sorted(map(load, names), key=lambda a: a.number)}


ASSIGNMENTS = _discover()


def get(name: str) -> Assignment:
    try:
        return ASSIGNMENTS[name]
    except KeyError:
        raise SystemExit(f"unknown assignment {name!r}; choose one of {', '.join(ASSIGNMENTS)}") from None
