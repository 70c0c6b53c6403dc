"""The sandbox's warm worker: it imports the heavy modules once, locks itself down, then forks a
fresh child for every graded test. Runs as PID 1 of its own namespaces when the OS allows it.

Protocol on fds 0/1 (wire frames): the grader sends {"cmd": "load", ...} once, then
{"cmd": "run", ...} per test; every reply is a dict. Student code only ever runs in a child.
"""
import ctypes
import importlib
import json
import linecache
import os
import resource
import select
import shutil
import signal
import sys
import time
import types

from autograder import probes, script, wire

_libc = ctypes.CDLL(None, use_errno=True)
_MS_REC, _MS_PRIVATE, _MS_NOSUID, _MS_NODEV = 0x4000, 1 << 18, 2, 4
_CLONE_NEWUSER = 0x10000000
_PR_SET_DUMPABLE, _PR_SET_NO_NEW_PRIVS = 4, 38
_OUTPUT_KEEP = 4096


def main():
    config = json.loads(sys.argv[1])
    for name in config.get("preload", []):
        importlib.import_module(name)
    isolation = _lock_down(config)
    _send({"ready": True, "isolation": isolation})
    source = None
    counter = 0
    while True:
        request = wire.recv(0)
        if request is None or request.get("cmd") == "exit":
            return
        if request["cmd"] == "load":
            source = request
            _send({"loaded": True})
        elif request["cmd"] == "run":
            counter += 1
            _send(_run_test(source, request, counter, config))


def _send(message):
    wire.send(1, message)


# ---------------------------------------------------------------- lock-down (once per worker)

def _lock_down(config):
    """Apply what isolation the OS allows; return {measure: applied or why not}."""
    report = {}
    in_namespace = os.getpid() == 1
    report["namespaces"] = "pid, mount, network" if in_namespace else "not available"
    if in_namespace:
        _mount(b"none", b"/", None, _MS_REC | _MS_PRIVATE)
        hidden = []
        for path in config["hide"] + ["/tmp", "/dev/shm", "/var/tmp", "/root", "/home"]:
            if os.path.isdir(path) and _mount(b"tmpfs", path.encode(), b"tmpfs", _MS_NOSUID | _MS_NODEV,
                                              b"size=%dk,mode=1777" % (config["tmp_kib"],)):
                hidden.append(path)
        report["hidden paths"] = f"{len(hidden)} hidden behind empty tmpfs"
    else:
        report["hidden paths"] = "not hidden (no mount namespace): rely on file permissions"
    uid = config.get("uid")
    if uid is not None:
        os.setgroups([])
        os.setgid(uid)
        os.setuid(uid)
        report["user"] = f"dropped to uid {uid}"
    elif in_namespace and os.geteuid() == 0:
        # A user namespace made us root here: a nested one leaves us no power over the mounts.
        ok = _libc.unshare(_CLONE_NEWUSER) == 0
        report["user"] = "capabilities dropped (nested user namespace)" if ok else "capabilities NOT dropped"
    else:
        report["user"] = "runs as the grader's own user"
    _libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
    _libc.prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0)
    return report


def _mount(source, target, fstype, flags, data=None):
    return _libc.mount(source, target, fstype, flags, data) == 0


# ---------------------------------------------------------------- one test in a fresh child

def _run_test(source, request, counter, config):
    workdir = f"/tmp/t{counter}" if os.getpid() == 1 else _fresh_tmpdir(counter)
    os.makedirs(workdir, mode=0o700, exist_ok=True)
    read_end, write_end = os.pipe()
    started = time.monotonic()
    pid = os.fork()
    if pid == 0:
        os.close(read_end)
        _child(source, request, workdir, write_end)  # never returns
    os.close(write_end)
    deadline = started + request["timeout"]
    reply = _collect(pid, read_end, deadline)
    reply["seconds"] = round(time.monotonic() - started, 4)
    _kill_leftovers(pid)
    reply["stdout"] = _read_head(os.path.join(workdir, ".output"))
    shutil.rmtree(workdir, ignore_errors=True)
    os.close(read_end)
    return reply


def _fresh_tmpdir(counter):
    import tempfile
    return tempfile.mkdtemp(prefix=f"grade-t{counter}-")


def _child(source, request, workdir, result_fd):
    try:
        os.setsid()
        os.chdir(workdir)
        out = os.open(".output", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(out, 1)
        os.dup2(out, 2)
        os.closerange(3, result_fd)
        os.closerange(result_fd + 1, 4096)
        _set_limits(request["limits"])
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # an oversized write fails instead of killing
        reply = _execute(source, request)
        sys.stdout.flush()
        sys.stderr.flush()
    except BaseException as exc:  # the sandbox itself failed: say so rather than crash silently
        reply = {"status": "error", "error": {"phase": "sandbox", "type": type(exc).__name__,
                                              "message": str(exc)[:300]}}
    try:
        wire.send(result_fd, reply)
    except BaseException as exc:
        wire.send(result_fd, {"status": "error", "error": {
            "phase": "result", "type": type(exc).__name__, "message": str(exc)[:300]}})
    os._exit(0)


def _set_limits(limits):
    vm_kib = _vm_size_kib()
    pairs = {
        resource.RLIMIT_CPU: limits["cpu_seconds"],
        resource.RLIMIT_FSIZE: limits["file_bytes"],
        resource.RLIMIT_NOFILE: limits["open_files"],
        resource.RLIMIT_NPROC: limits["processes"],
        resource.RLIMIT_CORE: 0,
    }
    if limits.get("memory_bytes"):
        pairs[resource.RLIMIT_AS] = vm_kib * 1024 + limits["memory_bytes"]
    for which, value in pairs.items():
        resource.setrlimit(which, (value, value))


def _vm_size_kib():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmSize:"):
                return int(line.split()[1])
    return 0


def _execute(source, request):
    module = types.ModuleType(source["modname"])
    module.__file__ = source["filename"]
    text = source["source"]
    linecache.cache[source["filename"]] = (len(text), None, text.splitlines(True), source["filename"])
    sys.modules[source["modname"]] = module
    try:
        code = compile(source["source"], source["filename"], "exec")
        exec(code, module.__dict__)
    except BaseException as exc:
        return {"status": "import_error", "error": _describe_import_error(exc, source["filename"])}
    try:
        outputs = script.run(request["script"], module, probes)
    except script.StepError as err:
        return {"status": "error", "error": {"phase": "run", "step": err.step, "type": err.exc_type,
                                             "message": err.message, "where": err.where}}
    return {"status": "ok", "outputs": {name: script.to_plain(v) for name, v in outputs.items()}}


def _describe_import_error(exc, filename):
    if isinstance(exc, SyntaxError):
        return {"phase": "import", "type": "SyntaxError", "line": exc.lineno,
                "message": f"{exc.msg} ({filename}, line {exc.lineno}): {(exc.text or '').strip()}"}
    where = script._submission_frame(exc, types.SimpleNamespace(__file__=filename))
    message = script._safe_str(exc)
    if isinstance(exc, SystemExit):
        message = f"the module called sys.exit({exc.code!r}) while being imported"
    return {"phase": "import", "type": type(exc).__name__, "message": message, "where": where}


def _collect(pid, read_end, deadline):
    """Read the child's one reply frame, or decide why there is none, by the deadline."""
    pidfd = os.pidfd_open(pid)
    buffer = b""
    try:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                return {"status": "timeout"}
            readable, _, _ = select.select([read_end, pidfd], [], [], remaining)
            if read_end in readable:
                chunk = os.read(read_end, 1 << 20)
                buffer += chunk
                if len(buffer) >= 8:
                    size = int.from_bytes(buffer[:8], "little")
                    if size > wire.MAX_FRAME:
                        os.kill(pid, signal.SIGKILL)
                        os.waitpid(pid, 0)
                        return {"status": "error", "error": {"phase": "result", "type": "OutputTooLarge",
                                                             "message": f"result of {size} bytes"}}
                    if len(buffer) >= 8 + size:
                        os.kill(pid, signal.SIGKILL)  # its work is done; nothing may linger
                        os.waitpid(pid, 0)
                        return _decode_reply(buffer[8:8 + size])
                if chunk:
                    continue
            if pidfd in readable or (read_end in readable and not chunk):
                _, status = os.waitpid(pid, 0)
                return {"status": "crashed", "exit": _exit_description(status)}
    finally:
        os.close(pidfd)


def _decode_reply(payload):
    try:
        reply = wire.decode(payload)
    except wire.WireError as err:
        return {"status": "error", "error": {"phase": "result", "type": "WireError", "message": str(err)}}
    if not isinstance(reply, dict) or reply.get("status") not in ("ok", "error", "import_error"):
        return {"status": "error", "error": {"phase": "result", "type": "BadReply",
                                             "message": "the test process sent a malformed reply"}}
    return reply


def _exit_description(status):
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        name = signal.Signals(sig).name if sig in signal.Signals._value2member_map_ else str(sig)
        why = {"SIGSEGV": "segmentation fault", "SIGXCPU": "CPU time limit", "SIGKILL": "killed",
               "SIGABRT": "aborted", "SIGBUS": "bus error"}.get(name, "signal")
        return f"killed by {name} ({why})"
    return f"process exited with code {os.WEXITSTATUS(status)} before returning a result (os._exit?)"


def _kill_leftovers(pid):
    """Nothing a test started may outlive it."""
    if os.getpid() == 1:
        try:
            os.kill(-1, signal.SIGKILL)  # as PID 1: every other process in this namespace
        except ProcessLookupError:
            pass
    else:
        try:
            os.killpg(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    while True:
        try:
            if os.waitpid(-1, os.WNOHANG) == (0, 0):
                break
        except ChildProcessError:
            break


def _read_head(path):
    try:
        with open(path, "rb") as f:
            data = f.read(_OUTPUT_KEEP + 1)
    except OSError:
        return ""
    text = data[:_OUTPUT_KEEP].decode("utf-8", "replace")
    return text + ("\n[output truncated]" if len(data) > _OUTPUT_KEEP else "")


if __name__ == "__main__":
    main()
