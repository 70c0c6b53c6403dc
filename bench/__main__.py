"""`make bench`: every benchmark, each printing its rows measured side by side in one run."""

import importlib
import sys

BENCHES = ["bench.conv", "bench.grading", "bench.gpu_grading", "bench.gpu"]

for name in sys.argv[1:] or BENCHES:
    print(f"\n=== {name}")
    importlib.import_module(name).main()
