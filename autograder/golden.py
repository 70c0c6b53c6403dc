"""PyTorch outputs recorded on a CUDA GPU (`make goldens`), read by the grader.

autograder/goldens/<assignment>.golden is a wire-encoded dict:
    {"provenance": {gpu, driver, cuda, cudnn, torch, date, device, ...},
     "tests": {test name: {"hash": sha256 of the test's recorded calls + the oracle code,
                           "outputs": {output name: plain value}}}}
"""
import os

from autograder import wire

GOLDEN_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "goldens")


def path(name):
    return os.path.join(GOLDEN_DIR, f"{name}.golden")


def load(name) -> dict | None:
    try:
        with open(path(name), "rb") as f:
            return wire.decode(f.read())
    except FileNotFoundError:
        return None


def describe(provenance) -> str:
    return (f"PyTorch {provenance.get('torch')} on {provenance.get('gpu')} "
            f"(CUDA {provenance.get('cuda')}, recorded {provenance.get('date')})")
