"""config/emulator.yaml end to end, shrunk: surrogates of a three-output simulation compared
on held-out runs over a sweep of design sizes; the report shows per-output errors."""

import pandas as pd
import pytest

from conftest import run_snakemake, shipped_config, whole_report, write_config

pytestmark = pytest.mark.slow


def test_the_emulator_experiment_scores_each_output_and_accuracy_grows_with_the_design(tmp_path):
    config = shipped_config("emulator")
    config["replicates"] = 1
    config["problems"]["spectral_line"]["sweep"] = {"n_train": [30, 120]}
    config["problems"]["spectral_line"]["settings"]["n_test"] = 150
    config["problems"]["inference"]["settings"]["n_design"] = 80
    for label in ("emcee", "emcee_emulated", "emcee_vnn_emulated"):
        config["methods"][label]["settings"]["n_steps"] = 300
    config["methods"]["vnn"] = {"settings": {"steps": 3000, "hidden_layers": [8]}}  # one architecture: fast
    config["methods"]["emcee_vnn_emulated"]["settings"]["emulator_settings"] = {"steps": 3000, "hidden_layers": [8]}
    run_snakemake(tmp_path, configfile=write_config(config, tmp_path / "config.yaml"))
    root = tmp_path / "results" / "emulator"
    table = pd.read_csv(root / "fits.csv")
    assert (table.status == "ok").all() and len(table) == 9
    inference = table[table.problem == "inference"].set_index("method")
    assert set(inference.index) == {"emcee", "emcee_emulated", "emcee_vnn_emulated"}  # one observation's posteriors
    assert inference["param_rms_error"].notna().all()
    table = table[table.problem == "spectral_line"]
    for column in ("rmse.width", "rmse.shift", "rmse.ratio", "band_coverage95.ratio"):
        assert table[column].notna().all()
    rmse = table.set_index(["method", "problem_settings"])["rmse"]
    for method in ("gp", "mlp"):  # four times the runs: a clearly better emulator
        assert rmse[(method, "n_train-120")] < 0.7 * rmse[(method, "n_train-30")]
    html = whole_report(root / "report.html")
    assert "Several outputs" in html and "<th>width</th>" in html
