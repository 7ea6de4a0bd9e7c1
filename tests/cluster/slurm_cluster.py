"""A real one-node SLURM cluster on this machine, for the cluster tests.

Needs root and Debian's slurm-wlm and munge (.ci/run installs them). There is
no systemd, so the daemons are started by hand in the foreground, with a
minimal slurm.conf in a temporary folder, and stopped by their PIDs.
"""

import os
from pathlib import Path
import shutil
import socket
import subprocess
import time

import pytest

DAEMONS = ("munged", "slurmctld", "slurmd", "sinfo", "sbatch", "squeue")


def _missing_reason():
    if os.geteuid() != 0:
        return "starting SLURM daemons needs root"
    missing = [d for d in DAEMONS if shutil.which(d) is None and not Path(f"/usr/sbin/{d}").exists()]
    if missing:
        return f"SLURM is not installed ({', '.join(missing)} missing): apt-get install slurm-wlm munge"
    try:
        import snakemake_executor_plugin_slurm  # noqa: F401
    except ImportError:
        return "the executor plugin is not installed: pip install '.[slurm]'"
    return None


def _slurm_conf(folder):
    host = socket.gethostname().split(".")[0]
    memory_mb = int(int(open("/proc/meminfo").readline().split()[1]) / 1024 * 0.9)
    for sub in ("state", "spool"):
        (folder / sub).mkdir()
    conf = folder / "slurm.conf"
    conf.write_text(f"""ClusterName=fitflowtest
SlurmctldHost={host}
SlurmUser=root
AuthType=auth/munge
StateSaveLocation={folder}/state
SlurmdSpoolDir={folder}/spool
SlurmctldPidFile={folder}/slurmctld.pid
SlurmdPidFile={folder}/slurmd.pid
SlurmctldLogFile={folder}/slurmctld.log
SlurmdLogFile={folder}/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
MinJobAge=300
ReturnToService=2
NodeName={host} CPUs={os.cpu_count()} RealMemory={memory_mb} State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
""")
    return conf


SYSTEM_CONF = Path("/etc/slurm/slurm.conf")


def _left_by_a_killed_run():
    """True when SYSTEM_CONF is this fixture's own link from a run killed before its
    teardown: a link into a pytest temporary folder that no running slurmctld uses. Left in
    place, it made every later run skip this test and every Snakemake start-up wait 9 s for
    ``scontrol`` to give up on the controller that is gone."""
    if not SYSTEM_CONF.is_symlink():
        return False
    target = os.readlink(SYSTEM_CONF)
    if "/pytest-of-" not in target or not target.endswith("/slurm.conf"):
        return False
    running = subprocess.run(["pgrep", "-f", f"slurmctld .*{target}"], capture_output=True).returncode == 0
    return not running


@pytest.fixture(scope="session")
def slurm_cluster(tmp_path_factory):
    """Start munge, slurmctld and slurmd; yield the environment that reaches them."""
    reason = _missing_reason()
    if reason:
        pytest.skip(reason)
    if _left_by_a_killed_run():
        SYSTEM_CONF.unlink()
    if SYSTEM_CONF.exists() or SYSTEM_CONF.is_symlink():
        pytest.skip(f"{SYSTEM_CONF} exists: this machine has a SLURM of its own, which the test will not touch")
    folder = tmp_path_factory.mktemp("slurm")
    conf = _slurm_conf(folder)
    # Job steps (srun inside a batch job) read the standard location, as on a real cluster.
    SYSTEM_CONF.parent.mkdir(parents=True, exist_ok=True)
    SYSTEM_CONF.symlink_to(conf)
    env = {**os.environ, "SLURM_CONF": str(conf)}
    run = Path("/run/munge")
    run.mkdir(parents=True, exist_ok=True)
    shutil.chown(run, "munge", "munge")
    processes = []
    started_munge = subprocess.run(["pgrep", "-x", "munged"], capture_output=True).returncode != 0
    if started_munge:
        subprocess.run(["runuser", "-u", "munge", "--", "munged"], check=True)
    for command in (["slurmctld", "-D", "-i", "-f", str(conf)], ["slurmd", "-D", "-f", str(conf)]):
        log = open(folder / f"{command[0]}.out", "w")
        processes.append(subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT))
    deadline = time.time() + 60
    while time.time() < deadline:
        state = subprocess.run(["sinfo", "-h", "-o", "%T"], env=env, capture_output=True, text=True).stdout
        if "idle" in state:
            break
        time.sleep(0.5)
    else:
        for p in processes:
            p.kill()
        SYSTEM_CONF.unlink()
        pytest.fail(f"SLURM did not come up; slurmctld log:\n{(folder / 'slurmctld.log').read_text()[-2000:]}")
    yield env
    for p in processes:
        p.terminate()
    for p in processes:
        try:
            p.wait(timeout=20)
        except subprocess.TimeoutExpired:
            p.kill()
    SYSTEM_CONF.unlink()
    if started_munge:
        subprocess.run(["pkill", "-x", "munged"], check=False)
