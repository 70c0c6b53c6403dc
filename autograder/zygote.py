"""A fork server for sandbox workers: it imports the heavy modules (numpy, torch, ...) once, and
each sandbox's worker is forked from it instead of starting Python and importing them again.

The zygote never runs or reads submission code: it only forks. Its child does what the `unshare`
command line did for a freshly started worker, in the same order: a session of its own, joining
the sandbox's cgroup, new mount (private), network, PID, IPC and UTS namespaces, and a fork whose
child is PID 1 there with a fresh /proc and dies with its parent (--kill-child); that child then
runs worker.main. Used only where the grader runs as root (where the namespaces need no user
namespace); elsewhere the sandbox starts its worker as before.
"""

import ctypes
import json
import os
import signal
import socket
import subprocess
import sys
import threading

_CLONE = {"mount": 0x00020000, "uts": 0x04000000, "ipc": 0x08000000, "net": 0x40000000, "pid": 0x20000000}
_MS_REC, _MS_PRIVATE = 0x4000, 1 << 18
_MS_NOSUID, _MS_NODEV, _MS_NOEXEC = 2, 4, 8
_PR_SET_PDEATHSIG = 1
_BOOTSTRAP = "import sys; sys.path.insert(0, {root!r}); from autograder.zygote import serve; serve()"


class ZygoteError(RuntimeError):
    pass


class Zygote:
    """The grader's side: start() once, then spawn() a worker per sandbox (thread-safe)."""

    def __init__(self, preload, warm_imports, env, root):
        self._lock = threading.Lock()
        self._sock, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        config = json.dumps({"preload": list(preload), "warm_imports": warm_imports})
        try:
            self._proc = subprocess.Popen(
                [sys.executable, "-I", "-c", _BOOTSTRAP.format(root=root), config, str(theirs.fileno())],
                pass_fds=(theirs.fileno(),),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                env=env,
                start_new_session=True,
            )
        finally:
            theirs.close()

    def wait_ready(self, timeout):
        self._sock.settimeout(timeout)
        try:
            if self._sock.recv(16) != b"ready":
                raise ZygoteError("the zygote stopped while importing")
        except OSError as err:
            raise ZygoteError(f"the zygote did not start: {err}") from None

    def alive(self):
        return self._proc.poll() is None

    @property
    def pid(self):
        return self._proc.pid

    def spawn(self, config, procs_files, namespaces, fds, timeout):
        """Fork a worker with `fds` as its stdin, stdout, stderr; returns its pid."""
        message = json.dumps({"config": config, "procs": list(procs_files), "namespaces": namespaces}).encode()
        with self._lock:
            self._sock.settimeout(timeout)
            try:
                socket.send_fds(self._sock, [len(message).to_bytes(8, "little") + message], list(fds))
                reply = self._sock.recv(64)
            except OSError as err:
                raise ZygoteError(f"the zygote is gone: {err}") from None
        if not reply.startswith(b"pid "):
            raise ZygoteError(f"the zygote could not fork a worker: {reply[:60]!r}")
        return int(reply[4:])

    def close(self):
        self._sock.close()
        if self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait()


# ---------------------------------------------------------------- the zygote process


def serve():
    config = json.loads(sys.argv[1])
    sock = socket.socket(fileno=int(sys.argv[2]))
    from autograder import worker

    worker.preload(config)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # its forks are reaped by the kernel
    sock.sendall(b"ready")
    while True:
        try:
            head, fds, _, _ = socket.recv_fds(sock, 8, 3)
        except OSError:
            return
        if len(head) < 8:  # the grader is gone
            return
        size = int.from_bytes(head, "little")
        body = b""
        while len(body) < size:
            chunk = sock.recv(size - len(body))
            if not chunk:
                return
            body += chunk
        request = json.loads(body)
        pid = os.fork()
        if pid == 0:
            try:
                sock.close()
                _become_worker(request, fds)
            finally:
                os._exit(70)
        for fd in fds:
            os.close(fd)
        sock.sendall(f"pid {pid}".encode())


def _become_worker(request, fds):
    libc = ctypes.CDLL(None, use_errno=True)
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    os.setsid()
    for target, fd in enumerate(fds):
        os.dup2(fd, target)
    os.closerange(3, 4096)
    for path in request["procs"]:  # join the sandbox's cgroup before anything of it runs
        with open(path, "w") as f:
            f.write("0")
    if request["namespaces"]:
        if libc.unshare(sum(_CLONE.values())) != 0:
            raise OSError(ctypes.get_errno(), "unshare")
        child = os.fork()
        if child:  # as `unshare --fork`: wait for PID 1 of the new namespace, exit as it did
            _, status = os.waitpid(child, 0)
            os._exit(os.waitstatus_to_exitcode(status) & 0xFF)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if libc.mount(b"none", b"/", None, _MS_REC | _MS_PRIVATE, None) != 0:
            raise OSError(ctypes.get_errno(), "mount --make-rprivate /")
        if libc.mount(b"proc", b"/proc", b"proc", _MS_NOSUID | _MS_NODEV | _MS_NOEXEC, None) != 0:
            raise OSError(ctypes.get_errno(), "mount proc")
    from autograder import worker

    worker.main(request["config"])
