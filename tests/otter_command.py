"""`otter run -a <zip> <submission>` as an instructor types it: Otter's own command, no PYTHONPATH,
a Jupyter runtime and IPython folder of its own (kernels started side by side otherwise share them)."""

import json
import os
import subprocess
import sys


def otter_run(zip_path, submission, cwd) -> dict:
    """The results.json `otter run` writes in `cwd` for `submission` (a path relative to `cwd`)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update(JUPYTER_RUNTIME_DIR=str(cwd / ".jupyter-runtime"), IPYTHONDIR=str(cwd / ".ipython"))
    otter = os.path.join(os.path.dirname(sys.executable), "otter")
    proc = subprocess.run(
        [otter, "run", "-a", str(zip_path), "--no-logo", submission], cwd=cwd, capture_output=True, text=True, env=env
    )
    assert (cwd / "results.json").exists(), proc.stdout[-2000:] + proc.stderr[-2000:]
    return json.loads((cwd / "results.json").read_text())
