"""The students' self-check: runs where the student is, filters by task, and shows what a failing
public test called and what the student's code printed."""

import os
import re
import subprocess
import sys
from pathlib import Path

from tools.generate import ROOT

SOLUTION = os.path.join(ROOT, "solution", "momentum.py")


def _check(*args, cwd=ROOT):
    done = subprocess.run(
        [sys.executable, "-m", "autograder", "check", *args], cwd=cwd, capture_output=True, text=True, timeout=300
    )
    return done.returncode, done.stdout + done.stderr


def test_check_runs_inside_the_assignment_folder_of_a_checkout():
    code, out = _check("momentum", cwd=os.path.join(ROOT, "assignments", "momentum"))
    assert code == 1 and "not implemented yet" in out and "public checks passed" in out, out


def test_a_task_filter_runs_only_that_tasks_checks():
    code, out = _check("momentum", SOLUTION, "5.2")
    assert code == 0, out
    tasks = set(re.findall(r"PASS  task (\S+)", out))
    assert tasks == {"5.2"}, out
    code, short = _check("momentum", "5.2", cwd=os.path.join(ROOT, "assignments", "momentum"))
    assert set(re.findall(r"task (\S+)", short)) == {"5.2"}, short


def test_a_failing_check_shows_its_inputs_and_what_the_code_printed(tmp_path):
    source = (
        Path(SOLUTION)
        .read_text(encoding="utf-8")
        .replace(
            "def momentum_step(theta, grad, velocity, lr, beta):",
            "def momentum_step(theta, grad, velocity, lr, beta):\n    print('debug: lr is', lr)\n    lr = -lr",
        )
    )
    assert "debug: lr is" in source
    path = tmp_path / "momentum.py"
    path.write_text(source)
    code, out = _check("momentum", str(path), "5.1")
    assert code == 1, out
    assert "FAIL  task 5.1" in out
    assert re.search(r"x\d+ = momentum_step\(array\(\[", out), out  # the public inputs
    assert "your code printed:" in out and "| debug: lr is 0.1" in out, out
