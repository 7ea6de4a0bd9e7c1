import math

import numpy as np
import pytest

from fitflow import Dataset, FitResult, ParametricModel, Problem, evaluate


class Line(Problem):
    """y = a + b x, a two-parameter linear problem built by hand for these tests."""

    name = "line"
    capabilities = frozenset({"linear", "parametric"})

    def model(self, dataset):
        design = lambda x: np.column_stack([np.ones_like(x), x])  # noqa: E731
        return ParametricModel(lambda x, t: design(x) @ t, ("a", "b"), p0=[0, 0], design=design)


@pytest.fixture
def dataset():
    x = np.linspace(0, 1, 5)
    return Dataset(
        problem=Line(),
        x=x,
        y=1 + 2 * x + np.array([0.1, -0.1, 0.0, 0.1, -0.1]),
        sigma=np.full(5, 0.1),
        truth_params={"a": 1.0, "b": 2.0},
        grid_x=np.linspace(0, 1, 11),
        grid_y=1 + 2 * np.linspace(0, 1, 11),
    )


def test_pulls_intervals_and_chi2_follow_their_definitions(dataset):
    result = FitResult(params={"a": 1.05, "b": 1.7}, stderr={"a": 0.1, "b": 0.1}, covariance=np.diag([0.01, 0.01]))
    m = evaluate(dataset, result)
    assert m["param.a.pull"] == pytest.approx(0.5) and m["param.b.pull"] == pytest.approx(-3.0)
    assert (m["param.a.in68"], m["param.b.in68"], m["param.b.in95"]) == (1.0, 0.0, 0.0)
    assert m["coverage68"] == 0.5 and m["max_abs_pull"] == pytest.approx(3.0)
    residuals = dataset.y - (1.05 + 1.7 * dataset.x)
    assert m["chi2"] == pytest.approx(np.sum((residuals / 0.1) ** 2))
    assert m["dof"] == 3 and m["chi2_dof"] == pytest.approx(m["chi2"] / 3)
    grid_error = (1.05 + 1.7 * dataset.grid_x) - dataset.grid_y
    assert m["rmse"] == pytest.approx(np.sqrt(np.mean(grid_error**2)))
    # Band from the covariance: var = 0.01 (1 + x^2), exact for a linear model.
    band = np.sqrt(0.01 * (1 + dataset.grid_x**2))
    assert m["band_coverage95"] == pytest.approx(np.mean(np.abs(grid_error) <= 1.959963984540054 * band))


def test_sample_based_intervals_use_percentiles(dataset):
    rng = np.random.default_rng(0)
    # Samples of a centred on 1.1 with spread 0.2 put the truth a=1 inside the 68% percentile
    # interval, while the (deliberately too small) stderr interval 1.2 +- 0.01 would exclude it.
    samples = np.column_stack([rng.normal(1.1, 0.2, 4000), rng.normal(2.0, 0.1, 4000)])
    result = FitResult(params={"a": 1.2, "b": 2.0}, stderr={"a": 0.01, "b": 0.1}, samples=samples)
    assert evaluate(dataset, result)["param.a.in68"] == 1.0
    without_samples = FitResult(params={"a": 1.2, "b": 2.0}, stderr={"a": 0.01, "b": 0.1})
    assert evaluate(dataset, without_samples)["param.a.in68"] == 0.0


def test_failed_fit_gives_nan_metrics_with_failed_status(dataset):
    m = evaluate(dataset, FitResult.failed("diverged"))
    assert m["status"] == "failed" and math.isnan(m["rmse"]) and math.isnan(m["coverage68"])
