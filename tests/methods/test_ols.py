"""OLS against numpy.linalg.lstsq and the analytic covariance (A^T W A)^-1."""

import numpy as np
import pytest

import fitflow


@pytest.fixture
def data():
    return fitflow.generate("cosine_series", seed=3, n_samples=50, n_modes=5)


def test_estimates_match_numpy_lstsq_on_the_whitened_system(data):
    result = fitflow.fit("ols", data)
    design = data.model.design(data.x) / data.sigma[:, None]
    reference, *_ = np.linalg.lstsq(design, data.y / data.sigma, rcond=None)
    np.testing.assert_allclose(result.estimate_vector(), reference, rtol=1e-10, atol=1e-12)


def test_covariance_matches_the_analytic_inverse(data):
    result = fitflow.fit("ols", data)
    design = data.model.design(data.x)
    analytic = np.linalg.inv(design.T @ np.diag(1 / data.sigma**2) @ design)
    np.testing.assert_allclose(result.covariance, analytic, rtol=1e-9, atol=1e-14)
    assert result.diagnostics["condition_number"] == pytest.approx(
        np.linalg.cond(design / data.sigma[:, None]), rel=1e-9
    )


def test_a_rank_deficient_design_is_a_failed_fit_never_a_minimum_norm_answer():
    # More modes than samples: the design cannot have full column rank.
    deficient = fitflow.fit("ols", fitflow.generate("cosine_series", seed=1, n_samples=4, n_modes=6))
    assert not deficient.ok and "rank-deficient" in deficient.message


def test_intervals_are_exactly_calibrated_over_replicates():
    # Linear-Gaussian: each pull is exactly N(0, 1). 300 replicates x 6 parameters = 1800 intervals
    # (correlated within a replicate); tolerance 0.68 +- 0.04 is over 3 binomial standard deviations.
    inside = []
    for rep in range(300):
        data = fitflow.generate("cosine_series", seed=rep)
        metrics = fitflow.evaluate(data, fitflow.fit("ols", data))
        inside.append(metrics["coverage68"])
    assert abs(np.mean(inside) - 0.6827) < 0.04
