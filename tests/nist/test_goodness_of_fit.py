"""Goodness of fit against stated errors (issue 56): a χ² p-value on every fit with errors, and
a named warning when the errors are overstated (a unit slip) or understated, on NIST's Misra1a
(data nobody here wrote). The errors stated are the certified residual standard deviation,
times 1 (the truth: χ²/dof = 1 exactly), 1000 (kJy/sr against MJy/sr) or 1/1000."""

import numpy as np
import pytest

import fitflow

from .strd import NIST_DIR, read_strd

pytestmark = pytest.mark.skipif(not NIST_DIR.is_dir(), reason=f"NIST StRD files not found at {NIST_DIR}")


def misra(factor):
    problem = read_strd(NIST_DIR / "Misra1a.dat")
    n, p = problem.y.size, len(problem.params)
    sigma = np.full(n, factor * np.sqrt(problem.certified_rss / (n - p)))
    data = fitflow.measurement(
        problem.x, problem.y, sigma, model=problem.expression, params=problem.params, p0=problem.starts[1], cv_folds=0
    )
    return problem, data


def test_errors_as_stated_pass_with_the_certified_standard_errors():
    problem, data = misra(1.0)
    result = fitflow.fit("nlls", data)
    from scipy.stats import chi2

    assert result.diagnostics["chi2_p_value"] == pytest.approx(chi2.sf(12, 12), rel=1e-6)  # χ² = ν exactly
    assert not [w for w in result.warnings if w.startswith("goodness of fit")]
    np.testing.assert_allclose(list(result.stderr.values()), problem.certified_sd, rtol=1e-6)


@pytest.mark.parametrize(
    "factor, says", [(1000.0, "overstated, by about ×"), (1e-3, "too small for these residuals, by about ×")]
)
def test_errors_off_by_a_thousand_are_named_and_absolute_sigma_false_is_the_way_out(factor, says):
    problem, data = misra(factor)
    for method in ("nlls", "ols"):
        if method == "ols":  # Misra1a is nonlinear: ols on a straight line through it, errors as stated
            data = fitflow.measurement(problem.x, problem.y, data.sigma, model="a + b*x", params=["a", "b"], cv_folds=0)
            reference = np.sqrt(np.diag(np.linalg.inv(data.model.design(data.x).T @ data.model.design(data.x))))
        result = fitflow.fit(method, data)
        warning = next(w for w in result.warnings if w.startswith("goodness of fit"))
        assert says in warning and "absolute_sigma: false" in warning
        scaled = fitflow.fit(method, data, absolute_sigma=False)
        assert any("so the standard errors allow for it" in w for w in scaled.warnings)
        if method == "nlls":
            assert f"by about ×{1000:,}" in warning  # √(1/χ²_ν) or √χ²_ν: the factor, said
            # The standard errors follow the stated errors, off by the same factor, unless the
            # covariance is scaled by χ²/dof: then they are the certified ones.
            np.testing.assert_allclose(list(result.stderr.values()), factor * problem.certified_sd, rtol=1e-6)
            np.testing.assert_allclose(list(scaled.stderr.values()), problem.certified_sd, rtol=1e-6)
        else:  # (A^T W A)^-1 with the stated errors, and scaled as statsmodels' WLS does
            np.testing.assert_allclose(list(result.stderr.values()), data.sigma[0] * reference, rtol=1e-9)
            sm = pytest.importorskip("statsmodels.api", reason="statsmodels is the reference (test extra)")
            wls = sm.WLS(data.y, sm.add_constant(data.x), weights=data.sigma**-2).fit()
            np.testing.assert_allclose(list(scaled.stderr.values()), wls.bse, rtol=1e-9)


def test_the_comparison_table_carries_the_p_value():
    _, data = misra(1000.0)
    table = fitflow.compare(data, methods=["nlls"], budget_s=None)
    assert table.loc[0, "chi2_p"] == pytest.approx(1.0) and table.loc[0, "chi2_dof"] == pytest.approx(1e-6)
    assert table.loc[0, "status"] == "ok" and "goodness of fit: χ²/dof = 1e-06" in table.loc[0, "warnings"]
