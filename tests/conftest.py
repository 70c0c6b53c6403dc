"""Shared pytest set-up: a deterministic hypothesis profile for CI."""

import os

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
