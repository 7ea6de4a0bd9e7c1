"""The workflow end to end: a tiny experiment through Snakemake, checked for content,
byte-reproducibility, lint cleanliness and config errors that stop it before any job."""

import shutil
import subprocess
import sys

import pandas as pd
import pytest

from conftest import REPO, TINY_CONFIG, artefact_hashes, run_snakemake, shipped_config, write_config

pytestmark = pytest.mark.slow


def test_tiny_experiment_produces_every_artefact(tiny_run):
    table = pd.read_csv(tiny_run / "fits.csv")
    pairs = {
        ("cosine_series", "ols"),
        ("cosine_series", "nlls"),
        ("gaussian_peak", "nlls"),
        ("gaussian_peak", "emcee"),
        ("gaussian_peak", "nlls_starved"),
        ("blurred_signal", "tikhonov"),
        ("smooth_function", "gp"),
        ("smooth_function", "mlp"),
        ("smooth_function", "spline"),
        ("forrester", "bayesopt"),
        ("forrester", "random_search"),
    }
    assert set(zip(table.problem, table.method)) == pairs
    # gaussian_peak sweeps two noise levels: its three methods run twice.
    assert len(table) == 3 * (len(pairs) + 3)
    assert set(table[table.problem == "gaussian_peak"].problem_settings) == {"noise-0.05", "noise-0.1"}
    # Only the deliberately starved method fails, with the optimiser's reason; nothing else does.
    failed = table[table.status != "ok"]
    assert set(failed.method) == {"nlls_starved"} and len(failed) == 6
    assert failed.message.str.contains("did not converge").all()
    # OLS and NLLS solve the same linear problem: identical estimates to optimiser precision.
    cosine = table[table.problem == "cosine_series"].set_index(["replicate", "method"])["param.theta1.estimate"]
    for rep in range(3):
        assert cosine[(rep, "ols")] == pytest.approx(cosine[(rep, "nlls")], rel=1e-8, abs=1e-10)
    parametric = table[table.method.isin(["ols", "nlls"])]
    assert parametric.chi2_dof.between(0.2, 3.0).all()
    assert table[table.problem == "forrester"].regret.notna().all()
    for fit_dir in table.fit_dir:
        folder = tiny_run / fit_dir
        for name in ("result.json", "result.npz", "metrics.json", "provenance.json", "timing.json", "fit.log"):
            assert (folder / name).is_file(), f"{folder / name} missing"
    assert (tiny_run / "fits/gaussian_peak/noise-0.05/nlls/default/rep-0/fit.png").is_file()
    for figure in ("emcee/default/rep-0/fig-traces.png", "emcee/default/rep-0/fig-pairs.png"):
        assert (tiny_run / "fits/gaussian_peak/noise-0.1" / figure).is_file()
    # plot_fits: true draws the figures of replicate 0 only, the one the report shows
    emcee_rep1 = tiny_run / "fits/gaussian_peak/noise-0.1/emcee/default/rep-1"
    assert (emcee_rep1 / "result.json").is_file() and not list(emcee_rep1.glob("*.png"))
    assert (tiny_run / "fits/forrester/default/bayesopt/default/rep-0/fig-best_so_far.png").is_file()
    assert (tiny_run / "fits.parquet").is_file() and (tiny_run / "report.html").is_file()
    parquet = pd.read_parquet(tiny_run / "fits.parquet")
    assert len(parquet) == len(table)
    timings = pd.read_csv(tiny_run / "timings.csv")
    assert len(timings) == len(table) and (timings.wall_time_s > 0).all()


def test_workflow_metrics_equal_an_in_process_fit_of_the_same_data(tiny_run):
    import fitflow

    table = pd.read_csv(tiny_run / "fits.csv").set_index(["problem", "problem_settings", "method", "replicate"])
    for problem, psid, method in [("gaussian_peak", "noise-0.05", "nlls"), ("cosine_series", "default", "ols")]:
        data = fitflow.read_dataset(tiny_run / f"datasets/{problem}/{psid}/rep-2")
        expected = fitflow.evaluate(data, fitflow.fit(method, data))
        row = table.loc[(problem, psid, method, 2)]
        for metric in ("rmse", "chi2", "coverage68", "param_rms_error"):
            assert row[metric] == pytest.approx(expected[metric], rel=1e-9), metric
    # A correct fit of the Gaussian peak is close to the truth on the whole grid.
    assert table.loc[("gaussian_peak", "noise-0.05", "nlls"), "rmse"].max() < 0.05


def test_provenance_names_config_seeds_plugins_versions_and_inputs(tiny_run):
    import json

    record = json.loads((tiny_run / "fits/gaussian_peak/noise-0.1/nlls/default/rep-1/provenance.json").read_text())
    assert record["config"]["seed"] == 7 and record["config"]["replicate"] == 1
    assert record["seeds"]["dataset_identity"][0] == "dataset" and record["seeds"]["dataset_identity"][-1] == 1
    assert record["plugins"]["method"]["name"] == "nlls" and record["plugins"]["method"]["distribution"] == "fitflow"
    assert record["versions"]["numpy"] and record["versions"]["snakemake"].startswith("9.")
    data_file = "results/tiny/datasets/gaussian_peak/noise-0.1/rep-1/dataset.npz"
    import hashlib

    expected = hashlib.sha256((tiny_run.parents[1] / data_file).read_bytes()).hexdigest()
    assert record["inputs"][data_file] == expected


def test_every_method_sees_the_same_dataset(tiny_run):
    import json

    ols = json.loads((tiny_run / "fits/cosine_series/default/ols/default/rep-0/provenance.json").read_text())
    nlls = json.loads((tiny_run / "fits/cosine_series/default/nlls/default/rep-0/provenance.json").read_text())
    assert ols["inputs"] == nlls["inputs"]
    assert ols["seeds"]["fit_identity"] != nlls["seeds"]["fit_identity"]


def test_rerun_from_scratch_is_byte_identical(tiny_run, tmp_path):
    run_snakemake(tmp_path)
    first, second = artefact_hashes(tiny_run), artefact_hashes(tmp_path / "results" / "tiny")
    assert len(first) > 50
    assert first == second


def test_report_regenerates_identically_from_artefacts(tiny_run, tmp_path):
    copy = tmp_path / "tiny"
    shutil.copytree(tiny_run, copy)
    (copy / "report.html").unlink()
    subprocess.run([sys.executable, "-m", "fitflow", "report", str(copy)], check=True, capture_output=True)
    assert (copy / "report.html").read_bytes() == (tiny_run / "report.html").read_bytes()


def test_second_run_has_nothing_to_do(tiny_run):
    proc = run_snakemake(tiny_run.parents[1], "--dry-run")
    assert "Nothing to be done" in proc.stdout + proc.stderr


def test_snakemake_lint_is_clean():
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "snakemake",
            "--lint",
            "--snakefile",
            str(REPO / "Snakefile"),
            "--configfile",
            str(TINY_CONFIG),
            "--directory",
            str(REPO),
        ],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0 and "Lints for" not in proc.stdout, proc.stdout + proc.stderr


def test_snakefmt_check_passes():
    proc = subprocess.run(
        [sys.executable, "-m", "snakefmt", "--check", "Snakefile", "workflow"],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize(
    "change, fragments",
    [
        ({"replicates": 0}, ["replicates", "minimum"]),
        (
            {"problems": {"gaussian_peak": {"settings": {"nosie": 0.1}}}},
            ["problems.gaussian_peak.settings.nosie", "0.1"],
        ),
        ({"methods": {"olss": {}}}, ["methods.olss.plugin", "'olss'", "available"]),
        ({"problems": {"gaussian_peak": {"methods": ["ols"]}}}, ["'ols' cannot fit problem 'gaussian_peak'"]),
    ],
)
def test_bad_config_fails_before_any_job(tmp_path, change, fragments):
    config = shipped_config()
    config.update(change)
    path = tmp_path / "bad.yaml"
    write_config(config, path)
    proc = run_snakemake(tmp_path, configfile=path, check=False)
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0
    for fragment in fragments:
        assert fragment in output, output
    assert not (tmp_path / "results").exists()
