"""Healing is an explicit step (issue 54): ``fitflow heal CONFIG`` runs it alone, the workflow
runs it first, and a dry run says what a real run would rebuild instead of contradicting
itself with "Nothing to be done"."""

import shutil
import subprocess
import sys

import pytest

from conftest import TINY_CONFIG, artefact_hashes, run_snakemake

pytestmark = pytest.mark.slow
FIT = "fits/gaussian_peak/noise-0.05/nlls/default/rep-0/result.json"


def fitflow(workdir, *args):
    command = [sys.executable, "-m", "fitflow", *args]
    return subprocess.run(command, cwd=workdir, capture_output=True, text=True, timeout=120, check=True)


def test_heal_names_the_damage_and_the_next_run_rebuilds_it(tmp_path, tiny_run):
    shutil.copytree(tiny_run, tmp_path / "results" / "tiny")  # times kept: the records match
    root = tmp_path / "results" / "tiny"
    damaged = root / FIT
    damaged.write_text(damaged.read_text().replace('"status": "ok"', '"status": "ok" '))

    looked = fitflow(tmp_path, "heal", "--dry-run", str(TINY_CONFIG))
    assert FIT in looked.stdout and "a real run rebuilds" in looked.stdout
    assert damaged.exists() and (root / "report.html").exists(), "a dry run removes nothing"

    dry = run_snakemake(tmp_path, "-n")
    assert FIT in dry.stderr
    assert "this dry run removed nothing" in dry.stderr, dry.stderr[-2000:]

    healed = fitflow(tmp_path, "heal", str(TINY_CONFIG))
    assert "removed" in healed.stdout and not damaged.exists() and not (root / "report.html").exists()
    listed = run_snakemake(tmp_path, "-n")
    assert "Nothing to be done" not in listed.stdout + listed.stderr
    assert "fit " in listed.stdout + listed.stderr

    run_snakemake(tmp_path)
    assert artefact_hashes(root) == artefact_hashes(tiny_run)
    again = fitflow(tmp_path, "heal", str(TINY_CONFIG))
    assert "is as its job wrote it" in again.stdout
