"""Hostile and broken submissions for cnn_layer, graded through the real grader (SPEC "Grading").

Each catalog entry is one submission: mostly the reference solution with something hostile added,
so the score its honest code deserves is known exactly: every graded test that the hostile part
reaches is lost, every other one is kept (never more). Which tests a part reaches is read from the
tests' own recordings (which student functions a test calls, which outputs depend on a call), so
the catalog follows the graded tests when their points change.

Submissions are graded in a few batched runs (`cli.grade_folder`, 2 jobs), always beside the
reference (`good`) and a partly right bug (`slipped`), whose per-test points must equal those
they get when graded alone. Per-test timeouts are lowered to TIMEOUT seconds to keep loops cheap;
the import probe keeps its own 10 s.

Guarantees (SPEC): 1 only the grader scores, 2 a failure stays in its test, 3 limits,
4 confidential, 5 honest comparison, 6 alone (nothing passes between submissions or outlives a test).
The catalog's entries that are not source text (FIFOs, sockets, devices, links, look-alike ids,
encodings, escapes, malformed notebooks: guarantee 8) are in tests/test_reading.py, and the clock
(guarantee 7) in tests/test_clock.py.
"""

import ctypes
import dataclasses
import functools
import json
import os
import shutil
import socket
import sys
import tempfile
import textwrap
import threading
import time
from pathlib import Path

import pytest
from rich.console import Console

import autograder
from autograder import assignments, cgroup, cli, engine, policy, sandbox, script
from autograder.assignments import Assignment
from tests.keyrings import KEYRINGS

ROOT = Path(autograder.ROOT)
REFERENCE = (ROOT / "solution" / "cnn_layer.py").read_text()
HIDDEN_SOURCE = (ROOT / "autograder" / "course" / "cnn_layer" / "grader" / "hidden.py").read_text()
TIMEOUT = 3.0  # per graded test, instead of the usual 10 s
# The rest of the clock scaled down with it, as the grader's own code paths: the import's timeout,
# the submission's CPU budget (all its tests) and the wall-clock backstop of each (sleepers wait it out).
QUICK_CLOCK = {
    (engine, "IMPORT_TIMEOUT_SECONDS"): TIMEOUT,
    (sandbox, "BUDGET_FLOOR_SECONDS"): 8 * TIMEOUT,  # the 3 timeouts a looping function costs, on a busy machine
    (sandbox, "BUDGET_WALL_FACTOR"): 2.0,
    (engine, "BUDGET_WALL_FACTOR"): 2.0,
}
JOBS = 2  # sandboxes at a time; the slow group grades all its files at once (its limits count CPU time)
FUNCTIONS = ("conv2d_forward", "conv2d_backward", "conv1d_forward")
NAMESPACES = bool(sandbox.namespace_prefix())


@functools.cache
def _cgroups():
    """(whether a cgroup per sandbox can be made here, the folders they are made in), probed once
    when a test first asks (nothing is made at import)."""
    probe, _ = cgroup.create(memory_bytes=1 << 30, tasks=64)
    if probe is None:
        return False, []
    parents = [os.path.dirname(d) for d in probe.dirs]
    probe.close()
    return True, parents


SHM_HOST = 0x5A100000 + os.getpid() % 0x10000 * 8  # a System V key the host holds during the runs
SHM_OWN = SHM_HOST + 1  # six keys a submission publishes
MQ_NAME = f"/published-{os.getpid()}"  # a POSIX message queue a submission leaves
KEY_MARK = f"published-{os.getpid()}-"  # descriptions of the keys a submission keeps
PLANTED = []  # correct solutions stored outside the repository

pytestmark = pytest.mark.skipif(not hasattr(os, "pidfd_open"), reason="the sandbox needs Linux")


class _QuickTimeouts(Assignment):
    """cnn_layer with per-test timeouts capped at TIMEOUT (everything else as graded)."""

    def tests(self, *, public_only=False):
        return [dataclasses.replace(t, timeout=min(t.timeout, TIMEOUT)) for t in super().tests(public_only=public_only)]


_cnn = assignments.get("cnn_layer")
ASSIGNMENT = _QuickTimeouts(**{f.name: getattr(_cnn, f.name) for f in dataclasses.fields(_cnn)})
TESTS = ASSIGNMENT.tests()
POINTS = {t.name: t.points for t in TESTS}


# ---------------------------------------------------------------- what each graded test reaches


def _analyse(test):
    """{calls: functions called, feeds: functions whose results reach an output,
    passes: {function: outputs that are the very arguments passed to it}, raises: the reference
    raises (an invalid-input test)}."""
    recording = test.script()
    steps = recording.steps
    student = {i: step[1] for i, step in enumerate(steps) if step[0] == "student"}
    callees = {i: list(script.refs(step[1])) for i, step in enumerate(steps) if step[0] == "call"}
    calls = {i: student[c[0]] for i, c in callees.items() if len(c) == 1 and c[0] in student}
    deps = []
    for i, step in enumerate(steps):
        deps.append({i}.union(*(deps[j] for j in script.refs(step[1:]))))
    feeds = {calls[j] for out in recording.outputs.values() for j in deps[out] if j in calls}
    const_args = {}
    for i, fn in calls.items():
        for j in script.refs(steps[i][2:]):
            if steps[j][0] == "const":
                const_args.setdefault(fn, set()).add(j)
    passes = {fn: {name for name, out in recording.outputs.items() if out in idx} for fn, idx in const_args.items()}
    reference = ASSIGNMENT.reference()
    raises = engine.run_reference(test.build, reference).raises is not None
    return {"calls": set(calls.values()), "feeds": feeds, "passes": passes, "raises": raises}


@functools.cache
def _reach():
    """{test name: _analyse(test)}, worked out when a test first asks (not at import)."""
    return {t.name: _analyse(t) for t in TESTS}


def ALL():
    return set(POINTS)


def NONE():
    return set()


def entry(*fns):
    """The hostile part runs when the function is called, before any work: every test calling it."""
    return lambda: {n for n, r in _reach().items() if r["calls"] & set(fns)}


def result(*fns):
    """The function computes, validates, then returns a wrong or fake value: tests judging it."""
    return lambda: {n for n, r in _reach().items() if r["feeds"] & set(fns) and not r["raises"]}


def inputs_of(fn):
    """The function changes its arguments in place: tests that read the arguments back."""
    return lambda: {n for n, r in _reach().items() if r["passes"].get(fn)}


def test_catalog_reaches_every_function():
    """The analysis the expected scores rest on sees every graded function and test."""
    assert {fn for r in _reach().values() for fn in r["calls"]} == set(FUNCTIONS)
    assert entry("conv1d_forward")() and entry("conv2d_backward")() and result("conv1d_forward")()


# ---------------------------------------------------------------- the catalog

STUBS = textwrap.dedent("""\
    import numpy as np

    def conv2d_forward(x, w, b, stride=1, padding=0):
        raise NotImplementedError("conv2d_forward")

    def conv2d_backward(dout, cache):
        raise NotImplementedError("conv2d_backward")

    def conv1d_forward(x, w, b, stride=1, padding=0):
        raise NotImplementedError("conv1d_forward")
    """)

FORGE = textwrap.dedent("""\
    import os as _os, stat as _stat, struct as _struct
    def _forge(body):
        # write a frame to every pipe this process holds: the result channel is one of them
        frame = _struct.pack("<Q", len(body)) + body
        for fd in range(3, 64):
            try:
                if _stat.S_ISFIFO(_os.fstat(fd).st_mode):
                    _os.write(fd, frame)
            except OSError:
                pass
    """)

# Reference wrappers: the hostile part is appended, so `_ref1(...)` / `_refb(...)` is honest work.
WRAP = "_ref1 = conv1d_forward\n_refb = conv2d_backward\n"


@dataclasses.dataclass
class Case:
    name: str
    guarantee: str
    group: str  # which grading run: fast | slow
    body: str  # appended to the reference (or the whole file if base is None)
    lost: object  # () -> names of the graded tests this submission must lose
    base: str | None = REFERENCE
    stdout: tuple = ()  # texts its output must show (the hostile part did run)
    message: str = ""  # a text every lost test's feedback must show
    check: object = None  # check(ctx, result) for anything else
    needs_root: bool = False  # relies on the tests' own uid (the grader runs as root)

    def source(self, ctx):
        text = self.body
        for key, value in ctx.placeholders.items():
            text = text.replace(key, value)
        return text if self.base is None else self.base + "\n\n# ---- hostile part\n" + text


def _syntax_line(ctx, res):
    try:
        compile((ctx.subs / "syntax_error.py").read_text(), "cnn_layer.py", "exec")
    except SyntaxError as err:
        line = err.lineno
    assert any(f"line {line}" in n for n in res.notes), res.notes


def _output_capped(ctx, res):
    for t in res.tests:
        assert len(t.stdout) <= policy.OUTPUT_KEEP_BYTES + len("\n[output truncated]"), t.name
    assert any("[output truncated]" in t.stdout for t in res.tests)


def _gradebook_intact(ctx, res):
    rows = (ctx.out / "grades.csv").read_text().splitlines()
    assert sorted(r.split(",")[0] for r in rows[1:]) == sorted(ctx.students)
    assert not any(r.startswith("forged,") or "FORGED" in r for r in rows)
    good = json.loads((ctx.out / "feedback" / "good.json").read_text())
    assert good["score"] == 100 and "FORGED" not in (ctx.out / "feedback" / "good.md").read_text()
    assert not (ctx.out / "feedback" / "forged.md").exists()
    assert (ctx.subs / "good.py").read_text() == REFERENCE


def _no_marker(ctx, res):
    assert not ctx.marker.exists(), "the grader ran code from a submission's object"


def _no_connection(ctx, res):
    assert ctx.listener.accepted == 0, "a submission reached the network"


def _scratch_intact(ctx, res):
    assert (ctx.scratch / "keep.txt").read_text() == "keep"
    assert sorted(p.name for p in ctx.scratch.iterdir()) == ["keep.txt"]
    assert (ctx.subs / "good.py").read_text() == REFERENCE


def _nothing_writes_later(ctx, res):
    """Whatever a left-over process wrote (only possible without namespaces) stops with the run."""
    _scratch_intact(ctx, res)
    if ctx.namespaces:  # a world-writable folder, but outside the sandbox's /tmp: read-only there
        assert list(ctx.drop.iterdir()) == []
    before = {p.name: p.stat().st_size for p in ctx.drop.iterdir()}
    time.sleep(0.5)
    assert {p.name: p.stat().st_size for p in ctx.drop.iterdir()} == before


def _no_segments(ctx):
    """No System V segment a submission made is left on the host (nor one of the host seen)."""
    keys = set(range(SHM_OWN, SHM_OWN + 6))
    with open("/proc/sysvipc/shm") as table:
        rows = [line.split() for line in table][1:]
    assert not [r for r in rows if int(r[0]) in keys], "a submission's segments outlived the sandbox"
    queue = ctypes.CDLL("librt.so.1").mq_open(MQ_NAME.encode(), 0)
    assert queue < 0, "a submission's message queue outlived the sandbox"


def _no_keys(ctx, res):
    """No key a submission kept (opened to all, so the grader would see it) is left on the host."""
    with open("/proc/keys") as keys:
        left = [line for line in keys if KEY_MARK in line]
    assert left == [], f"a submission's keys outlived its tests: {left}"


def _links_harmless(ctx, res):
    _scratch_intact(ctx, res)
    for path in ("/sys/fs/cgroup", "/proc/sys/kernel"):
        if os.path.exists(path):
            assert os.stat(path).st_uid == os.stat("/").st_uid, path


def _judged_as_values(ctx, res):
    for t in res.tests:
        if t.name in entry("conv1d_forward")():
            assert t.status == "passed" and "judged by its values" in t.message, (t.name, t.message)


CASES = [
    # -- guarantee 2: failures stay in their test, a broken module gets 0 with a clear reason
    Case(
        "syntax_error",
        "2",
        "fast",
        REFERENCE + "\n\n\ndef broken(:\n    pass\n",
        ALL,
        base=None,
        check=_syntax_line,
        message="syntax error",
    ),
    Case(
        "missing_function",
        "2",
        "fast",
        "del conv1d_forward\n",
        entry("conv1d_forward"),
        message="defines no 'conv1d_forward'",
    ),
    Case(
        "import_exception",
        "2",
        "fast",
        "raise RuntimeError('exploded while importing')\n",
        ALL,
        message="RuntimeError: exploded while importing",
    ),
    Case("sys_exit_at_import", "2", "fast", "import sys\nsys.exit(3)\n", ALL, message="sys.exit(3)"),
    Case("keyboard_interrupt_at_import", "2", "fast", "raise KeyboardInterrupt\n", ALL, message="KeyboardInterrupt"),
    Case("segfault_at_import", "2", "fast", "import ctypes\nctypes.string_at(0)\n", ALL, message="segmentation fault"),
    Case(
        "sys_exit_in_function",
        "2",
        "fast",
        WRAP
        + textwrap.dedent("""\
        import sys as _sys
        def conv1d_forward(*args, **kwargs):
            _sys.exit(0)
        """),
        entry("conv1d_forward"),
        message="SystemExit",
    ),
    Case(
        "os_exit_in_function",
        "2",
        "fast",
        WRAP
        + textwrap.dedent("""\
        import os as _os
        def conv2d_backward(dout, cache):
            _os._exit(0)
        """),
        entry("conv2d_backward"),
        message="exited with code 0",
    ),
    Case(
        "segfault_in_function",
        "2",
        "fast",
        WRAP
        + textwrap.dedent("""\
        import ctypes as _ctypes
        def conv1d_forward(*args, **kwargs):
            _ctypes.string_at(0)
        """),
        entry("conv1d_forward"),
        message="segmentation fault",
    ),
    Case(
        "stack_overflow",
        "2",
        "fast",
        WRAP
        + textwrap.dedent("""\
        import sys as _sys
        class _Deeper:
            def __repr__(self):  # every level goes through C: the C stack overflows
                return repr(self)
        def conv1d_forward(*args, **kwargs):
            _sys.setrecursionlimit(10 ** 8)
            return repr(_Deeper())
        """),
        entry("conv1d_forward"),
        message="the test process died",
    ),
    Case(
        "keyboard_interrupt_in_function",
        "2",
        "fast",
        WRAP
        + textwrap.dedent("""\
        def conv1d_forward(*args, **kwargs):
            raise KeyboardInterrupt
        """),
        entry("conv1d_forward"),
        message="KeyboardInterrupt",
    ),
    Case(
        "base_exception_hostile_str",
        "2",
        "fast",
        WRAP
        + textwrap.dedent("""\
        class _Nasty(BaseException):
            def __str__(self):
                raise _Nasty()
            __repr__ = __str__
        def conv2d_backward(dout, cache):
            raise _Nasty("x" * 10_000_000)
        """),
        entry("conv2d_backward"),
        message="_Nasty",
    ),
    Case(
        "infinite_loop_at_import",
        "2",
        "slow",
        "while True:\n    pass\n",
        ALL,
        message=f"did not finish within {TIMEOUT:g} s",
    ),
    Case(
        "infinite_loop_in_function",
        "2",
        "slow",
        WRAP
        + textwrap.dedent("""\
        def conv1d_forward(*args, **kwargs):
            while True:
                pass
        """),
        entry("conv1d_forward"),
        message="timed out",
    ),
    Case(
        "sleep_in_function",
        "2",
        "slow",
        WRAP
        + textwrap.dedent("""\
        import time as _time
        def conv1d_forward(*args, **kwargs):
            _time.sleep(3600)
        """),
        entry("conv1d_forward"),
        message="timed out",
    ),
    Case(
        "unkillable_loop",
        "2",
        "slow",
        WRAP
        + textwrap.dedent("""\
        import signal as _signal
        def conv1d_forward(*args, **kwargs):
            for s in _signal.Signals:
                try:
                    _signal.signal(s, _signal.SIG_IGN)
                except (OSError, ValueError, RuntimeError):
                    pass
            _signal.pthread_sigmask(_signal.SIG_BLOCK, set(_signal.Signals))
            while True:
                pass
        """),
        entry("conv1d_forward"),
        message="timed out",
    ),
    Case(
        "daemon_left_running",
        "2",
        "fast",
        textwrap.dedent("""\
        import os as _os, signal as _signal, time as _time
        def _daemon():
            pid = _os.fork()
            if pid == 0:
                _os.setsid()
                if _os.fork() == 0:
                    for s in (_signal.SIGTERM, _signal.SIGHUP, _signal.SIGINT):
                        _signal.signal(s, _signal.SIG_IGN)
                    while True:  # burn CPU and keep writing files, long after the test
                        for target in ("daemon.log", "@DROP@/daemon.log", "@SCRATCH@/daemon.log"):
                            try:
                                with open(target, "a") as f:
                                    f.write("still here\\n")
                            except OSError:
                                pass
                        sum(range(100_000))
                _os._exit(0)
            _os.waitpid(pid, 0)
            print("daemon started")
        _daemon()
        """),
        NONE,
        stdout=("daemon started",),
        check=_nothing_writes_later,
    ),
    Case(
        "threads_left_running",
        "2",
        "fast",
        textwrap.dedent("""\
        import os as _os, threading as _threading, time as _time
        def _spin():
            while True:
                sum(range(10_000))
        def _pester():
            while True:
                for pid in (1, _os.getppid()):
                    try:
                        _os.kill(pid, 15)
                    except OSError:
                        pass
                _time.sleep(0.01)
        for _target in (_spin, _spin, _pester):
            _threading.Thread(target=_target, daemon=False).start()
        print("threads started")
        """),
        NONE,
        stdout=("threads started",),
    ),
    Case(
        "signals_and_rlimits",
        "2",
        "fast",
        WRAP
        + textwrap.dedent("""\
        import os as _os, resource as _resource, signal as _signal
        def conv1d_forward(*args, **kwargs):
            done = []
            for pid in (1, _os.getppid()):
                for s in (_signal.SIGINT, _signal.SIGTERM, _signal.SIGHUP, _signal.SIGUSR1, _signal.SIGSTOP):
                    try:
                        _os.kill(pid, s)
                        done.append(f"signal {s} to {pid}")
                    except OSError:
                        pass
                for limit in (_resource.RLIMIT_NOFILE, _resource.RLIMIT_AS, _resource.RLIMIT_CPU):
                    try:
                        _resource.prlimit(pid, limit, (3, 3))
                        done.append(f"limit {limit} of {pid}")
                    except OSError:
                        pass
                try:
                    _os.setpriority(_os.PRIO_PROCESS, pid, 19)
                    done.append(f"priority of {pid}")
                except OSError:
                    pass
            try:
                _os.kill(-1, _signal.SIGKILL)  # every process this user may signal
            except OSError:
                pass
            for limit in (_resource.RLIMIT_CPU, _resource.RLIMIT_AS, _resource.RLIMIT_NPROC):
                try:
                    _resource.setrlimit(limit, (_resource.RLIM_INFINITY, _resource.RLIM_INFINITY))
                    done.append(f"raised own limit {limit}")
                except (OSError, ValueError):
                    pass
            print("attacks that worked:", done or "none")
            return _ref1(*args, **kwargs)
        """),
        NONE,
        stdout=("attacks that worked: none",),
        needs_root=True,
    ),
    # -- guarantee 3: limits
    Case(
        "memory_bomb",
        "3",
        "fast",
        WRAP
        + textwrap.dedent("""\
        def conv1d_forward(*args, **kwargs):
            hog = []
            while True:
                hog.append(bytearray(64 << 20))
        """),
        entry("conv1d_forward"),
        message="MemoryError",
    ),
    Case(
        "fork_bomb",
        "3",
        "slow",
        WRAP
        + textwrap.dedent("""\
        import os as _os
        def conv1d_forward(*args, **kwargs):
            while True:
                try:
                    _os.fork()
                except OSError:
                    pass
        """),
        entry("conv1d_forward"),
        message="timed out",
    ),
    Case(
        "fork_until_refused",
        "3",
        "fast",
        WRAP
        + textwrap.dedent("""\
        import os as _os, time as _time
        def conv2d_backward(dout, cache):
            n = 0
            try:
                while n < 1000:
                    if _os.fork() == 0:
                        _time.sleep(3600)
                        _os._exit(0)
                    n += 1
            except OSError:
                pass
            print("forked", "under the limit" if n < @MAX_PROCS@ else f"{n} processes")
            return _refb(dout, cache)
        """),
        NONE,
        stdout=("forked under the limit",),
        needs_root=True,
    ),
    Case(
        "huge_stdout",
        "3",
        "fast",
        WRAP
        + textwrap.dedent("""\
        def conv1d_forward(*args, **kwargs):
            for _ in range(64):
                print("y" * (1 << 20))
            return _ref1(*args, **kwargs)
        """),
        entry("conv1d_forward"),
        message="File too large",
        check=_output_capped,
    ),
    Case(
        "huge_stdout_swallowed",
        "3",
        "fast",
        textwrap.dedent("""\
        import os as _os, sys as _sys
        for _ in range(24):
            try:
                print("z" * (1 << 20))
                _sys.stdout.flush()
            except OSError:
                pass
            try:
                _os.write(2, b"e" * (1 << 20))
            except OSError:
                pass
        """),
        NONE,
        check=_output_capped,
    ),
    Case(
        "huge_file",
        "3",
        "fast",
        WRAP
        + textwrap.dedent("""\
        def conv2d_backward(dout, cache):
            with open("huge.bin", "wb") as f:
                for _ in range(100):
                    f.write(b"\\0" * (1 << 20))
            return _refb(dout, cache)
        """),
        entry("conv2d_backward"),
        message="File too large",
    ),
    Case(
        "many_files_everywhere",
        "3",
        "fast",
        textwrap.dedent("""\
        import os as _os
        _written, _mine = 0, []
        for _place in (".", "/tmp", "/dev/shm", "/var/tmp", "/run/lock", "@SCRATCH@", "@ROOT@",
                       _os.path.expanduser("~")):
            for _i in range(100):
                _path = f"{_place}/filler-{_os.getpid()}-{_i}"
                try:
                    with open(_path, "wb") as f:
                        f.write(b"\\1" * (1 << 20))
                    _written += 1
                    _mine.append(_path)
                except OSError:
                    break
        for _path in _mine:  # room again for what it prints (its output file shares /tmp)
            _os.remove(_path)
        print("wrote", "at most its scratch space" if _written <= @SCRATCH_MIB@ else f"{_written} MiB")
        """),
        NONE,
        stdout=("wrote at most its scratch space",),
        check=_scratch_intact,
    ),
    Case(
        "huge_result",
        "3",
        "fast",
        WRAP
        + textwrap.dedent("""\
        import numpy as _np
        def conv1d_forward(*args, **kwargs):
            return _np.zeros(40_000_000)
        """),
        entry("conv1d_forward"),
    ),
    # -- guarantee 4: confidential
    Case(
        "read_reference",
        "4",
        "fast",
        textwrap.dedent("""\
        for _path in ("@ROOT@/solution/cnn_layer.py", "@ROOT@/autograder/course/cnn_layer/authoring/samples.toml",
                      "@ROOT@/.git/HEAD"):
            try:
                exec(open(_path).read(), globals())
                print("LEAKED", _path)
            except Exception as e:
                print("refused", type(e).__name__)
        """),
        ALL,
        base=STUBS,
        stdout=("refused",),
    ),
    Case(
        "import_reference",
        "4",
        "fast",
        textwrap.dedent("""\
        import importlib, importlib.util, sys
        sys.path.insert(0, "@ROOT@")
        for _name in ("solution.cnn_layer", "solution"):
            try:
                _m = importlib.import_module(_name)
                conv2d_forward, conv2d_backward, conv1d_forward = (
                    _m.conv2d_forward, _m.conv2d_backward, _m.conv1d_forward)
                print("LEAKED", _name)
            except Exception as e:
                print("refused", type(e).__name__)
        """),
        ALL,
        base=STUBS,
        stdout=("refused",),
    ),
    Case(
        "read_hidden_tests_and_goldens",
        "4",
        "fast",
        textwrap.dedent("""\
        import os as _os, importlib as _importlib
        for _path in ("@ROOT@/autograder/course/cnn_layer", "@ROOT@/autograder/course",
                      "@ROOT@/tests", "@ROOT@/tools", "@ROOT@/.git"):
            try:
                _found = _os.listdir(_path)
                print("listed", _path.rsplit("/", 1)[-1], "empty" if not _found else "LEAKED")
                for _name in _found:
                    print(open(_os.path.join(_path, _name)).read())
            except Exception as e:
                print("refused", type(e).__name__)
        for _name in ("autograder.course.cnn_layer.grader.hidden", "autograder.course.cnn_layer.public"):
            try:
                _m = _importlib.import_module(_name)
                print("LEAKED", _name, [t.name for t in _m.TESTS])
            except Exception as e:
                print("refused", type(e).__name__)
        """),
        NONE,
        stdout=("refused FileNotFoundError",),
    ),  # not there at all: an allow-list root
    Case(
        "read_other_students",
        "4",
        "fast",
        textwrap.dedent("""\
        import os as _os
        for _path in ("@SUBS@/good.py", "@SUBS@/slipped.py", "@OUT@/grades.csv"):
            try:
                exec(open(_path).read(), globals())
                print("LEAKED", _path)
            except Exception as e:
                print("refused", type(e).__name__)
        try:
            print("listed subs", "empty" if not _os.listdir("@SUBS@") else "LEAKED")
        except Exception as e:
            print("refused", type(e).__name__)
        """),
        ALL,
        base=STUBS,
        stdout=("refused",),
    ),
    Case(
        "read_grader_memory",
        "4",
        "fast",
        textwrap.dedent("""\
        import os as _os, re as _re
        _needle = ("@NEEDLE_A@" + "@NEEDLE_B@").encode()
        _seen, _read = [], 0
        for _pid in [p for p in _os.listdir("/proc") if p.isdigit() and int(p) != _os.getpid()]:
            _seen.append(_pid)
            try:
                with open(f"/proc/{_pid}/maps") as maps, open(f"/proc/{_pid}/mem", "rb", 0) as mem:
                    for line in maps:
                        m = _re.match(r"([0-9a-f]+)-([0-9a-f]+) r", line)
                        if not m:
                            continue
                        start, end = int(m.group(1), 16), int(m.group(2), 16)
                        try:
                            mem.seek(start)
                            if _needle in mem.read(min(end - start, 64 << 20)):
                                print("LEAKED from pid", _pid)
                            _read += 1
                        except (OSError, ValueError, OverflowError):
                            pass
            except OSError:
                pass
        print("scanned", len(_seen), "processes;", "no memory readable" if not _read else f"{_read} regions")
        """),
        NONE,
        stdout=("no memory readable",),
    ),
    Case(
        "network",
        "4",
        "fast",
        WRAP
        + textwrap.dedent("""\
        import socket as _socket
        def conv1d_forward(*args, **kwargs):
            for host in ("127.0.0.1", "@HOST_IP@", "1.1.1.1"):
                try:
                    _socket.create_connection((host, @PORT@), timeout=0.5).close()
                    print("CONNECTED", host)
                except OSError as e:
                    print("no network:", type(e).__name__)
            return _ref1(*args, **kwargs)
        """),
        NONE,
        stdout=("no network",),
        check=_no_connection,
    ),
    # -- guarantee 1: only the grader sets a score
    Case(
        "patch_numpy",
        "1",
        "fast",
        WRAP
        + textwrap.dedent("""\
        import numpy as _np
        _np.allclose = lambda *a, **k: True
        _np.isclose = lambda a, b, *r, **k: _np.ones(_np.shape(a), dtype=bool)
        _np.array_equal = lambda *a, **k: True
        _np.testing.assert_allclose = lambda *a, **k: None
        _np.testing.assert_array_equal = lambda *a, **k: None
        _np.testing.assert_array_almost_equal = lambda *a, **k: None
        def conv1d_forward(*args, **kwargs):
            return _np.zeros_like(_ref1(*args, **kwargs))
        """),
        result("conv1d_forward"),
    ),
    Case(
        "patch_builtins_and_grader",
        "1",
        "fast",
        WRAP
        + textwrap.dedent("""\
        import builtins as _builtins, numpy as _np
        class _Fake:
            def __eq__(self, other):
                return True
            def __array__(self, dtype=None, copy=None):
                return _np.zeros((2, 4, 5))
        _real_isinstance = _builtins.isinstance
        def _lying_isinstance(obj, cls):
            if type(obj) is _Fake:
                return True
            return _real_isinstance(obj, cls)
        _builtins.isinstance = _lying_isinstance
        try:
            import autograder.compare as _c, autograder.engine as _e
            _c.compare = lambda *a, **k: _c.PASS
            _e.judge = lambda *a, **k: _c.PASS
        except Exception as e:
            print("could not patch the grader modules:", type(e).__name__)
        def conv1d_forward(*args, **kwargs):
            _ref1(*args, **kwargs)
            return _Fake()
        """),
        result("conv1d_forward"),
    ),
    Case(
        "forged_gradebook",
        "1",
        "fast",
        textwrap.dedent("""\
        import os as _os
        _row = "forged,100,100\\n"
        for _path in ("grades.csv", "feedback.md", "@OUT@/grades.csv", "@OUT@/feedback/forged.md",
                      "@OUT@/feedback/good.md", "@SUBS@/good.py", "@SUBS@/forged.py",
                      "/tmp/grades.csv"):
            try:
                _os.makedirs(_os.path.dirname(_path) or ".", exist_ok=True)
                with open(_path, "w") as f:
                    f.write("student,score,max_score\\n" + _row + "FORGED\\n")
                print("wrote", _path)
            except OSError as e:
                print("refused", type(e).__name__)
        """),
        ALL,
        base=STUBS,
        stdout=("refused",),
        check=_gradebook_intact,
    ),
    Case(
        "fake_frame_on_stdout",
        "1",
        "fast",
        FORGE.replace("_forge", "_unused")
        + textwrap.dedent("""\
        import sys as _sys, numpy as _np
        from autograder import wire as _wire
        _fake = _wire.encode({"status": "ok", "outputs": {"out": _np.zeros(3)}})
        _frame = _struct.pack("<Q", len(_fake)) + _fake
        _sys.stdout.buffer.write(_frame)
        _sys.stdout.flush()
        _os.write(1, _frame)
        _os.write(2, _frame + b"\\xff\\xfe\\x00 not utf-8")
        print("printed fake frames")
        """),
        NONE,
        stdout=("printed fake frames",),
    ),
    Case(
        "forged_result_frame",
        "1",
        "fast",
        WRAP
        + FORGE
        + textwrap.dedent("""\
        import numpy as _np
        from autograder import wire as _wire
        def conv1d_forward(*args, **kwargs):
            _forge(_wire.encode({"status": "ok", "outputs": {"out": _np.zeros((2, 4, 5))}, "score": 100}))
            return _ref1(*args, **kwargs)
        """),
        entry("conv1d_forward"),
    ),
    Case(
        "malformed_result_frames",
        "1",
        "fast",
        WRAP
        + FORGE
        + textwrap.dedent("""\
        from autograder import wire as _wire
        def conv1d_forward(*args, **kwargs):
            _forge(_wire.encode({"status": "error", "error": "boom"}))
            return _ref1(*args, **kwargs)
        def conv2d_backward(dout, cache):
            _forge(_wire.encode({"status": "ok", "outputs": ["dx", "dw", "db"]}))
            return _refb(dout, cache)
        """),
        entry("conv1d_forward", "conv2d_backward"),
    ),
    Case(
        "frame_claims_huge_array",
        "1",
        "fast",
        WRAP
        + FORGE
        + textwrap.dedent("""\
        import json as _json
        def conv1d_forward(*args, **kwargs):
            header = "{'descr': '<f8', 'fortran_order': False, 'shape': (1099511627776,), }"
            header = header + " " * (118 - len(header)) + "\\n"
            blob = b"\\x93NUMPY\\x01\\x00" + _struct.pack("<H", len(header)) + header.encode() + bytes(24)
            outputs = {"$dict": [["out", {"$nd": 0}]]}
            head = _json.dumps({"$dict": [["status", "ok"], ["outputs", outputs]]}).encode()
            _forge(_struct.pack("<II", len(head), 1) + head + _struct.pack("<Q", len(blob)) + blob)
            return _ref1(*args, **kwargs)
        """),
        entry("conv1d_forward"),
        message="WireError",
    ),
    Case(
        "frame_deeply_nested",
        "1",
        "fast",
        WRAP
        + FORGE
        + textwrap.dedent("""\
        def conv2d_backward(dout, cache):
            head = b"[" * 200_000 + b"]" * 200_000
            _forge(_struct.pack("<II", len(head), 0) + head)
            return _refb(dout, cache)
        """),
        entry("conv2d_backward"),
        message="WireError",
    ),
    Case(
        "pickle_reduce",
        "1",
        "fast",
        WRAP
        + textwrap.dedent("""\
        import os as _os, pickle as _pickle, numpy as _np
        class _Evil:
            def __reduce__(self):
                return (_os.system, ("touch @MARKER@",))
        def conv1d_forward(*args, **kwargs):
            _ref1(*args, **kwargs)
            return _Evil()
        def conv2d_backward(dout, cache):
            _refb(dout, cache)
            boxed = _np.empty(2, dtype=object)
            boxed[0], boxed[1] = _Evil(), 1.0
            return _pickle.dumps(_Evil()), boxed, _Evil()
        """),
        lambda: result("conv1d_forward")() | result("conv2d_backward")(),
        check=_no_marker,
    ),
    # -- guarantee 5: honest comparison
    Case(
        "lying_ndarray_subclass",
        "5",
        "fast",
        WRAP
        + textwrap.dedent("""\
        import numpy as _np
        class _Liar(_np.ndarray):
            def __eq__(self, other):
                return _np.ones(self.shape, dtype=bool)
            __le__ = __ge__ = __eq__
            def __ne__(self, other):
                return _np.zeros(self.shape, dtype=bool)
            __lt__ = __gt__ = __ne__
            def __array__(self, dtype=None, copy=None):
                return _np.asarray(self._truth)
            def __bool__(self):
                return True
        def conv1d_forward(*args, **kwargs):
            out = _ref1(*args, **kwargs)
            fake = _np.zeros_like(out).view(_Liar)
            fake._truth = out
            return fake
        """),
        result("conv1d_forward"),
    ),
    Case(
        "array_protocol_tricks",
        "5",
        "fast",
        WRAP
        + textwrap.dedent("""\
        import numpy as _np
        class _Trick:
            shape = (2, 3)
            dtype = _np.dtype("float64")
            def __eq__(self, other):
                return True
            def __ne__(self, other):
                return False
            def __array__(self, dtype=None, copy=None):
                return _np.zeros(3)
            def __array_function__(self, func, types, args, kwargs):
                return True
            def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
                return True
            def __len__(self):
                return 1
            def __float__(self):
                return 0.0
        def conv2d_backward(dout, cache):
            _refb(dout, cache)
            return _Trick(), _Trick(), _Trick()
        """),
        result("conv2d_backward"),
    ),
    Case(
        "array_like_honest_values",
        "5",
        "fast",
        WRAP
        + textwrap.dedent("""\
        import numpy as _np
        class _Box:
            def __init__(self, values):
                self._values = values
            def __array__(self, dtype=None, copy=None):
                return _np.array(self._values, dtype=dtype)
        def conv1d_forward(*args, **kwargs):
            return _Box(_ref1(*args, **kwargs))
        """),
        NONE,
        check=_judged_as_values,
    ),
    Case(
        "returns_list",
        "5",
        "fast",
        WRAP
        + textwrap.dedent("""\
        def conv1d_forward(*args, **kwargs):
            return _ref1(*args, **kwargs).tolist()
        """),
        NONE,
        check=_judged_as_values,
    ),
    Case(
        "returns_garbage",
        "5",
        "fast",
        WRAP
        + textwrap.dedent("""\
        def conv2d_backward(dout, cache):
            _refb(dout, cache)
            return ["0.5", "1.5"], {"dx": 1.0}, None
        """),
        result("conv2d_backward"),
    ),
    Case(
        "forged_wrapper_dicts",
        "5",
        "fast",
        WRAP
        + textwrap.dedent("""\
        import numpy as _np
        def conv1d_forward(*args, **kwargs):
            # a dict dressed as the sandbox's own tensor wrapper: it is a dict, judged as one
            return {"$tensor": _ref1(*args, **kwargs), "device": "cpu", "dtype": "torch.float64",
                    "requires_grad": False}
        def conv2d_backward(dout, cache):
            dx, dw, db = _refb(dout, cache)
            return {"$converted": dx}, {"$tensor": dw}, {"$unsupported": 1, "$dict": []}
        """),
        lambda: result("conv1d_forward")() | result("conv2d_backward")(),
    ),
    Case(
        "wrong_dtype_int",
        "5",
        "fast",
        WRAP
        + textwrap.dedent("""\
        import numpy as _np
        def conv1d_forward(*args, **kwargs):
            return _ref1(*args, **kwargs).astype(_np.int64)
        """),
        result("conv1d_forward"),
    ),
    Case(
        "wrong_dtype_float32",
        "5",
        "fast",
        WRAP
        + textwrap.dedent("""\
        import numpy as _np
        def conv1d_forward(x, w, b, stride=1, padding=0):
            single = [_np.asarray(a, dtype=_np.float32) for a in (x, w, b)]
            return _ref1(*single, stride=stride, padding=padding).astype(_np.float32)
        """),
        result("conv1d_forward"),
    ),
    Case(
        "nan_output",
        "5",
        "fast",
        WRAP
        + textwrap.dedent("""\
        def conv1d_forward(*args, **kwargs):
            out = _ref1(*args, **kwargs)
            out[0, 0, 0] = float("nan")
            return out
        """),
        result("conv1d_forward"),
        message="non-finite",
    ),
    Case(
        "mutates_inputs",
        "5",
        "fast",
        WRAP
        + textwrap.dedent("""\
        import numpy as _np
        def conv2d_backward(dout, cache):
            grads = _refb(dout, cache)
            dout[...] = 0.0
            return grads
        """),
        inputs_of("conv2d_backward"),
    ),
    Case(
        "plants_links_for_later_tests",
        "2",
        "fast",
        textwrap.dedent("""\
        import os as _os
        # links where a later test's folder or output file might be made, to things the worker
        # (which runs as root) must never create, truncate or hand over
        for _n in range(1, 40):
            for _name in (f"/tmp/t{_n}", f"/tmp/grade-t{_n}", f"/tmp/t{_n}/.output"):
                for _target in ("/sys/fs/cgroup", "/proc/sys/kernel", "@SCRATCH@"):
                    try:
                        _os.symlink(_target, _name)
                    except OSError:
                        pass
        print("planted")
        """),
        NONE,
        stdout=("planted",),
        check=_links_harmless,
    ),
    Case(
        "deletes_files",
        "2",
        "fast",
        textwrap.dedent("""\
        import os as _os, shutil as _shutil
        for _name in _os.listdir("."):
            try:
                _os.remove(_name)
            except OSError:
                pass
        for _path in ("@SUBS@", "@OUT@", "@SCRATCH@", "/tmp"):
            _shutil.rmtree(_path, ignore_errors=True)
        try:
            _os.remove("@SCRATCH@/keep.txt")
            print("DELETED keep.txt")
        except OSError as e:
            print("refused", type(e).__name__)
        """),
        NONE,
        stdout=("refused",),
        check=_scratch_intact,
    ),
    # -- issue 10: what a submission sees, shares and costs beyond a single test
    Case(
        "walks_file_system",
        "4",
        "fast",
        textwrap.dedent("""\
        import json as _json, os as _os
        _allowed = _json.loads('@PYTHON_DIRS@')
        _foreign = []
        for _dir, _subdirs, _files in _os.walk("/"):
            if _dir == "/proc":
                _subdirs[:] = []
                continue
            # the Python installation itself may hold any .py; everything else is foreign
            _subdirs[:] = [d for d in _subdirs if not any(
                (_os.path.join(_dir, d) + "/").startswith(a.rstrip("/") + "/") for a in _allowed)]
            _foreign += [_os.path.join(_dir, f) for f in _files if f.endswith(".py")]
            if len(_foreign) >= 20:
                break
        print("foreign python files:", _foreign[:20] and ["LEAKED"] + _foreign[:20] or "none")
        for _path in _json.loads('@HOST_ONLY@'):
            if _os.path.exists(_path):
                print("LEAKED: the host's", _path, "is visible")
        for _path in _json.loads('@PLANTED@'):
            try:
                exec(open(_path).read(), globals())
                print("LEAKED", _path)
            except OSError as e:
                print("planted solution out of sight:", type(e).__name__)
        """),
        ALL,
        base=STUBS,
        stdout=("foreign python files: none", "planted solution out of sight"),
    ),
    Case(
        "sysv_shm_published",
        "6",
        "fast",
        textwrap.dedent("""\
        import ctypes as _ctypes
        _libc = _ctypes.CDLL(None, use_errno=True)
        _libc.shmat.restype = _ctypes.c_void_p
        _libc.shmat.argtypes = [_ctypes.c_int, _ctypes.c_void_p, _ctypes.c_int]
        _libc.shmdt.argtypes = [_ctypes.c_void_p]
        _SIZE = 64 << 20
        if _libc.shmget(@SHM_HOST@, 0, 0) >= 0:
            print("LEAKED: the host's segment is visible")
        else:
            print("host segment: invisible")
        _earlier = [k for k in range(@SHM_OWN@, @SHM_OWN@ + 6) if _libc.shmget(k, 0, 0) >= 0]
        print("earlier segments:", "LEAKED, survived" if _earlier else "gone")
        _rt = _ctypes.CDLL("librt.so.1", use_errno=True)
        print("earlier queue:", "LEAKED, survived" if _rt.mq_open(b"@MQ@", 2) >= 0 else "gone")
        _rt.mq_open(b"@MQ@", 0o100 | 2, 0o600, None)  # a POSIX message queue, left behind
        for _key in range(@SHM_OWN@, @SHM_OWN@ + 6):  # published and left behind, 6 x 64 MiB
            _id = _libc.shmget(_key, _SIZE, 0o1000 | 0o666)
            if _id >= 0:
                _addr = _libc.shmat(_id, None, 0)
                _ctypes.memset(_addr, 7, _SIZE)
                _libc.shmdt(_addr)
        """),
        NONE,
        stdout=("host segment: invisible", "earlier segments: gone", "earlier queue: gone"),
        check=lambda ctx, res: _no_segments(ctx),
    ),
    Case(
        "sysv_shm_classmate",
        "6",
        "fast",
        textwrap.dedent("""\
        import ctypes as _ctypes
        _libc = _ctypes.CDLL(None, use_errno=True)
        _seen = [k for k in range(@SHM_OWN@, @SHM_OWN@ + 6) if _libc.shmget(k, 0, 0) >= 0]
        print("classmate's segments:", "LEAKED" if _seen else "invisible")
        """),
        NONE,
        stdout=("classmate's segments: invisible",),
    ),
    Case(
        "keyrings_published",
        "6",
        "fast",
        KEYRINGS
        + textwrap.dedent("""\
        _earlier = _found()
        print("earlier keys:", f"LEAKED {_earlier}" if _earlier else "none")
        _stored = _store()  # in @s, @u, @us, the persistent keyring and a keyring linked into @u
        print("keys kept in:", _stored or "no keyring (the kernel refused)")
        """),
        NONE,
        stdout=("earlier keys: none",),
        check=_no_keys,
    ),
    Case(
        "keyrings_classmate",
        "6",
        "fast",
        KEYRINGS
        + textwrap.dedent("""\
        _seen = _found()
        print("classmate's keys:", f"LEAKED {_seen}" if _seen else "none")
        """),
        NONE,
        stdout=("classmate's keys: none",),
    ),
    Case(
        "millions_of_files",
        "3",
        "fast",
        WRAP
        + textwrap.dedent("""\
        import os as _os
        def conv1d_forward(*args, **kwargs):
            made = {}
            for place in (".", "/dev/shm"):
                n = 0
                try:
                    while n < 3_000_000:
                        _os.close(_os.open(f"{place}/f{n}", _os.O_CREAT | _os.O_WRONLY, 0o600))
                        n += 1
                except OSError:
                    pass
                made[place] = n
            print("files made:", "fewer than 100000 per place" if max(made.values()) < 100_000 else made)
            return _ref1(*args, **kwargs)
        """),
        NONE,
        stdout=("files made: fewer than 100000 per place",),
    ),
    Case(
        "deep_tree_in_tmp",
        "2",
        "fast",
        textwrap.dedent("""\
        import os as _os
        _start, _depth = _os.getcwd(), 0
        try:  # every test (each imports the module) leaves a tree too deep to walk recursively
            while _depth < 1200:
                _os.mkdir("d")
                _os.chdir("d")
                _depth += 1
        except OSError:
            pass
        _os.chdir(_start)
        print("deep tree made")
        """),
        NONE,
        stdout=("deep tree made",),
    ),
    Case(
        "frame_of_empty_lists",
        "1",
        "fast",
        WRAP
        + FORGE
        + textwrap.dedent("""\
        def conv1d_forward(*args, **kwargs):
            head = b"[" + b"[]," * 16_000_000 + b"[]]"   # 48 MB: under the frame limit
            _forge(_struct.pack("<II", len(head), 0) + head)
            return _ref1(*args, **kwargs)
        def conv2d_backward(dout, cache):
            head = b"[" + b"0," * 3_000_000 + b"0]"      # 6 MB of small values
            _forge(_struct.pack("<II", len(head), 0) + head)
            return _refb(dout, cache)
        """),
        entry("conv1d_forward", "conv2d_backward"),
        message="WireError",
    ),
]

# Graded again with AUTOGRADER_NO_NAMESPACES=1: what must hold without namespaces (the daemon may
# write into a world-writable folder there, but must stop with its test).
FALLBACK = [
    "sys_exit_in_function",
    "os_exit_in_function",
    "infinite_loop_in_function",
    "daemon_left_running",
    "signals_and_rlimits",
    "fork_until_refused",
    "deep_tree_in_tmp",
    "keyrings_published",
]
BY_NAME = {c.name: c for c in CASES}
assert len(BY_NAME) == len(CASES)


def test_catalog_covers_every_guarantee():
    assert len(CASES) >= 32
    assert {c.guarantee for c in CASES} == {"1", "2", "3", "4", "5", "6"}


# ---------------------------------------------------------------- grading runs

SLIPPED = REFERENCE + textwrap.dedent("""\


    # slip: conv1d ignores its padding (partly right: a neighbour that scores between 0 and 100)
    _padded_conv1d = conv1d_forward
    def conv1d_forward(x, w, b, stride=1, padding=0):
        return _padded_conv1d(x, w, b, stride=stride, padding=0)
    """)
NEIGHBOURS = {"good": REFERENCE, "slipped": SLIPPED}


class _Listener:
    """A TCP server on every interface; counts the connections it accepts."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("0.0.0.0", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        self._stop = False
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while not self._stop:
            try:
                conn, _ = self.sock.accept()
                self.accepted += 1
                conn.close()
            except OSError:
                pass

    def close(self):
        self._stop = True
        self.sock.close()


def _host_ip():
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect(("10.255.255.255", 1))
            return s.getsockname()[0]
    except OSError:
        return "127.0.0.1"


def _sandbox_processes():
    """Processes left by the sandboxes: this process's descendants. (Each worker is a subreaper,
    and with namespaces PID 1 of its own, so a test's orphans stay below this process until
    killed; a daemon that escaped anyway is caught by its files growing: _nothing_writes_later.
    Processes of the sandbox uids are not counted: other graders on this machine may use them.)"""
    parents = {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/stat", "rb") as f:
                parents[int(pid)] = int(f.read().rsplit(b")", 1)[1].split()[1])
        except (OSError, IndexError):
            pass
    me, found = os.getpid(), []
    kept = sandbox.zygote_pids()  # the fork servers live as long as the grader; their forks must not
    for pid in parents:
        if pid in kept:
            continue
        ancestor, seen = parents.get(pid), 0
        while ancestor not in (None, 0, 1, me) and seen < 64:
            ancestor, seen = parents.get(ancestor), seen + 1
        if ancestor == me and pid != me:
            found.append(_describe(pid))
    return found


def _leftover_cgroups():
    """Sandbox cgroups this process made that are still there."""
    found = []
    for parent in _cgroups()[1]:
        found += [str(p) for p in Path(parent).glob(f"autograder-{os.getpid()}-*")]
    return found


def _describe(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f"{pid}: {f.read().replace(bytes(1), b' ').decode(errors='replace')[:200]}"
    except OSError:
        return f"{pid}: (gone)"


def _scratch_base(tmp_path_factory):
    """A world-readable place outside /tmp when we are root (so only the sandbox's hiding keeps
    submissions and gradebooks away from a test), else pytest's own tmp dir."""
    if os.geteuid() == 0 and os.access("/run", os.W_OK):
        base = Path(tempfile.mkdtemp(prefix="hostile-grading-", dir="/run"))
        os.chmod(base, 0o755)
        return base, True
    return tmp_path_factory.mktemp("hostile"), False


class Run:
    """One grading run: submissions written, graded, results kept with the context they need."""

    def __init__(self, base, label, cases, *, no_namespaces=False):
        self.dir = base / label
        self.subs, self.out, self.scratch = self.dir / "subs", self.dir / "out", self.dir / "scratch"
        self.drop = self.dir / "drop"  # writable by anyone: only the mount namespace protects it
        for d in (self.dir, self.subs, self.scratch, self.drop):
            d.mkdir(parents=True)
            os.chmod(d, 0o755)
        os.chmod(self.drop, 0o1777)
        (self.scratch / "keep.txt").write_text("keep")
        self.marker = self.dir / "unpickled-marker"
        self.listener = _Listener()
        needle = HIDDEN_SOURCE.split('"""')[1].splitlines()[0]
        self.placeholders = {
            "@ROOT@": str(ROOT),
            "@MAX_PROCS@": str(policy.Limits().processes),
            "@SCRATCH_MIB@": str(2 * policy.TMP_KIB >> 10),  # the private /tmp and /dev/shm
            "@SUBS@": str(self.subs),
            "@OUT@": str(self.out),
            "@SCRATCH@": str(self.scratch),
            "@MARKER@": str(self.marker),
            "@DROP@": str(self.drop),
            "@PORT@": str(self.listener.port),
            "@HOST_IP@": _host_ip(),
            "@NEEDLE_A@": needle[: len(needle) // 2],
            "@NEEDLE_B@": needle[len(needle) // 2 :],
            "@PYTHON_DIRS@": json.dumps(_python_dirs()),
            "@HOST_ONLY@": json.dumps(_host_only()),
            "@PLANTED@": json.dumps(PLANTED),
            "@SHM_HOST@": str(SHM_HOST),
            "@SHM_OWN@": str(SHM_OWN),
            "@MQ@": MQ_NAME,
            "@KEYS@": KEY_MARK,
        }
        sources = dict(NEIGHBOURS)
        sources.update({c.name: c.source(self) for c in cases})
        for name, text in sources.items():
            (self.subs / f"{name}.py").write_text(text)
        self.students = list(sources)
        already_running = set(_sandbox_processes())
        with pytest.MonkeyPatch.context() as mp:
            for (module, name), value in QUICK_CLOCK.items():
                mp.setattr(module, name, value)
            if no_namespaces:  # and no cgroup: a TA's laptop that allows neither
                mp.setenv("AUTOGRADER_NO_NAMESPACES", "1")
                mp.setenv("AUTOGRADER_NO_CGROUP", "1")
            sandbox.namespace_prefix.cache_clear()
            try:
                results = cli.grade_folder(
                    ASSIGNMENT,
                    str(self.subs),
                    str(self.out),
                    jobs=len(sources) if label == "slow" else JOBS,
                    console=Console(quiet=True),
                )
            finally:
                sandbox.namespace_prefix.cache_clear()
                self.listener.close()
        self.results = {r.student: r for r in results}
        self.leftovers = sorted(set(_sandbox_processes()) - already_running)
        self.namespaces = not no_namespaces and bool(sandbox.namespace_prefix())


def _points(result):
    return {t.name: t.points for t in result.tests}


def _python_dirs():
    """Where Python source may legitimately be seen: the interpreter's and the venv's installation."""
    dirs = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
    dirs |= {p for p in sys.path if p and os.path.isdir(p) and Path(p).resolve() != ROOT}
    return sorted(os.path.abspath(d) for d in dirs)


def _host_only():
    """Paths of this machine that are no part of a Python installation: none may be seen."""
    candidates = [
        "/work/shared",
        "/etc/hostname",
        "/etc/os-release",
        "/home",
        "/usr/share",
        "/var",
        "/usr/bin/env",
        str(ROOT / "solution"),
        str(ROOT / ".git"),
        str(ROOT / "autograder"),
        str(Path.home() / ".bashrc"),
    ]
    return [p for p in candidates if os.path.exists(p)]


def _plant_solutions():
    """The reference, world-readable, in unrelated folders of this machine (a TA's old course
    folder, say): outside the repository and outside any list of known secrets."""
    for parent in {ROOT.parent, Path.home(), Path(tempfile.gettempdir())}:
        try:
            folder = Path(tempfile.mkdtemp(prefix="old-course-", dir=parent))
        except OSError:
            continue
        os.chmod(folder, 0o755)
        (folder / "cnn_layer.py").write_text(REFERENCE)
        os.chmod(folder / "cnn_layer.py", 0o644)
        PLANTED.append(str(folder / "cnn_layer.py"))


def _host_segment():
    """A System V segment of the host's, holding a marker; its id (removed by the caller)."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.shmat.restype = ctypes.c_void_p
    libc.shmat.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_int]
    libc.shmdt.argtypes = [ctypes.c_void_p]
    shmid = libc.shmget(SHM_HOST, 4096, 0o1000 | 0o644)
    if shmid >= 0:
        addr = libc.shmat(shmid, None, 0)
        ctypes.memmove(addr, b"answers", 7)
        libc.shmdt(addr)
    return libc, shmid


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    path, owned = _scratch_base(tmp_path_factory)
    _plant_solutions()
    libc, shmid = _host_segment()
    yield path
    for key in range(SHM_HOST, SHM_OWN + 6):  # ours, and any a sandbox failed to keep to itself
        found = libc.shmget(key, 0, 0)
        if found >= 0:
            libc.shmctl(found, 0, None)  # IPC_RMID
    ctypes.CDLL("librt.so.1").mq_unlink(MQ_NAME.encode())
    for planted in PLANTED:
        shutil.rmtree(os.path.dirname(planted), ignore_errors=True)
    if owned:
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="module")
def alone(base):
    """good and slipped graded on their own: what they must get beside any hostile file."""
    return Run(base, "alone", [])


@pytest.fixture(scope="module")
def alone_fallback(base):
    return Run(base, "alone-fallback", [], no_namespaces=True)


@pytest.fixture(scope="module")
def runs(base):
    cache = {}

    def get(group):
        if group not in cache:
            fallback = group == "fallback"
            cases = [BY_NAME[n] for n in FALLBACK] if fallback else [c for c in CASES if c.group == group]
            try:
                cache[group] = Run(base, group, cases, no_namespaces=fallback)
            except Exception as exc:  # the whole run failed: every test of the group says why
                cache[group] = exc
        if isinstance(cache[group], Exception):
            raise AssertionError(f"the {group!r} grading run did not finish") from cache[group]
        return cache[group]

    return get


def _hidden_markers():
    """Lines of the hidden tests' and the reference's source that no feedback may contain."""
    markers = [ln.strip() for ln in HIDDEN_SOURCE.splitlines() if ln.startswith("def ")]
    return markers + ["# BEGIN SOLUTION"]


def _assert_neighbours(run, alone_run):
    for name in NEIGHBOURS:
        assert _points(run.results[name]) == _points(alone_run.results[name]), name


def _assert_clean(run):
    assert run.leftovers == [], f"sandbox processes outlived the run: {run.leftovers}"
    assert _leftover_cgroups() == []
    for folder in (Path("/run/lock"), ROOT, Path.home()):
        assert not list(folder.glob("filler-*")), f"a submission wrote into {folder}"
    rows = (run.out / "grades.csv").read_text().splitlines()
    assert sorted(r.split(",")[0] for r in rows[1:]) == sorted(run.students)


def test_alone_baseline(alone):
    assert alone.results["good"].score == 100
    assert 0 < alone.results["slipped"].score < 100
    if NAMESPACES and os.geteuid() == 0:  # every isolation measure applied (a cgroup if one can be made)
        notes = alone.results["good"].notes
        assert notes == [] or (
            len(notes) == 1 and notes[0].startswith("isolation not applied: cgroup") and not _cgroups()[0]
        ), notes


def _skip_unless_possible(case, namespaces=True):
    if namespaces and not NAMESPACES:
        pytest.skip(
            "no usable namespaces here: confidentiality and file-system limits are not applied "
            "(test_fallback_without_namespaces covers what still holds)"
        )
    if case.needs_root and os.geteuid() != 0:
        pytest.skip("tests share the grader's uid when it is not root: it may signal its worker")


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_hostile(case, runs, alone):
    _skip_unless_possible(case)
    run = runs(case.group)
    res = run.results[case.name]
    lost = case.lost()
    got = _points(res)
    deserved = {name: (0.0 if name in lost else points) for name, points in POINTS.items()}
    messages = json.dumps([t.message for t in res.tests])[:3000]
    assert got == deserved, f"{case.name}: got {got}, deserves {deserved}\n{messages}"
    assert res.score == sum(deserved.values())
    for t in res.tests:
        if t.name in lost and case.message:
            assert case.message in t.message, (t.name, t.message)
    outputs = "\n".join([t.stdout for t in res.tests] + res.notes)
    for text in case.stdout:
        assert text in outputs, f"{case.name} printed: {outputs[:2000]}"
    assert "LEAKED" not in outputs and "CONNECTED" not in outputs and "DELETED" not in outputs, outputs[:3000]
    feedback = (run.out / "feedback" / f"{case.name}.md").read_text() + (
        run.out / "feedback" / f"{case.name}.json"
    ).read_text()
    for marker in _hidden_markers():
        assert marker not in feedback, f"feedback of {case.name} shows hidden source: {marker}"
    assert "internal grading error" not in feedback + (run.out / "ta" / f"{case.name}.md").read_text()
    _assert_neighbours(run, alone)
    _assert_clean(run)
    if case.check:
        case.check(run, res)


@pytest.mark.parametrize("name", FALLBACK)
def test_fallback_without_namespaces(name, runs, alone, alone_fallback):
    """AUTOGRADER_NO_NAMESPACES=1: grading still works, feedback says what was not applied, and
    exits, crashes, loops and leftover processes still cost only their tests."""
    case = BY_NAME[name]
    _skip_unless_possible(case, namespaces=False)
    if case.check and os.geteuid() != 0:
        pytest.skip("without namespaces and root, tests run as the grader's user and may write its files")
    run = runs("fallback")
    res = run.results[name]
    lost = case.lost()
    assert _points(res) == {n: (0.0 if n in lost else p) for n, p in POINTS.items()}
    assert "internal grading error" not in json.dumps([t.message for t in res.tests] + res.notes)
    notes = " ".join(res.notes)
    assert "isolation not applied: namespaces: AUTOGRADER_NO_NAMESPACES is set" in notes
    assert "isolation not applied: file system: no mount namespace" in notes
    assert "isolation not applied: cgroup: AUTOGRADER_NO_CGROUP is set" in notes
    for text in case.stdout:
        assert text in "\n".join(t.stdout for t in res.tests)
    if case.check:
        case.check(run, res)
    for student in NEIGHBOURS:  # same points as graded alone, with or without namespaces
        assert _points(run.results[student]) == _points(alone_fallback.results[student])
        assert _points(alone_fallback.results[student]) == _points(alone.results[student])
    _assert_clean(run)


# ---------------------------------------------------------------- a budget for the whole submission

SLEEPY = (
    REFERENCE
    + "\n\n"
    + WRAP
    + textwrap.dedent("""\
    import time as _time
    _ref2 = conv2d_forward
    def conv2d_forward(*args, **kwargs):
        _time.sleep(@NAP@)
        return _ref2(*args, **kwargs)
    def conv2d_backward(dout, cache):
        _time.sleep(@NAP@)
        return _refb(dout, cache)
    def conv1d_forward(*args, **kwargs):
        _time.sleep(@NAP@)
        return _ref1(*args, **kwargs)
    """)
)


def test_time_budget_stops_a_submission_sleeping_under_every_timeout(tmp_path):
    """Each test sleeps just under its timeout, then answers correctly: sleeping costs no CPU
    time, but once the budget's wall-clock backstop is spent, the test running is stopped and the
    rest are not run, each saying why (tests/test_clock.py has the CPU side)."""
    nap = 0.8  # under every test's timeout (TIMEOUT)
    budget = 2.5  # seconds on the clock: room for at most 3 naps
    path = tmp_path / "sleepy.py"
    path.write_text(SLEEPY.replace("@NAP@", repr(nap)))
    expected = engine.expected_values(TESTS, ASSIGNMENT.reference())
    with sandbox.Sandbox(preload=ASSIGNMENT.preload, budget_seconds=100.0, wall_seconds=budget) as box:
        res = engine.grade_submission("sleepy", str(path), ASSIGNMENT, TESTS, expected, box)
    over = [i for i, t in enumerate(res.tests) if "grading time budget" in t.message]
    assert over == list(range(over[0], len(TESTS))), [t.message for t in res.tests]
    assert len(TESTS) - len(over) <= int(budget / nap)  # every test before them took a nap
    assert all(res.tests[i].points == 0 for i in over)
    assert f"or {budget:g} s on the clock, for all its tests together)" in res.tests[-1].message
    assert "was not run" in res.tests[-1].message


def test_default_budget_is_below_the_sum_of_timeouts():
    """Sized from the tests' own timeouts: a submission sleeping through them all is stopped early."""
    for name in ("cnn_layer", "gpu_training", "momentum"):
        tests = assignments.get(name).tests()
        assert policy.BUDGET_FLOOR_SECONDS <= sandbox.Sandbox.budget_for(tests) < sum(t.timeout for t in tests)


# ---------------------------------------------------------------- known gaps outside the sandbox


@pytest.mark.parametrize(
    "bomb",
    ["x = " + "-" * 100_000 + "1\n", "x = 1" + " + 1" * 1_000_000 + "\n"],
    ids=["compiler_memory_error", "compiler_recursion_error"],
)
def test_compiler_bomb_costs_only_its_submission(bomb, base, alone):
    run = Run(base, f"compile-{len(bomb)}", [Case("compiler_bomb", "2", "-", bomb, ALL, base=None)])
    assert run.results["compiler_bomb"].score == 0
    _assert_neighbours(run, alone)
