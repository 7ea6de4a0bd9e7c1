"""config/closure.yaml end to end (issue 39, item 3): the closure learned through the solver
by nlls and gradient_descent, and without gradients by nlls with finite differences and
bayesopt, compared in one report. One replicate here to keep the test short."""

import pytest

from conftest import run_snakemake, shipped_config, whole_report, write_config

pytest.importorskip("optax", reason="needs the jax extra (pip install -e '.[jax]')")
pytestmark = pytest.mark.slow


def test_gradient_and_gradient_free_methods_learn_the_same_closure_and_the_report_compares_them(tmp_path):
    from fitflow import read_table

    config = shipped_config("closure")
    config["replicates"] = 1
    run_snakemake(tmp_path, configfile=write_config(config, tmp_path / "config.yaml"))
    root = tmp_path / "results" / "closure"
    table = read_table(root).set_index("method")
    assert set(table.index) == {"nlls", "gradient_descent", "nlls_finite_differences", "bayesopt"}
    assert (table.status == "ok").all(), table[["status"]]
    # The same optimum by every route (bayesopt's answer is the framework-checked one: within
    # one unit of chi-square of the least-squares minimum), hence the same closure error.
    best = table.loc["nlls", "closure_rms_error"]
    assert 0 < best < 0.03
    for method in ("gradient_descent", "nlls_finite_differences"):
        assert table.loc[method, "closure_rms_error"] == pytest.approx(best, rel=1e-4)
    assert table.loc["bayesopt", "closure_rms_error"] == pytest.approx(best, rel=0.1)
    assert table.loc["bayesopt", "chi2"] <= table.loc["nlls", "chi2"] + 1
    html = whole_report(root / "report.html")
    assert "closure rms error" in html and "closure_learning" in html
