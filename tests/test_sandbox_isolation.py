"""The sandbox's measures one by one (issue 10), beside the hostile catalog (test_hostile.py):
the wire refuses what it cannot afford before building it, the trusted side stays bounded, a
cgroup charges memory and tasks to the sandbox as a whole and goes with it, nothing kept in a kernel
keyring reaches a later test or submission, and grading still works, saying what is missing, where
the OS refuses namespaces, cgroups or a seccomp filter."""

import ast
import functools
import os
import platform
import resource
import struct
import subprocess
import sys
import textwrap
import tracemalloc

import numpy as np
import pytest

from autograder import cgroup, isolation, sandbox, script, wire
from autograder.sandbox import Sandbox, namespace_prefix
from tests.keyrings import KEYRINGS

pytestmark = pytest.mark.skipif(not hasattr(os, "pidfd_open"), reason="the sandbox needs Linux")


@functools.cache
def _cgroups():
    """Whether a cgroup per sandbox can be made here: probed once, when a test first asks."""
    probe, _ = cgroup.create(memory_bytes=1 << 30, tasks=64)
    if probe is not None:
        probe.close()
    return probe is not None


MiB = 1 << 20
HAS_KEYRINGS = isolation.kernel_has_keyrings()  # this process runs under no filter


def _frame(head, n_blobs=0):
    return struct.pack("<II", len(head), n_blobs) + head


# ---------------------------------------------------------------- the wire, on its own


def _peak_while(fn):
    """Bytes Python allocated at most while fn ran (tracemalloc), and what fn raised."""
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        try:
            fn()
            raised = None
        except wire.WireError as err:
            raised = err
        return tracemalloc.get_traced_memory()[1], raised
    finally:
        tracemalloc.stop()


def test_frame_of_16_million_empty_lists_is_refused_before_building_anything():
    data = _frame(b"[" + b"[]," * 16_000_000 + b"[]]")  # 48 MB, under the frame limit
    assert len(data) < wire.MAX_FRAME_BYTES
    peak, raised = _peak_while(lambda: wire.decode(data))
    assert raised is not None and "head" in str(raised)
    assert peak < MiB  # not one list built (16 million would take about 1 GB)


def test_many_small_values_are_refused_before_json_builds_them():
    head = b"[" + b"0," * 3_000_000 + b"0]"  # 6 MB: under the head limit
    assert len(head) < wire.MAX_HEAD_BYTES
    data = _frame(head)
    peak, raised = _peak_while(lambda: wire.decode(data))
    assert raised is not None and "values" in str(raised)
    assert peak < len(head) + MiB  # one copy of the head, no list of 3 million ints


def test_too_many_arrays_too_deep_and_oversized_frames_are_refused():
    with pytest.raises(wire.WireError, match="arrays"):
        wire.decode(_frame(b"[]", wire.MAX_ARRAYS + 1))  # refused before any array is read
    deep = wire.encode(_nested(70))
    with pytest.raises(wire.WireError, match="deeply"):
        wire.decode(deep)
    with pytest.raises(wire.WireError, match="limit"):
        wire.decode(memoryview(bytes(wire.MAX_FRAME_BYTES + 1)))
    read_end, write_end = os.pipe()
    try:
        os.write(write_end, struct.pack("<Q", wire.MAX_FRAME_BYTES + 1))  # a size alone: nothing more is read
        with pytest.raises(wire.WireError, match="limit"):
            wire.recv(read_end)
    finally:
        os.close(read_end)
        os.close(write_end)


def _nested(depth):
    value = [1.5]
    for _ in range(depth - 1):
        value = [value]
    return value


def test_values_within_the_limits_come_back_unchanged():
    value = {
        "losses": [0.1 * i for i in range(100_000)],
        "deep": _nested(60),
        "text": "a,b,[c]",
        "big": 2**70,
        "inf": float("-inf"),
        "pair": (1, "x"),
        "w": np.arange(12.0).reshape(3, 4),
    }
    back = wire.decode(wire.encode(value))
    assert back["losses"] == value["losses"] and back["deep"] == value["deep"]
    assert back["text"] == "a,b,[c]" and back["big"] == 2**70 and back["inf"] == float("-inf")
    assert back["pair"] == (1, "x")
    np.testing.assert_array_equal(back["w"], value["w"])


def test_send_writes_nothing_the_peer_would_refuse():
    read_end, write_end = os.pipe()
    try:
        with pytest.raises(wire.WireError, match="values"):
            wire.send(write_end, [0] * (wire.MAX_VALUES + 10))
        os.set_blocking(read_end, False)
        with pytest.raises(BlockingIOError):
            os.read(read_end, 1)
    finally:
        os.close(read_end)
        os.close(write_end)


# ---------------------------------------------------------------- the trusted side stays bounded

FORGE_AT_IMPORT = textwrap.dedent("""\
    import os, stat, struct
    head = b"[" + b"[]," * 16_000_000 + b"[]]"
    frame = struct.pack("<Q", len(head) + 8) + struct.pack("<II", len(head), 0) + head
    for fd in range(3, 64):
        try:
            if stat.S_ISFIFO(os.fstat(fd).st_mode):
                os.write(fd, frame)
        except OSError:
            pass
    """)


def _worker_pid(box):
    """The worker process: the sandbox's own process or, with namespaces, its child."""
    pid = box._proc.pid
    for _ in range(3):
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            args = f.read().split(b"\0")
        if os.path.basename(args[0]) not in (b"sh", b"unshare") and b"autograder.worker" in b" ".join(args):
            return pid
        if b"autograder.zygote" in b" ".join(args) and (_ns_pid(pid) == 1 or not box.isolation["namespaces"].applied):
            return pid  # forked from a zygote: PID 1 of the namespaces (its parent did what unshare does)
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            pid = int(f.read().split()[0])
    raise AssertionError("no worker process found")


def _ns_pid(pid):
    with open(f"/proc/{pid}/status") as f:
        return next(int(line.split()[-1]) for line in f if line.startswith("NSpid:"))


def _status_kib(pid, field):
    with open(f"/proc/{pid}/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith(field + ":"))


def test_grader_and_worker_stay_bounded_when_a_test_forges_a_huge_frame():
    own_peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB
    own_now = _status_kib(os.getpid(), "VmRSS")
    with Sandbox(preload=("numpy",)) as box:
        box.load(FORGE_AT_IMPORT, "forge.py", "forge")
        worker = _worker_pid(box)
        worker_before = _status_kib(worker, "VmRSS")
        result = box.run(script.Script().to_message(), timeout=30)
        worker_peak = _status_kib(worker, "VmHWM")
    assert result.status == "error" and result.error["type"] == "WireError", result
    assert worker_peak - worker_before < 512 * 1024
    own_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    assert own_peak <= max(own_peak_before, own_now + 512 * 1024)


# ---------------------------------------------------------------- a cgroup per sandbox


@pytest.fixture
def _cgroup_possible():
    if not _cgroups():
        pytest.skip("no cgroup can be made on this machine")


needs_cgroup = pytest.mark.usefixtures("_cgroup_possible")


def _setting(dirs, *names):
    """The first of `names` found in the cgroup's directories (v2: one; v1: one per controller)."""
    for directory in dirs:
        for name in names:
            path = os.path.join(directory, name)
            if os.path.exists(path):
                with open(path) as f:
                    return f.read().strip()
    raise AssertionError(f"none of {names} in {dirs}")


@needs_cgroup
def test_each_sandbox_has_its_own_cgroup_with_its_limits_and_removes_it():
    with Sandbox(preload=("numpy",), memory_bytes=768 * MiB, tasks=300) as box:
        assert box.isolation["cgroup"].applied
        assert box.isolation["cgroup"].detail.startswith("memory 0.75 GiB and 300 tasks for the whole sandbox")
        dirs = list(box.cgroup.dirs)
        assert _setting(dirs, "memory.max", "memory.limit_in_bytes") == str(768 * MiB)
        assert _setting(dirs, "pids.max") == "300"
        assert box._proc.pid in box.cgroup.pids() and _worker_pid(box) in box.cgroup.pids()
        with Sandbox(preload=("numpy",)) as other:
            assert set(other.cgroup.dirs).isdisjoint(dirs)
    assert not any(os.path.exists(d) for d in dirs)


SHARED_MEMORY_HOG = textwrap.dedent("""\
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    libc.shmat.restype = ctypes.c_void_p
    libc.shmat.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_int]
    libc.shmdt.argtypes = [ctypes.c_void_p]
    for n in range(16):  # 1 GiB in all, never more than 64 MiB of it mapped at once
        shmid = libc.shmget(0, 64 << 20, 0o1000 | 0o600)
        addr = libc.shmat(shmid, None, 0)
        ctypes.memset(addr, 1, 64 << 20)
        libc.shmdt(addr)
        print("segments made:", n + 1, flush=True)
    """)


@needs_cgroup
def test_memory_held_outside_any_process_is_charged_to_the_sandbox():
    """Detached System V segments count in no process's address space (RLIMIT_AS cannot see them);
    the sandbox's cgroup does: the test is killed before it holds 1 GiB, and the worker lives on."""
    with Sandbox(preload=("numpy",), memory_bytes=512 * MiB) as box:
        box.load(SHARED_MEMORY_HOG, "hog.py", "hog")
        hog = box.run(script.Script().to_message(), timeout=60)
        box.load("print('still here')\n", "calm.py", "calm")
        calm = box.run(script.Script().to_message(), timeout=30)
    assert hog.status == "crashed" and "SIGKILL" in hog.exit, hog
    assert "segments made: 16" not in hog.stdout
    assert calm.status == "ok" and "still here" in calm.stdout


# ---------------------------------------------------------------- where the OS refuses a measure


@pytest.mark.parametrize(
    "refused",
    [
        ["AUTOGRADER_NO_NAMESPACES"],
        ["AUTOGRADER_NO_CGROUP"],
        ["AUTOGRADER_NO_NAMESPACES", "AUTOGRADER_NO_CGROUP"],
        ["AUTOGRADER_NO_SECCOMP"],
    ],
)
def test_grading_works_and_says_what_was_not_applied(refused, monkeypatch):
    for name in refused:
        monkeypatch.setenv(name, "1")
    namespace_prefix.cache_clear()
    try:
        with Sandbox(preload=("numpy",)) as box:
            box.load("import numpy as np\nprint(np.arange(4).sum())\n", "m.py", "m")
            result = box.run(script.Script().to_message(), timeout=30)
            isolation = box.isolation
    finally:
        namespace_prefix.cache_clear()
    assert result.status == "ok" and result.stdout.strip() == "6"
    if "AUTOGRADER_NO_NAMESPACES" in refused:
        assert not isolation["namespaces"].applied and not isolation["file system"].applied
        assert isolation["namespaces"].detail.startswith("AUTOGRADER_NO_NAMESPACES is set")
        assert isolation["file system"].detail.startswith("no mount namespace")
    elif namespace_prefix():
        assert isolation["namespaces"] == sandbox.Measure(True, "pid, mount, network, ipc, uts")
        assert isolation["file system"].applied
        assert isolation["file system"].detail.startswith("only the Python installation")
    if "AUTOGRADER_NO_CGROUP" in refused:
        assert isolation["cgroup"] == sandbox.Measure(False, isolation["cgroup"].detail)
        assert isolation["cgroup"].detail.startswith("AUTOGRADER_NO_CGROUP is set")
    elif _cgroups():
        assert isolation["cgroup"].applied and isolation["cgroup"].detail.startswith("memory 3 GiB and 512 tasks")
    if "AUTOGRADER_NO_SECCOMP" in refused and HAS_KEYRINGS:
        assert not isolation["keyrings"].applied
        assert isolation["keyrings"].detail.startswith(
            "keyring system calls could not be refused (AUTOGRADER_NO_SECCOMP is set): every test gets a fresh"
        )
    elif HAS_KEYRINGS:
        assert isolation["keyrings"] == sandbox.Measure(
            True, "keyring system calls fail in every test (seccomp), as on a kernel without keys"
        )


# ---------------------------------------------------------------- kernel keyrings

KEYS = f"kit-keys-{os.getpid()}-"
STORE_KEYS = KEYRINGS.replace("@KEYS@", KEYS) + textwrap.dedent("""\
    print("earlier keys:", _found() or "none")
    print("keys kept in:", _store())
    """)
FIND_KEYS = KEYRINGS.replace("@KEYS@", KEYS) + 'print("keys found:", _found() or "none")\n'
needs_keyrings = pytest.mark.skipif(not HAS_KEYRINGS, reason="this kernel has no keyrings (keyctl: ENOSYS)")


def _run_alone(box, source, name):
    box.load(source, f"{name}.py", name)
    result = box.run(script.Script().to_message(), timeout=30)
    assert result.status == "ok", (result.error, result.stdout)
    return result.stdout


def _host_keys():
    with open("/proc/keys") as keys:  # the submissions' keys are open to all: the grader would see them
        return [line for line in keys if KEYS in line]


@needs_keyrings
@pytest.mark.parametrize("seccomp", [True, False], ids=["refused", "emptied"])
def test_nothing_kept_in_a_keyring_reaches_a_later_test_or_submission(seccomp, monkeypatch):
    """A submission keeps a key in every keyring it can reach (session, user, user-session,
    persistent, and a keyring of its own linked into @u), opened to all; its next test, the next
    submission in the same sandbox, and one in a later sandbox of the same slot find none of them,
    and none is left on the host. With the filter the keyring calls fail (ENOSYS); without it
    (AUTOGRADER_NO_SECCOMP) every test's keyrings are emptied before and after it."""
    if not seccomp:
        if os.geteuid() != 0 and not namespace_prefix():
            pytest.skip("without root or namespaces, tests share the grader's own user keyrings")
        monkeypatch.setenv("AUTOGRADER_NO_SECCOMP", "1")
    with Sandbox(preload=("numpy",), slot=3) as box:
        measure = box.isolation["keyrings"]
        outputs = [
            _run_alone(box, STORE_KEYS, "keeper"),
            _run_alone(box, STORE_KEYS, "keeper"),
            _run_alone(box, FIND_KEYS, "classmate"),
        ]
    with Sandbox(preload=("numpy",), slot=3) as box:  # the same uid, unless another grader holds it now
        outputs.append(_run_alone(box, FIND_KEYS, "later"))
    assert measure.applied == seccomp, measure
    for out in outputs[:2]:
        earlier, kept = out.splitlines()
        assert earlier == "earlier keys: none", out
        kept = set(ast.literal_eval(kept.removeprefix("keys kept in: ")))
        # with the filter nothing takes a key; without it each does (persistent ones where the kernel has them)
        assert (kept == set()) if seccomp else (kept >= {"s", "u", "us", "named"}), out
    assert outputs[2:] == ["keys found: none\n"] * 2, outputs
    assert _host_keys() == []


# Keyring calls through the 32-bit system call ABI (int 0x80), which has keyctl at another number.
INT80_KEYCTL = textwrap.dedent("""\
    import ctypes, mmap
    def int80(nr, ebx, ecx, edx):
        code = b"".join(op + (v & 0xFFFFFFFF).to_bytes(4, "little")
                        for op, v in ((b"\\xb8", nr), (b"\\xbb", ebx), (b"\\xb9", ecx), (b"\\xba", edx)))
        page = mmap.mmap(-1, 4096, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
        page.write(code + b"\\xcd\\x80\\xc3")  # mov eax/ebx/ecx/edx; int 0x80; ret
        return ctypes.CFUNCTYPE(ctypes.c_int)(ctypes.addressof(ctypes.c_char.from_buffer(page)))()
    print("getpid:", int80(20, 0, 0, 0) > 0, "keyctl:", int80(288, 1, 0, 0))  # KEYCTL_JOIN_SESSION_KEYRING
    """)


def _int80_works():
    if platform.machine() != "x86_64":
        return False
    done = subprocess.run([sys.executable, "-c", INT80_KEYCTL], capture_output=True, text=True, timeout=60)
    return done.returncode == 0 and done.stdout.startswith("getpid: True keyctl:")


@needs_keyrings
def test_keyring_calls_through_the_32_bit_abi_are_refused_too():
    if not _int80_works():  # asked here, not at import: it starts a Python
        pytest.skip("no 32-bit system call ABI (int 0x80) on this machine")
    with Sandbox(preload=("numpy",)) as box:
        out = _run_alone(box, INT80_KEYCTL, "int80")
    assert out.strip() == "getpid: False keyctl: -38", out  # every call of that ABI fails: ENOSYS


# ---------------------------------------------------------------- an installation under /tmp


def test_an_installation_under_tmp_stays_visible_behind_the_private_tmp():
    """A checkout and its venv under /tmp (a CI clone, a TA's scratch folder): the sandbox's
    private /tmp must not hide the venv, and emptying /tmp after a test must not remove it."""
    import subprocess
    import sys
    import sysconfig
    import tempfile

    if not namespace_prefix():
        pytest.skip("no namespaces here: the sandbox keeps the host's file system")
    with tempfile.TemporaryDirectory(dir="/tmp") as folder:
        venv = os.path.join(folder, "venv")
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", venv], check=True)
        python = os.path.join(venv, "bin", "python")
        site = subprocess.run(
            [python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        with open(os.path.join(site, "kit.pth"), "w") as f:  # the kit and this venv's packages
            f.write(f"{root}\n{sysconfig.get_path('purelib')}\n")
        with open(os.path.join(site, "only_in_tmp_venv.py"), "w") as f:
            f.write("ANSWER = 42\n")
        code = textwrap.dedent("""\
            from autograder import script
            from autograder.sandbox import Sandbox
            with Sandbox(preload=("numpy",)) as box:
                box.load("def f():\\n    import only_in_tmp_venv\\n    return only_in_tmp_venv.ANSWER\\n", "m.py", "m")
                for _ in range(2):   # the second test runs after /tmp was emptied
                    s = script.Script()
                    s.output("x", s.student("f")())
                    r = box.run(s.to_message(), timeout=30)
                    print(r.status, r.outputs, r.error)
                print("not applied:", sorted(k for k, m in box.isolation.items() if not m.applied))
            """)
        done = subprocess.run([python, "-c", code], capture_output=True, text=True, timeout=300, cwd=folder)
    lines = done.stdout.splitlines()
    assert done.returncode == 0, done.stderr[-2000:]
    assert lines[:2] == ["ok {'x': 42} None"] * 2, done.stdout
    assert "file system" not in lines[2], lines[2]
