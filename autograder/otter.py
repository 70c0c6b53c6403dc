"""Otter-Grader glue: the Gradescope autograder grades through this kit's own engine.

`KitPlugin` works at Otter's earliest hook, `before_grading`: Otter has then only picked the file
to grade; it has not yet read a `.OTTER_LOG` (which it would unpickle), started a kernel (which
would import modules from the submission folder) or run anything uploaded. The plugin
1. keeps the graded file (the assignment's .py if uploaded, else the file Otter picked) aside and
   deletes everything else uploaded: modules shadowing what Otter imports, `.OTTER_LOG`, folders;
2. grades it with the sandboxed engine shipped in the zip (a process started in the zip's source
   folder; its verdicts come back over a pipe, never through a file submission code could reach);
3. hands Otter a notebook holding none of the student's code (`before_execution`), and
4. replaces whatever Otter's kernel reported with the engine's verdicts (`after_grading`).
The zip's Otter tests fail unless step 4 happens, so a plugin that did not run gives no points.
"""

import json
import os
import pprint
import shutil
import subprocess
import sys
import tempfile
from textwrap import indent

import nbformat
from otter.plugins import AbstractOtterPlugin
from otter.run.run_autograder.utils import OtterRuntimeError
from otter.test_files import GradingResults, TestCase, TestCaseResult, TestFile


def grade_with_zip_engine(source, assignment, path, student, refused="") -> dict:
    """Grade `path` with the engine in `source` (the unpacked zip), whichever copy of this module
    Otter imported the plugin from."""
    code = "import sys; sys.path.insert(0, sys.argv[1]); from autograder.otter_verdicts import main; main()"
    proc = subprocess.run(
        [sys.executable, "-I", "-c", code, source, assignment, path, student, refused],
        cwd=source,
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"the kit's engine failed (exit {proc.returncode}): {proc.stderr[-2000:]}")
    return json.loads(proc.stdout)


def clear_submission(folder, tests_source):
    """Delete everything in `folder`; put back Otter's test folder, copied afresh from the zip."""
    for name in os.listdir(folder):
        path = os.path.join(folder, name)
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path)
        else:
            os.unlink(path)
    shutil.copytree(tests_source, os.path.join(folder, "tests"))


UNKNOWN_STUDENT = "submission"


def gradescope_student(autograder_dir) -> str:
    """The id per-student tests use on Gradescope: the submitter's Student ID (SID) from
    submission_metadata.json, else their email; UNKNOWN_STUDENT where there is no metadata
    (a local `otter run`). A group submission is graded with its first member's id."""
    try:
        with open(os.path.join(autograder_dir, "submission_metadata.json")) as f:
            user = json.load(f)["users"][0]
    except (OSError, ValueError, KeyError, IndexError, TypeError):
        return UNKNOWN_STUDENT
    from autograder.submissions import student_id

    for key in ("sid", "email"):
        if isinstance(user.get(key), str) and user[key].strip():
            return student_id(user[key].strip())
    return UNKNOWN_STUDENT


def _graded_file(folder, assignment, otter_choice):
    """As `make grade` reads a folder: the assignment's .py first, else the file Otter picked."""
    own = os.path.join(folder, f"{assignment}.py")
    return own if os.path.lexists(own) else otter_choice  # a link or FIFO under that name is refused


class KitTestFile(TestFile):
    """One graded test's verdict from the engine, in the shape Otter reports to Gradescope."""

    def __init__(self, entry):
        case = TestCase(
            name=entry["name"],
            body="",
            hidden=entry["hidden"],
            points=entry["max_points"],
            success_message=None,
            failure_message=None,
        )
        super().__init__(entry["name"], "", [case])
        self.test_case_results = [TestCaseResult(case, entry["message"], entry["passed"])]
        self.task = entry.get("task", "")

    def summary(self, public_only=False):
        """Never Otter's "All test cases passed!": each test's line says passed or FAILED, with the
        engine's message (which, for a hidden test, names what failed and the slip, never inputs)."""
        (result,) = self.test_case_results
        line = f"{self.name}: {'passed' if result.passed else 'FAILED'} ({self.score:g} / {self.possible:g})"
        if result.passed or not result.message:
            return line
        return line + "\n" + indent(result.message.strip(), "    ")

    @classmethod
    def from_file(cls, path):
        raise NotImplementedError("kit verdicts are not read from files")

    @classmethod
    def from_metadata(cls, s, path):
        raise NotImplementedError("kit verdicts are not read from notebooks")

    def run(self, global_environment):
        raise NotImplementedError("kit verdicts come from the sandboxed engine")


class KitGradingResults(GradingResults):
    """Otter's results with the kit's Gradescope layout: one entry per graded test, public tests
    "visible" with their full feedback, hidden ones at the assignment's `hidden_visibility`
    (assignment.toml), and no "Public Tests" summary (Otter pads it with a blank line per hidden test)."""

    hidden_visibility = "after_published"

    def to_gradescope_dict(self, ag_config):
        if self._catastrophic_error:
            return super().to_gradescope_dict(ag_config)
        return gradescope_results(self.results.values(), self.hidden_visibility, self.output)


def gradescope_results(test_files, hidden_visibility, output=None) -> dict:
    tests = [
        {
            "name": tf.name,
            "score": round(tf.score, 5),
            "max_score": round(tf.possible, 5),
            "status": "passed" if tf.passed_all else "failed",
            "visibility": "visible" if tf.all_public else hidden_visibility,
            "output": tf.summary(),
        }
        for tf in test_files
    ]
    result = {"tests": tests, "score": round(sum(t["score"] for t in tests), 5)}
    if output:
        result["output"] = output
    return result


class KitPlugin(AbstractOtterPlugin):
    """Otter plugin config: {"autograder.otter.KitPlugin": {"assignment": "<name>"}}."""

    verdicts = None
    error = None

    def before_grading(self, ag_config):
        folder = os.path.dirname(os.path.abspath(self.submission_path))
        root = os.path.abspath(ag_config.autograder_dir)
        assignment = self.plugin_config["assignment"]
        from autograder.submissions import SubmissionError, read_bytes

        private = tempfile.mkdtemp(prefix="kit-graded-")
        graded = _graded_file(folder, assignment, self.submission_path)
        copy, refused = os.path.join(private, os.path.basename(graded)), ""
        try:  # as `make grade` reads: a regular file only, never through a link, never blocking
            data = read_bytes(graded)
            with open(copy, "wb") as f:
                f.write(data)
        except SubmissionError as err:
            refused = str(err)  # graded as 0 with this reason, as `make grade` would
        except OSError as err:
            self.error = f"the submitted file cannot be copied: {err}"
        try:  # whatever was uploaded, none of it stays for Otter's kernel or log reader
            clear_submission(folder, os.path.join(root, "source", "tests"))
            _write_placeholder(self.submission_path)  # Otter reads the file it picked; nothing of it runs
        except OSError as err:
            shutil.rmtree(private, ignore_errors=True)
            raise OtterRuntimeError(f"the submission folder could not be cleared: {err}") from None
        try:
            if not self.error:
                self.verdicts = grade_with_zip_engine(
                    os.path.join(root, "source"), assignment, copy, gradescope_student(root), refused
                )
        except Exception as err:  # reported as Otter's "Autograder Failed" (score 0), never as points
            self.error = f"{type(err).__name__}: {err}"
        finally:
            shutil.rmtree(private, ignore_errors=True)

    def before_execution(self, submission):
        return nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("# graded by the kit's sandboxed engine")])

    def after_grading(self, results):
        results.clear_results()
        # Otter keeps a kernel failure here; the kernel ran none of the submission and decides nothing.
        if self.error or not self.verdicts:
            results._catastrophic_error = RuntimeError(self.error or "the kit's engine gave no verdicts")
            return
        results._catastrophic_error = None
        results.__class__ = KitGradingResults  # the kit's results.json layout (to_gradescope_dict)
        results.hidden_visibility = self.verdicts["hidden_visibility"]  # assignment.toml in the zip
        for entry in sorted(self.verdicts["tests"], key=lambda e: e["hidden"]):  # public tests first
            results.results[entry["name"]] = KitTestFile(entry)
        if self.verdicts["notes"]:
            results.set_output("\n".join(self.verdicts["notes"]))


def _write_placeholder(path):
    with open(path, "w") as f:
        if path.endswith(".ipynb"):
            nbformat.write(nbformat.v4.new_notebook(), f)
        else:
            f.write("# graded by the kit's sandboxed engine\n")


def ok_test(test) -> str:
    """The Otter (OK-format) test file for one graded test: it fails by itself, and only the kit's
    plugin (after_grading) puts the engine's verdict in its place."""
    code = ">>> False  # replaced by the verdict of the kit's sandboxed engine\nTrue"
    case = {"code": code, "hidden": bool(test.hidden), "locked": False}
    body = {
        "name": test.name,
        "points": test.points,
        "suites": [{"cases": [case], "scored": True, "setup": "", "teardown": "", "type": "doctest"}],
    }
    return "OK_FORMAT = True\n\ntest = " + pprint.pformat(body, sort_dicts=False) + "\n"


def setup_sh(autograder_dir="/autograder") -> str:
    """The zip's setup.sh: Python and the pinned packages of the zip's environment.yml, nothing else.
    Otter's stock one also installs a compiler toolchain and C libraries (apt build-essential,
    libcurl/libxml2/libssl/libgit2 headers), nb_conda_kernels and a Chromium browser for PDF
    export: every package the kit's graders install is a binary wheel and no PDF is made here."""
    from otter.generate import MINIFORGE_VERSION, OTTER_ENV_NAME

    miniforge = f"https://github.com/conda-forge/miniforge/releases/download/{MINIFORGE_VERSION}"
    return f"""#!/usr/bin/env bash
# Made by the kit (autograder/otter.py setup_sh), not Otter's stock setup.sh: no compiler, no browser.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
if ! command -v wget >/dev/null; then
    apt-get update
    apt-get install -y --no-install-recommends wget ca-certificates
fi
wget -nv "{miniforge}/Miniforge3-Linux-$(uname -m).sh" -O /tmp/miniforge.sh
bash /tmp/miniforge.sh -b -p /root/miniforge3
rm /tmp/miniforge.sh
echo "export PATH=/root/miniforge3/bin:\\$PATH" >> /root/.bashrc
export PATH=/root/miniforge3/bin:$PATH
mamba env create -f {autograder_dir}/source/environment.yml
mamba clean -y --all
/root/miniforge3/envs/{OTTER_ENV_NAME}/bin/pip cache purge || true
"""
