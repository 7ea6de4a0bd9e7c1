"""A workflow killed with SIGKILL mid-run, then rerun, ends complete and identical.

Every artefact is written to a temporary name and renamed into place, and each
job's declared output (its batch manifest) is written last, so a kill leaves
either whole files or none that Snakemake takes as done. After the kill the user
runs ``snakemake --unlock`` and the same command again (the default profile has
``rerun-incomplete``). The result must equal an uninterrupted run, byte for byte.
"""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from conftest import REPO, TINY_CONFIG, artefact_hashes, run_snakemake

pytestmark = pytest.mark.slow


def start_workflow(workdir):
    command = [sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"), "--directory", str(workdir),
               "--workflow-profile", str(REPO / "workflow" / "profiles" / "default"), "--cores", "2",
               "--quiet", "rules", "--configfile", str(TINY_CONFIG)]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)


def test_sigkill_then_rerun_gives_the_uninterrupted_result(tmp_path, tiny_run):
    root = tmp_path / "results" / "tiny"
    process = start_workflow(tmp_path)
    deadline = time.monotonic() + 300
    try:
        # Kill once some fits are written but the experiment is not finished.
        while time.monotonic() < deadline and process.poll() is None:
            if len(list(root.glob("fits/*/*/*/*/rep-*/result.json"))) >= 6:
                break
            time.sleep(0.05)
        assert process.poll() is None, "the workflow finished before it could be interrupted"
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    assert not (root / "report.html").exists()

    # Whatever a declared output exists, it is whole: every batch manifest parses.
    for manifest in root.glob("**/batch-*.json"):
        json.loads(manifest.read_text())

    run_snakemake(tmp_path, "--unlock")
    run_snakemake(tmp_path)
    # A kill during a write can leave its hidden temporary file (".name.XXXX.tmp"):
    # never renamed into place, never read; everything else must be identical.
    interrupted = {k: v for k, v in artefact_hashes(root).items() if not k.rsplit("/", 1)[-1].startswith(".")}
    assert interrupted == artefact_hashes(tiny_run)
