"""config/own-linear.yaml end to end: a user's quadratic calibration recognised as linear,
fitted by ols (weighted least squares) beside nlls, emcee and gp; the report says why."""

import shutil

import numpy as np
import pandas as pd
import pytest

from conftest import REPO, run_snakemake, shipped_config, whole_report, write_config
from fitflow.core.artefacts import read_result

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("own-linear")
    config = shipped_config("own-linear")
    data = config["problems"]["calibration"]["settings"]["file"]
    (workdir / "data").mkdir()
    shutil.copy(REPO / data, workdir / "data" / "calibration.csv")
    config["problems"]["calibration"]["settings"]["file"] = "data/calibration.csv"
    config["methods"]["emcee"]["settings"]["n_steps"] = 500
    run_snakemake(workdir, configfile=write_config(config, workdir / "config.yaml"))
    return workdir


def test_ols_gives_the_weighted_least_squares_answer_and_agrees_with_nlls(run):
    root = run / "results" / "own-linear"
    table = pd.read_csv(root / "fits.csv")
    assert set(table.method) == {"ols", "nlls", "emcee", "gp"} and (table.status == "ok").all()
    data = pd.read_csv(run / "data" / "calibration.csv", comment="#")
    design = np.column_stack([np.ones(len(data)), data["energy"], data["energy"] ** 2])
    w = 1 / data["error"].to_numpy() ** 2
    normal = design.T @ (design * w[:, None])
    beta = np.linalg.solve(normal, design.T @ (w * data["channel"]))
    folder = root / "fits" / "calibration" / "default"
    ols, nlls = (read_result(folder / m / "default" / "rep-0") for m in ("ols", "nlls"))
    np.testing.assert_allclose(ols.estimate_vector(), beta, rtol=1e-9)
    np.testing.assert_allclose(ols.covariance, np.linalg.inv(normal), rtol=1e-7)
    np.testing.assert_allclose(nlls.estimate_vector(), beta, rtol=1e-7)
    rows = table.set_index("method")
    assert rows.loc["ols", "cv_rmse"] == pytest.approx(rows.loc["nlls", "cv_rmse"], rel=1e-6)  # same folds


def test_the_report_says_the_model_is_linear(run):
    html = whole_report(run / "results" / "own-linear" / "report.html")
    assert "linear in its parameters" in html
