"""The sandbox's own file system: an allow-list, not a list of hidden secrets.

The worker, as root of a fresh mount namespace and after importing everything it needs, builds a
new root on a tmpfs and switches into it with pivot_root (as bubblewrap and nsjail do). What it
holds, all read-only unless said:
- the Python installation: sys.prefix, sys.base_prefix (and exec prefixes), sys.path entries;
- the system's shared-library directories, the loader and its cache (/etc/ld.so.cache), so an
  extension module imported later can still load its libraries;
- /dev/null, zero, random, urandom (and /dev/nvidia* on a GPU machine, with a read-only /sys);
- a /proc of the sandbox's own PID namespace;
- a private /tmp and /dev/shm: tmpfs capped in size and in inodes (files), writable;
- a two-line /etc/passwd and /etc/group.
The grader's repository, home folders, /etc, /work, ... are simply not there.
"""

import contextlib
import ctypes
import errno
import os
import platform
import socket
import sys
import sysconfig
import time

_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long
_MS_RDONLY, _MS_NOSUID, _MS_NODEV, _MS_NOEXEC = 1, 2, 4, 8
_MS_REMOUNT, _MS_NOATIME, _MS_NODIRATIME, _MS_BIND = 32, 1024, 2048, 4096
_MS_REC, _MS_PRIVATE, _MS_RELATIME = 0x4000, 1 << 18, 1 << 21
_MNT_DETACH = 2
_IPC_RMID = 0
# statvfs flags a read-only remount must keep: the kernel refuses to clear locked ones.
_KEEP_FLAGS = [
    (os.ST_NOEXEC, _MS_NOEXEC),
    (os.ST_NOATIME, _MS_NOATIME),
    (os.ST_NODIRATIME, _MS_NODIRATIME),
    (os.ST_RELATIME, _MS_RELATIME),
]
_PIVOT_ROOT = {"x86_64": 155, "aarch64": 41, "riscv64": 41, "ppc64le": 203, "s390x": 217, "i686": 217, "armv7l": 218}
_DEVICES = ["null", "zero", "random", "urandom"]
# Where the new root is assembled: the first of these that holds no part of the installation (a
# venv may well live under /tmp); the stage covers it in this mount namespace only.
_STAGES = ["/mnt", "/media", "/srv", "/run", "/tmp"]
# Bind points of the installation inside the private /tmp (a venv under /tmp): `empty` keeps them.
_KEPT = set()


class IsolationError(OSError):
    """A step of building the new root failed; the message names it."""


def python_dirs(exclude):
    """Directories (and zip files) of the Python installation the worker runs, minus `exclude`
    (the grader's repository) unless they lie inside a prefix (a venv inside the repository)."""
    prefixes = {os.path.abspath(p) for p in (sys.prefix, sys.exec_prefix, sys.base_prefix, sys.base_exec_prefix)}
    paths = set(prefixes) | {os.path.abspath(p) for p in sysconfig.get_paths().values()}
    paths |= {os.path.abspath(p) for p in sys.path if p}
    exclude = os.path.abspath(exclude)

    def allowed(p):
        inside_prefix = any(_within(p, q) for q in prefixes)
        return os.path.exists(p) and p != "/" and (inside_prefix or not _within(p, exclude))

    return sorted(p for p in paths if allowed(p))


def library_dirs():
    """Where shared libraries are found: those mapped now, the loader's multiarch and lib64
    directories (not /usr/lib as a whole, which holds the system's own Python packages)."""
    found = set()
    with open("/proc/self/maps") as maps:
        for line in maps:
            path = line.split(maxsplit=5)[-1].strip() if line.count(" ") >= 5 else ""
            if path.startswith("/") and ".so" in os.path.basename(path) and os.path.exists(path):
                found.add(os.path.dirname(path))
    arch = sysconfig.get_config_var("MULTIARCH")
    candidates = ["/lib64", "/usr/lib64"] + ([f"/lib/{arch}", f"/usr/lib/{arch}"] if arch else [])
    found |= {p for p in candidates if os.path.isdir(p)}
    return sorted(found)


def _within(path, folder):
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def _outermost(paths):
    return [p for p in paths if not any(q != p and _within(p, q) for q in paths)]


def _mount(source, target, fstype, flags, data=None):
    def enc(s):
        return s if s is None or isinstance(s, bytes) else s.encode()

    if _libc.mount(enc(source), enc(target), enc(fstype), flags, enc(data)) != 0:
        err = ctypes.get_errno()
        raise IsolationError(err, f"mount {source} on {target}: {os.strerror(err)}")


def _remount_readonly(target, *, devices=False):
    """This bind mount (only) read-only and nosuid (nodev unless it is a device node), keeping
    the flags the kernel locks."""
    flags = _MS_REMOUNT | _MS_BIND | _MS_RDONLY | _MS_NOSUID | (0 if devices else _MS_NODEV)
    f_flag = os.statvfs(target).f_flag
    flags |= sum(ms for st, ms in _KEEP_FLAGS if f_flag & st)
    _mount(None, target, None, flags)


def _mirror(path, root):
    """Create `path`'s parents under `root` as the host has them (symlinks stay symlinks, so
    /lib -> usr/lib keeps working); return the real path, where the bind goes."""
    current = "/"
    for part in path.strip("/").split("/"):
        host = os.path.join(current, part)
        inside = root + host
        if os.path.islink(host):
            if not os.path.lexists(inside):
                os.symlink(os.readlink(host), inside)
            current = os.path.realpath(host)
            _mirror(current, root)
        else:
            current = host
            if os.path.isdir(host):
                os.makedirs(inside, mode=0o755, exist_ok=True)
    return current


def _bind_point(source_fd_path, target, is_dir):
    if is_dir:
        os.makedirs(target, mode=0o755, exist_ok=True)
    elif not os.path.exists(target):
        os.makedirs(os.path.dirname(target), mode=0o755, exist_ok=True)
        open(target, "w").close()
    _mount(source_fd_path, target, None, _MS_BIND)


def _tmpfs(target, *, kib, inodes, mode):
    os.makedirs(target, mode=0o755, exist_ok=True)
    _mount("tmpfs", target, "tmpfs", _MS_NOSUID | _MS_NODEV, f"size={kib}k,nr_inodes={inodes},mode={mode}")


def enter_new_root(*, repo, tmp_kib, tmp_inodes, uid):
    """Build the allow-listed root and pivot into it. Returns a one-line description; raises
    IsolationError naming the step that failed (the caller reports it)."""
    gpu = sorted(f"/dev/{n}" for n in os.listdir("/dev") if n.startswith("nvidia"))
    wanted = python_dirs(repo) + library_dirs() + ["/etc/ld.so.cache"] + (["/sys"] if gpu else [])
    wanted = [p for p in wanted if os.path.exists(p)]
    # Open every source first: the stage below may cover some of them (a venv under /tmp).
    real = sorted({os.path.realpath(p) for p in wanted})
    sources = {p: os.open(p, os.O_PATH | os.O_CLOEXEC) for p in _outermost(real)}
    devices = {
        d: os.open(d, os.O_PATH | os.O_CLOEXEC) for d in [f"/dev/{n}" for n in _DEVICES] + gpu if os.path.exists(d)
    }
    root = next(
        (s for s in _STAGES if os.path.isdir(s) and not any(_within(p, s) or _within(s, p) for p in real)), None
    )
    try:
        if root is None:
            raise IsolationError(0, f"no folder to build the new root in: each of {_STAGES} holds the installation")
        _mount("none", "/", None, _MS_REC | _MS_PRIVATE)
        _tmpfs(root, kib=1024, inodes=4096, mode="755")
        # The private /tmp first: the installation's binds that fall inside it go on top.
        _tmpfs(f"{root}/tmp", kib=tmp_kib, inodes=tmp_inodes, mode="1777")
        for path in wanted:
            _mirror(path, root)
        for path, fd in sources.items():
            target = root + path
            _bind_point(f"/proc/self/fd/{fd}", target, os.path.isdir(path))
            _remount_readonly(target)
        for top in os.listdir("/"):  # /bin -> usr/bin and the like, for a later exec
            if os.path.islink("/" + top) and not os.path.lexists(f"{root}/{top}"):
                os.symlink(os.readlink("/" + top), f"{root}/{top}")
        _populate_dev(root, devices, kib=tmp_kib, inodes=tmp_inodes)
        _KEPT.update(p for p in sources if _within(p, "/tmp") or _within(p, "/dev/shm"))
        _mount_proc(f"{root}/proc")
        _write_etc(root, uid)
        _pivot(root)
    finally:
        for fd in list(sources.values()) + list(devices.values()):
            os.close(fd)
    _mount(None, "/", None, _MS_REMOUNT | _MS_BIND | _MS_RDONLY | _MS_NOSUID | _MS_NODEV)
    with contextlib.suppress(OSError):
        socket.sethostname("sandbox")  # in the sandbox's own UTS namespace (see sandbox.py)
    sys.path[:] = [p for p in sys.path if p and os.path.exists(p)]
    return (
        f"only the Python installation (read-only), /dev, /proc and a private /tmp and /dev/shm "
        f"({tmp_kib // 1024} MiB, {tmp_inodes} files each) are visible"
    )


def _populate_dev(root, devices, *, kib, inodes):
    os.makedirs(f"{root}/dev", mode=0o755, exist_ok=True)
    for path, fd in devices.items():  # /dev/nvidia-caps is a folder
        _bind_point(f"/proc/self/fd/{fd}", root + path, os.path.isdir(path))
        _remount_readonly(root + path, devices=True)  # writes to a device node still work
    for name, target in [
        ("fd", "/proc/self/fd"),
        ("stdin", "/proc/self/fd/0"),
        ("stdout", "/proc/self/fd/1"),
        ("stderr", "/proc/self/fd/2"),
    ]:
        os.symlink(target, f"{root}/dev/{name}")
    _tmpfs(f"{root}/dev/shm", kib=kib, inodes=inodes, mode="1777")
    os.makedirs(f"{root}/dev/mqueue", mode=0o1777, exist_ok=True)
    # POSIX message queues of the sandbox's IPC namespace, so they can be listed and removed
    with contextlib.suppress(IsolationError):
        _mount("mqueue", f"{root}/dev/mqueue", "mqueue", _MS_NOSUID | _MS_NODEV | _MS_NOEXEC)


def _mount_proc(target):
    os.makedirs(target, mode=0o555, exist_ok=True)
    try:
        _mount("proc", target, "proc", _MS_NOSUID | _MS_NODEV | _MS_NOEXEC)
    except IsolationError:
        # In a user namespace the kernel may refuse a fresh proc; `unshare --mount-proc` already
        # mounted one of this PID namespace on /proc.
        _mount("/proc", target, None, _MS_BIND | _MS_REC)


def _write_etc(root, uid):
    os.makedirs(f"{root}/etc", mode=0o755, exist_ok=True)
    users = [("root", 0)] + ([("sandbox", uid)] if uid is not None else [])
    with open(f"{root}/etc/passwd", "w") as f:
        f.writelines(f"{name}:x:{n}:{n}::/tmp:/bin/false\n" for name, n in users)
    with open(f"{root}/etc/group", "w") as f:
        f.writelines(f"{name}:x:{n}:\n" for name, n in users)


def _pivot(root):
    number = _PIVOT_ROOT.get(platform.machine())
    if number is None:
        raise IsolationError(0, f"pivot_root: unknown system call number on {platform.machine()}")
    os.chdir(root)
    # pivot_root(".", "."): the old root ends up stacked on the new one, and is then detached.
    if _libc.syscall(number, b".", b".") != 0:
        err = ctypes.get_errno()
        raise IsolationError(err, f"pivot_root: {os.strerror(err)}")
    if _libc.umount2(b".", _MNT_DETACH) != 0:
        err = ctypes.get_errno()
        raise IsolationError(err, f"detaching the old root: {os.strerror(err)}")
    os.chdir("/")


def remove_ipc_objects():
    """Remove every System V segment, semaphore set and message queue of this IPC namespace (the
    sandbox's own), and every POSIX message queue: at once, so the memory they held is free
    before the next test starts (a namespace's own teardown is deferred)."""
    for table in ("shm", "sem", "msg"):
        try:
            with open(f"/proc/sysvipc/{table}") as f:
                ids = [int(line.split()[1]) for line in f.read().splitlines()[1:]]
        except OSError:
            continue
        for ident in ids:
            if table == "sem":
                _libc.semctl(ident, 0, _IPC_RMID)
            else:
                getattr(_libc, f"{table}ctl")(ident, _IPC_RMID, None)
    if os.path.isdir("/dev/mqueue"):
        for name in os.listdir("/dev/mqueue"):
            with contextlib.suppress(OSError):
                os.unlink(f"/dev/mqueue/{name}")


def empty(folder):
    """Leave `folder`, a private tmpfs of the new root, as it was built: remove everything a test
    left there, however deep (iteratively, moving down and up by name, so neither the recursion
    limit nor the path length limit stops it), but the installation's bind points and their parents."""
    home = os.open(".", os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.chdir(folder)
        names, done = [], set()  # the path below `folder`; emptied parents kept
        while True:
            here = os.path.join(folder, *names)
            down = None
            for entry in os.scandir("."):
                path = os.path.join(here, entry.name)
                if path in _KEPT or path in done:
                    continue
                if entry.is_dir(follow_symlinks=False):
                    down = entry.name
                    break
                os.unlink(entry.name)
            if down is not None:
                os.chdir(down)
                names.append(down)
                continue
            if not names:
                return
            os.chdir("..")
            name = names.pop()
            if any(_within(k, here) for k in _KEPT):
                done.add(here)
            else:
                os.rmdir(name)
    finally:
        os.fchdir(home)
        os.close(home)


# ---------------------------------------------------------------- kernel keyrings

# Keyrings are not namespaced: a key kept in a uid's user, user-session or persistent keyring
# outlives its test, and one opened to all (KEYCTL_SETPERM) is listed in /proc/keys and readable by
# any uid, a test of another sandbox included. So tests get none: the worker installs a seccomp
# filter (inherited by every test's child and whatever it starts) under which add_key, request_key
# and keyctl fail with ENOSYS, as on a kernel built without keys (Docker's default profile refuses
# them too), and so does every system call made through another ABI (32-bit or x32 calls would
# reach the same keyrings by other numbers).
_KEYRING_CALLS = {  # machine: (AUDIT_ARCH_*, (add_key, request_key, keyctl))
    "x86_64": (0xC000003E, (248, 249, 250)),
    "aarch64": (0xC00000B7, (217, 218, 219)),
    "riscv64": (0xC00000F3, (217, 218, 219)),
}
_PR_SET_SECCOMP, _SECCOMP_MODE_FILTER = 22, 2
_SECCOMP_RET_ALLOW, _SECCOMP_RET_ERRNO = 0x7FFF0000, 0x00050000
_BPF_LD_W_ABS, _BPF_JEQ_K, _BPF_JGE_K, _BPF_RET_K = 0x20, 0x15, 0x35, 0x06
_X32_SYSCALL_BIT = 0x40000000
_KEYCTL_GET_KEYRING_ID, _KEYCTL_JOIN_SESSION_KEYRING, _KEYCTL_SETPERM = 0, 1, 5
_KEYCTL_CLEAR, _KEYCTL_GET_PERSISTENT = 7, 22
_KEY_SPEC_THREAD, _KEY_SPEC_SESSION, _KEY_SPEC_USER, _KEY_SPEC_USER_SESSION = -1, -3, -4, -5
_USER_KEYRING_PERM = 0x1F3F0000  # the kernel's own for @u and @us: possessor and owner only


class _SockFilter(ctypes.Structure):
    _fields_ = [("code", ctypes.c_uint16), ("jt", ctypes.c_uint8), ("jf", ctypes.c_uint8), ("k", ctypes.c_uint32)]


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.POINTER(_SockFilter))]


def refuse_keyrings():
    """From now on, in this process and every process it starts: keyring system calls fail with
    ENOSYS, as does any call through a foreign ABI. Needs no_new_privs (or CAP_SYS_ADMIN); raises
    OSError where the filter cannot be installed or does not take."""
    arch, calls = _KEYRING_CALLS.get(platform.machine(), (None, ()))
    if arch is None:
        raise OSError(errno.ENOSYS, f"no keyring system call numbers known for {platform.machine()}")
    deny = len(calls) + 5  # index of the last instruction
    program = [
        (_BPF_LD_W_ABS, 0, 0, 4),  # seccomp_data.arch
        (_BPF_JEQ_K, 0, deny - 2, arch),  # another ABI: refused
        (_BPF_LD_W_ABS, 0, 0, 0),  # seccomp_data.nr
        (_BPF_JGE_K, deny - 4, 0, _X32_SYSCALL_BIT),
    ]  # x32 numbers: refused
    program += [(_BPF_JEQ_K, deny - 5 - i, 0, nr) for i, nr in enumerate(calls)]
    program += [(_BPF_RET_K, 0, 0, _SECCOMP_RET_ALLOW), (_BPF_RET_K, 0, 0, _SECCOMP_RET_ERRNO | errno.ENOSYS)]
    instructions = (_SockFilter * len(program))(*program)
    fprog = _SockFprog(len(program), instructions)
    if _libc.prctl(_PR_SET_SECCOMP, _SECCOMP_MODE_FILTER, ctypes.byref(fprog), 0, 0) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"seccomp filter: {os.strerror(err)}")
    if _keyctl(_KEYCTL_GET_KEYRING_ID, _KEY_SPEC_THREAD, 0) != -errno.ENOSYS:
        raise OSError(errno.EPERM, "the seccomp filter did not refuse keyctl")


def kernel_has_keyrings():
    return _keyctl(_KEYCTL_GET_KEYRING_ID, _KEY_SPEC_THREAD, 0) != -errno.ENOSYS  # creates nothing


def clear_keyrings(*, user_keyrings, settle=True):
    """Where keyring calls cannot be refused (the fallback): this process leaves for a fresh, empty
    session keyring, and with `user_keyrings` its uid's user, user-session and persistent keyrings
    are emptied and closed to others again; with `settle` it then waits (2 s at most) for the kernel
    to collect the keys they held, so none is left to list or read."""
    _keyctl(_KEYCTL_JOIN_SESSION_KEYRING, None)
    if not user_keyrings:
        return
    persistent = _keyctl(_KEYCTL_GET_PERSISTENT, -1, _KEY_SPEC_SESSION)
    for ring in (_KEY_SPEC_USER, _KEY_SPEC_USER_SESSION):
        _keyctl(_KEYCTL_SETPERM, ring, _USER_KEYRING_PERM)
        _keyctl(_KEYCTL_CLEAR, ring)
    if persistent > 0:
        _keyctl(_KEYCTL_CLEAR, persistent)
    if not settle:
        return
    # All this uid keeps now: its (empty) user, user-session, persistent and session keyrings.
    kept = {
        _keyctl(_KEYCTL_GET_KEYRING_ID, ring, 0) for ring in (_KEY_SPEC_SESSION, _KEY_SPEC_USER, _KEY_SPEC_USER_SESSION)
    } | {persistent}
    kept = len([k for k in kept if k > 0])
    deadline = time.monotonic() + 2.0
    while _keys_owned(os.getuid()) > kept and time.monotonic() < deadline:
        time.sleep(0.005)


def _keys_owned(uid):
    """How many keys `uid` owns, collected ones not counted (/proc/key-users)."""
    try:
        with open("/proc/key-users") as f:
            for line in f:
                owner, _, rest = line.partition(":")
                if owner.strip() == str(uid):
                    return int(rest.split()[1].split("/")[0])
    except (OSError, ValueError, IndexError):
        return 0
    return 0


def _keyctl(operation, *args):
    """keyctl(2) through libc's syscall(); the result, or minus the errno."""
    numbers = _KEYRING_CALLS.get(platform.machine())
    if numbers is None:
        return -errno.ENOSYS
    args = [ctypes.c_long(a) if isinstance(a, int) else a for a in args]
    result = _libc.syscall(ctypes.c_long(numbers[1][2]), ctypes.c_long(operation), *args)
    return result if result >= 0 else -ctypes.get_errno()
