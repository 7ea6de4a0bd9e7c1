"""Heteroscedastic errors (issue 56): White's HC0-HC3 standard errors against statsmodels, on
Engel's food-expenditure data (statsmodels' own copy, data nobody here wrote), and the
Breusch-Pagan warning that says when they are needed."""

import numpy as np
import pytest

import fitflow
from fitflow.core.pipeline import make_method, safe_fit

sm = pytest.importorskip("statsmodels.api", reason="statsmodels is the reference (test extra)")


def engel():
    frame = sm.datasets.engel.load_pandas().data
    return frame["income"].to_numpy(), frame["foodexp"].to_numpy()


@pytest.mark.parametrize("kind", ["hc0", "hc1", "hc2", "hc3"])
@pytest.mark.parametrize("method", ["ols", "nlls"])
def test_robust_standard_errors_equal_statsmodels_on_engel(kind, method):
    income, food = engel()
    data = fitflow.measurement(income, food, columns=["income"], model="a + b*income", cv_folds=0)
    reference = sm.OLS(food, sm.add_constant(income)).fit(cov_type=kind.upper())
    result = fitflow.fit(method, data, covariance=kind)
    # ols: the same sandwich of the same solution, to 1e-9; nlls: its optimum agrees with the
    # exact one to about 1e-9 relative, and the leverages follow.
    np.testing.assert_allclose([result.stderr["a"], result.stderr["b"]], reference.bse, rtol=1e-7)
    np.testing.assert_allclose([result.params["a"], result.params["b"]], reference.params, rtol=1e-7)
    assert result.diagnostics["covariance"] == kind


def test_weighted_robust_errors_equal_statsmodels_wls():
    """With stated errors the sandwich is built on the whitened design, as statsmodels' WLS."""
    income, food = engel()
    sigma = 0.05 * income**0.8
    data = fitflow.measurement(income, food, sigma, columns=["income"], model="a + b*income", cv_folds=0)
    reference = sm.WLS(food, sm.add_constant(income), weights=1 / sigma**2).fit(cov_type="HC3")
    result = fitflow.fit("ols", data, covariance="hc3")
    np.testing.assert_allclose([result.stderr["a"], result.stderr["b"]], reference.bse, rtol=1e-9)


def test_heteroscedastic_residuals_are_said_with_breusch_pagan_and_homoscedastic_ones_are_not():
    income, food = engel()
    data = fitflow.measurement(income, food, columns=["income"], model="a + b*income", cv_folds=0)
    result, _, log = safe_fit(make_method("ols"), data, np.random.default_rng(0))
    from statsmodels.stats.diagnostic import het_breuschpagan

    exog = sm.add_constant(income)
    _, reference_p, _, _ = het_breuschpagan(food - exog @ np.array(list(result.params.values())), exog)
    assert reference_p < 1e-10  # the p = 1e-25 at full precision
    warning = next(w for w in result.warnings if "Breusch-Pagan" in w)
    assert "spread grows with x" in warning and "covariance: hc3" in warning
    assert f"p = {reference_p:.2g}" in warning  # the same statistic as statsmodels' default
    robust = fitflow.fit("ols", data, covariance="hc3")
    assert any("robust (HC3)" in w for w in robust.warnings)
    # Homoscedastic noise on the same x: silent (seeded; the test's false-alarm rate is 1%).
    rng = np.random.default_rng(3)
    even = fitflow.measurement(
        income, 100 + 0.5 * income + rng.normal(0, 50, income.size), columns=["income"], model="a + b*income"
    )
    assert not any("Breusch-Pagan" in w for w in fitflow.fit("ols", even).warnings)
    # Errors stated in proportion to the spread: the whitened residuals pass.
    scaled = 0.05 * income + 1
    noisy = 100 + 0.5 * income + rng.normal(0, scaled)
    stated = fitflow.measurement(income, noisy, scaled, columns=["income"], model="a + b*income", cv_folds=0)
    assert not any("Breusch-Pagan" in w for w in fitflow.fit("ols", stated).warnings)
