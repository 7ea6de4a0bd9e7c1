"""store: compact packs each chunk's datasets and fits into one archive. Its members must
be the folder layout's files byte for byte, every fit must stay addressable by its
identity, and reruns, growth and a SIGKILL must behave as in the folder layout."""

import hashlib
import json
import shutil
import zipfile

import pandas as pd
import pytest

from conftest import artefact_hashes, kill_workflow_when, run_snakemake, shipped_config, write_config

pytestmark = pytest.mark.slow


def compact_config(tmp_path, name="compact.yaml", **changes):
    config = shipped_config()
    config.update({"store": "compact", "chunks": 2, **changes})
    return write_config(config, tmp_path / name)


def archived_files(root):
    """SHA-256 of every member of the chunk archives, by member path."""
    hashes = {}
    for archive in sorted((root / "chunks").glob("chunk-*.zip")):
        with zipfile.ZipFile(archive) as handle:
            for name in handle.namelist():
                assert name not in hashes, f"{name} is in two archives"
                hashes[name] = hashlib.sha256(handle.read(name)).hexdigest()
    return hashes


def folder_files(root):
    """SHA-256 of the datasets/ and fits/ files of a folder-layout run (timings excepted)."""
    return {k: v for k, v in artefact_hashes(root).items() if k.split("/")[0] in ("datasets", "fits")}


@pytest.fixture(scope="module")
def compact_run(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("compact")
    config = compact_config(workdir)
    run_snakemake(workdir, configfile=config)
    return workdir, config, workdir / "results" / "tiny"


def test_archives_hold_the_folder_layouts_files_byte_for_byte(compact_run, tiny_run):
    _, _, root = compact_run
    expected = folder_files(tiny_run)
    assert len(expected) > 300
    assert archived_files(root) == expected
    for table in ("fits.csv", "fits.parquet"):
        assert (root / table).read_bytes() == (tiny_run / table).read_bytes()


def test_a_compact_run_writes_a_handful_of_files(compact_run, tiny_run):
    _, _, root = compact_run
    files = [p for p in root.rglob("*") if p.is_file()]
    assert not (root / "fits").exists() and not (root / "datasets").exists()
    # 2 archives + 2 manifests + 2 chunk logs + tables, experiment record, report, figures, logs
    assert len(files) <= 20, sorted(str(p.relative_to(root)) for p in files)
    assert len([p for p in tiny_run.rglob("*") if p.is_file()]) > 10 * len(files)


def test_every_fit_is_found_by_its_identity(compact_run, tiny_run):
    from fitflow.run.lookup import show_fit

    _, _, root = compact_run
    table = pd.read_csv(root / "fits.csv")
    assert len(table) == len(pd.read_csv(tiny_run / "fits.csv")) > 30
    for fit_dir in table["fit_dir"]:
        fit_id = fit_dir.removeprefix("fits/")
        shown, reference = show_fit(root, fit_id), show_fit(tiny_run, fit_id)
        for part in ("result", "metrics", "provenance"):
            assert shown[part] == reference[part], (fit_id, part)
        assert shown["timing"]["wall_time_s"] >= 0


def test_any_fit_is_drawn_on_demand_as_its_job_draws_it(compact_run, tiny_run, tmp_path):
    from fitflow.run.lookup import draw_fit

    _, _, root = compact_run
    drawn, stored_ones = 0, 0
    for fit_dir in pd.read_csv(root / "fits.csv").query("status == 'ok'")["fit_dir"]:
        fit_id = fit_dir.removeprefix("fits/")
        png = tmp_path / "fit.png"
        if not draw_fit(root, fit_id, png):
            continue
        stored = tiny_run / fit_dir / "fit.png"  # plot_fits: true drew replicate 0's in the job
        if stored.exists():
            assert png.read_bytes() == stored.read_bytes(), fit_id
            stored_ones += 1
        else:  # the other replicates: the same picture from either store
            assert draw_fit(tiny_run, fit_id, tmp_path / "folder.png")
            assert png.read_bytes() == (tmp_path / "folder.png").read_bytes(), fit_id
        drawn += 1
    assert drawn > 20 and 5 < stored_ones < drawn


def test_the_report_reads_the_archives(compact_run):
    _, _, root = compact_run
    html = (root / "report.html").read_text()
    assert "fitflow show results/tiny gaussian_peak/" in html  # failed fits point at their lookup
    assert "chunks/chunk-0.zip" in html  # the artefact manifest lists archives, not folders
    assert "data:image/png;base64" in html  # figures drawn from archived results


def test_rerun_is_a_no_op_and_regeneration_gives_the_same_archives(compact_run, tmp_path):
    workdir, config, root = compact_run
    assert "Nothing to be done" in run_snakemake(workdir, "-n", configfile=config).stdout
    other = tmp_path / "again"
    other.mkdir()
    run_snakemake(other, configfile=compact_config(other))

    def deterministic(root):  # the chunk manifests carry the fits' wall-clock timings
        return {k: v for k, v in artefact_hashes(root).items() if not k.endswith(".json") or k[:7] != "chunks/"}

    assert deterministic(other / "results" / "tiny") == deterministic(root)
    assert {k for k in deterministic(root) if k.startswith("chunks/")} == {"chunks/chunk-0.zip", "chunks/chunk-1.zip"}


def test_more_replicates_reuse_the_archived_fits(tmp_path, compact_run):
    workdir = tmp_path / "grown"
    shutil.copytree(compact_run[0], workdir, symlinks=True)  # the finished 3-replicate run, metadata included
    grown = compact_config(workdir, "grown.yaml", replicates=5)
    run_snakemake(workdir, configfile=grown)
    logs = "".join(p.read_text() for p in (workdir / "results/tiny/logs/chunks").glob("*.log"))
    assert logs.count("reused (identical provenance)") >= 30  # 3 replicates of ~15 pairs

    fresh = tmp_path / "fresh"
    fresh.mkdir()
    run_snakemake(fresh, configfile=compact_config(fresh, replicates=5))
    assert archived_files(workdir / "results/tiny") == archived_files(fresh / "results/tiny")
    assert (workdir / "results/tiny/fits.csv").read_bytes() == (fresh / "results/tiny/fits.csv").read_bytes()


def test_a_killed_compact_run_resumes_to_the_same_artefacts(tmp_path, compact_run):
    _, _, reference = compact_run
    config = compact_config(tmp_path)
    # Killed in the middle of a chunk: some units packed into its unfinished archive.
    kill_workflow_when(tmp_path, config, "results/tiny/chunks/.chunk-*.zip.*.tmp", 1, min_bytes=1)
    run_snakemake(tmp_path, "--unlock", configfile=config)
    run_snakemake(tmp_path, configfile=config)
    root = tmp_path / "results/tiny"
    assert archived_files(root) == archived_files(reference)
    assert not (root / "fits").exists()
    manifest = json.loads((root / "chunks/chunk-0.json").read_text())
    assert len(manifest["rows"]) == len(manifest["timings"]) > 0
