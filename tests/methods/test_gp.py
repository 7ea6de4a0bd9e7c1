"""GP regression: band coverage of the true function and accuracy against a smoothing spline."""

import numpy as np
import pytest
from scipy.interpolate import make_smoothing_spline

import fitflow


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_band_covers_truth_where_data_are_dense_and_beats_a_smoothing_spline(seed):
    data = fitflow.generate("smooth_function", seed=seed, n_samples=60, gap_start=0.55, gap_end=0.7)
    result = fitflow.fit("gp", data, seed=seed)
    dense = (data.grid_x >= data.x.min()) & (data.grid_x <= data.x.max()) & ~data.problem.in_gap(data.grid_x)
    deviation = np.abs(result.grid_mean - data.grid_y)
    assert np.mean(deviation[dense] <= 2 * result.grid_std[dense]) >= 0.90
    # The band widens where there are no data.
    assert result.grid_std[data.problem.in_gap(data.grid_x)].mean() > 2 * result.grid_std[dense].mean()
    # Reference: SciPy's cubic smoothing spline, penalty chosen by GCV, weighted by the errors.
    spline = make_smoothing_spline(data.x, data.y, w=1 / data.sigma**2)
    spline_rmse = np.sqrt(np.mean((spline(data.grid_x) - data.grid_y)[dense] ** 2))
    gp_rmse = np.sqrt(np.mean(deviation[dense] ** 2))
    assert gp_rmse < spline_rmse, (gp_rmse, spline_rmse)


def test_unknown_errors_learn_the_noise_with_a_white_kernel():
    data = fitflow.generate("smooth_function", seed=4, n_samples=80, noise=0.2)
    result = fitflow.fit("gp", data, seed=4, noise="white")
    assert "WhiteKernel" in result.diagnostics["kernel"]
    # The learned noise level (in normalised units, times the y spread) is near the true 0.2.
    learned = float(result.diagnostics["kernel"].split("WhiteKernel(noise_level=")[1].split(")")[0])
    assert 0.1 < np.sqrt(learned) * np.std(data.y) < 0.3


def test_hyperparameters_pinned_at_a_bound_are_reported_in_words():
    """Pure noise drives the length scale to its lower bound; the fit says what that
    means. A smooth signal leaves every hyperparameter inside its range: no warning."""
    import warnings

    from sklearn.gaussian_process import GaussianProcessRegressor

    from fitflow_plugins.methods.regression.gp import GaussianProcess, hyperparameters_at_bounds

    rng = np.random.default_rng(0)
    x = np.linspace(-1.7, 1.7, 30)[:, None]
    found = {}
    for name, y in {"noise": rng.normal(size=30), "smooth": np.sin(3 * x[:, 0]) + 0.05 * rng.normal(size=30)}.items():
        regressor = GaussianProcessRegressor(
            kernel=GaussianProcess()._kernel(learn_noise=True), normalize_y=True, n_restarts_optimizer=3, random_state=0
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # sklearn's own bound warning, in its terms
            regressor.fit(x, y)
        found[name] = hyperparameters_at_bounds(regressor.kernel_)
    assert len(found["noise"]) == 1 and "length_scale = 0.001 is at its lower bound" in found["noise"][0]
    assert found["smooth"] == []


@pytest.mark.parametrize("known_errors", [False, True])
def test_hyperparameters_learned_on_a_subset_give_the_full_fits_accuracy(known_errors):
    # 800 points, hyperparameters from 200 of them: measured on 2,000 points (200 from 500),
    # 84 s for the full maximisation and 3 s for the subset, RMSE against the truth 0.0178 both.
    data = fitflow.generate("smooth_function", seed=5, n_samples=800, noise=0.2)
    if not known_errors:
        data.sigma = None
    full = fitflow.fit("gp", data, seed=5, n_restarts=1, hyperparameter_points=800)
    subset = fitflow.fit("gp", data, seed=5, n_restarts=1, hyperparameter_points=200)
    assert subset.ok and subset.diagnostics["hyperparameters_learned_on"] == 200
    assert "hyperparameters_learned_on" not in full.diagnostics
    rmse = {k: np.sqrt(np.mean((r.grid_mean - data.grid_y) ** 2)) for k, r in (("full", full), ("subset", subset))}
    # Tolerance: within 10% of the full fit's error (a quarter of the points sets two or three
    # hyperparameters; every point conditions the mean). Measured: 0.0259 against 0.0246.
    assert rmse["subset"] <= 1.10 * rmse["full"], rmse
    # The band stays calibrated: the true curve within two sd at >= 90% of the grid.
    inside = np.abs(subset.grid_mean - data.grid_y) <= 2 * subset.grid_std
    assert inside.mean() >= 0.90
