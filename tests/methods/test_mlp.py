"""MLP ensemble: accuracy relative to the GP, and determinism."""

import numpy as np
import pytest

import fitflow


@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_rmse_is_within_twice_the_gp_rmse_with_200_samples(seed):
    data = fitflow.generate("smooth_function", seed=seed, n_samples=200)
    mlp = fitflow.evaluate(data, fitflow.fit("mlp", data, seed=seed))["rmse"]
    gp = fitflow.evaluate(data, fitflow.fit("gp", data, seed=seed))["rmse"]
    assert mlp <= 2 * gp, (mlp, gp)


def test_training_is_deterministic_under_a_fixed_seed():
    data = fitflow.generate("smooth_function", seed=3, n_samples=60)
    a = fitflow.fit("mlp", data, seed=9, n_networks=2, max_iter=300)
    b = fitflow.fit("mlp", data, seed=9, n_networks=2, max_iter=300)
    c = fitflow.fit("mlp", data, seed=10, n_networks=2, max_iter=300)
    assert np.array_equal(a.grid_mean, b.grid_mean) and np.array_equal(a.arrays["loss_curves"], b.arrays["loss_curves"], equal_nan=True)
    assert not np.array_equal(a.grid_mean, c.grid_mean)
    assert a.arrays["loss_curves"].shape[0] == 2 and a.grid_std.shape == a.grid_mean.shape
