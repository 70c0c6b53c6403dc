"""PyTorch outputs recorded on a CUDA GPU (`make goldens`), read by the grader.

autograder/course/<assignment>/grader/gpu.golden is a wire-encoded dict:
    {"provenance": {gpu, driver, cuda, cudnn, torch, date, device, ...},
     "tests": {test name: {"hash": sha256 of the test's recorded calls + the oracle code,
                           "calls": sha256 of the test's recorded calls alone,
                           "outputs": {output name: plain value}}}}

The grader uses an entry only while its "calls" hash matches the test as it is now, so a test
edited after recording falls back to the reference alone instead of failing correct work.
"""

import hashlib

from autograder import assignments, wire

FILENAME = "gpu.golden"


def path(name):
    return assignments.get(name).grader_path(FILENAME)


def load(name) -> dict | None:
    try:
        with open(path(name), "rb") as f:
            return wire.decode(f.read())
    except FileNotFoundError:
        return None


def describe(provenance) -> str:
    return (
        f"PyTorch {provenance.get('torch')} on {provenance.get('gpu')} "
        f"(CUDA {provenance.get('cuda')}, recorded {provenance.get('date')})"
    )


def calls_hash(test) -> str:
    """sha256 of the test's recorded calls (inputs included)."""
    return hashlib.sha256(wire.encode(test.script().to_message())).hexdigest()


def fresh_entries(data, tests) -> dict:
    """{test name: entry} of the recorded entries whose calls still match `tests`."""
    if not data:
        return {}
    by_name = {t.name: t for t in tests}
    return {
        name: entry
        for name, entry in data["tests"].items()
        if name in by_name and entry.get("calls") == calls_hash(by_name[name])
    }
