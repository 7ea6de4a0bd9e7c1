"""Ordered data with correlated errors (issue 35, item 4): the residuals' autocorrelation is
detected and said, and ols and nlls offer Newey-West (HAC) standard errors, checked against
statsmodels."""

import numpy as np
import pytest

import fitflow
from fitflow.core.pipeline import make_method, safe_fit

N = 300
T = np.linspace(0, 30, N)


def ar1_noise(phi, seed, sd=0.2):
    """AR(1) errors e_t = phi e_{t-1} + w_t, stationary from the first point."""
    rng = np.random.default_rng(seed)
    e = np.empty(N)
    e[0] = rng.normal(0, sd / np.sqrt(1 - phi**2))
    for t in range(1, N):
        e[t] = phi * e[t - 1] + rng.normal(0, sd)
    return e


def series(phi, seed=3):
    y = 1.0 + 0.3 * T + ar1_noise(phi, seed)
    return fitflow.measurement(T, y, columns=["t"], model="a + b*t", cv_folds=0), y


def fit_log(method, data):
    result, _, log = safe_fit(make_method(method), data, np.random.default_rng(0))
    return result, log


def test_autocorrelated_residuals_are_said_and_independent_ones_are_not():
    correlated, _ = series(0.8)
    result, log = fit_log("ols", correlated)
    assert result.ok and "residuals are autocorrelated along x (lag-1 r = 0." in log and "covariance: hac" in log
    # White noise: the Ljung-Box test at 1% stays silent (seeded; one false alarm in 100 seeds expected).
    independent, _ = series(0.0)
    _, log = fit_log("ols", independent)
    assert "autocorrelated" not in log


@pytest.mark.parametrize("lags", [None, 3, 12])
def test_hac_standard_errors_match_statsmodels(lags):
    sm = pytest.importorskip("statsmodels.api", reason="statsmodels is the reference (test extra)")
    data, y = series(0.8)
    design = sm.add_constant(T)
    maxlags = int(np.floor(4 * (N / 100) ** (2 / 9))) if lags is None else lags
    # statsmodels' default HAC (no small-sample factor n / (n - p)), as the docs say.
    reference = sm.OLS(y, design).fit(cov_type="HAC", cov_kwds={"maxlags": maxlags})
    for method in ("ols", "nlls"):
        result = fitflow.fit(method, data, covariance="hac", hac_lags=lags)
        estimate = [result.stderr["a"], result.stderr["b"]]
        # Same sandwich, same Bartlett weights: agreement to 1e-7
        # (nlls: its optimum agrees with the exact one to ~1e-9).
        np.testing.assert_allclose(estimate, reference.bse, rtol=1e-7, err_msg=method)
        assert result.diagnostics["covariance"] == "hac"


def test_hac_errors_are_larger_than_naive_ones_on_positively_correlated_errors():
    data, _ = series(0.8)
    naive = fitflow.fit("ols", data)
    robust = fitflow.fit("ols", data, covariance="hac")
    assert robust.stderr["b"] > 1.5 * naive.stderr["b"]


def test_hac_sums_its_lags_along_x_whatever_the_file_order():
    """The Ljung-Box check looks along x; HAC must sum its lags in the same order, not the file's."""
    data, y = series(0.8)
    shuffled = np.random.default_rng(5).permutation(N)
    scrambled = fitflow.measurement(T[shuffled], y[shuffled], columns=["t"], model="a + b*t", cv_folds=0)
    for method in ("ols", "nlls"):
        ordered = fitflow.fit(method, data, covariance="hac")
        other = fitflow.fit(method, scrambled, covariance="hac")
        np.testing.assert_allclose(other.stderr["b"], ordered.stderr["b"], rtol=1e-7, err_msg=method)
        assert any("autocorrelated along x" in w for w in other.warnings)
