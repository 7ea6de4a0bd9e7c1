"""The variational neural network (vnn): its mean-field fit against the exact posterior where
one exists, its conformal band scale by its definition, and the method on a multi-output
emulator against the MLP ensemble."""

import warnings

import numpy as np
import pytest
from scipy.stats import norm

import fitflow
from fitflow.core.settings import SettingsError

pytest.importorskip("numpyro", reason="the vnn method needs the jax extra: pip install 'fitflow[jax]'")

from fitflow_plugins.methods.regression.variational_network import band_scale, train_variational_network  # noqa: E402


def test_band_scale_is_the_rank_of_the_split_conformal_quantile():
    rng = np.random.default_rng(0)
    residual = rng.standard_t(3, size=(40, 2)) * [1.0, 5.0]
    band = rng.uniform(0.5, 2.0, size=(40, 2))
    noise = np.full((40, 2), 0.3)
    z = norm.ppf(0.975)
    rank = int(np.ceil(41 * 0.95))  # 39 of 40
    # without noise, k is the rank-th smallest |r| / (z band)
    assert np.allclose(band_scale(residual, band), np.sort(np.abs(residual) / (z * band), axis=0)[rank - 1])
    # with noise: the smallest k covering rank points
    scale = band_scale(residual, band, noise)
    for j in range(2):
        covered = np.abs(residual[:, j]) <= z * np.sqrt((scale[j] * band[:, j]) ** 2 + noise[:, j] ** 2) * (1 + 1e-12)
        fewer = np.abs(residual[:, j]) <= z * np.sqrt((0.999 * scale[j] * band[:, j]) ** 2 + noise[:, j] ** 2)
        assert covered.sum() >= rank > fewer.sum()
    assert np.isinf(band_scale(residual[:10], band[:10])).all()  # ceil(11 x 0.95) = 11 > 10 points


def test_mean_field_on_a_linear_network_finds_the_exact_posterior_means_and_precisions():
    """With no hidden layer and known noise the model is Bayesian linear regression, whose
    posterior is normal with precision L: the mean-field optimum has the exact means and
    sds 1/sqrt(diag L) (Bishop, PRML 10.1.2). Tolerance 5% of the exact sds: SVI's
    stochastic gradients with a learning rate decayed to 1e-4 leave a few per cent."""
    rng = np.random.default_rng(3)
    x = rng.uniform(-1, 2, size=(60, 2))
    y = np.column_stack([1.0 + 2.0 * x[:, 0] - x[:, 1], 0.5 * x[:, 1]]) + 0.3 * rng.standard_normal((60, 2))
    sigma = np.full_like(y, 0.3)
    network = train_variational_network(
        x, y, sigma, seed=1, hidden=(), activation="tanh", steps=20_000, learning_rate=0.01, particles=4
    )
    inputs = (x - x.mean(axis=0)) / x.std(axis=0)
    design = np.column_stack([inputs / np.sqrt(2), np.ones(len(x))])
    for j in range(2):
        target = (y[:, j] - y[:, j].mean()) / y[:, j].std()
        noise = 0.3 / y[:, j].std()
        precision = design.T @ design / noise**2 + np.eye(3)
        exact_mean = np.linalg.solve(precision, design.T @ target / noise**2)
        mean_field_sd = 1.0 / np.sqrt(np.diag(precision))
        loc = np.append(np.asarray(network.params["w0_auto_loc"])[:, j], network.params["b0_auto_loc"][j])
        scale = np.append(np.asarray(network.params["w0_auto_scale"])[:, j], network.params["b0_auto_scale"][j])
        assert np.all(np.abs(loc - exact_mean) < 0.05 * mean_field_sd), (loc, exact_mean)
        assert np.allclose(scale, mean_field_sd, rtol=0.05), (scale, mean_field_sd)


def test_vnn_emulates_three_outputs_with_bands_that_cover_and_errors_near_the_mlp_ensemble():
    """The default vnn on 200 training runs, 300 held out. bench_variational.py (10 seeds at
    200 runs): RMSE 0.5-1.0x the MLP's. Bounds on this one seed: RMSE <= 1.2x the MLP's (the
    issue's target) and 95% coverage >= 0.85: a conformal scale from 40 held-out points
    gives a coverage of about 0.95 with a seed-to-seed sd near 0.03 (Beta(39, 2))."""
    data = fitflow.generate("emulator", seed=2, n_train=200, n_test=300)
    result = fitflow.make_method("vnn").fit(data, np.random.default_rng(2))
    assert result.ok and result.grid_mean.shape == result.grid_std.shape == data.grid_y.shape
    assert len(result.diagnostics["band_scale"]) == 3 and result.y_fit.shape == data.y.shape
    scores = fitflow.evaluate(data, result)
    mlp = fitflow.evaluate(data, fitflow.make_method("mlp").fit(data, np.random.default_rng(2)))
    assert scores["rmse"] <= 1.2 * mlp["rmse"], (scores["rmse"], mlp["rmse"])
    assert 0.85 <= scores["band_coverage95"] <= 1.0


def test_emcee_through_a_vnn_emulator_is_never_narrower_than_through_the_simulator():
    """The emulator's band enters the likelihood, so its posterior may be wider than the true
    simulator's, never narrower, and must contain the true posterior's median. Measured on
    seeds 3-5 (200 design runs): sds 1.06-2.4x the true ones, medians 0.03-0.9 emulated sds
    apart. Bounds: sds >= 0.9x (MCMC noise at 1,000 steps is a few per cent), medians < 1.2 sds."""
    data = fitflow.generate("emulator_inference", seed=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # emcee's short-chain notes
        true = fitflow.fit("emcee", data, seed=1, n_steps=1000, n_walkers=16)
        emulated = fitflow.fit("emcee", data, seed=1, n_steps=1000, n_walkers=16, emulator="vnn")
    assert emulated.ok and emulated.diagnostics["emulator"] == "vnn"
    assert np.all(emulated.stderr_vector() >= 0.9 * true.stderr_vector())
    shift = np.abs(emulated.estimate_vector() - true.estimate_vector()) / emulated.stderr_vector()
    assert np.all(shift < 1.2), shift


def test_emulator_settings_are_checked_by_the_emulators_method():
    with pytest.raises(SettingsError, match="emulator_settings of the vnn emulator.*stepz") as caught:
        fitflow.make_method("emcee", emulator="vnn", emulator_settings={"stepz": 3})
    assert caught.value.key == "emulator_settings.stepz"
    with pytest.raises(SettingsError, match="emulator is 'none'"):
        fitflow.make_method("emcee", emulator_settings={"steps": 3})


def test_the_architecture_with_the_best_elbo_fits_forty_points_a_wide_network_explains_as_noise(tmp_path):
    """40 points of sin(t) and cos(2t) with noise 0.05. A fixed [16, 16] network's best ELBO
    explained both outputs as noise (RMSE 0.53 and 0.69 against the truth); the default
    compares four architectures by their ELBO and picked [4] (measured RMSE 0.03 and 0.12).
    Bound 0.2: a fit that follows both curves, far from the collapse."""
    rng = np.random.default_rng(0)
    t = np.linspace(0, 4, 40)
    truth = np.column_stack([np.sin(t), np.cos(2 * t)])
    y = truth + 0.05 * rng.standard_normal(truth.shape)
    np.savetxt(tmp_path / "two.csv", np.column_stack([t, y]), delimiter=",", header="t,y1,y2", comments="")
    data = fitflow.generate("table", file=str(tmp_path / "two.csv"), x=["t"], y=["y1", "y2"], cv_folds=0)
    result = fitflow.fit("vnn", data, seed=1)
    assert result.ok and result.diagnostics["hidden_layers"] != [16, 16]
    rmse = np.sqrt(np.mean((result.y_fit - truth) ** 2, axis=0))
    assert np.all(rmse < 0.2), rmse


def test_a_time_limit_stops_the_training_between_compiled_pieces():
    # A limit is a signal, seen only between compiled calls. Trained as one 20,000-step call,
    # a fit on 2,000 points overran a 3 s limit by 11 s; in pieces of
    # STEPS_PER_CALL it stops within a piece (a few tenths of a second). 7 s leaves room for
    # a slow machine.
    import time

    from fitflow.core.pipeline import as_rng, make_method, safe_fit

    data = fitflow.generate("simulate", seed=0, model="a*sin(x)", truth=[1.0], noise=0.1, n_points=2000, p0=[1])
    safe_fit(make_method("vnn", hidden_layers=[4], steps=1000), data, as_rng(0))  # compiled once
    method = make_method("vnn", hidden_layers=[4])
    started = time.perf_counter()
    result, _, _ = safe_fit(method, data, as_rng(0), seconds=3.0)
    assert not result.ok and "timed out after 3 s" in result.message
    assert time.perf_counter() - started < 7.0
