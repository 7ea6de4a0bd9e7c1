"""NLLS against scipy.optimize.curve_fit, and the calibration of its Laplace intervals."""

import numpy as np
import pytest
from scipy.optimize import curve_fit

import fitflow
from fitflow_plugins.methods.nlls import NonLinearLeastSquares
from fitflow_plugins.problems.gaussian_peak import gaussian, gaussian_jacobian


def assert_covariance_close(actual, desired, rtol):
    """Entry-wise agreement relative to the matrix's own scale, sqrt(C_ii C_jj).

    Plain element-wise rtol is meaningless for near-zero correlations (entries
    thousands of times below the scale differ only in rounding).
    """
    scale = np.sqrt(np.outer(np.diag(desired), np.diag(desired)))
    np.testing.assert_array_less(np.abs(actual - desired) / scale, rtol)


def curve_fit_reference(data, **kwargs):
    """curve_fit with the same algorithm (MINPACK LM) and nlls's default tolerances."""
    model = lambda x, *theta: gaussian(x, theta)  # noqa: E731
    tolerances = {k: NonLinearLeastSquares.settings[k].default for k in ("xtol", "ftol", "gtol")}
    return curve_fit(
        model, data.x, data.y, p0=data.model.p0, sigma=data.sigma, absolute_sigma=True,
        method="lm", **tolerances, **kwargs,
    )


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_parameters_and_covariance_match_curve_fit(seed):
    data = fitflow.generate("gaussian_peak", seed=seed)
    result = fitflow.fit("nlls", data)
    popt, pcov = curve_fit_reference(data, jac=lambda x, *theta: gaussian_jacobian(x, theta))
    np.testing.assert_allclose(result.estimate_vector(), popt, rtol=1e-6)
    assert_covariance_close(result.covariance, pcov, rtol=1e-6)
    chi2 = np.sum(((data.y - gaussian(data.x, popt)) / data.sigma) ** 2)
    assert result.diagnostics["cost"] * 2 == pytest.approx(chi2, rel=1e-9)


def test_finite_difference_jacobian_also_matches_curve_fit():
    data = fitflow.generate("gaussian_peak", seed=4)
    result = fitflow.fit("nlls", data, jacobian="finite-difference")
    popt, pcov = curve_fit_reference(data)
    np.testing.assert_allclose(result.estimate_vector(), popt, rtol=1e-6)
    assert_covariance_close(result.covariance, pcov, rtol=1e-5)


def test_bounded_fit_stays_inside_the_bounds():
    data = fitflow.generate("gaussian_peak", seed=5, center=1.9)
    result = fitflow.fit("nlls", data, bounded=True)
    lower, upper = data.model.bounds
    theta = result.estimate_vector()
    assert result.diagnostics["algorithm"] == "trf"
    assert np.all(theta >= lower) and np.all(theta <= upper)


def test_exhausted_budget_is_a_failed_fit_with_the_optimisers_reason():
    data = fitflow.generate("gaussian_peak", seed=6)
    result = fitflow.fit("nlls", data, max_nfev=2)
    assert not result.ok
    assert "did not converge" in result.message and "calls to function has reached maxfev" in result.message


@pytest.mark.slow
def test_laplace_68_percent_intervals_are_calibrated_over_200_replicates():
    # 200 replicates x 4 parameters = 800 intervals. If they were independent, the binomial
    # standard deviation of the coverage would be sqrt(0.68 * 0.32 / 800) = 1.65%; the +-4%
    # tolerance is about 2.4 of those. Seeds are fixed, so the test is deterministic.
    problem = fitflow.make_problem("gaussian_peak")
    method = fitflow.make_method("nlls")
    inside = []
    for rep in range(200):
        data = fitflow.generate(problem, seed=np.random.SeedSequence([2026, rep]))
        metrics = fitflow.evaluate(data, fitflow.fit(method, data, seed=rep))
        assert metrics["status"] == "ok"
        inside += [metrics[f"param.{name}.in68"] for name in ("A", "mu", "sigma", "B")]
    assert len(inside) == 800
    assert abs(np.mean(inside) - 0.68) <= 0.04, f"coverage {np.mean(inside):.3f}"
