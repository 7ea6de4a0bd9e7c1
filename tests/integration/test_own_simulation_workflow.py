"""The user's own simulation emulated through the workflow (config/own-simulation.yaml):
each run its own job, nested designs share runs, failed runs left out and reported."""

import json
import re
import shutil

import pytest
from test_campaign_workflow import job_counts

from conftest import REPO, run_snakemake, shipped_config, whole_report, write_config

pytestmark = pytest.mark.slow
SHIPPED = REPO / "config" / "own-simulation.yaml"
#: The shipped example with designs of 12 and 32 runs and 8 held out (it has 24, 64 and 16):
#: half the simulation jobs, the same claims.
TRAIN, TEST = (12, 32), 8


def shrunk_config(folder, **changes):
    """The shipped own-simulation config with the test's design sizes (and ``changes``),
    written to ``folder``."""
    config = shipped_config("own-simulation")
    config["problems"]["spectral_line"]["sweep"] = {"n_train": list(TRAIN)}
    config["problems"]["spectral_line"]["settings"]["n_test"] = TEST
    config.update(changes)
    return write_config(config, folder / "own-simulation.yaml")


@pytest.fixture(scope="module")
def simulation_run(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("own-simulation")
    (workdir / "examples").mkdir()
    shutil.copy(REPO / "examples" / "spectral_line.py", workdir / "examples")  # the user's program, beside the config
    config = shrunk_config(workdir)
    dry = run_snakemake(workdir, "-n", configfile=config)
    run_snakemake(workdir, configfile=config)
    return workdir / "results" / "own-simulation", dry, config


def test_each_run_is_a_job_and_the_smaller_design_reuses_the_larger_ones_runs(simulation_run):
    root, dry, _ = simulation_run
    counts = job_counts(dry)
    assert counts["simulation_run"] == TRAIN[1] + TEST  # the smaller design is the first runs of the larger
    assert len(list(root.glob("runs/spectral_line/*/run.json"))) == TRAIN[1] + TEST
    # The shipped config plans the same way: n_train 24 is the first 24 runs of the 64.
    shipped = run_snakemake(root.parents[1], "-n", "--forceall", configfile=SHIPPED)
    assert job_counts(shipped)["simulation_run"] == 64 + 16


def test_failed_runs_are_left_out_listed_and_reported(simulation_run):
    root, _, _ = simulation_run
    for psid in (f"n_train-{n}" for n in TRAIN):
        meta = json.loads((root / f"datasets/spectral_line/{psid}/rep-0/dataset.json").read_text())["meta"]
        failed = meta["failed_runs"]
        assert failed, "the example program fails below 6 eV; some design points are there"
        assert all(
            f["params"]["temperature"] < 6
            and "exit status 3" in f["reason"]
            and "solver did not converge" in f["reason"]
            for f in failed
        )
    html = whole_report(root / "report.html")
    assert "simulation runs failed and were left out of the data" in html


def test_every_surrogate_is_scored_per_output_and_a_rerun_does_nothing(simulation_run):
    from fitflow import read_table

    root, _, config = simulation_run
    table = read_table(root)
    assert set(table.method) == {"gp", "mlp"} and (table.status == "ok").all()
    for output in ("width", "shift", "ratio"):
        assert table[f"rmse.{output}"].notna().all()
    # More runs, better emulator: the GP's error falls from the smaller design to the larger.
    gp = table[table.method == "gp"].set_index("problem_settings")
    assert gp.loc[f"n_train-{TRAIN[1]}", "rmse"] < gp.loc[f"n_train-{TRAIN[0]}", "rmse"]
    assert "Nothing to be done" in run_snakemake(root.parents[1], "-n", configfile=config).stdout


def test_chunked_compact_run_waits_for_the_runs_and_gives_the_same_table(simulation_run, tmp_path):
    """Chunk jobs assemble their datasets from the run records, so the runs are their inputs
    (they were not: the chunks once fitted before any run existed). The DAG says so; then,
    given the first run's records (simulations not run twice), the chunks give its table."""
    root, _, _ = simulation_run
    (tmp_path / "examples").mkdir()
    shutil.copy(REPO / "examples" / "spectral_line.py", tmp_path / "examples")
    path = shrunk_config(tmp_path, store="compact", chunks=2)
    dag = run_snakemake(tmp_path, "-n", "--dag", configfile=path).stdout
    labels = dict(re.findall(r'^\s*(\d+)\[label = "(\w+)', dag, flags=re.M))
    edges = re.findall(r"^\s*(\d+) -> (\d+)", dag, flags=re.M)
    fed = {b for a, b in edges if labels[a] == "simulation_run" and labels[b] == "chunk"}
    assert {labels[b] for b in fed} == {"chunk"} and len(fed) == 2, "each chunk waits for its simulation runs"
    compact = tmp_path / "results" / "own-simulation"
    # Copied, not preserved: newer than the program they ran, so Snakemake takes them as done.
    shutil.copytree(root / "runs", compact / "runs", copy_function=shutil.copy)
    run_snakemake(tmp_path, configfile=path)
    assert (compact / "fits.csv").read_bytes() == (root / "fits.csv").read_bytes()
    assert len(list(compact.glob("runs/spectral_line/*/run.json"))) == TRAIN[1] + TEST
