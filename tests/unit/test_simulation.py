"""The user's own simulation as an emulator problem, and several outputs from a table:
every bad input is a clear error or one failed run, named."""

import sys
import textwrap

import numpy as np
import pytest

import fitflow
from fitflow.core.errors import DataError, SettingsError
from fitflow.evaluation.crossval import cross_validation_rmse
from fitflow_plugins.problems.synthetic.emulator import spectral_line

PY = sys.executable
BOX = {"log10_density": [17.0, 19.0], "temperature": [5.0, 50.0], "velocity": [-50.0, 50.0]}
OUTPUTS = ["width", "shift", "ratio"]


def simulation(**settings):
    base = {
        "parameters": BOX,
        "function": "fitflow_plugins.problems.synthetic.emulator:spectral_line_by_name",
        "outputs": OUTPUTS,
        "n_train": 30,
        "n_test": 10,
    }
    return fitflow.make_problem("simulation", **{**base, **settings})


def test_the_dataset_holds_the_simulation_at_its_design_and_held_out_points():
    data = fitflow.generate(simulation())
    assert data.x.shape == (30, 3) and data.y.shape == (30, 3) and data.grid_x.shape == (10, 3)
    assert np.allclose(data.y, spectral_line(data.x)) and np.allclose(data.grid_y, spectral_line(data.grid_x))
    assert data.output_names == OUTPUTS and data.meta["failed_runs"] == []


def test_a_sobol_design_is_nested_so_a_larger_one_reuses_the_runs():
    small, large = simulation(n_train=16), simulation(n_train=48)
    small_ids = {small.run_id(p) for _, p in small.runs()}
    large_ids = {large.run_id(p) for _, p in large.runs()}
    assert small_ids <= large_ids and len(large_ids) == 48 + 10


def gas_line(power, gas):
    """Two outputs with a different offset and slope per gas: an emulator must tell the gases apart."""
    offset, slope = {"helium": (0.0, 1.0), "argon": (2.0, 0.5), "neon": (-1.0, 2.0)}[gas]
    return [offset + slope * power**2, np.sin(power) * slope]


def test_a_choice_reaches_the_simulation_as_its_option_and_the_emulator_one_hot():
    gases = ["helium", "argon", "neon"]
    problem = fitflow.make_problem(
        "simulation",
        parameters={"power": [0.0, 2.0], "gas": {"choices": gases}},
        function=f"{__name__}:gas_line",
        outputs=["level", "phase"],
        n_train=24,
        n_test=12,
    )
    assert {params["gas"] for _, params in problem.runs()} == set(gases)
    data = fitflow.generate(problem)
    assert data.meta["columns"]["x"] == ["power", "gas=helium", "gas=argon", "gas=neon"]
    assert data.x.shape == (24, 4) and np.array_equal(data.x[:, 1:].sum(axis=1), np.ones(24))
    chosen = [gases[i] for i in np.argmax(data.grid_x[:, 1:], axis=1)]
    assert np.allclose(data.grid_y, [gas_line(p, g) for p, g in zip(data.grid_x[:, 0], chosen)])
    # Noise-free and smooth in power for each gas, 8 runs per gas: the GP's held-out error is about
    # 1e-5 of the outputs' spread (5.7 and 2.0); 1% leaves room for another design seed.
    result = fitflow.fit("gp", data, seed=0)
    metrics = fitflow.evaluate(data, result)
    assert result.ok and metrics["rmse.level"] < 0.01 * np.ptp(data.y[:, 0])
    assert metrics["rmse.phase"] < 0.01 * np.ptp(data.y[:, 1])


def program(tmp_path, body):
    path = tmp_path / "sim.py"
    path.write_text(textwrap.dedent(body))
    return [PY, str(path), "{log10_density}", "{temperature}", "{velocity}"]


@pytest.mark.parametrize(
    "body, words",
    [
        ("print(1.0, 2.0)", "expected 3 outputs (width, shift, ratio); the run gave 2"),
        ("print(1.0, 'nan', 2.0)", "output 'shift' is nan (not a finite number)"),
        ('print(\'{"width": 1, "shift": 2}\')', "the run gave no output 'ratio'"),
        ("import sys; print('diverged', file=sys.stderr); sys.exit(4)", "exit status 4; stderr: diverged"),
    ],
)
def test_a_run_that_misbehaves_is_left_out_with_its_reason(tmp_path, body, words):
    # The program misbehaves only where temperature > 40: those runs fail, the rest are data.
    command = program(
        tmp_path,
        f"""
        import sys
        n, t, v = map(float, sys.argv[1:])
        if t > 40:
            {body}
        else:
            print(0.1 * n, 0.01 * v, t / 50)
    """,
    )
    data = fitflow.generate(simulation(function=None, command=command, n_train=40))
    failed = data.meta["failed_runs"]
    assert failed and all(words in f["reason"] for f in failed)
    assert all(f["params"]["temperature"] > 40 for f in failed)
    assert len(data.x) + len(data.grid_x) + len(failed) == 50
    assert (data.x[:, 1] <= 40).all()


def test_when_too_few_runs_succeed_generation_fails_saying_why(tmp_path):
    command = program(tmp_path, "import sys; sys.exit(1)")
    with pytest.raises(ValueError, match=r"only 0 of 30 training runs succeeded; first failure: exit status 1"):
        fitflow.generate(simulation(function=None, command=command))


@pytest.mark.parametrize(
    "settings, key, words",
    [
        ({"n_train": 3}, "n_train", "cannot determine a function of 3 parameters"),
        ({"n_train": 10, "n_test": 20}, "n_test", r"held-out set \(n_test = 20\) is larger than the design"),
        ({"outputs": ["width", "width"]}, "outputs", "distinct output names"),
        ({"function": None}, "function", "exactly one of 'function'"),
    ],
)
def test_bad_settings_name_the_key(settings, key, words):
    with pytest.raises(SettingsError, match=words) as error:
        simulation(**settings)
    assert error.value.key == key


def write_runs(path, n=60, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.uniform([17, 5, -50], [19, 50, 50], size=(n, 3))
    y = spectral_line(x)
    header = "log10_density,temperature,velocity,width,shift,ratio,width_err,shift_err,ratio_err"
    table = np.column_stack([x, y, np.full((n, 3), 0.01)])
    np.savetxt(path, table, delimiter=",", header=header, comments="")
    return x, y


def table(path, **settings):
    return fitflow.make_problem(
        "table", file=str(path), x=["log10_density", "temperature", "velocity"], y=OUTPUTS, **settings
    )


def test_a_table_with_several_output_columns(tmp_path):
    path = tmp_path / "runs.csv"
    x, y = write_runs(path)
    data = fitflow.generate(table(path, sigma=["width_err", "shift_err", "ratio_err"]))
    assert np.array_equal(data.y, y) and data.sigma.shape == (60, 3) and data.output_names == OUTPUTS
    # Cross-validated error with several outputs: each output's CV RMSE over its spread, averaged.
    rmse, message = cross_validation_rmse(fitflow.make_method("gp", n_restarts=0), data, np.random.default_rng(0), 4)
    assert "averaged over outputs" in message and 0 < rmse < 0.3


@pytest.mark.parametrize(
    "settings, key, words",
    [
        ({"sigma": ["width_err"]}, "sigma", "one sigma column per y column"),
        ({"model": "a*log10_density", "params": ["a"], "p0": [1.0]}, "model", "a model predicts one response"),
        ({"y": ["width", "log10_density"]}, "y", "already an x column"),
        ({"y": []}, "y", "list of distinct columns"),
    ],
)
def test_multi_output_table_settings_errors(tmp_path, settings, key, words):
    path = tmp_path / "runs.csv"
    write_runs(path)
    base = {"file": str(path), "x": ["log10_density", "temperature", "velocity"], "y": OUTPUTS}
    with pytest.raises(SettingsError, match=words) as error:
        fitflow.make_problem("table", **{**base, **settings})
    assert error.value.key == key


def test_a_missing_output_column_names_file_and_column(tmp_path):
    path = tmp_path / "runs.csv"
    write_runs(path)
    problem = fitflow.make_problem(
        "table", file=str(path), x=["log10_density", "temperature", "velocity"], y=["width", "shfit"]
    )
    with pytest.raises(DataError, match="column 'shfit': no such column") as error:
        problem.check_inputs()
    assert str(path) in str(error.value)


def test_output_arrays_of_different_lengths_are_refused(tmp_path):
    path = tmp_path / "runs.npz"
    np.savez(path, a=np.arange(5.0), width=np.arange(5.0), shift=np.arange(4.0))
    problem = fitflow.make_problem("table", file=str(path), x=["a"], y=["width", "shift"])
    with pytest.raises(DataError, match="columns differ in length"):
        problem.check_inputs()


def test_an_emulator_asked_outside_its_box_warns():
    data = fitflow.generate(simulation())
    outside = fitflow.Dataset(
        problem=data.problem, x=data.x, y=data.y, grid_x=data.grid_x * 1.5, grid_y=data.grid_y, meta=data.meta
    )
    from fitflow.core.pipeline import safe_fit

    result, _, _ = safe_fit(fitflow.make_method("gp", n_restarts=0), outside, np.random.default_rng(0))
    assert any("outside" in w for w in result.warnings)
