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
    assert np.array_equal(a.grid_mean, b.grid_mean) and np.array_equal(
        a.arrays["loss_curves"], b.arrays["loss_curves"], equal_nan=True
    )
    assert not np.array_equal(a.grid_mean, c.grid_mean)
    assert a.arrays["loss_curves"].shape[0] == 2 and a.grid_std.shape == a.grid_mean.shape


@pytest.mark.parametrize("shape", [(2,), (9,), (12, 3)])
def test_the_fast_validation_score_is_scikit_learns_r2(shape):
    """The per-epoch validation score that replaces scikit-learn's r2_score (for speed)
    gives its very numbers: random data, one or several outputs, and constant targets
    predicted exactly (1) or not (0)."""
    from sklearn.metrics import r2_score

    from fitflow_plugins.methods.regression.mlp import validation_r2

    rng = np.random.default_rng(len(shape) * 10 + shape[0])
    y = rng.normal(size=shape)
    prediction = y + 0.4 * rng.normal(size=shape)
    assert validation_r2(y, prediction) == r2_score(y, prediction)
    constant = np.ones(shape)
    assert validation_r2(constant, constant) == r2_score(constant, constant) == 1.0
    assert validation_r2(constant, constant + 0.1) == r2_score(constant, constant + 0.1) == 0.0
    assert np.isnan(validation_r2(y, np.full(shape, np.inf)))


def test_networks_train_exactly_as_scikit_learns_own_regressor():
    """Same seed, same data: the fast-scoring subclass and MLPRegressor stop at the same
    epoch with the same validation scores and weights."""
    from sklearn.neural_network import MLPRegressor

    from fitflow_plugins.methods.regression.mlp import _regressor_class

    rng = np.random.default_rng(4)
    x = rng.uniform(-2, 2, (80, 2))
    y = np.sin(x[:, 0]) + 0.1 * rng.normal(size=80)
    settings = dict(
        hidden_layer_sizes=(16,),
        batch_size=16,
        early_stopping=True,
        n_iter_no_change=20,
        tol=1e-7,
        max_iter=400,
        random_state=3,
    )
    ours, theirs = _regressor_class()(**settings).fit(x, y), MLPRegressor(**settings).fit(x, y)
    assert ours.validation_scores_ == theirs.validation_scores_ and len(ours.validation_scores_) > 20
    assert all(np.array_equal(a, b) for a, b in zip(ours.coefs_, theirs.coefs_))
