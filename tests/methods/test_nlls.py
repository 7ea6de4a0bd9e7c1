"""NLLS against scipy.optimize.curve_fit, and the calibration of its Laplace intervals."""

import numpy as np
import pytest
from scipy.optimize import curve_fit

import fitflow
from fitflow.testing import GivenModel
from fitflow_plugins.methods.least_squares.nlls import NonLinearLeastSquares
from fitflow_plugins.problems.synthetic.gaussian_peak import gaussian, gaussian_jacobian


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
        model,
        data.x,
        data.y,
        p0=data.model.p0,
        sigma=data.sigma,
        absolute_sigma=True,
        method="lm",
        **tolerances,
        **kwargs,
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


# -- a fit is ok only when its answer can be trusted ------------------------------------


def _saturating(start):
    """A saturating exponential (6 points, like NIST's BoxBOD) whose LM path from a poor
    start runs the rate off to a plateau where the model is the constant b1."""
    from fitflow.inputs.expression import expression_model

    x = np.array([1, 2, 3, 5, 7, 10.0])
    y = np.array([109, 149, 149, 191, 213, 224.0])
    model = expression_model("b1*(1 - exp(-b2*x))", ["b1", "b2"], p0=start)
    return fitflow.Dataset(problem=GivenModel(model), x=x, y=y)


def _curve_fit_reference():
    from scipy.optimize import curve_fit

    data = _saturating([100, 0.75])
    popt, pcov = curve_fit(
        lambda x, b1, b2: b1 * (1 - np.exp(-b2 * x)), data.x, data.y, p0=[100, 0.75], ftol=1e-15, xtol=1e-15, gtol=1e-15
    )
    return popt, pcov


def test_a_plateau_is_never_ok_and_the_fallback_finds_the_optimum():
    popt, pcov = _curve_fit_reference()  # from a good start, curve_fit finds the optimum
    stalled = fitflow.fit("nlls", _saturating([1.0, 1.0]), fallbacks=False)
    assert not stalled.ok and "plateau" in stalled.message and "b2" in stalled.message
    rescued = fitflow.fit("nlls", _saturating([1.0, 1.0]))
    assert rescued.ok and rescued.diagnostics["algorithm"] != "lm"
    np.testing.assert_allclose(rescued.estimate_vector(), popt, rtol=1e-7)
    np.testing.assert_allclose(rescued.covariance, pcov, rtol=1e-5)
    assert any("fallback" in w for w in rescued.warnings)


def test_a_badly_scaled_polynomial_keeps_finite_standard_errors():
    # Raw powers of x up to 10 (condition ~1e15): MINPACK's unscaled test calls the
    # Jacobian singular; scaled, it is not, and the covariance equals OLS's.
    from fitflow.inputs.expression import expression_model

    rng = np.random.default_rng(2)
    x = np.linspace(-8.8, -3.1, 82)
    text = " + ".join(["b0"] + [f"b{k}*x**{k}" for k in range(1, 6)])
    model = expression_model(text, [f"b{k}" for k in range(6)], p0=np.zeros(6))
    y = model(x, [1.0, 0.5, 0.2, 0.05, 0.01, 0.001]) + rng.normal(0, 0.01, x.size)
    problem = GivenModel(model)
    problem.capabilities = frozenset({"parametric", "linear"})
    data = fitflow.Dataset(problem=problem, x=x, y=y, sigma=np.full(x.size, 0.01))
    fitted, linear = fitflow.fit("nlls", data), fitflow.fit("ols", data)
    assert fitted.ok and np.all(np.isfinite(fitted.covariance))
    np.testing.assert_allclose(fitted.estimate_vector(), linear.estimate_vector(), rtol=1e-6)
    np.testing.assert_allclose(fitted.stderr_vector(), linear.stderr_vector(), rtol=1e-6)


def test_a_parameter_the_model_ignores_is_a_failed_fit():
    from fitflow.inputs.expression import expression_model

    x = np.linspace(0, 1, 10)
    model = expression_model("a*x", ["a", "b"], p0=[1.0, 1.0])
    result = fitflow.fit("nlls", fitflow.Dataset(problem=GivenModel(model), x=x, y=2 * x))
    assert not result.ok and "b" in result.message


def test_a_parameter_held_at_its_bound_is_constrained_not_a_plateau(decay_below_its_bound):
    # A background measured at -0.1 with the bound b >= 0: TRF stops a hair above 0, where
    # "value x Jacobian column" is ~0. That is an active bound, not a parameter without effect.
    data, decay = decay_below_its_bound
    x, y, sigma = data.x, data.y, data.sigma
    result = fitflow.fit("nlls", data, bounded=True)
    assert result.ok, result.message
    assert result.params["b"] == pytest.approx(0.0, abs=1e-8)
    assert any(w.startswith("b sits at its lower bound 0") for w in result.warnings)
    # the other two are the least-squares optimum with b fixed at 0, to 1e-3 of their standard
    # errors (TRF's default tolerances stop there: measured 2e-4)
    fixed, _ = curve_fit(lambda x, a, tau: decay(x, [a, tau, 0.0]), x, y, p0=[1, 1], sigma=sigma)
    np.testing.assert_allclose(
        [result.params["A"], result.params["tau"]], fixed, atol=1e-3 * min(result.stderr["A"], result.stderr["tau"])
    )
    # By default the bounds are respected the same way, saying that b crossed its bound;
    # bounded=False is the unbounded optimum, curve_fit's.
    default = fitflow.fit("nlls", data)
    assert default.ok and default.warnings[0].startswith("the unbounded optimum lies outside the bounds (b = -0.117")
    np.testing.assert_allclose(default.estimate_vector(), result.estimate_vector(), atol=1e-8)
    free = fitflow.fit("nlls", data, bounded=False)
    unbounded, _ = curve_fit(lambda x, a, tau, b: decay(x, [a, tau, b]), x, y, p0=[1, 1, 0.1], sigma=sigma)
    # to 1e-4 of the smallest standard error: the two optimisers stop at slightly different
    # points inside the same tolerance (measured 1.2e-7 on b, whose standard error is ~0.03)
    np.testing.assert_allclose(free.estimate_vector(), unbounded, atol=1e-4 * min(free.stderr.values()))
