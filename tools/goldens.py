"""Record the PyTorch golden outputs the grader checks submissions against (`make goldens`).

    python -m tools.goldens [ASSIGNMENT ...] [--allow-cpu] [-o DIR]

A golden is a graded test's own recorded Script replayed on the PyTorch oracle of the student
API (autograder/course/<assignment>/authoring/oracle.py) instead of the NumPy reference: float64, on CUDA,
deterministic algorithms, no TF32. Tests the oracle cannot run (a name it lacks, an expected
exception), tests with no numeric outputs and tests graded by a judge get no golden. Each golden is
keyed by a hash of the oracle's code and the test's recorded calls, so `stale` tells which
ones a change to either has outdated. The file format is autograder/golden.py's.
"""

import argparse
import datetime
import hashlib
import importlib
import inspect
import os
import subprocess
import sys

# cuBLAS is deterministic only with a fixed workspace, set before CUDA starts (importing torch
# does not start it; nothing here touches the GPU before the oracles run).
if os.environ.get("CUBLAS_WORKSPACE_CONFIG") not in (":4096:8", ":16:8"):
    os.environ["CUBLAS_WORKSPACE_CONFIG"] = ":4096:8"

import numpy as np  # noqa: E402
import torch  # noqa: E402

from autograder import ROOT, assignments, compare, engine, golden, probes, script, wire  # noqa: E402
from autograder.course import oracles as oracle  # noqa: E402
from autograder.errors import KitError  # noqa: E402

CPU_GPU_NAME = "none (CPU run, not a GPU golden)"


def available(name) -> bool:
    """Whether the assignment has an oracle and graded tests (public and hidden) to replay."""
    try:
        assignments.get(name).tests()
    except ModuleNotFoundError:
        return False
    return os.path.isfile(assignments.get(name).authoring_path("oracle.py"))


def oracle_source(name) -> bytes:
    """The oracle's code: the shared helpers (autograder/course/oracles.py), its own module and whatever else it
    runs (assignment.toml's oracle_sources)."""
    parts = []
    for file in oracle_files(name):
        with open(file, "rb") as f:
            parts.append(f.read())
    return b"".join(parts)


def oracle_files(name) -> list[str]:
    a = assignments.get(name)
    return [oracle.__file__, a.authoring_path("oracle.py"), *(os.path.join(ROOT, f) for f in a.oracle_sources)]


def script_hash(test, source: bytes) -> str:
    """sha256 of the oracle code, the test's recorded calls (arrays included) and the code of
    the probes those calls use (autograder/probes.py or the assignment's own)."""
    message = test.script().to_message()
    used = sorted({step[1] for step in message["steps"] if step[0] == "probe"})
    probe_code = "".join(inspect.getsource(script._find_probe(p, probes)) for p in used)
    return hashlib.sha256(source + wire.encode(message) + probe_code.encode()).hexdigest()


def portable(outputs) -> dict:
    """Outputs as any grader, with or without a GPU, can be held to: tensors as their values,
    strings dropped (device and dtype names say where the recording ran, not what it computed;
    the reference still judges them)."""

    def strip(value):
        value, _ = compare.unwrap(value)
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if not isinstance(v, str)}
        if isinstance(value, (list, tuple)):
            return type(value)(strip(v) for v in value)
        return value

    return {k: strip(v) for k, v in outputs.items() if not isinstance(v, str)}


def record(name, skipped=None) -> dict:
    """{"provenance": ..., "tests": {test name: {"hash", "outputs"}}} for one assignment; the
    tests left out, with why, are appended to `skipped` as (test name, reason)."""
    module = importlib.import_module(f"autograder.course.{name}.authoring.oracle")
    source = oracle_source(name)
    tests, skipped = {}, [] if skipped is None else skipped
    with oracle.deterministic():
        for test in assignments.get(name).tests():
            if test.judge is not None:  # the judge grades a property; values are not compared
                skipped.append((test.name, "graded by a judge"))
                continue
            result = engine.run_reference(test.build, module)
            outputs = portable(result.outputs or {})
            if outputs:
                tests[test.name] = {
                    "hash": script_hash(test, source),
                    "calls": golden.calls_hash(test),
                    "outputs": outputs,
                }
            elif result.raises is not None:
                skipped.append((test.name, f"the oracle raised {result.raises} at step {result.step}"))
            else:
                skipped.append((test.name, "no numeric outputs"))
    return {"provenance": provenance(), "tests": tests}


def stale(name, data) -> list[str]:
    """Recorded tests whose hash no longer matches the test's calls and the oracle's code (or
    that no longer exist)."""
    source = oracle_source(name)
    current = {t.name: t for t in assignments.get(name).tests()}
    return [
        test_name
        for test_name, entry in data.get("tests", {}).items()
        if test_name not in current or entry.get("hash") != script_hash(current[test_name], source)
    ]


def provenance() -> dict:
    cuda = oracle.DEVICE.type == "cuda"
    return {
        "gpu": torch.cuda.get_device_name(oracle.DEVICE) if cuda else CPU_GPU_NAME,
        "driver": _driver_version() if cuda else None,
        "cuda": torch.version.cuda,
        "cudnn": torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None,
        "torch": torch.__version__,
        "numpy": np.__version__,
        "python": sys.version.split()[0],
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "device": oracle.DEVICE.type,
        "deterministic": True,
        "tf32": False,
    }


def _driver_version():
    try:
        out = subprocess.run(
            ["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"],
            capture_output=True,
            text=True,
            timeout=30,
        )
        lines = out.stdout.split()
        if out.returncode == 0 and lines:
            return lines[0]
    except (OSError, subprocess.TimeoutExpired):
        pass
    try:  # the CUDA driver API version, e.g. 12040, when nvidia-smi is missing
        return f"CUDA driver API {torch._C._cuda_getDriverVersion()} (nvidia-smi not available)"
    except (AttributeError, RuntimeError):
        return "unknown (nvidia-smi not available)"


def write(data, path):
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "wb") as f:
        f.write(wire.encode(data))


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m tools.goldens", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "names",
        nargs="*",
        metavar="ASSIGNMENT",
        help=f"assignments to record (default: all of {', '.join(assignments.ASSIGNMENTS)})",
    )
    parser.add_argument(
        "--allow-cpu",
        action="store_true",
        help="record on the CPU when there is no CUDA GPU (for testing the pipeline; not GPU goldens)",
    )
    parser.add_argument("-o", "--out", help=f"output folder (default: each assignment's grader/{golden.FILENAME})")
    args = parser.parse_args(argv)
    if oracle.DEVICE.type != "cuda" and not args.allow_cpu:
        raise SystemExit(
            "tools.goldens: no CUDA GPU here (torch.cuda.is_available() is False). Golden "
            "outputs are PyTorch results recorded on a GPU: run `make goldens` on a CUDA "
            "machine, or pass --allow-cpu to try the pipeline on the CPU."
        )
    names = args.names or list(assignments.ASSIGNMENTS)
    for name in names:
        try:
            assignments.get(name)
        except KitError as err:
            raise SystemExit(f"tools.goldens: {err}") from None
    for name in names:
        if not available(name):
            print(f"{name}: skipped (no graded tests or no oracle yet)")
            continue
        skipped = []
        data = record(name, skipped)
        path = os.path.join(args.out, f"{name}.golden") if args.out else golden.path(name)
        write(data, path)
        total = len(assignments.get(name).tests())
        print(f"{name}: {len(data['tests'])} of {total} tests recorded on {data['provenance']['gpu']} -> {path}")
        for test_name, why in skipped:
            print(f"  no golden for {test_name}: {why}")


if __name__ == "__main__":
    main()
