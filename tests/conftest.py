"""Shared test helpers: the repository's paths and a Snakemake runner."""

import hashlib
import os
from pathlib import Path
import subprocess
import sys

import pytest

REPO = Path(__file__).resolve().parents[1]
TINY_CONFIG = REPO / "config" / "test-config.yaml"


def run_snakemake(workdir, *args, configfile=TINY_CONFIG, env=None, check=True, timeout=600):
    """Run the repository's workflow with ``workdir`` as working directory."""
    command = [
        sys.executable, "-m", "snakemake",
        "--snakefile", str(REPO / "Snakefile"),
        "--directory", str(workdir),
        "--workflow-profile", str(REPO / "workflow" / "profiles" / "default"),
        "--cores", "2",
        "--quiet", "rules",
    ]
    if configfile is not None:
        command += ["--configfile", str(configfile)]
    command += list(args)
    proc = subprocess.run(
        command, capture_output=True, text=True, timeout=timeout, env={**os.environ, **(env or {})}
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"snakemake failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc


def artefact_hashes(root, exclude_names=("timing.json", "timings.csv", "report.html", "cost_accuracy.png")):
    """SHA-256 of every artefact below ``root`` except logs and the files that carry
    wall-clock times (README: Reproducibility)."""
    root = Path(root)
    hashes = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if path.is_file() and rel.parts[0] != "logs" and path.name not in exclude_names:
            hashes[str(rel)] = hashlib.sha256(path.read_bytes()).hexdigest()
    return hashes


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory):
    """One end-to-end run of the tiny experiment, shared by the tests that read it."""
    workdir = tmp_path_factory.mktemp("tiny")
    run_snakemake(workdir)
    return workdir / "results" / "tiny"
