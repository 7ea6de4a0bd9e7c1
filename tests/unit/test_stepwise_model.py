"""A model that returns whole numbers (issue 56): its zero derivative is named before any fit
and in every fit, and an optimiser's answer that the data's errors reject is failed, never ok."""

import numpy as np
import pytest

import fitflow
from fitflow.run.experiment import build_plan

MODEL = "import numpy as np\n\ndef counts(x, a, b):\n    return np.round(a * np.exp(-b * x))\n"


@pytest.fixture
def counts_data(tmp_path, monkeypatch):
    (tmp_path / "stepmodel.py").write_text(MODEL)
    monkeypatch.chdir(tmp_path)
    rng = np.random.default_rng(0)
    t = np.linspace(0, 5, 30)
    y = rng.poisson(50 * np.exp(-0.7 * t)).astype(float)
    sigma = np.sqrt(np.maximum(y, 1))
    np.savetxt(tmp_path / "counts.csv", np.column_stack([t, y, sigma]), delimiter=",", header="t,y,err", comments="")
    settings = {"model": "stepmodel.py:counts", "p0": [30, 1], "lower": [1, 0.01], "upper": [100, 3], "cv_folds": 0}
    return fitflow.measurement(t, y, sigma, columns=["t"], **settings), settings


def test_the_zero_derivative_is_named_in_the_plan_and_in_the_failed_gradient_fit(counts_data):
    data, settings = counts_data
    assert "returns whole numbers" in data.meta["model_warnings"][0]
    nlls = fitflow.fit("nlls", data)
    assert nlls.status == "failed" and "step function of its parameters, with zero derivative" in nlls.message
    config = {
        "experiment": "counts",
        "problems": {
            "decay": {
                "plugin": "table",
                "settings": {"file": "counts.csv", "x": ["t"], "y": "y", "sigma": "err", **settings},
            }
        },
        "methods": {"nlls": {"plugin": "nlls"}},
    }
    plan = build_plan(config)
    assert "returns whole numbers" in plan.describe()["notes"]["decay/default"]


def test_an_optimiser_answer_the_errors_reject_is_failed_and_one_they_allow_is_ok(counts_data):
    data, _ = counts_data
    # Three evaluations: its best is far off (χ²/dof ≈ 3.8 on 28 degrees of freedom, p ≈ 5e-11),
    # yet a least-squares solve from the start cannot improve on it (the plateau), so only the
    # goodness of fit can tell.
    short = fitflow.fit("random_search", data, budget=3)
    assert short.status == "failed" and "the data's errors reject its answer after 3 evaluations" in short.message
    full = fitflow.fit("random_search", data)
    assert full.ok and full.diagnostics["chi2_p_value"] > 1e-3
    assert any("returns whole numbers" in w for w in full.warnings)
