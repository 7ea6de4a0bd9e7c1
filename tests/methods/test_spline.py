"""The smoothing spline against scipy's own GCV spline and the known truth."""

import warnings

import numpy as np
import pytest

import fitflow


def test_the_curve_is_scipys_spline_at_the_gcv_minimum():
    # The reference: scipy's make_smoothing_spline at the chosen lam, and GCV evaluated by
    # brute force on a dense lam grid from scipy fits (scipy's own lam=None search stops at a
    # nearly straight line on these data, a local minimum 20x worse in GCV).
    from scipy.interpolate import make_smoothing_spline

    data = fitflow.generate("smooth_function", seed=3, n_samples=100)
    data.sigma = None
    result = fitflow.fit("spline", data)
    assert result.ok
    order = np.argsort(data.x)
    x, y = data.x[order], data.y[order]
    lam = result.diagnostics["lam"]
    inside = (data.grid_x >= x[0]) & (data.grid_x <= x[-1])  # beyond the data: a line (next test)
    reference = make_smoothing_spline(x, y, lam=lam)(data.grid_x[inside])
    np.testing.assert_allclose(result.grid_mean[inside], reference, atol=1e-10)

    def gcv(lam):
        smoother = make_smoothing_spline(x, np.eye(x.size), lam=lam)(x)
        residual = y - smoother @ y
        return x.size * (residual @ residual) / (x.size - np.trace(smoother)) ** 2

    dense = min(gcv(value) for value in np.logspace(-9, 1, 101))
    assert gcv(lam) <= dense * (1 + 1e-3)


def test_the_spline_recovers_the_truth_and_its_band_nearly_covers_it():
    # 20 seeded replicates: median RMSE below a fifth of the noise-free signal's spread, and
    # the 95% band (sampling variance only, no bias term) holding the truth at >= 85% of the
    # grid in the median replicate (measured 0.92).
    rmse, coverage = [], []
    for seed in range(20):
        data = fitflow.generate("smooth_function", seed=seed)
        metrics = fitflow.evaluate(data, fitflow.fit("spline", data))
        rmse.append(metrics["rmse"])
        coverage.append(metrics["band_coverage95"])
    assert np.median(rmse) < 0.2 * np.std(data.grid_y)
    assert np.median(coverage) >= 0.85


def test_known_errors_weight_the_fit_and_set_the_band():
    data = fitflow.generate("smooth_function", seed=1)
    result = fitflow.fit("spline", data, lam=1e-4)
    wider = fitflow.Dataset(problem=data.problem, x=data.x, y=data.y, sigma=2 * data.sigma, grid_x=data.grid_x)
    doubled = fitflow.fit("spline", wider, lam=1e-4 / 4)  # weights quartered: same curve at lam / 4
    np.testing.assert_allclose(doubled.grid_mean, result.grid_mean, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(doubled.grid_std, 2 * result.grid_std, rtol=1e-6)


@pytest.mark.parametrize(
    "x, reason",
    [
        (np.column_stack([np.arange(10.0), np.arange(10.0) ** 2]), "one predictor"),
        (np.repeat(np.arange(5.0), 2), "distinct x"),
    ],
)
def test_data_it_cannot_fit_are_refused_with_the_reason(x, reason):
    from fitflow_plugins.methods.regression.spline import SmoothingSpline

    data = fitflow.Dataset(problem=fitflow.make_problem("smooth_function"), x=x, y=np.arange(10.0))
    assert reason in SmoothingSpline().can_fit(data)


@pytest.mark.parametrize("x_unit, y_unit", [(1e-9, 1e19), (1e6, 1e-12)])
def test_the_curve_does_not_depend_on_the_units(x_unit, y_unit):
    # Nanoseconds and densities of 1e19 (1/sigma^2 ~ 1e-36) once made scipy's banded solve
    # return a zero curve with 1e-13 effective parameters, labelled ok. In any units the curve,
    # the band and the effective parameters must be those of the unit-scale fit (to float
    # rounding: 1e-7 relative, measured 1e-9).
    data = fitflow.generate("smooth_function", seed=3, n_samples=100)
    reference = fitflow.fit("spline", data)
    scaled = fitflow.Dataset(
        problem=data.problem,
        x=data.x * x_unit,
        y=data.y * y_unit,
        sigma=data.sigma * y_unit,
        grid_x=data.grid_x * x_unit,
    )
    result = fitflow.fit("spline", scaled)
    assert result.ok, result.message
    np.testing.assert_allclose(
        result.grid_mean / y_unit, reference.grid_mean, rtol=1e-7, atol=1e-7 * np.ptp(reference.grid_mean)
    )
    np.testing.assert_allclose(result.grid_std / y_unit, reference.grid_std, rtol=1e-7)
    assert result.n_effective_params == pytest.approx(reference.n_effective_params, rel=1e-7)
    assert result.diagnostics["lam"] == pytest.approx(reference.diagnostics["lam"] * x_unit**3 / y_unit**2, rel=1e-5)


def test_gcv_refinement_next_to_interpolation_stays_finite_and_finds_the_minimum():
    # 14 points of a smooth rise (Misra1a's shape, NIST StRD) with little noise: GCV's
    # minimum sits beside the lam where the spline nearly interpolates, where gcv is inf.
    # Brent's parabolas through inf gave NaN (a RuntimeWarning) and the refinement was
    # silently dropped. The fit must raise no warning and land on the dense-grid minimum.
    from scipy.interpolate import make_smoothing_spline

    rng = np.random.default_rng(0)
    x = np.array([77.6, 114.9, 141.1, 190.8, 239.9, 289.0, 332.8, 378.4, 434.8, 477.3, 536.8, 593.1, 689.1, 760.0])
    y = 238.94 * (1 - np.exp(-5.5016e-4 * x)) + rng.normal(0, 0.1, x.size)
    data = fitflow.measurement(x, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = fitflow.fit("spline", data)
    assert result.ok, result.message
    u = (x - x[0]) / (x[-1] - x[0])

    def gcv(lam_u):
        smoother = make_smoothing_spline(u, np.eye(x.size), lam=lam_u)(u)
        residual = y - smoother @ y
        edf = np.trace(smoother)
        return x.size * (residual @ residual) / (x.size - edf) ** 2 if edf <= x.size - 2 else np.inf

    lam_u = result.diagnostics["lam"] / (x[-1] - x[0]) ** 3
    dense = min(gcv(value) for value in np.logspace(-12, 0, 241))
    assert gcv(lam_u) <= dense * (1 + 1e-3)


def test_the_o_n_gcv_terms_equal_those_of_the_exact_smoother_matrix():
    # RSS_w and tr S from the Reinsch form and the band of B^-1, against the n x n smoother
    # scipy gives with the identity as data, on uneven x and uneven weights. Both are exact
    # in exact arithmetic; 1e-6 (relative RSS) and 1e-4 (tr S) leave room for the rounding
    # of the dense solve where lam is large.
    from scipy.interpolate import make_smoothing_spline

    from fitflow_plugins.methods.regression.spline import _GCV

    rng = np.random.default_rng(0)
    n = 300
    u = np.sort(rng.uniform(0, 1, n))
    y = np.sin(20 * u) + rng.normal(0, 0.3, n)
    w = rng.uniform(0.5, 2.0, n)
    criterion = _GCV(u, y, w)
    for lam in (1e-10, 1e-7, 1e-4, 1e-2, 1.0):
        smoother = make_smoothing_spline(u, np.eye(n), w=w, lam=lam)(u)
        residual = y - smoother @ y
        rss, edf = criterion(lam)
        assert rss == pytest.approx(float(np.sum(w * residual**2)), rel=1e-6)
        assert edf == pytest.approx(float(np.trace(smoother)), abs=1e-4)


def test_beyond_the_data_the_spline_is_a_straight_line_as_a_natural_spline_is():
    # A natural cubic spline has f'' = 0 at its end knots and is linear beyond them; scipy's
    # BSpline would continue the end cubics instead (what scored a held-out end block 1e5 off).
    rng = np.random.default_rng(1)
    x = np.linspace(0, 10, 80)
    data = fitflow.measurement(x, np.sin(x) + rng.normal(0, 0.1, x.size))
    grid = np.array([-3.0, -2.0, -1.0, 0.0, 10.0, 11.0, 12.0, 13.0])
    data.grid_x = grid
    result = fitflow.fit("spline", data)
    assert result.ok, result.message
    left, right = result.grid_mean[:4], result.grid_mean[4:]
    np.testing.assert_allclose(np.diff(left, 2), 0.0, atol=1e-9)
    np.testing.assert_allclose(np.diff(right, 2), 0.0, atol=1e-9)
    # the lines leave the data at the spline's end values, with its end slopes
    from scipy.interpolate import make_smoothing_spline

    curve = make_smoothing_spline(x, data.y, lam=result.diagnostics["lam"])
    assert left[-1] == pytest.approx(float(curve(0.0)), abs=1e-9)
    assert right[0] == pytest.approx(float(curve(10.0)), abs=1e-9)
    assert left[-1] - left[-2] == pytest.approx(float(curve.derivative()(0.0)), rel=1e-6)
    assert right[1] - right[0] == pytest.approx(float(curve.derivative()(10.0)), rel=1e-6)
