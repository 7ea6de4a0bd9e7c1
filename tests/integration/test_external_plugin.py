"""A third-party method, pip-installed at test time, joins the CLI listing and the DAG
with no edit to the workflow."""

import subprocess
import sys

import pandas as pd
import pytest

from conftest import REPO, run_snakemake, write_config

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def plugin_path(tmp_path_factory):
    """Install tests/external_plugin into a private folder and return it (for PYTHONPATH)."""
    target = tmp_path_factory.mktemp("site")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--target",
            str(target),
            str(REPO / "tests" / "external_plugin"),
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    return str(target)


def test_installed_plugin_is_listed_with_its_distribution(plugin_path):
    proc = subprocess.run(
        [sys.executable, "-m", "fitflow", "plugins"],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": plugin_path, "PATH": ""},
    )
    line = next(row for row in proc.stdout.splitlines() if "ridge" in row)
    assert line.startswith("fitflow.methods") and "[fitflow-ridge-example]" in line
    assert "alpha: float = 0.001" in proc.stdout


def test_installed_plugin_passes_conformance(plugin_path):
    proc = subprocess.run(
        [sys.executable, "-m", "fitflow", "check", "ridge"],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": plugin_path, "PATH": ""},
    )
    assert proc.returncode == 0 and "FAIL" not in proc.stdout, proc.stdout + proc.stderr


def test_installed_plugin_joins_the_workflow(plugin_path, tmp_path):
    # No explicit pairs: each problem gets every installed method that serves its kind.
    config = {
        "experiment": "tiny",
        "seed": 7,
        "replicates": 3,
        "problems": {
            "cosine_series": {"settings": {"n_samples": 25, "n_modes": 3}},
            "gaussian_peak": {"settings": {"n_points": 40}},
        },
        "methods": {"ols": {}, "ridge": {"settings": {"alpha": 1e-6}}},
    }
    path = tmp_path / "with-ridge.yaml"
    write_config(config, path)
    run_snakemake(tmp_path, configfile=path, env={"PYTHONPATH": plugin_path})
    table = pd.read_csv(tmp_path / "results" / "tiny" / "fits.csv")
    ridge = table[table.method == "ridge"]
    # ridge serves linear problems only: cosine_series, not gaussian_peak.
    assert set(ridge.problem) == {"cosine_series"} and len(ridge) == 3 and (ridge.status == "ok").all()
    # With a negligible prior (alpha = 1e-6) ridge reproduces OLS.
    ols = table[(table.method == "ols")].set_index("replicate")["param.theta0.estimate"]
    for _, row in ridge.iterrows():
        assert row["param.theta0.estimate"] == pytest.approx(ols[row.replicate], rel=1e-5)
