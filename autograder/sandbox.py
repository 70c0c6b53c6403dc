"""Start and talk to a sandboxed worker (see worker.py) from the grader's side.

Isolation is probed once: new PID, mount, network, IPC and UTS namespaces via util-linux
`unshare` (as root directly, otherwise inside a user namespace), in which the worker switches to
an allow-listed root of its own (isolation.py); else plain rlimits and killing every process a test
left (the worker is a child subreaper). As root, every test runs as a uid of its own (61000 + slot,
or the next one no other grader on this machine holds), never as the worker's. Kernel keyrings are
refused to every test by a seccomp filter (AUTOGRADER_NO_SECCOMP=1, or a kernel that refuses the
filter: emptied before and after each test instead). Each sandbox gets a cgroup where the machine
allows one (cgroup.py). Time is CPU time of the submission's own processes (counted by the
worker), so other load on the machine costs nothing: each test's timeout, and each submission's
budget for all its tests together, each with a wall-clock backstop BUDGET_WALL_FACTOR times as
long for code that only waits. What
could not be applied is reported with every result, never silently skipped.
"""

import atexit
import contextlib
import functools
import json
import os
import select
import shutil
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field

from autograder import ROOT, cgroup, wire
from autograder import zygote as zygote_module
from autograder.policy import (
    BUDGET_DEFAULT_SECONDS,
    BUDGET_FLOOR_SECONDS,
    BUDGET_SHARE,
    BUDGET_WALL_FACTOR,
    SANDBOX_MEMORY_BYTES,
    SANDBOX_TASKS,
    TMP_INODES,
    TMP_KIB,
    WORKER_GRACE_SECONDS,
    WORKER_START_SECONDS,
    Limits,
)

_BASE_UID = 61000
_UID_SPAN = 1000
_BOOTSTRAP = "import sys; sys.path.insert(0, {root!r}); from autograder.worker import main; main()"
# `sh -c` prologue: move this shell into the N cgroup.procs files given first, then exec the rest.
_JOIN_CGROUP = 'n=$1; shift; while [ "$n" -gt 0 ]; do echo 0 > "$1"; shift; n=$((n - 1)); done; exec "$@"'


def submission_budget(tests) -> float:
    """CPU seconds one submission may use over all of `tests` (see BUDGET_SHARE)."""
    return max(BUDGET_FLOOR_SECONDS, BUDGET_SHARE * sum(t.timeout for t in tests))


@dataclass(frozen=True)
class Measure:
    """One isolation measure: whether it was applied, and what it does or why it was not."""

    applied: bool
    detail: str


@dataclass
class RunResult:
    status: str  # ok | error | import_error | timeout | crashed
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
    base = ["unshare", "--mount", "--net", "--pid", "--ipc", "--uts", "--fork", "--mount-proc", "--kill-child"]
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
    env = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": "/tmp",
        "LANG": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONHASHSEED": "0",
        "OMP_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
    }
    for keep in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "CUDA_VISIBLE_DEVICES"):
        if keep in os.environ:  # see shared/NOTES.md: some CPUs need the first two
            env[keep] = os.environ[keep]
    return env


class SandboxError(RuntimeError):
    """The worker itself failed (not the submission)."""


# ---------------------------------------------------------------- workers forked from a zygote

_ZYGOTES = {}
_ZYGOTES_LOCK = threading.Lock()


def _zygote(preload, warm_imports):
    """The zygote for these preloads, started on first use and kept for this process's life; None
    where workers are started directly (not root: namespaces then need a user namespace, which
    the `unshare` command line sets up; or AUTOGRADER_NO_ZYGOTE is set)."""
    if os.geteuid() != 0 or os.environ.get("AUTOGRADER_NO_ZYGOTE"):
        return None
    key = (preload, warm_imports)
    with _ZYGOTES_LOCK:
        zygote = _ZYGOTES.get(key)
        if zygote is None or not zygote.alive():
            zygote = zygote_module.Zygote(preload, warm_imports, _clean_env(), ROOT)
            try:
                zygote.wait_ready(WORKER_START_SECONDS)
            except zygote_module.ZygoteError:
                zygote.close()
                raise
            _ZYGOTES[key] = zygote
        return zygote


def zygote_pids() -> set:
    """The zygotes this process keeps (they outlive sandboxes by design; their forks do not)."""
    return {z.pid for z in _ZYGOTES.values() if z.alive()}


@atexit.register
def _close_zygotes():
    for zygote in _ZYGOTES.values():
        zygote.close()


class _Forked:
    """A worker forked by a zygote, with what the sandbox uses of a Popen: pid, the three pipes,
    poll() and wait() (through a pidfd: the worker is the zygote's child, not ours)."""

    def __init__(self, zygote, config, procs_files, namespaces):
        ends = [os.pipe() for _ in range(3)]  # stdin, stdout, stderr
        theirs = [ends[0][0], ends[1][1], ends[2][1]]
        try:
            self.pid = zygote.spawn(config, procs_files, namespaces, theirs, timeout=WORKER_START_SECONDS)
            self._pidfd = os.pidfd_open(self.pid)
        except BaseException:
            for fd in (ends[0][1], ends[1][0], ends[2][0]):
                os.close(fd)
            raise
        finally:
            for fd in theirs:
                os.close(fd)
        self.stdin = os.fdopen(ends[0][1], "wb", buffering=0)
        self.stdout = os.fdopen(ends[1][0], "rb", buffering=0)
        self.stderr = os.fdopen(ends[2][0], "rb")
        self.returncode = None

    def poll(self):
        if self.returncode is None and select.select([self._pidfd], [], [], 0)[0]:
            self.returncode = -1  # ended (its exit status belongs to the zygote's side)
            os.close(self._pidfd)
        return self.returncode

    def wait(self):
        if self.returncode is None:
            select.select([self._pidfd], [], [])
            self.poll()
        return self.returncode


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

    budget_for = staticmethod(submission_budget)

    def __init__(
        self,
        *,
        preload=("numpy",),
        slot=0,
        tmp_kib=TMP_KIB,
        tmp_inodes=TMP_INODES,
        memory_bytes=SANDBOX_MEMORY_BYTES,
        tasks=SANDBOX_TASKS,
        budget_seconds=BUDGET_DEFAULT_SECONDS,
        wall_seconds=None,
        warm_imports=True,  # False only to measure what importing lazy modules once saves (bench/)
    ):
        prefix = list(namespace_prefix())
        # As root, each test's child drops to its own uid, namespaces or not (see worker.py).
        self.uid, self._uid_claim = _claim_uid(slot) if os.geteuid() == 0 else (None, None)
        self.budget_seconds = budget_seconds  # CPU seconds; None: no budget
        self.wall_seconds = wall_seconds or (budget_seconds and BUDGET_WALL_FACTOR * budget_seconds)
        self.cpu_used = 0.0
        self._budget_started = None
        self.cgroup, cgroup_report = cgroup.create(memory_bytes=memory_bytes, tasks=tasks)
        config = {
            "preload": list(preload),
            "uid": self.uid,
            "tmp_kib": tmp_kib,
            "tmp_inodes": tmp_inodes,
            "repo": ROOT,
            "namespaces": bool(prefix),
            "refuse_keyrings": not os.environ.get("AUTOGRADER_NO_SECCOMP"),
            "warm_imports": warm_imports,
        }
        command = prefix + [sys.executable, "-I", "-c", _BOOTSTRAP.format(root=ROOT), json.dumps(config)]
        if self.cgroup is not None:  # join the cgroup before anything of the sandbox runs
            command = [
                "/bin/sh",
                "-c",
                _JOIN_CGROUP,
                "sh",
                str(len(self.cgroup.procs_files)),
                *self.cgroup.procs_files,
                *command,
            ]
        try:
            zygote = _zygote(tuple(preload), warm_imports)
            if zygote is not None:  # the same worker, forked instead of started (zygote.py)
                procs = self.cgroup.procs_files if self.cgroup is not None else ()
                self._proc = _Forked(zygote, config, procs, bool(prefix))
            else:
                self._proc = subprocess.Popen(
                    command,
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    env=_clean_env(),
                    start_new_session=True,
                )
        except (OSError, zygote_module.ZygoteError) as err:
            self._close_cgroup()
            if self._uid_claim is not None:
                self._uid_claim.close()
            raise SandboxError(f"the sandbox worker could not start: {err}") from None
        self._stderr = []
        threading.Thread(target=self._drain_stderr, daemon=True).start()
        ready = self._receive(timeout=WORKER_START_SECONDS)
        self.isolation = {name: Measure(*measure) for name, measure in ready["isolation"].items()}
        if prefix:
            self.isolation["namespaces"] = Measure(True, "pid, mount, network, ipc, uts")
        else:
            why = "AUTOGRADER_NO_NAMESPACES is set" if os.environ.get("AUTOGRADER_NO_NAMESPACES") else "unshare refused"
            self.isolation["namespaces"] = Measure(False, f"{why}: no network, PID or IPC isolation")
        if self.cgroup is not None and not self.cgroup.holds(self._proc.pid):
            self.isolation["cgroup"] = Measure(False, "the worker could not join its cgroup")
        else:
            self.isolation["cgroup"] = Measure(self.cgroup is not None, cgroup_report)

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
            raise SandboxError(
                f"sandbox worker stopped answering: {result.get('error')} {''.join(self._stderr)[-800:]}"
            )
        return result["value"]

    def _send(self, message):
        try:
            wire.send(self._proc.stdin.fileno(), message)
        except OSError as err:
            raise SandboxError(f"sandbox worker is gone: {err}") from None

    def load(self, source: str, filename: str, modname: str) -> None:
        """Hand the worker a submission; its time budget starts now."""
        if self._budget_started is None:
            self._budget_started = time.monotonic()
        self._send({"cmd": "load", "source": source, "filename": filename, "modname": modname})
        self._receive(timeout=WORKER_GRACE_SECONDS)

    def run(self, script_message: dict, *, timeout: float, limits: Limits | None = None) -> RunResult:
        """Run one recorded script: `timeout` seconds of its processes' CPU time, with a wall-clock
        backstop BUDGET_WALL_FACTOR times as long; cut short to what is left of the submission's
        budget, or not run once it is spent."""
        cpu_left, wall_left = self._budget_left()
        if cpu_left <= 0 or wall_left <= 0:
            return self._out_of_budget(stopped=False)
        cpu = min(timeout, cpu_left)
        wall = min(BUDGET_WALL_FACTOR * timeout, wall_left)
        message = {"cmd": "run", "script": script_message, "timeout": cpu, "wall": wall}
        self._send(message | {"limits": (limits or Limits()).as_dict()})
        reply = self._receive(timeout=wall + WORKER_GRACE_SECONDS)
        used = reply.get("cpu_seconds")
        self.cpu_used += used if isinstance(used, (int, float)) and used > 0 else 0.0
        if reply["status"] == "timeout" and (cpu < timeout or wall < BUDGET_WALL_FACTOR * timeout):
            return self._out_of_budget(stopped=True, seconds=reply.get("seconds", wall), stdout=reply.get("stdout", ""))
        return RunResult(
            status=reply["status"],
            outputs=reply.get("outputs") or {},
            error=reply.get("error"),
            exit=reply.get("exit"),
            stdout=reply.get("stdout", ""),
            seconds=reply.get("seconds", 0.0),
        )

    def _budget_left(self):
        """(CPU seconds, wall-clock seconds) left of the submission's budget."""
        if self.budget_seconds is None or self._budget_started is None:
            return float("inf"), float("inf")
        return self.budget_seconds - self.cpu_used, self.wall_seconds - (time.monotonic() - self._budget_started)

    def _out_of_budget(self, *, stopped, seconds=0.0, stdout=""):
        what = "this test was stopped when it ran out" if stopped else "this test was not run"
        return RunResult(
            status="error",
            seconds=seconds,
            stdout=stdout,
            error={
                "phase": "sandbox",
                "type": "TimeBudgetExceeded",
                "message": (
                    f"the submission used up its grading time budget ({self.budget_seconds:g} s of CPU time, "
                    f"or {self.wall_seconds:g} s on the clock, for all its tests together); {what}"
                ),
            },
        )

    def close(self):
        try:
            self._close_worker()
        finally:
            self._close_cgroup()
            if self._uid_claim is not None:
                self._uid_claim.close()
                self._uid_claim = None

    def _close_cgroup(self):
        if self.cgroup is not None:
            self.cgroup.close()
            self.cgroup = None

    def _close_worker(self):
        # The worker holds nothing worth a clean exit: killing its process group is quicker than
        # asking it to leave, and in a PID namespace takes every process of the sandbox with it.
        if self._proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self._proc.pid, 9)
            self._proc.wait()
        for stream in (self._proc.stdin, self._proc.stdout):
            with contextlib.suppress(OSError):
                stream.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
