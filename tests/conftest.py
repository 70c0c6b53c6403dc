"""Shared pytest set-up: a deterministic hypothesis profile for CI, the expensive results that
several test modules judge (the graded samples, the reference's training), made once per run
however many pytest-xdist workers there are, and which tests must share a worker."""

import io
import os
import pickle
import zipfile
from typing import NamedTuple

import pytest
from filelock import FileLock
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


# Test files that look at state of the whole machine (keyrings in /proc/keys, System V IPC keys,
# sandbox cgroups, files a hostile submission tries to leave) run in one worker, one after another.
SAME_WORKER = {"tests/test_sandbox_isolation.py": "tests/test_hostile.py"}


# The slowest files (make test prints --durations), run first: none is left alone at the end.
SLOW_FIRST = [
    "test_otter_run",
    "test_hostile",
    "test_dist",
    "test_notebooks",
    "test_honest",
    "test_student_env",
    "test_otter_feedback",
    "test_slurm",
    "test_clock",
]


def pytest_collection_modifyitems(items):
    """Files of SLOW_FIRST first, in its order; the rest as collected."""
    rank = {name: i for i, name in enumerate(SLOW_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.stem, len(rank)))


def pytest_xdist_make_scheduler(config, log):
    """`make test` runs pytest-xdist with --dist loadfile: each test file whole in one worker (its
    module fixtures made once), and the files of SAME_WORKER in the same one."""
    if config.getvalue("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    class Scheduling(LoadFileScheduling):
        def _split_scope(self, nodeid):
            path = super()._split_scope(nodeid)
            return SAME_WORKER.get(path, path)

    return Scheduling(config, log)


def _per_run(tmp_path_factory, kind, make):
    """A function name -> make(name), each computed once per test run: with pytest-xdist the first
    worker to ask computes it and the others wait for it and load its pickle."""
    done = {}

    def get(name):
        if name not in done:
            if not os.environ.get("PYTEST_XDIST_WORKER"):
                done[name] = make(name)
            else:
                path = tmp_path_factory.getbasetemp().parent / f"{kind}_{name}.pickle"
                with FileLock(f"{path}.lock"):
                    if not path.is_file():
                        path.write_bytes(pickle.dumps(make(name)))
                    done[name] = pickle.loads(path.read_bytes())
        return done[name]

    return get


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

    def make(name) -> GradedSamples:
        folder = str(samples.write(name, tmp_path_factory.mktemp(f"{name}_samples")))
        out = str(tmp_path_factory.mktemp(f"{name}_graded"))
        quiet = Console(file=io.StringIO())
        results = cli.grade_folder(assignments.get(name), folder, out, jobs=2, console=quiet)
        return GradedSamples(name, folder, out, {r.student: r for r in results})

    return _per_run(tmp_path_factory, "graded_samples", make)


@pytest.fixture(scope="session")
def autograder_zip(tmp_path_factory):
    """`autograder_zip(name)`: (its Otter autograder zip, the zip unzipped), built once per run."""
    from tools import dist

    def make(name):
        work = tmp_path_factory.mktemp(f"{name}_zip")
        path = str(work / f"{name}-autograder.zip")
        files = dist.autograder_zip_files(name, str(work / "gen"))
        dist.write_zip(path, files, executable={"run_autograder", "setup.sh"})
        zipfile.ZipFile(path).extractall(work / "unzipped")
        return path, str(work / "unzipped")

    return _per_run(tmp_path_factory, "autograder_zip", make)


@pytest.fixture(scope="session")
def reference_outcomes(tmp_path_factory):
    """`reference_outcomes(name)`: {test name: engine.run_reference(test.build, reference)} for
    every graded test of one assignment, run once per test run; tests recorded by the same build
    (gpu_training's two trainings) share one run."""
    from autograder import assignments, engine

    def make(name) -> dict:
        assignment, by_build = assignments.get(name), {}
        for test in assignment.tests():
            if test.build not in by_build:
                by_build[test.build] = engine.run_reference(test.build, assignment.reference())
        return {t.name: by_build[t.build] for t in assignment.tests()}

    return _per_run(tmp_path_factory, "reference_outcomes", make)


@pytest.fixture(scope="session")
def reference_training(reference_outcomes):
    """What gpu_training's graded `train_reaches_97_percent` records for the reference (its train()
    with the graded arguments on the grader's split), run here without a sandbox, once per run."""
    pytest.importorskip("torch")
    outcome = reference_outcomes("gpu_training")["train_reaches_97_percent"]
    assert outcome.outputs is not None, f"the reference's train() raised {outcome.raises}"
    return outcome.outputs
