"""Sample submissions, generated where they are needed (`make grade` on the samples, dist, tests).

Each assignment's samples are the reference (full marks), the blank skeleton (0), and known-buggy
samples described in autograder/course/<name>/authoring/samples.toml as exact edits of the reference:

    [kernel_flipped]
    about = "the kernel is flipped (true convolution instead of cross-correlation)"
    expect = "Likely slip: the kernel is flipped"      # text its feedback must contain
    [[kernel_flipped.edit]]
    find = '''out = w.reshape(C_out, -1) @ cols'''
    replace = '''out = w[:, :, ::-1, ::-1].reshape(C_out, -1) @ cols'''

Every `find` must occur exactly once in the reference, so a change to the reference that an edit
no longer fits fails the build naming the sample, instead of leaving a stale copy behind.
"""

import os
import tomllib
from dataclasses import dataclass

from autograder import ROOT, assignments
from autograder.errors import KitError
from autograder.skeleton import make_skeleton


class SampleError(KitError, ValueError):
    """A sample's edits no longer fit the reference; the message names the sample and edit."""


@dataclass(frozen=True)
class Sample:
    name: str
    about: str
    expect: str
    edits: tuple[tuple[str, str], ...]

    def apply(self, reference: str, where: str) -> str:
        source = reference
        for number, (find, replace) in enumerate(self.edits, start=1):
            count = source.count(find)
            if count != 1:
                raise SampleError(
                    f"{where} [{self.name}] edit {number}: its `find` text occurs {count} times "
                    f"in the reference (it must occur exactly once): {find.strip()[:80]!r}"
                )
            source = source.replace(find, replace)
        return f"# Sample slip: {self.about}\n{source}"


def buggy(name) -> list[Sample]:
    path = assignments.get(name).authoring_path("samples.toml")
    if not os.path.exists(path):
        return []
    with open(path, "rb") as f:
        data = tomllib.load(f)
    return [
        Sample(key, entry["about"], entry["expect"], tuple((e["find"], e["replace"]) for e in entry["edit"]))
        for key, entry in data.items()
    ]


def minimum(name) -> int:
    """How many known-buggy samples an assignment needs: one per task, at least three."""
    return max(3, len(assignments.get(name).tasks))


def reference_source(name) -> str:
    with open(os.path.join(ROOT, "solution", assignments.get(name).filename)) as f:
        return f.read()


def sources(name) -> dict[str, str]:
    """{sample id: source}: "reference", "blank" and every buggy sample."""
    a = assignments.get(name)
    reference = reference_source(name)
    where = os.path.relpath(a.authoring_path("samples.toml"), ROOT)
    made = {"reference": reference, "blank": make_skeleton(reference, f"solution/{a.filename}")}
    for sample in buggy(name):
        made[sample.name] = sample.apply(reference, where)
    return made


def write(name, folder, made=None) -> str:
    """Write every sample of `name` (or the {id: source} given as `made`) as <id>.py into `folder`
    (created); returns the folder."""
    os.makedirs(folder, exist_ok=True)
    for student, source in (made or sources(name)).items():
        with open(os.path.join(folder, f"{student}.py"), "w") as f:
            f.write(source)
    return folder
