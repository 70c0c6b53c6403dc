"""Benchmark: grading throughput of the kit's engine against sequential `otter run`.

200 cnn_layer submissions (the generated samples, blank skeleton included, each copied with a
distinct comment so no two files are equal) are graded by the engine with -j <cores>; then
`otter run` grades 10 of them, one after another, with the Otter autograder zip that `make dist`
builds (its tests are the same graded tests). Both rows come from this one run.

Run:  python -c "from bench.grading import main; main()"
"""

import io
import os
import tempfile
import time
import zipfile

from rich.console import Console

from autograder import assignments, cli
from autograder.course import samples
from tools import dist

N_SUBMISSIONS = 200
N_OTTER = 10


def _make_submissions(folder):
    sources = [text.encode() for _, text in sorted(samples.sources("cnn_layer").items())]
    paths = []
    for i in range(N_SUBMISSIONS):
        path = os.path.join(folder, f"student{i:03d}.py")
        with open(path, "wb") as f:
            f.write(sources[i % len(sources)] + f"\n# submission {i}\n".encode())
        paths.append(path)
    return paths


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
        started = time.perf_counter()
        for path in paths[:N_OTTER]:
            dist.otter_run(zip_path, path, source, tmp)
        otter = (time.perf_counter() - started) / N_OTTER
    ours_rate, otter_rate = N_SUBMISSIONS / ours, 1 / otter
    print(f"grading cnn_layer ({jobs} cores)")
    print(
        f"  kit engine, -j {jobs}: {N_SUBMISSIONS} submissions in {ours:.1f} s = {ours_rate:.1f} submissions/s "
        f"({ours / N_SUBMISSIONS * 1000:.0f} ms each)"
    )
    print(f"  otter run, sequential: {otter:.2f} s per submission (mean of {N_OTTER}) = {otter_rate:.2f} submissions/s")
    print(f"  throughput ratio kit / otter: {ours_rate / otter_rate:.1f}x  (target >= 50x)")
