"""fitflow.evaluation.compare: every method on one dataset, one row each, failures as rows."""

import numpy as np
import pytest

import fitflow
from fitflow.evaluation.crossval import cross_validation_rmse


def saturation(seed=1):
    """A measured curve of known shape: 30 points with errors of 0.05."""
    rng = np.random.default_rng(seed)
    t = np.linspace(0, 5, 30)
    sigma = np.full(30, 0.05)
    y = 2.5 * (1 - np.exp(-0.45 * t)) + sigma * rng.standard_normal(30)
    return fitflow.measurement(t, y, sigma, model="b1*(1 - exp(-b2*x))", p0=[1, 1])


class Raises(fitflow.Method):
    name = "raises"
    capabilities = frozenset({"regression"})

    def fit(self, dataset, rng):
        raise RuntimeError("detector offline")


def test_each_method_is_a_row_as_the_workflow_would_score_it():
    data = saturation()
    table = fitflow.compare(data, methods=["gp", "nlls", "ols", Raises()], seed=0)
    rows = table.set_index("method")
    # Ok fits first, best cross-validated error first; then what failed or could not fit, in the order asked.
    assert list(table.method) == ["nlls", "gp", "ols", "raises"]
    assert list(table.status) == ["ok", "ok", "skipped", "failed"]
    # The estimates are those of a plain fit, and the CV error is crossval's on the shared folds.
    direct = fitflow.fit("nlls", data, seed=0)
    assert rows.loc["nlls", "param.b1"] == direct.params["b1"] and rows.loc["nlls", "param.b2"] == direct.params["b2"]
    expected_cv, _ = cross_validation_rmse(
        fitflow.make_method("nlls"), data, np.random.default_rng(0), 5, fold_rng=np.random.default_rng([0, 1])
    )
    assert rows.loc["nlls", "cv_rmse"] == pytest.approx(expected_cv, rel=1e-12)
    # nlls's model is the truth's shape: its CV error is near the noise (0.05); ordered by that error.
    assert 0.03 < rows.loc["nlls", "cv_rmse"] < 0.07 and rows.loc["nlls", "cv_rmse"] <= rows.loc["gp", "cv_rmse"]
    assert "raised RuntimeError in fit: detector offline" in rows.loc["raises", "message"]
    assert "serves ['linear']" in rows.loc["ols", "message"]


def test_by_default_every_installed_method_that_serves_the_data():
    data = fitflow.generate("cosine_series", seed=2)
    table = fitflow.compare(data)
    served = {
        name for name in fitflow.core.registry.methods().names() if fitflow.get_method(name).serves(data.capabilities)
    }
    assert set(table.method) == served and "tikhonov" not in served
    ols = table.set_index("method").loc["ols"]
    truth = np.array(list(data.truth_params.values()))
    assert ols.status == "ok" and ols.param_rms_error < 0.1 * np.sqrt(np.mean(truth**2))


def test_settings_reach_the_named_method():
    x = np.linspace(0, 1, 12)
    y = x**2 + 0.05 * np.random.default_rng(0).standard_normal(12)
    data = fitflow.measurement(x, y, np.full(12, 0.05), model="a*x**2", p0=[0.5], lower=[0], upper=[2])
    table = fitflow.compare(data, methods=["bayesopt"], bayesopt={"budget": 15})
    assert table.loc[0, "status"] == "ok" and table.loc[0, "n_evaluations"] == 15


def test_a_methods_share_of_the_budget_is_what_its_imports_left(monkeypatch):
    """Issue 57: a share once came out as 0.00167 s "of 4.08 s left": the imports had taken the
    rest. The share is now of what is left after them, and imports that take it all say so."""
    import re
    import time

    data = saturation()
    nlls = fitflow.make_method("nlls")
    monkeypatch.setattr(type(nlls), "import_requirements", lambda self: time.sleep(1.2))
    table = fitflow.compare(data, methods=[nlls], budget_s=1.0)
    row = table.iloc[0]
    assert row.status == "skipped"
    assert re.search(r"not started: importing its libraries took 1\.2\d* s, the rest of the 1 s budget", row.message)

    slow = fitflow.make_method("emcee")
    monkeypatch.setattr(type(slow), "import_requirements", lambda self: time.sleep(0.3))
    table = fitflow.compare(data, methods=[slow], budget_s=1.5)
    message = table.iloc[0].message
    shares = re.search(r"past ([\d.]+) s, its share of the ([\d.]+) s left \(the fit and (\d+) cross", message)
    assert shares, message
    share, left, folds = float(shares[1]), float(shares[2]), int(shares[3])
    assert share == pytest.approx(left / (1 + folds), rel=0.02)  # to the printed digits
    assert left < 1.5 - 0.3 + 0.05  # what the imports left, not the whole budget


def test_the_table_so_far_is_handed_on_after_each_method(tmp_path):
    # fitflow compare --csv writes it after each method: a later crash in native code (one
    # segfaulted in XLA's compiler) leaves the rows already done on disk.
    seen = []
    data = saturation()
    table = fitflow.compare(data, methods=["nlls", Raises(), "gp"], after_each=lambda t: seen.append(t.copy()))
    assert [list(t.method) for t in seen] == [["nlls"], ["nlls", "raises"], ["nlls", "raises", "gp"]]
    assert seen[0].loc[0, "param.b1"] == table.set_index("method").loc["nlls", "param.b1"]
    assert list(seen[-1].columns[:4]) == ["method", "status", "message", "wall_time_s"]


def test_the_budget_counts_what_came_before_and_the_advice_names_it():
    # fitflow compare starts the budget before it reads the file and checks the model: a model
    # whose check took most of the budget leaves the methods none, and the row says why.
    import time

    table = fitflow.compare(saturation(), methods=["nlls"], budget_s=5.0, started=time.perf_counter() - 4.999)
    row = table.set_index("method").loc["nlls"]
    assert row.status == "skipped" and "not started" in row.message
    assert "checking the model took" in row.message and "lax.scan" in row.message
