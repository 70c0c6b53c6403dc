"""`make dist`: release zips built reproducibly and checked before anything is written.

dist/<name>-student.zip     skeleton, notebook, public tests, the self-check engine, a README
                            (and the written questions' template PDF, where there are some)
dist/<name>-autograder.zip  Otter autograder (from `otter generate`) grading through the kit's engine
dist/<name>-written.pdf     where autograder/course/<name>/authoring/written.toml exists: the template of the
                            Gradescope manual-grading assignment for its written questions
dist/solutions.zip          the reference modules, and the written questions' model answers and
                            rubrics (<name>/written-answers.md and .pdf), for instructors
dist/MANIFEST.sha256        sha256 of every other file

The build refuses (and writes nothing) when a student zip leaks solution code, hidden tests,
expected values, caches, notebook outputs or the written questions' answers and rubrics, or when
the built autograder zip does not give the reference full marks, the blank skeleton 0, and every
known-buggy sample less than full marks.
"""

import argparse
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from autograder import ROOT, assignments, otter, otter_verdicts
from autograder.course import samples
from autograder.errors import KitError
from autograder.skeleton import solution_lines
from tools import written
from tools.generate import outputs

EPOCH = (1980, 1, 1, 0, 0, 0)
# The student zip's self-check needs the whole engine but the grader-only modules (Otter's glue
# needs Otter; the TA report is for graders). A list kept by hand went stale as modules were added.
GRADER_ONLY = {"otter.py", "otter_verdicts.py", "ta_report.py"}
# Notebook helpers ship only where the notebook uses them: autodiff asks students to write the centered
# difference that gradcheck.py holds, and its notebook checks with the student's own numerical_gradient.
NOTEBOOK_HELPERS = {"gradcheck.py"}
FORBIDDEN_NAMES = re.compile(
    r"(__pycache__|\.pyc$|\.ipynb_checkpoints|\.OTTER_LOG|/(grader|authoring)/|/(hidden|slips|oracle)\.py$|"
    r"\.golden$|/samples\.(toml|py)$|/written\.toml$|\.npz$|\.npy$|(^|/)solution/)"
)
# Gradescope has no GPU, and on a public index a plain torch pin resolves to the CUDA build
# (plus ~15 NVIDIA packages): the CPU build comes from PyTorch's own index.
TORCH_CPU_INDEX = "https://download.pytorch.org/whl/cpu"


class ReleaseError(RuntimeError):
    """The release would be wrong; the message names the zip, the file and why."""


# ---------------------------------------------------------------- reproducible zips


def write_zip(path, files: dict[str, bytes], executable=()):
    """A zip whose bytes depend only on `files`: sorted names, fixed dates and permissions."""
    with zipfile.ZipFile(path, "w") as zf:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, date_time=EPOCH)
            info.external_attr = ((0o755 if name in executable else 0o644) | 0o100000) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3
            zf.writestr(info, files[name], compresslevel=9)


def read_tree(rel_paths, prefix=""):
    return {prefix + rel: open(os.path.join(ROOT, rel), "rb").read() for rel in rel_paths}


# ---------------------------------------------------------------- the three kinds of zip


def student_files(name) -> dict[str, bytes]:
    generated = outputs(name)
    files = {
        f"{name}/{os.path.basename(rel)}": data
        for rel, data in generated.items()
        if rel.startswith(f"assignments/{name}/")
    }
    notebook = generated[f"assignments/{name}/{name}.ipynb"].decode()
    helpers = {f for f in NOTEBOOK_HELPERS if f"autograder.{f.removesuffix('.py')}" in notebook}
    shipped = [f"autograder/{f}" for f in engine_files() if f not in GRADER_ONLY | (NOTEBOOK_HELPERS - helpers)]
    files.update(read_tree(shipped, prefix=f"{name}/"))
    files.update(read_tree(course_files(name), prefix=f"{name}/"))
    files[f"{name}/autograder/course/{name}/public.expected"] = generated[f"autograder/course/{name}/public.expected"]
    files[f"{name}/README.md"] = _student_readme(name).encode()
    files[f"{name}/requirements.txt"] = student_requirements(name).encode()
    questions = written.load(name)
    if questions is not None:
        files[f"{name}/{written_pdf_name(name)}"] = written.template_pdf(questions)
    return files


def student_requirements(name) -> str:
    """What a student's own venv needs to run the notebook, `check` and test_public.py (tested in
    tests/test_student_env.py): the engine's numpy and nbformat, the assignment's own packages,
    and the tools; lower bounds from pyproject.toml, as the kit is tested with."""
    with open(os.path.join(ROOT, "pyproject.toml"), "rb") as f:
        project = tomllib.load(f)["project"]
    specs = {re.split(r"[<>=\[]", r)[0]: r for r in project["dependencies"] + project["optional-dependencies"]["dev"]}
    wanted = dict.fromkeys(["numpy", "nbformat", *assignments.get(name).requirements])
    if "torch" in wanted:  # on PyPI a plain torch pin resolves to the CUDA build (several GB)
        wanted["torch"] = "CPU-only: first pip install torch --index-url https://download.pytorch.org/whl/cpu"
    wanted |= {
        "matplotlib": "the notebook's plots",
        "jupyterlab": f"jupyter lab {name}.ipynb",
        "pytest": "test_public.py",
    }
    return "# python -m pip install -r requirements.txt  (Python 3.11+, in a virtual environment)\n" + "".join(
        f"{specs.get(p, p)}{f'  # {why}' if why else ''}\n" for p, why in wanted.items()
    )


def written_pdf_name(name):
    return f"{name}-written.pdf"


def engine_files():
    """The engine's modules (autograder/*.py) and the course package's __init__."""
    modules = sorted(f for f in os.listdir(os.path.join(ROOT, "autograder")) if f.endswith(".py"))
    return modules + ["course/__init__.py"]


def course_files(name, *, grader=False) -> list[str]:
    """The course folder's own files (what the student zip's self-check needs) and, for the
    autograder zip, its grader/ folder; never authoring/ (see autograder/assignments.py)."""
    folder = assignments.get(name).folder
    found = [os.path.join(folder, f) for f in os.listdir(folder) if os.path.isfile(os.path.join(folder, f))]
    if grader:
        for top, dirs, files in os.walk(os.path.join(folder, assignments.GRADER)):
            dirs[:] = [d for d in dirs if d != "__pycache__"]
            found += [os.path.join(top, f) for f in files]
    return sorted(os.path.relpath(path, ROOT) for path in found if not path.endswith(".pyc"))


def _student_readme(name):
    a = assignments.get(name)
    questions = written.load(name)
    hand_graded = (
        ""
        if questions is None
        else (
            f"5. Answer the written questions at the end of `{name}.ipynb` ({questions.points:g} points, graded by\n"
            f"   hand) and upload them as one PDF to the Gradescope assignment for the written part:\n"
            f"   `python -m autograder export {name}.ipynb` runs `otter export {name}.ipynb --filtering\n"
            f"   --pagebreaks`, which needs `pip install otter-grader`, pandoc and xelatex (a TeX distribution:\n"
            f"   `apt install pandoc texlive-xetex texlive-fonts-recommended texlive-plain-generic`, or\n"
            f"   `brew install pandoc` and MacTeX); it says in one line which one is missing. Or print\n"
            f"   `{written_pdf_name(name)}`, write your answers in its boxes and scan it.\n"
        )
    )
    return (
        f"# Assignment {a.number}: {name} ({a.title})\n\n"
        f"Set up once, in this folder (Python 3.11+):\n\n"
        f"    python3 -m venv .venv\n"
        f"    source .venv/bin/activate          # Windows: .venv\\Scripts\\activate\n"
        f"    python -m pip install -r requirements.txt\n\n"
        f"Then, with the environment active (`source .venv/bin/activate` in each new terminal):\n\n"
        f"1. `jupyter lab {name}.ipynb`: the notebook teaches the maths and imports your `{name}.py`.\n"
        f"2. Fill in every stub in `{name}.py` (each raises `NotImplementedError` naming its task).\n"
        f"3. Check your work: `python -m autograder check {name}` (every public check; add a task id,\n"
        f"   e.g. `check {name} {next(iter(a.tasks))}`, for one task), the notebook's check cells, or\n"
        f"   `pytest test_public.py`. A failing check shows the calls it made; `python -m autograder check\n"
        f"   {name} <task> --show-inputs` prints them as Python you can run, with the exact inputs.\n"
        f"   Public checks are a subset of what is graded.\n"
        f"4. Submit `{name}.py` (your code is in it; the notebook only imports it).\n{hand_graded}"
    )


def autograder_zip_files(name, workdir) -> dict[str, bytes]:
    """Run `otter generate` for the Otter tests, then add the engine, hidden tests and reference."""
    a = assignments.get(name)
    tests_dir = os.path.join(workdir, "tests")
    os.makedirs(tests_dir)
    for test in otter_verdicts.gradescope_tests(a.tests()):
        with open(os.path.join(tests_dir, f"{test.name}.py"), "w") as f:
            f.write(otter.ok_test(test))
    config = {"lang": "python", "plugins": [{"autograder.otter.KitPlugin": {"assignment": name}}]}
    with open(os.path.join(workdir, "otter_config.json"), "w") as f:
        json.dump(config, f, indent=2)
    with open(os.path.join(workdir, "requirements.txt"), "w") as f:
        f.write("\n".join(gradescope_requirements(name)) + "\n")
    generated = os.path.join(workdir, "otter.zip")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "otter",
            "generate",
            "-t",
            "tests",
            "-o",
            generated,
            "-r",
            "requirements.txt",
            "--config",
            "otter_config.json",
            "--python-version",
            python_version(),
        ],
        cwd=workdir,
        check=True,
        capture_output=True,
        env={**os.environ, "PYTHONPATH": ROOT},
    )
    with zipfile.ZipFile(generated) as zf:
        files = {n: zf.read(n) for n in zf.namelist() if not n.endswith("/")}
    files["setup.sh"] = otter.setup_sh().encode()  # Otter's stock one adds a compiler and a browser
    files.update(read_tree([f"autograder/{f}" for f in engine_files()] + course_files(name, grader=True)))
    files[f"solution/{a.filename}"] = Path(os.path.join(ROOT, "solution", a.filename)).read_bytes()
    files["solution/__init__.py"] = b""
    return files


def python_version():
    """The Python the kit is tested with (this interpreter's major.minor): Otter's default is newer."""
    return f"{sys.version_info.major}.{sys.version_info.minor}"


def gradescope_requirements(name) -> list[str]:
    """What the zip installs besides Otter, pinned to the versions this kit is tested with (read
    from the running environment). torch (where assignment.toml asks for it) is the CPU-only build."""
    from importlib.metadata import version

    def pin(package):
        return f"{package}=={version(package).split('+')[0]}"

    lines = [pin("nbformat")]  # the engine reads notebook submissions
    for package in assignments.get(name).requirements:
        if package == "torch":
            lines += [f"--extra-index-url {TORCH_CPU_INDEX}", f"{pin('torch')}+cpu"]
        else:
            lines.append(pin(package))
    return lines


def solutions_files() -> dict[str, bytes]:
    names = [f"solution/{a.filename}" for a in assignments.ASSIGNMENTS.values()]
    files = read_tree(names + ["solution/__init__.py"])
    for name in assignments.ASSIGNMENTS:
        questions = written.load(name)
        if questions is not None:
            files[f"{name}/written-answers.md"] = written.answers_markdown(questions).encode()
            files[f"{name}/written-answers.pdf"] = written.answers_pdf(questions)
    return files


# ---------------------------------------------------------------- refusals


def check_student_zip(zip_name, files, name):
    """Raise ReleaseError on anything a student must not get."""
    reference = Path(ROOT, "solution", f"{name}.py").read_text(encoding="utf-8")
    secret_lines = solution_lines(reference, f"solution/{name}.py")
    hidden_names = {t.name for t in assignments.get(name).tests()} - {
        t.name for t in assignments.get(name).tests(public_only=True)
    }
    questions = written.load(name)
    answers = {} if questions is None else written.secret_phrases(questions)
    for path, data in sorted(files.items()):
        if FORBIDDEN_NAMES.search("/" + path):
            raise ReleaseError(
                f"{zip_name}: {path}: not allowed in a student zip "
                "(caches, hidden tests, goldens, expected values, written answers or solutions)"
            )
        if path.endswith(".expected") and not path.endswith(f"course/{name}/public.expected"):
            raise ReleaseError(f"{zip_name}: {path}: expected values other than the public ones")
        text = _pdf_text(zip_name, path, data) if path.endswith(".pdf") else data.decode("utf-8", "replace")
        if path.endswith(".ipynb"):
            _check_notebook(zip_name, path, text)
        prose = written.normalize(_cell_sources(text) if path.endswith(".ipynb") else text)
        for phrase, where in answers.items():
            if phrase in prose:
                raise ReleaseError(f"{zip_name}: {path}: contains {where}: {phrase[:80]!r}")
        for number, line in enumerate(text.splitlines(), start=1):
            if line.strip() in secret_lines:
                raise ReleaseError(
                    f"{zip_name}: {path}:{number}: contains a line of the reference solution: {line.strip()[:80]}"
                )
        for hidden in hidden_names:
            if hidden in text:
                raise ReleaseError(f"{zip_name}: {path}: names the hidden test {hidden!r}")


def _pdf_text(zip_name, path, data) -> str:
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    except (PyPdfError, ValueError) as err:
        raise ReleaseError(f"{zip_name}: {path}: not a readable PDF ({err}): its text cannot be checked") from None


def _cell_sources(notebook_text) -> str:
    """The cells' text as typed (a source is a string or a list of lines)."""
    return "\n".join("".join(cell.get("source", "")) for cell in json.loads(notebook_text).get("cells", []))


def _check_notebook(zip_name, path, text):
    nb = json.loads(text)
    for index, cell in enumerate(nb.get("cells", [])):
        if cell.get("cell_type") == "code" and (cell.get("outputs") or cell.get("execution_count")):
            raise ReleaseError(f"{zip_name}: {path}: cell {index} has outputs (clear them)")


def verify_autograder_zip(zip_path, name, workdir, sample_sources=None):
    """Reference -> full marks and blank -> 0 through `otter run`; every buggy sample caught.
    `sample_sources` ({id: source}, default: the assignment's samples) is what is graded."""
    source = os.path.join(workdir, "unzipped")
    with zipfile.ZipFile(zip_path) as zf:
        zf.extractall(source)
    folder = samples.write(name, os.path.join(workdir, "samples"), sample_sources)
    reference, blank = os.path.join(folder, "reference.py"), os.path.join(workdir, "blank", f"{name}.py")
    os.makedirs(os.path.dirname(blank))
    shutil.copy(os.path.join(folder, "blank.py"), blank)  # Otter grades a file named like the module
    with ThreadPoolExecutor(3) as pool:  # three independent gradings, each mostly one process
        ref_run = pool.submit(otter_run, zip_path, reference, source, workdir)
        blank_run = pool.submit(otter_run, zip_path, blank, source, workdir)
        samples_run = pool.submit(_grade_with_zip_engine, source, name, folder, os.path.join(workdir, "graded"))
        (score, possible), (blank_score, blank_possible), grades = (
            ref_run.result(),
            blank_run.result(),
            samples_run.result(),
        )
    if score != possible:
        raise ReleaseError(f"{name}-autograder.zip: the reference scores {score}/{possible}, not full marks")
    if blank_score != 0:
        raise ReleaseError(f"{name}-autograder.zip: the blank skeleton scores {blank_score}/{blank_possible}, not 0")
    for student, score, possible in grades:
        if student not in ("reference", "blank") and score >= possible:
            raise ReleaseError(
                f"{name}-autograder.zip: the buggy sample {student}.py is not caught (scores {score}/{possible})"
            )


def otter_run(zip_path, submission, source, workdir) -> tuple[float, float]:
    """(score, possible) from `otter run`, importing the engine the zip ships (not this tree's)."""
    out = tempfile.mkdtemp(dir=workdir)
    stage = os.path.join(out, os.path.basename(submission))
    shutil.copy(submission, stage)
    # -I: neither PYTHONPATH nor the working directory (Otter moves into the submission folder) is
    # on the import path; the plugin comes from the zip's source folder.
    launcher = f"import sys; sys.path.insert(0, {source!r}); from otter.cli import cli; cli()"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    # Each run gets its own Jupyter runtime and IPython folders: kernels started side by side
    # otherwise share them and one may die before it answers.
    env.update(JUPYTER_RUNTIME_DIR=os.path.join(out, ".jupyter-runtime"), IPYTHONDIR=os.path.join(out, ".ipython"))
    proc = subprocess.run(
        [sys.executable, "-I", "-c", launcher, "run", "-a", zip_path, "-o", out, "--no-logo", stage],
        capture_output=True,
        text=True,
        env=env,
        cwd=out,
    )
    results = os.path.join(out, "results.json")
    if not os.path.exists(results):
        raise ReleaseError(f"otter run failed on {submission}: {proc.stderr[-1500:]}")
    with open(results) as f:
        data = json.load(f)
    if any(t.get("name") == "Autograder Failed" for t in data["tests"]):
        raise ReleaseError(f"otter run could not grade {submission}: {json.dumps(data)[:1500]}")
    scored = [t for t in data["tests"] if "max_score" in t]
    return (round(sum(t["score"] for t in scored), 6), round(sum(t["max_score"] for t in scored), 6))


def _grade_with_zip_engine(source, name, samples, out):
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    subprocess.run(
        [sys.executable, "-m", "autograder", "grade", name, samples, "-o", out, "-q"],
        cwd=source,
        check=True,
        capture_output=True,
        env=env,
    )
    import csv

    with open(os.path.join(out, "grades.csv")) as f:
        return [(r["student"], float(r["score"]), float(r["max_score"])) for r in csv.DictReader(f)]


# ---------------------------------------------------------------- the build


def build(out_dir, names, *, verify=True):
    started = time.monotonic()
    staging = tempfile.mkdtemp(prefix="dist-")
    try:
        built = {}
        for name in names:
            student = student_files(name)
            check_student_zip(f"{name}-student.zip", student, name)
            path = os.path.join(staging, f"{name}-student.zip")
            write_zip(path, student)
            built[os.path.basename(path)] = path
            pdf = student.get(f"{name}/{written_pdf_name(name)}")
            if pdf is not None:  # the student zip's copy: the same bytes in both places
                built[written_pdf_name(name)] = os.path.join(staging, written_pdf_name(name))
                with open(built[written_pdf_name(name)], "wb") as f:
                    f.write(pdf)
            work = tempfile.mkdtemp(dir=staging)
            ag = os.path.join(staging, f"{name}-autograder.zip")
            write_zip(ag, autograder_zip_files(name, work), executable={"run_autograder", "setup.sh"})
            if verify:
                verify_autograder_zip(ag, name, work)
            built[os.path.basename(ag)] = ag
            shutil.rmtree(work)
            print(
                f"built {name}: student + autograder zips{' + written PDF' if pdf else ''} "
                f"({time.monotonic() - started:.0f} s)"
            )
        sol = os.path.join(staging, "solutions.zip")
        write_zip(sol, solutions_files())
        built["solutions.zip"] = sol
        manifest = "".join(
            f"{hashlib.sha256(Path(p).read_bytes()).hexdigest()}  {n}\n" for n, p in sorted(built.items())
        )
        os.makedirs(out_dir, exist_ok=True)
        for n, p in built.items():
            shutil.copy(p, os.path.join(out_dir, n))
        with open(os.path.join(out_dir, "MANIFEST.sha256"), "w") as f:
            f.write(manifest)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    print(f"dist: {len(built)} files and MANIFEST.sha256 in {out_dir}/ in {time.monotonic() - started:.0f} s")


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m tools.dist")
    parser.add_argument("names", nargs="*", help="assignments (default: every course folder)")
    parser.add_argument("-o", "--out", default=os.path.join(ROOT, "dist"))
    parser.add_argument("--no-verify", action="store_true", help="skip grading the built zips")
    args = parser.parse_args(argv)
    if not args.names and assignments.BROKEN:  # no release with an assignment missing from it
        print(f"make dist: refusing to release: {next(iter(assignments.BROKEN.values()))}", file=sys.stderr)
        return 1
    try:
        build(args.out, args.names or list(assignments.ASSIGNMENTS), verify=not args.no_verify)
    except (ReleaseError, KitError) as err:
        print(f"make dist: refusing to release: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
