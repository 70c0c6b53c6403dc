"""Shared pytest set-up: a deterministic hypothesis profile for CI, and the expensive results that
several test modules judge (the graded samples, the reference's training), made once per run."""

import io
import os
from typing import NamedTuple

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    derandomize=True,
    deadline=None,
    max_examples=40,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", deadline=None, max_examples=200)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def pytest_configure(config):
    """One marker per task (`pytest -m task3_1`), from the course's assignment.toml files."""
    from autograder.assignments import ASSIGNMENTS

    for a in ASSIGNMENTS.values():
        for task, what in a.tasks.items():
            config.addinivalue_line("markers", f"task{task.replace('.', '_')}: {a.name} {what}")


class GradedSamples(NamedTuple):
    name: str
    folder: str  # the samples as `make grade` reads them: reference.py, blank.py, <buggy>.py
    out: str  # grades.csv, feedback/
    results: dict  # {student: engine.SubmissionResult}


@pytest.fixture(scope="session")
def graded_samples(tmp_path_factory):
    """`graded_samples(name)`: `make grade` (cli.grade_folder, two sandboxes) on the samples of
    one assignment, graded the first time a test asks and shared by every test after it."""
    from rich.console import Console

    from autograder import assignments, cli
    from autograder.course import samples

    done = {}

    def grade(name) -> GradedSamples:
        if name not in done:
            folder = str(samples.write(name, tmp_path_factory.mktemp(f"{name}_samples")))
            out = str(tmp_path_factory.mktemp(f"{name}_graded"))
            quiet = Console(file=io.StringIO())
            results = cli.grade_folder(assignments.get(name), folder, out, jobs=2, console=quiet)
            done[name] = GradedSamples(name, folder, out, {r.student: r for r in results})
        return done[name]

    return grade


@pytest.fixture(scope="session")
def reference_outcomes():
    """`reference_outcomes(name)`: {test name: engine.run_reference(test.build, reference)} for
    every graded test of one assignment, run once per test run; tests recorded by the same build
    (gpu_training's two trainings) share one run."""
    from autograder import assignments, engine

    done, by_build = {}, {}

    def outcomes(name) -> dict:
        if name not in done:
            assignment = assignments.get(name)
            for test in assignment.tests():
                if (name, test.build) not in by_build:
                    by_build[name, test.build] = engine.run_reference(test.build, assignment.reference())
            done[name] = {t.name: by_build[name, t.build] for t in assignment.tests()}
        return done[name]

    return outcomes


@pytest.fixture(scope="session")
def reference_training(reference_outcomes):
    """What gpu_training's graded `train_reaches_97_percent` records for the reference (its train()
    with the graded arguments on the grader's split), run here without a sandbox, once per run."""
    pytest.importorskip("torch")
    outcome = reference_outcomes("gpu_training")["train_reaches_97_percent"]
    assert outcome.outputs is not None, f"the reference's train() raised {outcome.raises}"
    return outcome.outputs
