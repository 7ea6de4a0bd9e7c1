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


def change_a_digit(path):
    """One digit of a number in ``path`` changed, its size and modification time kept."""
    import os
    import re

    info = os.stat(path)
    text = path.read_text()
    match = re.search(r"(?<=\.)\d", text)  # a digit after a decimal point: a parameter's value
    digit = "1" if match.group() != "1" else "2"
    path.write_text(text[: match.start()] + digit + text[match.end() :])
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns))
    assert os.stat(path).st_size == info.st_size


def test_a_missing_record_is_not_trust_and_a_full_check_finds_an_edit_that_kept_size_and_time(tmp_path, tiny_run):
    """Issue 57: a job whose record (logs/written/) was deleted had its damaged fit served as
    good; an edit that keeps size and time is found by ``fitflow heal --full``, which hashes
    everything; after healing, the run's bytes are a clean run's."""
    shutil.copytree(tiny_run, tmp_path / "results" / "tiny")
    root = tmp_path / "results" / "tiny"
    unrecorded = root / "fits/cosine_series/default/ols/default/rep-0/result.json"
    edited = root / "fits/gaussian_peak/noise-0.1/nlls/default/rep-1/result.json"
    record = root / "logs/written/fits/cosine_series/default/ols/default/metrics-0.json"
    assert record.is_file()
    record.unlink()
    change_a_digit(unrecorded)
    change_a_digit(edited)

    quick = fitflow(tmp_path, "heal", "--dry-run", str(TINY_CONFIG)).stdout
    assert "nothing records what its job wrote" in quick and "cosine_series/default/ols" in quick
    assert "noise-0.1/nlls" not in quick  # size and time as recorded: the quick check trusts it
    full = fitflow(tmp_path, "heal", "--full", str(TINY_CONFIG)).stdout
    assert "noise-0.1/nlls/default/rep-1/result.json: its bytes differ" in full
    assert "cosine_series/default/ols" in full and not edited.exists()
    run_snakemake(tmp_path)
    assert artefact_hashes(root) == artefact_hashes(tiny_run)


def test_without_its_records_every_job_is_rebuilt_not_trusted(tmp_path, tiny_run):
    """Deleting logs/ switched healing off for every job; now nothing vouches for any of them."""
    shutil.copytree(tiny_run, tmp_path / "results" / "tiny")
    shutil.rmtree(tmp_path / "results" / "tiny" / "logs")
    said = fitflow(tmp_path, "heal", "--dry-run", str(TINY_CONFIG)).stdout
    lines = [line for line in said.splitlines() if "nothing records what its job wrote" in line]
    assert len(lines) >= 12 and "redoes the report" in said, said  # the 12 dataset batches at least


def test_report_on_a_missing_fit_names_it_and_the_way_to_heal_it(tmp_path, tiny_run):
    """It gave a FileNotFoundError traceback from the store (issue 57)."""
    shutil.copytree(tiny_run, tmp_path / "results" / "tiny")
    missing = "fits/cosine_series/default/ols/default/rep-0/result.json"
    (tmp_path / "results" / "tiny" / missing).unlink()
    proc = subprocess.run(
        [sys.executable, "-m", "fitflow", "report", "results/tiny"], cwd=tmp_path, capture_output=True, text=True
    )
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr[-2000:]
    assert missing in proc.stderr and "run snakemake" in proc.stderr and "fitflow heal" in proc.stderr


def test_a_record_that_is_not_even_text_is_rebuilt_not_a_traceback(tmp_path, tiny_run):
    """Found by the property test (tests/faults/test_damage_property.py): a record of what a job
    wrote with a byte that is not UTF-8 crashed the healing step with a UnicodeDecodeError."""
    shutil.copytree(tiny_run, tmp_path / "results" / "tiny")
    root = tmp_path / "results" / "tiny"
    record = sorted((root / "logs" / "written").rglob("*.json"))[0]
    data = record.read_bytes()
    record.write_bytes(data[:40] + b"\xcf" + data[41:])
    healed = fitflow(tmp_path, "heal", str(TINY_CONFIG))
    assert "its record of what the job wrote is damaged" in healed.stdout and "not UTF-8" in healed.stdout
    run_snakemake(tmp_path)
    assert artefact_hashes(root) == artefact_hashes(tiny_run)
