"""A cgroup per sandbox: its memory (whatever holds it: processes, tmpfs files, shared memory
segments) and its task count are charged to the sandbox as a whole, and closing it kills all.

Uses cgroup v2 (memory.max, pids.max) where both controllers are delegated below the grader's
own cgroup, else the v1 memory and pids hierarchies (memory.limit_in_bytes, pids.max), as on
machines that mount v1 controllers beside a controller-less v2 tree. Where neither can be
created (not root, nothing delegated, AUTOGRADER_NO_CGROUP set), `create` says why.
"""

import contextlib
import errno
import itertools
import os
import signal
import time

_names = itertools.count()


class SandboxCgroup:
    """The cgroup directories of one sandbox (one on v2, one per controller on v1)."""

    def __init__(self, dirs, report):
        self.dirs = dirs
        self.report = report

    @property
    def procs_files(self):
        return [os.path.join(d, "cgroup.procs") for d in self.dirs]

    def holds(self, pid):
        """Is process `pid` in every directory of this cgroup?"""
        try:
            with open(f"/proc/{pid}/cgroup") as f:
                paths = {line.rstrip("\n").split(":", 2)[2] for line in f}
        except OSError:
            return False
        return all(any(d.endswith(p) and p != "/" for p in paths) for d in self.dirs)

    def pids(self):
        found = set()
        for path in self.procs_files:
            try:
                with open(path) as f:
                    found |= {int(line) for line in f if line.strip()}
            except OSError:
                pass
        return found

    def close(self, *, wait=2.0):
        """Kill every process left in the cgroup and remove it (retrying while they exit)."""
        deadline = time.monotonic() + wait
        for d in self.dirs:
            if os.path.exists(os.path.join(d, "cgroup.kill")):  # v2 since Linux 5.14
                _write(os.path.join(d, "cgroup.kill"), "1")
        pending = list(self.dirs)
        while pending:
            for pid in self.pids():
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            for d in list(pending):
                try:
                    os.rmdir(d)
                    pending.remove(d)
                except FileNotFoundError:
                    pending.remove(d)
                except OSError as err:
                    if err.errno != errno.EBUSY or time.monotonic() > deadline:
                        pending.remove(d)  # left behind; it holds nothing once its tasks exit
            if pending:
                time.sleep(0.005)


def _write(path, text):
    with open(path, "w") as f:
        f.write(text)


def _read(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return ""


def _own_cgroups():
    """{"v2": path} and {controller: path} for v1, from /proc/self/cgroup."""
    own = {}
    for line in _read("/proc/self/cgroup").splitlines():
        _, controllers, path = line.split(":", 2)
        if controllers == "":
            own["v2"] = path
        for c in controllers.split(","):
            if c:
                own[c] = path
    return own


def _mounts():
    """{"v2": (mount point, root)} and {controller: (mount point, root)} for v1 mounts."""
    found = {}
    for line in _read("/proc/self/mountinfo").splitlines():
        fields = line.split()
        dash = fields.index("-")
        fstype, options = fields[dash + 1], fields[dash + 3].split(",")
        point, root = fields[4].replace("\\040", " "), fields[3]
        if fstype == "cgroup2":
            found.setdefault("v2", (point, root))
        elif fstype == "cgroup":
            for c in options:
                found.setdefault(c, (point, root))
    return found


def _directory(kind, own, mounts):
    if kind not in own or kind not in mounts:
        return None
    point, root = mounts[kind]
    path = own[kind]
    if root != "/" and (path == root or path.startswith(root.rstrip("/") + "/")):
        path = path[len(root.rstrip("/")) :]
    return os.path.join(point, path.lstrip("/"))


def create(*, memory_bytes, tasks):
    """(SandboxCgroup, report) or (None, why not)."""
    if os.environ.get("AUTOGRADER_NO_CGROUP"):
        return None, "AUTOGRADER_NO_CGROUP is set: memory and tasks counted per test only"
    own, mounts = _own_cgroups(), _mounts()
    name = f"autograder-{os.getpid()}-{next(_names)}"
    limit = f"memory {memory_bytes / 2**30:g} GiB and {tasks} tasks for the whole sandbox"
    why_v2 = _v2_refusal(_directory("v2", own, mounts))
    if why_v2 is None:
        path = os.path.join(_directory("v2", own, mounts), name)
        try:
            os.mkdir(path)
            _write(os.path.join(path, "memory.max"), str(memory_bytes))
            if os.path.exists(os.path.join(path, "memory.swap.max")):
                _write(os.path.join(path, "memory.swap.max"), "0")
            _write(os.path.join(path, "pids.max"), str(tasks))
            return SandboxCgroup([path], f"{limit} (cgroup v2)"), f"{limit} (cgroup v2)"
        except OSError as err:
            SandboxCgroup([path], "").close(wait=0)
            why_v2 = f"{path}: {err.strerror}"
    dirs = []
    try:
        for controller, setting, value in (
            ("memory", "memory.limit_in_bytes", memory_bytes),
            ("pids", "pids.max", tasks),
        ):
            base = _directory(controller, own, mounts)
            if base is None:
                raise OSError(errno.ENOENT, f"no v1 {controller} controller mounted")
            dirs.append(os.path.join(base, name))
            os.mkdir(dirs[-1])
            _write(os.path.join(dirs[-1], setting), str(value))
        return SandboxCgroup(dirs, f"{limit} (cgroup v1)"), f"{limit} (cgroup v1)"
    except OSError as err:
        SandboxCgroup([d for d in dirs if os.path.isdir(d)], "").close(wait=0)
        return None, (
            f"no cgroup could be made (v2: {why_v2}; v1: {err.strerror or err}); memory and tasks counted per test only"
        )


def _v2_refusal(path):
    """Why no child cgroup with memory and pids limits can be made under `path` (None if one can)."""
    if path is None:
        return "no cgroup2 hierarchy"
    available = _read(os.path.join(path, "cgroup.controllers")).split()
    if not {"memory", "pids"} <= set(available):
        return f"memory and pids controllers not available at {path}"
    enabled = _read(os.path.join(path, "cgroup.subtree_control")).split()
    if {"memory", "pids"} <= set(enabled):
        return None
    try:
        _write(os.path.join(path, "cgroup.subtree_control"), "+memory +pids")
        return None
    except OSError as err:
        return f"cannot delegate memory and pids below {path} ({err.strerror})"
