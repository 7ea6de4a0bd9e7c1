"""A workflow killed with SIGKILL mid-run, then rerun, ends complete and identical.

Every artefact is written to a temporary name and renamed into place, and each
job's declared output (its batch manifest) is written last, so a kill leaves
either whole files or none that Snakemake takes as done. After the kill the user
runs ``snakemake --unlock`` and the same command again (the default profile has
``rerun-incomplete``). The result must equal an uninterrupted run, byte for byte.
"""

import json

import pytest

from conftest import TINY_CONFIG, artefact_hashes, kill_workflow_when, run_snakemake

pytestmark = pytest.mark.slow


def test_sigkill_then_rerun_gives_the_uninterrupted_result(tmp_path, tiny_run):
    root = tmp_path / "results" / "tiny"
    # Kill once some fits are written but the experiment is not finished.
    kill_workflow_when(tmp_path, TINY_CONFIG, "results/tiny/fits/*/*/*/*/rep-*/result.json", 6)
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
