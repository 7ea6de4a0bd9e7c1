"""Emulating a simulation with several outputs: the emulator problem, gp (one model per
output) and mlp (one joint network), scored on a held-out test set per output."""

import numpy as np
import pytest

import fitflow
from fitflow.core.errors import FitflowError
from fitflow.core.pipeline import safe_fit
from fitflow_plugins.problems.synthetic.emulator import BOX, OUTPUTS, spectral_line


def test_the_simulation_has_the_physics_it_claims():
    low, high = BOX
    base = np.array([[18.0, 20.0, 0.0]])
    hotter, denser, faster = base.copy(), base.copy(), base.copy()
    hotter[0, 1], denser[0, 0], faster[0, 2] = 40.0, 18.5, 30.0
    width, shift, ratio = spectral_line(base)[0]
    assert spectral_line(hotter)[0, 2] == pytest.approx(2.5 * np.exp(-12 / 40.0))  # Boltzmann ratio
    assert spectral_line(denser)[0, 0] > width and spectral_line(hotter)[0, 0] > width  # Stark, Doppler
    assert spectral_line(faster)[0, 1] - shift == pytest.approx(656.3 * 30.0 / 299_792.458)  # Doppler shift


@pytest.fixture(scope="module")
def data():
    return fitflow.generate("emulator", seed=2, n_train=150, n_test=300)


def test_the_design_fills_the_box_and_the_test_set_is_held_out(data):
    low, high = BOX
    assert data.x.shape == (150, 3) and data.y.shape == (150, 3) and data.grid_y.shape == (300, 3)
    assert np.all(data.x >= low) and np.all(data.x <= high)
    # Latin hypercube: each input's range split in 150 strata, one run in each.
    strata = np.floor((data.x - low) / (high - low) * 150).astype(int)
    assert all(len(set(strata[:, j])) == 150 for j in range(3))
    assert not np.isin(data.grid_x[:, 0], data.x[:, 0]).any()
    assert data.output_names == list(OUTPUTS)


@pytest.mark.parametrize(
    "method, settings, nrmse, coverage",
    [
        ("gp", {"n_restarts": 1}, 0.01, 0.85),
        ("mlp", {"n_networks": 3}, 0.08, 0.5),
    ],
)
def test_emulators_predict_every_output_on_held_out_runs(data, method, settings, nrmse, coverage):
    # Thresholds from measured values (seed 2: gp 0.002 / 0.93, mlp 0.02 / 0.9) with margin:
    # normalised RMSE (RMSE / the output's spread, averaged) and pooled 95% band coverage.
    result = fitflow.fit(method, data, seed=1, **settings)
    assert result.grid_mean.shape == (300, 3) and result.grid_std.shape == (300, 3)
    metrics = fitflow.evaluate(data, result)
    assert metrics["rmse"] < nrmse
    assert metrics["band_coverage95"] > coverage
    for name, spread in zip(OUTPUTS, np.std(data.grid_y, axis=0)):
        assert metrics[f"rmse.{name}"] < 3 * nrmse * spread


def test_the_gp_refuses_training_sets_beyond_its_cubic_cost():
    big = fitflow.generate("emulator", seed=0, n_train=500, n_test=10)
    with pytest.raises(FitflowError) as info:
        fitflow.fit("gp", big, max_points=400)
    assert "O(n^3)" in str(info.value)


def test_predicting_outside_the_training_box_is_a_warning(data):
    outside = fitflow.Dataset(
        problem=data.problem,
        x=data.x,
        y=data.y,
        grid_x=np.vstack([data.grid_x[:5], [[20.0, 20.0, 0.0]]]),
        grid_y=np.vstack([data.grid_y[:5], spectral_line([[20.0, 20.0, 0.0]])]),
        meta=data.meta,
    )
    result, _, _ = safe_fit(fitflow.make_method("mlp", n_networks=1, max_iter=50), outside, np.random.default_rng(0))
    assert result.ok and any(
        "1 of 6 prediction points lie outside the training box (in log10_density)" in w for w in result.warnings
    )


def test_a_design_smaller_than_the_inputs_is_refused():
    with pytest.raises(FitflowError) as info:
        fitflow.make_problem("emulator", n_train=3)
    assert "n_train" in str(info.value) and "at least 4" in str(info.value)


def test_a_spline_is_not_offered_several_outputs(data):
    one_x = fitflow.Dataset(problem=data.problem, x=data.x[:, 1], y=data.y)
    assert "several outputs" in fitflow.make_method("spline").can_fit(one_x)


def test_a_gp_emulator_learns_its_hyperparameters_on_a_subset_of_a_large_design():
    from fitflow_plugins.methods.regression.emulation import train_gp_emulator

    big = fitflow.generate("emulator", seed=1, n_train=400, n_test=200)
    errors = {}
    for points in (400, 200):
        predict = train_gp_emulator(big.x, big.y, np.random.default_rng(0), {"hyperparameter_points": points})
        mean, variance = predict(big.grid_x)
        errors[points] = np.sqrt(np.mean((mean - big.grid_y) ** 2, axis=0)) / np.std(big.grid_y, axis=0)
        z = np.abs(mean - big.grid_y) / np.sqrt(variance)
        assert np.mean(z <= 2) >= 0.85, (points, np.mean(z <= 2))  # the band still covers
    # Tolerance: each output's error on 200 held-out runs within twice that of learning on every
    # run. Measured: at most 1.24x (0.00025 against 0.00020 of the spread), in 0.8 s against 3.5 s;
    # with a quarter of the design, up to 2.9x, so the default subset is 500 runs.
    assert np.all(errors[200] <= 2 * errors[400]), errors
