"""The cluster path: tools/slurm/submit.sh on a real one-node Slurm that this test starts (munged,
slurmctld and slurmd from Debian's slurm-wlm and munge, with their own config, key, ports and
folders, stopped by pid afterwards). The samples graded through sbatch, one array task per shard and
a merge job after them, must give what a local run gives. Skipped, saying why, where Slurm is not
installed (tools/slurm/install-local.sh installs it) or cannot start."""

import os
import pathlib
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import time

import pytest

import autograder
from tests.test_shard import assert_same_gradebook

ROOT = autograder.ROOT
SUBMIT = os.path.join(ROOT, "tools", "slurm", "submit.sh")
ASSIGNMENT = "momentum"
SHARDS = 3
JOB_TIMEOUT = 600  # seconds for the whole array and the merge, on a busy 2-core machine


def _free_ports(n):
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def _why_not():
    missing = [p for p in ("munged", "slurmctld", "slurmd", "sbatch", "squeue") if not shutil.which(p)]
    if missing:
        return f"Slurm not installed ({', '.join(missing)} missing; tools/slurm/install-local.sh installs it)"
    if os.geteuid() != 0:
        return "starting slurmd needs root"
    try:
        pwd.getpwnam("munge")
    except KeyError:
        return "no 'munge' user to run munged as"
    return None


def _config(d, ctld_port, node_port):
    host = socket.gethostname().split(".")[0]
    with open("/proc/meminfo") as f:
        mem_mb = int(f.readline().split()[1]) // 1024
    return f"""ClusterName=kittest
SlurmctldHost={host}(127.0.0.1)
SlurmctldPort={ctld_port}
SlurmdPort={node_port}
SlurmUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket={d}/munge/munge.socket
StateSaveLocation={d}/state
SlurmdSpoolDir={d}/spool
SlurmctldPidFile={d}/slurmctld.pid
SlurmdPidFile={d}/slurmd.pid
SlurmctldLogFile={d}/slurmctld.log
SlurmdLogFile={d}/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
MpiDefault=none
JobCompType=jobcomp/none
AccountingStorageType=accounting_storage/none
NodeName={host} NodeAddr=127.0.0.1 CPUs={os.cpu_count()} RealMemory={mem_mb * 9 // 10} State=UNKNOWN
PartitionName=kit Nodes=ALL Default=YES MaxTime=INFINITE State=UP
"""


def _tail(path, n=20):
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-n:])
    except OSError:
        return "(none)"


@pytest.fixture(scope="module")
def slurm():
    """Environment for sbatch/squeue talking to a one-node cluster started here."""
    why = _why_not()
    if why:
        pytest.skip(why)
    # not under pytest's tmp folder: that is private to root, and munged runs as 'munge'
    d = pathlib.Path(tempfile.mkdtemp(prefix="kit-slurm-"))
    os.chmod(d, 0o755)
    for sub in ("munge", "state", "spool"):
        (d / sub).mkdir()
    key = d / "munge" / "munge.key"
    key.write_bytes(os.urandom(1024))
    munge = pwd.getpwnam("munge")
    os.chown(d / "munge", munge.pw_uid, munge.pw_gid)
    os.chown(key, munge.pw_uid, munge.pw_gid)
    os.chmod(key, 0o400)
    os.chmod(d / "munge", 0o755)
    (d / "slurm.conf").write_text(_config(d, *_free_ports(2)))
    (d / "cgroup.conf").write_text("CgroupPlugin=cgroup/v1\n")  # 22.05 has no 'disabled'; unused with task/none
    env = dict(os.environ, SLURM_CONF=str(d / "slurm.conf"))
    m = f"{d}/munge"
    commands = [
        ["runuser", "-u", "munge", "--", "munged", "--foreground", f"--key-file={m}/munge.key",
         f"--socket={m}/munge.socket", f"--pid-file={m}/munged.pid", f"--log-file={m}/munged.log",
         f"--seed-file={m}/munge.seed"],
        ["slurmctld", "-D"],
        ["slurmd", "-D"],
    ]  # fmt: skip
    daemons = []
    try:
        for cmd in commands:
            daemons.append(subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            time.sleep(1)
            if daemons[-1].poll() is not None:
                name = cmd[0] if cmd[0] != "runuser" else "munge/munged"
                pytest.skip(f"Slurm could not start here: {name} exited; its log:\n{_tail(d / f'{name}.log')}")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            state = subprocess.run(["sinfo", "-h", "-o", "%t"], env=env, capture_output=True, text=True).stdout
            if state.strip() in ("idle", "mix", "alloc"):
                break
            time.sleep(1)
        else:
            pytest.skip(f"Slurm started but its node never became idle: slurmd log:\n{_tail(d / 'slurmd.log')}")
        yield env, d
    finally:
        for p in reversed(daemons):  # only the daemons this test started, by their pid
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        shutil.rmtree(d, ignore_errors=True)


def _wait(env, jobs, d):
    deadline = time.monotonic() + JOB_TIMEOUT
    while time.monotonic() < deadline:
        queued = subprocess.run(["squeue", "-h", "-j", ",".join(jobs)], env=env, capture_output=True, text=True)
        if queued.returncode == 0 and not queued.stdout.strip():
            return
        time.sleep(2)
    subprocess.run(["scancel", *jobs], env=env)
    pytest.fail(
        f"Slurm jobs {jobs} did not finish within {JOB_TIMEOUT} s; slurmctld log:\n{_tail(d / 'slurmctld.log')}"
    )


def test_samples_graded_through_sbatch_equal_a_local_run(slurm, tmp_path):
    env, d = slurm
    env = dict(env, PYTHON=sys.executable)
    out = tmp_path / "cluster"
    submitted = subprocess.run(
        ["bash", SUBMIT, ASSIGNMENT, "", str(out), str(SHARDS)], env=env, capture_output=True, text=True, cwd=ROOT
    )
    assert submitted.returncode == 0, submitted.stderr
    array, merge = (
        submitted.stdout.split("array job ")[1].split()[0],
        submitted.stdout.split("merge job ")[1].split()[0],
    )
    _wait(env, [array, merge], d)
    logs = "\n".join(f"--- {n}\n{_tail(out / 'slurm-logs' / n)}" for n in sorted(os.listdir(out / "slurm-logs")))
    assert sorted(os.listdir(out / "slurm-logs")) == sorted(
        [f"shard-{k}-of-{SHARDS}.log" for k in range(1, SHARDS + 1)] + ["merge.log"]
    ), logs
    assert (out / "grades.csv").exists(), f"the merge job wrote no grades.csv:\n{logs}"

    from autograder import cli

    local = tmp_path / "local"
    assert cli.main(["grade", ASSIGNMENT, "-o", str(local), "-q", "-j", "2"]) == 0
    shutil.rmtree(out / "slurm-logs")
    assert_same_gradebook(out, local)


def test_submit_asks_for_a_gpu_only_where_the_assignment_has_gpu_tests(tmp_path):
    """DRY_RUN prints the sbatch lines; needs no Slurm."""

    def lines(assignment, **extra):
        env = dict(os.environ, DRY_RUN="1", PYTHON=sys.executable, **extra)
        run = subprocess.run(
            ["bash", SUBMIT, assignment, "", str(tmp_path / assignment), "4"], env=env, capture_output=True, text=True
        )
        assert run.returncode == 0, run.stderr
        return run.stdout.splitlines()

    gpu, numpy_only = lines("gpu_training"), lines("momentum")
    assert "--gres=gpu:1" in gpu[0] and "--array=1-4" in gpu[0]
    assert "--gres" not in numpy_only[0] and "--array=1-4" in numpy_only[0]
    assert "--dependency=afterany:" in gpu[1] and "merge.sbatch" in gpu[1]
    assert "--gres" not in lines("gpu_training", GPUS="0")[0]


def test_submit_refuses_bad_arguments(tmp_path):
    for args, says in (
        (["momentum", str(tmp_path / "nowhere"), str(tmp_path / "out")], "submissions folder not found"),
        (["momentum", "", str(tmp_path / "out"), "zero"], "SHARDS must be a positive integer"),
        (["momentum"], "usage"),
    ):
        run = subprocess.run(
            ["bash", SUBMIT, *args],
            capture_output=True,
            text=True,
            env=dict(os.environ, DRY_RUN="1", PYTHON=sys.executable),
        )
        assert run.returncode == 2 and says in run.stderr
