"""config/own-deconvolution.yaml end to end: a measured spectrum and a sampled instrument
response, deconvolved by tikhonov three ways; ols shows why regularisation is needed."""

import shutil

import pandas as pd
import pytest

from conftest import REPO, run_snakemake, shipped_config, whole_report, write_config

pytestmark = pytest.mark.slow


def test_the_example_deconvolution_runs_and_regularisation_wins(tmp_path):
    config = shipped_config("own-deconvolution")
    settings = config["problems"]["spectrum"]["settings"]
    (tmp_path / "data").mkdir()
    for key in ("file", "kernel_file"):
        shutil.copy(REPO / settings[key], tmp_path / "data")
        settings[key] = f"data/{(REPO / settings[key]).name}"
    run_snakemake(tmp_path, configfile=write_config(config, tmp_path / "config.yaml"))
    table = pd.read_csv(tmp_path / "results" / "own-deconvolution" / "fits.csv").set_index("method")
    regularised = table.loc[["gcv", "lcurve", "morozov"]]
    assert (regularised.status == "ok").all() and (regularised.rmse < 20).all()  # peaks reach 125 counts
    assert table.loc["gcv", "band_coverage95"] > 0.85
    assert table.loc["ols", "status"] == "failed" or table.loc["ols", "rmse"] > 1e3 * table.loc["gcv", "rmse"]
    html = whole_report(tmp_path / "results" / "own-deconvolution" / "report.html")
    assert "a deconvolution" in html
