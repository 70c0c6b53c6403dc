"""The release's leak check on every assignment's student zip, without Otter: a leak (a line of the
reference, a grader-only file) or a false refusal fails `make test`, not only `make dist`."""

import pytest

from autograder import assignments
from autograder.course import samples
from tools import dist


@pytest.mark.parametrize("name", list(assignments.ASSIGNMENTS))
def test_student_zip_passes_the_leak_check(name):
    files = dist.student_files(name)
    dist.check_student_zip(f"{name}-student.zip", files, name)
    grader_only = [path for path in files if "/grader/" in path or path.endswith(("/hidden.py", "/slips.py"))]
    assert not grader_only, grader_only


@pytest.mark.parametrize("name", list(assignments.ASSIGNMENTS))
def test_student_zip_self_check_has_its_probes(name):
    """Every probe the public tests use ships in the student zip (the self-check runs them)."""
    files = dist.student_files(name)
    for test in assignments.get(name).tests(public_only=True):
        for step in test.script().to_message()["steps"]:
            if step[0] == "probe" and ":" in step[1]:
                module = step[1].split(":")[0]
                assert f"{name}/{module.replace('.', '/')}.py" in files, (test.name, step[1])


@pytest.mark.parametrize("name", list(assignments.ASSIGNMENTS))
def test_samples_build_and_meet_the_minimum(name):
    """make dist and make grade grade the samples: an edit that no longer fits the reference (a
    reformat of solution/ is enough) must fail here, in seconds, naming the sample."""
    made = samples.sources(name)
    assert len(made) - 2 >= samples.minimum(name), f"{name}: too few known-buggy samples"


@pytest.mark.parametrize("name", list(assignments.ASSIGNMENTS))
def test_notebook_helpers_ship_only_where_the_notebook_uses_them(name):
    """autodiff asks for the centered difference that gradcheck.py holds: its zip must not carry it,
    and every notebook that imports a helper must find it in its zip."""
    files = dist.student_files(name)
    notebook = files[f"{name}/{name}.ipynb"].decode()
    for helper in dist.NOTEBOOK_HELPERS:
        module = f"autograder.{helper.removesuffix('.py')}"
        assert (f"{name}/autograder/{helper}" in files) == (module in notebook), (name, helper)
