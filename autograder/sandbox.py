"""Start and talk to a sandboxed worker (see worker.py) from the grader's side.

Isolation is probed once: new PID/mount/network namespaces via util-linux `unshare` (as root
directly, otherwise inside a user namespace), else plain rlimits and killing every process a test
left (the worker is a child subreaper). As root, every test runs as a uid of its own (61000 + slot,
or the next one no other grader on this machine holds), never as the worker's. What could not be
applied is reported with every result, never silently skipped.
"""
import functools
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
from dataclasses import dataclass, field

from autograder import wire

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Everything a submission must not read: the reference, hidden tests, goldens, other students.
_SECRET_DIRS = ["solution", "tests", "assignments", "dist", "build", "out", "bench", "tools", ".git",
                ".pytest_cache", ".hypothesis", "autograder/hidden", "autograder/goldens",
                "autograder/samples", "autograder/public"]
_BASE_UID = 61000
_UID_SPAN = 1000
_BOOTSTRAP = "import sys; sys.path.insert(0, {root!r}); from autograder.worker import main; main()"


@dataclass(frozen=True)
class Limits:
    """Per-test resource limits applied in the test's child process."""
    cpu_seconds: int = 20
    memory_bytes: int = 1 << 30      # beyond the warm worker's own address space
    file_bytes: int = 8 << 20        # biggest file (and the captured output) a test may write
    open_files: int = 64
    processes: int = 64

    def as_dict(self):
        return dict(self.__dict__)


@dataclass
class RunResult:
    status: str                      # ok | error | import_error | timeout | crashed
    outputs: dict = field(default_factory=dict)
    error: dict | None = None
    exit: str | None = None
    stdout: str = ""
    seconds: float = 0.0


@functools.lru_cache(maxsize=1)
def namespace_prefix() -> tuple:
    """The `unshare` command line that works here, or () when none does."""
    if not shutil.which("unshare") or os.environ.get("AUTOGRADER_NO_NAMESPACES"):
        return ()
    base = ["unshare", "--mount", "--net", "--pid", "--fork", "--mount-proc", "--kill-child"]
    candidates = [base] if os.geteuid() == 0 else []
    candidates.append(base[:1] + ["--user", "--map-root-user"] + base[1:])
    for prefix in candidates:
        try:
            ok = subprocess.run(prefix + ["true"], capture_output=True, timeout=10).returncode == 0
        except (OSError, subprocess.TimeoutExpired):
            ok = False
        if ok:
            return tuple(prefix)
    return ()


def _clean_env():
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": "/tmp", "LANG": "C.UTF-8",
           "PYTHONDONTWRITEBYTECODE": "1", "PYTHONHASHSEED": "0",
           "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    for keep in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "CUDA_VISIBLE_DEVICES"):
        if keep in os.environ:  # see shared/NOTES.md: some CPUs need the first two
            env[keep] = os.environ[keep]
    return env


class SandboxError(RuntimeError):
    """The worker itself failed (not the submission)."""


def _claim_uid(slot):
    """The first free sandbox uid from 61000 + slot on, held (by an abstract socket name, freed
    when this process ends) while the sandbox lives: two graders on one machine never share a uid,
    so neither can signal the other's tests or use up their process limit."""
    for uid in range(_BASE_UID + slot, _BASE_UID + _UID_SPAN):
        claim = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            claim.bind(f"\0autograder-sandbox-uid-{uid}")
        except OSError:
            claim.close()
            continue
        return uid, claim
    raise SandboxError(f"no free sandbox uid in {_BASE_UID}..{_BASE_UID + _UID_SPAN - 1}")


class Sandbox:
    """One warm worker. `load` a submission's source, then `run` recorded scripts against it."""

    def __init__(self, *, preload=("numpy",), slot=0, hide=(), tmp_kib=65536):
        prefix = list(namespace_prefix())
        # As root, each test's child drops to its own uid, namespaces or not (see worker.py).
        self.uid, self._uid_claim = _claim_uid(slot) if os.geteuid() == 0 else (None, None)
        uid = self.uid
        config = {
            "preload": list(preload), "uid": uid, "tmp_kib": tmp_kib,
            "hide": [os.path.join(ROOT, d) for d in _SECRET_DIRS] + [os.path.abspath(p) for p in hide],
        }
        self._proc = subprocess.Popen(
            prefix + [sys.executable, "-I", "-c", _BOOTSTRAP.format(root=ROOT), json.dumps(config)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            env=_clean_env(), start_new_session=True)
        self._stderr = []
        threading.Thread(target=self._drain_stderr, daemon=True).start()
        ready = self._receive(timeout=120)
        self.isolation = ready["isolation"]
        if not prefix:
            why = ("AUTOGRADER_NO_NAMESPACES is set" if os.environ.get("AUTOGRADER_NO_NAMESPACES")
                   else "unshare refused")
            self.isolation["namespaces"] = f"not available ({why}): no network or PID isolation"

    def _drain_stderr(self):
        for line in self._proc.stderr:
            if len(self._stderr) < 50:
                self._stderr.append(line.decode(errors="replace"))

    def _receive(self, timeout):
        result = {}

        def read():
            try:
                result["value"] = wire.recv(self._proc.stdout.fileno())
            except (wire.WireError, OSError) as err:
                result["error"] = err

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        reader.join(timeout)
        if reader.is_alive() or "value" not in result or result["value"] is None:
            self.close()
            raise SandboxError(f"sandbox worker stopped answering: {result.get('error')} "
                               f"{''.join(self._stderr)[-800:]}")
        return result["value"]

    def _send(self, message):
        try:
            wire.send(self._proc.stdin.fileno(), message)
        except OSError as err:
            raise SandboxError(f"sandbox worker is gone: {err}") from None

    def load(self, source: str, filename: str, modname: str) -> None:
        self._send({"cmd": "load", "source": source, "filename": filename, "modname": modname})
        self._receive(timeout=30)

    def run(self, script_message: dict, *, timeout: float, limits: Limits = Limits()) -> RunResult:
        self._send({"cmd": "run", "script": script_message, "timeout": timeout, "limits": limits.as_dict()})
        reply = self._receive(timeout=timeout + 30)
        return RunResult(status=reply["status"], outputs=reply.get("outputs") or {},
                         error=reply.get("error"), exit=reply.get("exit"),
                         stdout=reply.get("stdout", ""), seconds=reply.get("seconds", 0.0))

    def close(self):
        try:
            self._close_worker()
        finally:
            if self._uid_claim is not None:
                self._uid_claim.close()
                self._uid_claim = None

    def _close_worker(self):
        # The worker holds nothing worth a clean exit: killing its process group is quicker than
        # asking it to leave, and in a PID namespace takes every process of the sandbox with it.
        if self._proc.poll() is None:
            try:
                os.killpg(self._proc.pid, 9)
            except ProcessLookupError:
                pass
            self._proc.wait()
        for stream in (self._proc.stdin, self._proc.stdout):
            try:
                stream.close()
            except OSError:
                pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
