"""Chaos (issue 34): SIGKILL random jobs of a run of the test experiment while it runs,
corrupt a random artefact after it and damage or delete a random record of what was written,
run again, and every artefact equals a clean run's.

The chaos is seeded (``FITFLOW_CHAOS_SEED``, default 0), so a failure is reproduced with
the same seed; each seed kills different jobs and damages a different file."""

import os
from pathlib import Path
import random
import signal
import subprocess
import sys
import time

import pytest

from conftest import REPO, TINY_CONFIG, artefact_hashes, run_snakemake

pytestmark = pytest.mark.slow
SEED = int(os.environ.get("FITFLOW_CHAOS_SEED", "0"))


def session_processes(session):
    """``{pid: parent pid}`` of the processes of ``session`` (their /proc stat's sixth field)."""
    parents = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == session:
            parents[int(stat.parent.name)] = int(fields[1])
    return parents


def job_processes(snakemake_pid):
    """``{pid: parent pid}`` of the processes Snakemake's jobs run (its session, but not
    itself), the workers a job forks for its units among them."""
    parents = session_processes(snakemake_pid)
    parents.pop(snakemake_pid, None)
    return parents


def damage(path, rng):
    data = bytearray(path.read_bytes())
    if not data or rng.random() < 0.3:
        path.write_bytes(bytes(data[: len(data) // 2]))  # cut short
    else:
        data[rng.randrange(len(data))] ^= 0xFF  # a flipped byte
        path.write_bytes(bytes(data))


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="finds the running jobs through /proc")
def test_killed_jobs_and_a_damaged_artefact_heal_to_a_clean_runs_bytes(tmp_path, tiny_run):
    rng = random.Random(SEED)
    command = [
        sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"), "--directory", str(tmp_path),
        "--workflow-profile", str(REPO / "workflow" / "profiles" / "default"), "--cores", "2", "--quiet", "rules",
        "--configfile", str(TINY_CONFIG),
    ]  # fmt: skip
    run = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    killed, spent = 0, set()
    try:
        while run.poll() is None and killed < 3:
            # A unit SIGKILLed twice is blamed and recorded as a failed fit, by design
            # (fitflow.core.isolation), which is not the healing tested here: once a process
            # is killed, its parent's other processes are spared. (Three kills that hit one
            # emcee fit's worker twice left it failed, its bytes unlike a clean run's.)
            parents = job_processes(run.pid)
            jobs = sorted(pid for pid in parents if pid not in spent and parents[pid] not in spent)
            if jobs and rng.random() < 0.2:
                victim = rng.choice(jobs)
                os.kill(victim, signal.SIGKILL)
                spent |= {victim, parents[victim]}
                killed += 1
            time.sleep(0.25)
        run.wait(timeout=600)
    finally:
        if run.poll() is None:
            os.killpg(run.pid, signal.SIGKILL)
    assert killed, "the run ended before any job could be killed"
    root = tmp_path / "results" / "tiny"
    run_snakemake(tmp_path, "--unlock")
    run_snakemake(tmp_path)  # finishes what the kills stopped
    artefacts = sorted(p for p in root.rglob("*") if p.is_file() and "logs" not in p.relative_to(root).parts)
    victim = rng.choice(artefacts)
    damage(victim, rng)
    # The records that vouch for artefacts are targets too (issue 57): a record damaged or
    # deleted beside the damaged artefact must not make it "trusted".
    records = sorted(p for p in (root / "logs" / "written").rglob("*") if p.is_file())
    record = rng.choice(records) if records else None
    if record is not None:
        record.unlink() if rng.random() < 0.5 else damage(record, rng)
    healed = run_snakemake(tmp_path)
    assert "fitflow:" in healed.stderr, f"{victim} was damaged but nothing was rebuilt"
    assert artefact_hashes(root) == artefact_hashes(tiny_run), f"damaged: {victim} (and the record {record})"
