"""Benchmark: grading throughput of the kit's engine against sequential `otter run`.

200 cnn_layer submissions (the generated samples, blank skeleton included, each copied with a
distinct comment so no two files are equal) are graded by the engine with -j <cores>; then
`otter run` grades 6 of them, one after another, with the Otter autograder zip that `make dist`
builds (its tests are the same graded tests), and 6 more with a stock Otter zip of one trivial test
(`otter generate` on a single OK-format test, no plugin): the least a stock `otter run` costs on
this machine, whatever its tests. Every row comes from this one run.

Run:  python -c "from bench.grading import main; main()"
"""

import io
import os
import subprocess
import sys
import tempfile
import time
import zipfile

from rich.console import Console

from autograder import assignments, cli
from autograder.course import samples
from tools import dist

N_SUBMISSIONS = 200
N_OTTER = 6


def _make_submissions(folder):
    sources = [text.encode() for _, text in sorted(samples.sources("cnn_layer").items())]
    paths = []
    for i in range(N_SUBMISSIONS):
        path = os.path.join(folder, f"student{i:03d}.py")
        with open(path, "wb") as f:
            f.write(sources[i % len(sources)] + f"\n# submission {i}\n".encode())
        paths.append(path)
    return paths


STOCK_TEST = """OK_FORMAT = True

test = {"name": "q1", "points": 1, "suites": [{"cases": [{"code": ">>> callable(conv2d_forward)\\nTrue",
    "hidden": False, "locked": False}], "scored": True, "setup": "", "teardown": "", "type": "doctest"}]}
"""


def _stock_zip(folder):
    """A stock Otter autograder zip with one trivial test, from `otter generate`."""
    os.makedirs(os.path.join(folder, "tests"))
    with open(os.path.join(folder, "tests", "q1.py"), "w") as f:
        f.write(STOCK_TEST)
    otter = os.path.join(os.path.dirname(sys.executable), "otter")
    subprocess.run([otter, "generate"], cwd=folder, check=True, capture_output=True)
    return os.path.join(folder, "autograder.zip")


def _otter_seconds(zip_path, paths, source, tmp):
    """Mean seconds of one sequential `otter run` over `paths`."""
    started = time.perf_counter()
    for path in paths:
        _, possible = dist.otter_run(zip_path, path, source, tmp)
        assert possible > 0, "otter run reported no test"
    return (time.perf_counter() - started) / len(paths)


def main():
    jobs = os.cpu_count() or 1
    with tempfile.TemporaryDirectory() as tmp:
        subs = os.path.join(tmp, "subs")
        os.makedirs(subs)
        paths = _make_submissions(subs)
        started = time.perf_counter()
        cli.grade_folder(
            assignments.get("cnn_layer"), subs, os.path.join(tmp, "out"), jobs=jobs, console=Console(file=io.StringIO())
        )
        ours = time.perf_counter() - started
        zip_path = os.path.join(tmp, "cnn_layer-autograder.zip")
        dist.write_zip(
            zip_path,
            dist.autograder_zip_files("cnn_layer", os.path.join(tmp, "gen")),
            executable={"run_autograder", "setup.sh"},
        )
        source = os.path.join(tmp, "unzipped")
        zipfile.ZipFile(zip_path).extractall(source)
        otter = _otter_seconds(zip_path, paths[:N_OTTER], source, tmp)
        stock = _otter_seconds(_stock_zip(os.path.join(tmp, "stock")), paths[:N_OTTER], source, tmp)
    ours_rate, otter_rate = N_SUBMISSIONS / ours, 1 / otter
    print(f"grading cnn_layer ({jobs} cores)")
    print(
        f"  kit engine, -j {jobs}: {N_SUBMISSIONS} submissions in {ours:.1f} s = {ours_rate:.1f} submissions/s "
        f"({ours / N_SUBMISSIONS * 1000:.0f} ms each)"
    )
    print(f"  otter run, sequential: {otter:.2f} s per submission (mean of {N_OTTER}) = {otter_rate:.2f} submissions/s")
    print(f"  stock otter run, one trivial test: {stock:.2f} s per submission (mean of {N_OTTER})")
    print(f"  throughput ratio kit / otter: {ours_rate / otter_rate:.1f}x  (target >= 50x)")
    print(f"  throughput ratio kit / stock otter's floor: {ours_rate * stock:.1f}x")
