"""Optimisation on a user's function: search spaces, failures, integers, noise, batches.

Truths come from the functions' known minimisers; the noisy tests compare the
recommendation with the best noisy sample on the same runs, so they test the
claim "the recommendation is not a lucky sample" rather than a fixed number.
"""

import math

import numpy as np
import pytest

import fitflow
from fitflow.campaigns.campaign import History, campaign_shape, minimise, round_sizes, run_in_process
from fitflow.core.errors import ConfigError
from fitflow.inputs.objective import Objective
from fitflow.inputs.space import SearchSpace
from fitflow_plugins.problems.synthetic.black_box import BENCHMARKS

# -- search spaces ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "spec, key, words",
    [
        ({"power": None}, "parameters.power", "bounds must be a list"),
        ({"power": [2.0, 1.0]}, "parameters.power", "not below upper bound"),
        ({"power": [1.0, 1.0]}, "parameters.power", "not below upper bound"),
        ({"power": ["a", 2]}, "parameters.power", "must be numbers"),
        ({"power": [0, float("inf")]}, "parameters.power", "finite"),
        ({"shots": {"bounds": [0.5, 4], "type": "int"}}, "parameters.shots", "integer bounds"),
        ({"shots": {"bounds": [1, 4], "type": "complex"}}, "parameters.shots.type", "one of"),
        ({"1x": [0, 1]}, "parameters.1x", "identifier"),
        ({}, "parameters", "mapping"),
        ({"gas": {"choices": ["argon"]}}, "parameters.gas.choices", "at least two"),
        ({"gas": {"choices": "argon"}}, "parameters.gas.choices", "at least two"),
        ({"gas": {"choices": ["argon", "neon", "argon"]}}, "parameters.gas.choices", "repeat ['argon']"),
        ({"gas": {"choices": [1, "1"]}}, "parameters.gas.choices", "repeat ['1']"),  # the same in a log
        ({"gas": {"choices": ["argon", [1, 2]]}}, "parameters.gas.choices", "string, a finite number"),
        ({"gas": {"choices": ["argon", "neon"], "type": "int"}}, "parameters.gas", "beside choices"),
        ({"rate": {"bounds": [0, 1], "scale": "log"}}, "parameters.rate", "above 0"),
        ({"rate": {"bounds": [1, 10], "scale": "ln"}}, "parameters.rate.scale", "one of"),
        ({"rate": {"bounds": [1, 10], "step": 2}}, "parameters.rate", "allowed: bounds, type, scale"),
    ],
)
def test_bad_parameters_name_the_key(spec, key, words):
    with pytest.raises(ConfigError) as error:
        SearchSpace.from_config(spec, source="campaign.yaml")
    assert error.value.key == key
    assert words in str(error.value) and "campaign.yaml" in str(error.value)


def test_integer_parameters_round_and_round_trip():
    space = SearchSpace.from_config({"x": [0, 1], "n": {"bounds": [1, 8], "type": "int"}})
    x = space.from_unit([[0.5, 0.49], [1.0, 0.0]])
    assert x.tolist() == [[0.5, 4.0], [1.0, 1.0]]  # 1 + 0.49 * 7 = 4.43 -> 4
    assert space.as_dict(x[0]) == {"x": 0.5, "n": 4} and isinstance(space.as_dict(x[0])["n"], int)
    assert SearchSpace.from_config(space.to_config()) == space
    assert list(space.outside([0.5, 4.5])) == [1] and list(space.outside([1.5, 4])) == [0]


def test_a_log_parameter_is_uniform_in_its_logarithm_and_round_trips():
    space = SearchSpace.from_config(
        {
            "rate": {"bounds": [1e-4, 1e-1], "scale": "log"},
            "trees": {"bounds": [10, 1000], "type": "int", "scale": "log"},
        }
    )
    assert np.allclose(space.from_unit([[0.0, 0.0], [1 / 3, 0.5], [1.0, 1.0]]), [[1e-4, 10], [1e-3, 100], [1e-1, 1000]])
    assert np.allclose(space.to_unit([1e-2, 100]), [2 / 3, 0.5])
    # A decade gets a third of the draws: each count is 10,000 with a binomial sd of 82.
    rate = space.from_unit(np.random.default_rng(0).uniform(size=(30_000, 2)))[:, 0]
    assert np.all(np.abs(np.histogram(rate, bins=[1e-4, 1e-3, 1e-2, 1e-1])[0] - 10_000) < 400)
    assert rate.min() >= 1e-4 and rate.max() <= 1e-1
    assert space.to_config() == {
        "rate": {"bounds": [1e-4, 1e-1], "type": "float", "scale": "log"},
        "trees": {"bounds": [10, 1000], "type": "int", "scale": "log"},
    }
    assert SearchSpace.from_config(space.to_config()) == space
    assert space.from_unit(space.to_unit([[0.1, 1000]])).tolist() == [[0.1, 1000]]  # the ends stay inside


def test_a_campaign_over_decades_finds_a_minimum_at_the_low_end_of_its_range():
    # f is a parabola in log10(rate), minimal at rate = 3e-4, the fourth of five decades
    # from the top: on a log scale the GP sees a parabola; 0.05 decades is 12% in rate.
    def f(rate):
        return (math.log10(rate) - math.log10(3e-4)) ** 2

    result = minimise(f, {"rate": {"bounds": [1e-5, 1.0], "scale": "log"}}, budget=12, seed=0, noise_sd=0)
    assert abs(math.log10(result.params["rate"]) - math.log10(3e-4)) < 0.05


def test_choices_are_options_each_drawn_equally_often():
    space = SearchSpace.from_config({"x": [0, 1], "gas": {"choices": ["helium", "argon", "neon"]}})
    x = space.from_unit(np.random.default_rng(0).uniform(size=(30_000, 2)))
    # Equal slices of the unit interval: each option has probability 1/3, so each count is
    # 10,000 with a binomial sd of 82; 5 sd is 400. (Rounding 0..2 would give 1/4, 1/2, 1/4.)
    assert np.all(np.abs(np.bincount(x[:, 1].astype(int), minlength=3) - 10_000) < 400)
    assert space.as_dict([0.25, 1.0]) == {"x": 0.25, "gas": "argon"}
    assert space.to_config() == {"x": [0.0, 1.0], "gas": {"choices": ["helium", "argon", "neon"]}}
    assert SearchSpace.from_config(space.to_config()) == space
    assert np.allclose(space.snap_unit([[0.2, 0.9]]), [[0.2, 5 / 6]])  # the middle of neon's slice
    assert list(space.outside([0.5, 1.5])) == [1] and list(space.outside([0.5, 3.0])) == [1]
    # one choice of three: three combinations; two choices of three and five: fifteen; none: one
    assert space.has_choices and space.n_combinations == 3
    assert SearchSpace.from_config({"a": {"choices": [1, 2, 3]}, "b": {"choices": list("vwxyz")}}).n_combinations == 15
    box = SearchSpace.box(["x"], [0], [1])
    assert not box.has_choices and box.n_combinations == 1


def test_lattice_neighbours_step_each_integer_by_one_and_try_every_other_option():
    space = SearchSpace.from_config(
        {"x": [0, 1], "n": {"bounds": [1, 8], "type": "int"}, "gas": {"choices": ["helium", "argon", "neon"]}}
    )
    centre = space.to_unit([0.3, 8, 0])
    neighbours = space.from_unit(space.lattice_neighbours(centre))
    # n = 8 is the upper bound: only 7; gas helium -> argon and neon; x kept.
    assert sorted(map(tuple, neighbours.tolist())) == [(0.3, 7, 0), (0.3, 8, 1), (0.3, 8, 2)]
    assert space.lattice_neighbours(space.to_unit([0.5, 4, 1])).shape == (4, 3)
    assert SearchSpace.box(["x", "y"], [0, 0], [1, 1]).lattice_neighbours([0.5, 0.5]).shape == (0, 2)


def test_features_give_numbers_as_they_are_and_a_choice_one_hot():
    space = SearchSpace.from_config(
        {
            "power": [0, 2],
            "gas": {"choices": ["helium", "argon", "neon"]},
            "shots": {"bounds": [1, 9], "type": "int"},
            "flag": {"choices": [True, False]},
        }
    )
    assert space.feature_names() == ["power", "gas=helium", "gas=argon", "gas=neon", "shots", "flag=True", "flag=False"]
    points = [
        {"power": 0.5, "gas": "neon", "shots": 3, "flag": False},
        {"power": 1.5, "gas": "helium", "shots": 9, "flag": True},
    ]
    assert np.array_equal(space.features(points), [[0.5, 0, 0, 1, 3, 0, 1], [1.5, 1, 0, 0, 9, 1, 0]])
    assert space.features([]).shape == (0, 7)
    with pytest.raises(ValueError, match="'xenon' is not one of the choices"):
        space.features([{"power": 0.5, "gas": "xenon", "shots": 3, "flag": True}])


def test_unit_features_are_the_features_of_the_points_the_unit_cube_stands_for():
    space = SearchSpace.from_config(
        {"power": [0, 2], "gas": {"choices": ["helium", "argon", "neon"]}, "shots": {"bounds": [1, 9], "type": "int"}}
    )
    unit = space.to_unit([[0.5, 2, 3], [1.5, 0, 9]])
    # a choice one-hot, as features() gives it; the other coordinates stay in the unit cube
    assert np.array_equal(space.unit_features(unit), [[0.25, 0, 0, 1, 0.25], [0.75, 1, 0, 0, 1.0]])
    # anywhere inside an option's slice is that option
    assert np.array_equal(space.unit_features([[0.25, 0.01, 0.25]])[0, 1:4], [1, 0, 0])
    box = SearchSpace.box(["x", "y"], [0, 0], [1, 1])
    assert np.array_equal(box.unit_features([[0.2, 0.7]]), [[0.2, 0.7]])


def test_an_initial_design_shows_every_option():
    space = SearchSpace.from_config({"x": [0, 1], "gas": {"choices": ["helium", "argon", "neon"]}})
    unit = np.array([[0.1, 0.05], [0.4, 0.1], [0.7, 0.2], [0.9, 0.3], [0.3, 0.31], [0.5, 0.32]])
    covered = space.cover_choices(unit)
    assert np.array_equal(covered[:, 0], unit[:, 0])  # other coordinates untouched
    # All six raw points fall in helium's slice; by rank they are dealt two to each option, in order.
    assert [space.as_dict(x)["gas"] for x in space.from_unit(covered)] == [
        "helium",
        "helium",
        "argon",
        "argon",
        "neon",
        "neon",
    ]


def test_a_choice_reaches_the_function_as_its_option_and_the_best_one_is_found():
    seen = []

    def f(power, gas):
        seen.append(gas)
        return (power - 1.2) ** 2 + {"helium": 0.5, "argon": 0.0, "neon": 0.8}[gas]

    result = minimise(
        f,
        {"power": [0.5, 2.0], "gas": {"choices": ["helium", "argon", "neon"]}},
        budget=14,
        noise_sd=0,
        seed=0,
        n_initial=4,
    )
    assert set(seen) == {"helium", "argon", "neon"}  # the initial design tries every option
    # Deterministic: 10 proposals after the design settle on argon, power within 0.05 of 1.2.
    assert result.params["gas"] == "argon" and result.params["power"] == pytest.approx(1.2, abs=0.05)
    assert set(result.table()["gas"]) == set(seen)


def test_a_campaign_stops_after_the_round_its_stop_rule_accepts():
    data = fitflow.generate("black_box", seed=0, function="forrester")
    method = fitflow.make_method("random_search", budget=20, batch=3)
    whole, _ = run_in_process(method, data.objective, 0)
    asked = []
    stopped, best = run_in_process(method, data.objective, 0, stop=lambda h: asked.append(len(h)) or len(h) >= 9)
    assert asked == [3, 6, 9] and len(stopped) == 9  # rounds of 3: the third reaches 9
    np.testing.assert_array_equal(stopped.x, whole.x[:9])  # the same points as the whole campaign's start
    assert any(np.array_equal(best.x, x) for x in stopped.x)  # recommended from what was measured


def test_round_sizes():
    assert round_sizes(10, 4, 4) == [4, 4, 2]
    assert round_sizes(5, 5, 1) == [5]
    assert sum(round_sizes(60, 13, 4)) == 60
    with pytest.raises(ValueError, match="batch 8 is larger than the budget 4"):
        round_sizes(4, 2, 8)


# -- the Python API --------------------------------------------------------------------------


def test_minimise_a_plain_function_finds_its_minimum():
    result = minimise(
        lambda power, density: (power - 1.3) ** 2 + 2 * (density - 0.4) ** 2,
        {"power": [0.5, 2.0], "density": [0.0, 1.0]},
        budget=25,
        noise_sd=0,
        seed=1,
    )
    # Deterministic quadratic: after 25 evaluations the minimiser is found to ~1e-2.
    assert result.params["power"] == pytest.approx(1.3, abs=0.03)
    assert result.params["density"] == pytest.approx(0.4, abs=0.03)
    assert result.value == pytest.approx(0.0, abs=2e-3) and result.sd == 0.0
    assert len(result.table()) == 25


def test_maximise_reports_values_in_the_callers_sign():
    result = minimise(lambda x: 5 - (x - 0.7) ** 2, {"x": [0, 1]}, budget=12, noise_sd=0, maximise=True, seed=0)
    assert result.params["x"] == pytest.approx(0.7, abs=0.02)
    assert result.value == pytest.approx(5.0, abs=1e-3)
    assert result.table()["value"].max() == pytest.approx(result.value)


def test_maximise_is_minimise_of_the_negated_function_in_the_callers_sign():
    def f(x):
        return 2.0 - (x - 0.3) ** 2

    up = fitflow.maximise(f, {"x": [0, 1]}, budget=10, noise_sd=0, seed=3)
    down = minimise(lambda x: -f(x), {"x": [0, 1]}, budget=10, noise_sd=0, seed=3)
    assert up.params == down.params and up.value == -down.value
    assert up.value == pytest.approx(2.0, abs=1e-6)  # the maximum itself, not its negation


def test_a_function_may_return_an_array_of_one_and_bounds_may_be_arrays():
    # A simulator wrapped by numpy often returns array([value]); bounds often come as arrays.
    result = minimise(lambda x: np.array([(x - 0.3) ** 2]), {"x": np.array([0.0, 1.0])}, budget=10, noise_sd=0)
    assert result.params["x"] == pytest.approx(0.3, abs=1e-3)


@pytest.mark.parametrize("returned", [None, "abc", [1.0, 2.0, 3.0]])
def test_a_function_returning_no_number_fails_each_evaluation_saying_what_it_returned(returned):
    with pytest.raises(RuntimeError, match="expected a number or \\(value, standard error\\)"):
        minimise(lambda x: returned, {"x": [0, 1]}, budget=3, noise_sd=0)


def test_a_maximised_zero_reads_zero_not_minus_zero():
    # Flipping the sign of 0.0 gives -0.0, which tables and the report would print as "-0".
    result = minimise(lambda x: -x, {"x": [0, 1]}, budget=6, noise_sd=0, maximise=True, seed=0, n_initial=2)
    table = result.table()
    at_zero = table["value"][table["x"] == 0.0]
    assert len(at_zero) and not np.signbit(at_zero).any()
    assert result.params["x"] == 0.0 and not np.signbit(result.value)


def test_integer_parameters_reach_the_function_as_integers():
    seen = []

    def f(n, x):
        seen.append(n)
        return (n - 3) ** 2 + (x - 0.25) ** 2

    result = minimise(f, {"n": {"bounds": [0, 10], "type": "int"}, "x": [0, 1]}, budget=20, noise_sd=0, seed=2)
    assert all(isinstance(n, int) for n in seen)
    assert result.params["n"] == 3 and isinstance(result.params["n"], int)
    # No point is evaluated twice, although rounding maps many proposals onto one integer.
    points = result.history.x
    assert len({tuple(p) for p in points}) == len(points)


def test_failed_and_infinite_evaluations_are_recorded_and_the_campaign_goes_on():
    def f(x):
        if x > 0.8:
            raise RuntimeError("the simulation diverged")
        if x < 0.2:
            return math.inf
        return (x - 0.5) ** 2

    result = minimise(f, {"x": [0, 1]}, budget=15, noise_sd=0, seed=3)
    table = result.table()
    assert len(table) == 15
    failed = table[table.status == "failed"]
    infeasible = table[table.status == "infeasible"]
    assert (failed.x > 0.8).all() and failed.reason.str.contains("RuntimeError: the simulation diverged").all()
    assert (infeasible.x < 0.2).all() and infeasible.reason.str.contains("inf").all()
    assert len(failed) + len(infeasible) >= 1
    assert result.params["x"] == pytest.approx(0.5, abs=0.02)
    assert result.n_failed == len(failed) and result.n_infeasible == len(infeasible)  # the counts agree with the table


def test_every_evaluation_failing_is_an_error_with_the_reasons():
    def f(x):
        raise ValueError("licence server down")

    with pytest.raises(RuntimeError, match="licence server down"):
        minimise(f, {"x": [0, 1]}, budget=4, noise_sd=0)


def test_a_bare_objective_is_fitted_through_the_api():
    # Today's route for a notebook: an Objective wrapped as a dataset of the objective problem.
    data = fitflow.generate(
        "objective",
        parameters={"x": [0, 1]},
        function="fitflow_plugins.problems.synthetic.black_box:forrester_by_name",
        noise_sd=0.0,
    )
    result = fitflow.fit("bayesopt", data, seed=0, budget=15)
    assert result.ok and result.params["x"] == pytest.approx(0.7572487, abs=0.01)


# -- noise -----------------------------------------------------------------------------------


def _noisy_runs(function, sd, budget, seeds):
    f, *_, optimum, _ = BENCHMARKS[function]
    recommended, luckiest, reported = [], [], []
    for seed in seeds:
        data = fitflow.generate("black_box", seed=seed, function=function, noise_sd=sd)
        method = fitflow.make_method("bayesopt", budget=budget)
        history, best = run_in_process(method, data.objective, seed)
        recommended.append(f(best.x) - optimum)
        luckiest.append(f(history.x[np.argmin(history.y)]) - optimum)
        reported.append((best.mean, best.sd, f(best.x)))
    return np.array(recommended), np.array(luckiest), reported


@pytest.mark.slow
def test_noisy_forrester_recommendation_beats_the_luckiest_sample_and_is_honest():
    # 24 seeds, not 8: with 8 the median comparison below flipped between machines whose BLAS
    # kernels differ in the last bits (CI: 0.0164 against 0.0159). Over 24 seeds, three OpenBLAS
    # core types gave medians 0.023-0.024 for the recommendation and 0.035-0.054 for the
    # luckiest sample; since the faster GP predictions (session 29), whose last bits send the
    # campaigns down other paths, 0.037 and 0.107.
    recommended, luckiest, reported = _noisy_runs("forrester", 0.5, 20, range(24))
    # The posterior-mean recommendation is no worse than the best noisy sample in the median
    # (it is usually better: the best sample is biased low by the noise).
    assert np.median(recommended) <= np.median(luckiest)
    assert np.median(recommended) < 0.05
    # What is reported is the posterior mean and sd, so the truth lies within 3 sd of it in
    # all but at most two of 24 runs (a 3-sd miss has probability 0.3% per calibrated run;
    # two allow for a length scale learned from 20 noisy points).
    misses = sum(abs(mean - truth) > 3 * sd + 1e-9 for mean, sd, truth in reported)
    assert misses <= 2


def test_the_learned_noise_matches_the_added_noise():
    from fitflow_plugins.methods.optimisation.surrogate import GaussianSurrogate

    rng = np.random.default_rng(0)
    x = rng.uniform(size=(80, 1))
    y = np.sin(6 * x[:, 0]) + 0.3 * rng.standard_normal(80)
    surrogate = GaussianSurrogate(x, y, learn_noise=True, restarts=2, rng=rng)
    # 80 points: the noise sd is estimated to within about 20% (its relative standard error ~ 1/sqrt(2n)).
    assert surrogate.noise_level == pytest.approx(0.3, rel=0.25)


def _peak(x):
    """A smooth 3-D peak of height 80 in the unit cube, like a laser-plasma charge scan."""
    x = np.atleast_2d(x)
    return 80.0 * np.exp(-(((x[:, 0] - 0.6) / 0.5) ** 2) - ((x[:, 1] - 0.4) / 0.3) ** 2 - ((x[:, 2] - 0.5) / 0.35) ** 2)


def test_with_sixteen_noisy_points_the_learned_noise_does_not_collapse():
    # Sixteen points of a smooth peak with noise 5% of its height: the likelihood alone
    # interpolated the scatter in most such designs (noise at its floor, 1% of the truth).
    # Under the log-normal noise prior every estimate lies within a factor 5 of the truth:
    # the prior, whose mode is a noise sd of 8% of the values' spread, pulls sixteen points'
    # estimate down (to 0.23-0.44 of the truth here), which more points undo.
    from scipy.stats import qmc

    from fitflow_plugins.methods.optimisation.surrogate import GaussianSurrogate

    ratios = []
    for seed in range(10):
        rng = np.random.default_rng(seed)
        unit = qmc.Sobol(3, seed=seed).random(16)
        y = _peak(unit) + 4.0 * rng.standard_normal(16)
        surrogate = GaussianSurrogate(unit, y, learn_noise=True, rng=rng, noise_prior=True)
        ratios.append(surrogate.noise_level / 4.0)
    assert 1 / 5 < min(ratios) and max(ratios) < 5, ratios


def test_the_learned_noise_is_the_maximum_of_likelihood_times_prior():
    from fitflow_plugins.methods.optimisation.surrogate import NOISE_PRIOR_LOC, NOISE_PRIOR_SCALE, GaussianSurrogate

    rng = np.random.default_rng(3)
    unit = rng.uniform(size=(16, 3))
    y = _peak(unit) + 4.0 * rng.standard_normal(16)
    surrogate = GaussianSurrogate(unit, y, learn_noise=True, rng=rng, noise_prior=True)

    def log_posterior(theta):
        v = theta[-1]  # the log variance of the normalised noise
        prior = -0.5 * ((v - NOISE_PRIOR_LOC) / NOISE_PRIOR_SCALE) ** 2 - v
        return surrogate.regressor.log_marginal_likelihood(theta) + prior

    theta = surrogate.kernel.theta
    best = log_posterior(theta)
    for step in (-0.1, 0.1):  # the noise sits inside its bounds, so both moves are open
        moved = theta.copy()
        moved[-1] += step
        assert log_posterior(moved) < best


@pytest.mark.slow
def test_a_short_noisy_campaign_reports_an_sd_that_covers_the_truth():
    # Sixteen shots in batches of 4 on a 3-D peak with 3% shot noise. Before the noise prior,
    # the recommendation's sd was a hundredth of the scatter in most seeds (the truth 5 to 130 sd
    # away in 16 of 20 runs of examples/laser_shot.py). A calibrated sd misses by 3 sd with
    # probability 0.3% per run; one miss in ten allows for hyperparameters learned from 16 points.
    misses = 0
    for seed in range(10):
        noise = np.random.default_rng(100 + seed)

        def shot(a, b, c, noise=noise):
            value = _peak(np.array([a, b, c]))[0]
            return value * (1 + 0.03 * noise.standard_normal())

        result = fitflow.maximise(shot, {"a": [0, 1], "b": [0, 1], "c": [0, 1]}, budget=16, batch=4, seed=seed)
        truth = _peak(np.array([result.params[k] for k in "abc"]))[0]
        misses += abs(result.value - truth) > 3 * result.sd
    assert misses <= 1


@pytest.mark.parametrize("prior_mean, reverts_to", [("data", np.mean), ("worst", np.max)])
def test_far_from_the_data_the_surrogate_reverts_to_its_prior_mean(prior_mean, reverts_to):
    # A fixed kernel of length scale 0.02: at 0.6 from every point the correlation is below
    # 1e-20, so the posterior is the prior there, and at the data it interpolates the values.
    from sklearn.gaussian_process import kernels

    from fitflow_plugins.methods.optimisation.surrogate import GaussianSurrogate

    rng = np.random.default_rng(2)
    x = rng.uniform(0.0, 0.3, size=(12, 1))
    y = np.cos(9 * x[:, 0]) + rng.normal(0, 0.1, 12)
    kernel = kernels.ConstantKernel(1.0) * kernels.Matern(0.02, nu=2.5)
    surrogate = GaussianSurrogate(x, y, kernel=kernel, prior_mean=prior_mean)
    far_mean, far_sd = surrogate.predict(np.array([[0.9]]))
    assert far_mean[0] == pytest.approx(reverts_to(y), abs=1e-12)
    assert far_sd[0] == pytest.approx(np.std(y), rel=1e-9)  # the prior sd: the values' spread
    np.testing.assert_allclose(surrogate.predict(x)[0], y, atol=1e-6)
    # scikit-learn's own predict agrees with the shortcut, the centring included.
    mean, sd = surrogate.regressor.predict(np.array([[0.9], [0.05]]), return_std=True)
    np.testing.assert_allclose(mean, surrogate.predict(np.array([[0.9], [0.05]]))[0], rtol=1e-12)
    np.testing.assert_allclose(sd, surrogate.predict(np.array([[0.9], [0.05]]))[1], rtol=1e-9)


@pytest.mark.parametrize(
    "shape",
    ["matern52", "matern32", "matern12", "rbf", "rational_quadratic"],
)
def test_the_posterior_is_scikit_learns_prediction_without_its_checks(shape):
    from sklearn.gaussian_process import GaussianProcessRegressor, kernels

    from fitflow_plugins.methods.optimisation.surrogate import Posterior

    rng = np.random.default_rng(4)
    x = rng.uniform(size=(30, 3))
    y = np.sin(4 * x[:, 0]) + x[:, 1] ** 2 + 0.05 * rng.standard_normal(30)
    # Hyperparameters fixed (optimizer=None): the arithmetic of a prediction is what is compared.
    # The rational quadratic is no constant x RBF or Matern: it takes the general path.
    scales = [0.4, 0.7, 2.0]
    shapes = {
        "matern52": kernels.Matern(scales, nu=2.5),
        "matern32": kernels.Matern(scales, nu=1.5),
        "matern12": kernels.Matern(scales, nu=0.5),
        "rbf": kernels.RBF(scales),
        "rational_quadratic": kernels.RationalQuadratic(0.5, 1.0),
    }
    kernel = kernels.ConstantKernel(0.8) * shapes[shape] + kernels.WhiteKernel(3e-3)
    regressor = GaussianProcessRegressor(kernel, normalize_y=True, optimizer=None).fit(x, y)
    new = rng.uniform(size=(9, 3))
    posterior = Posterior(regressor)
    assert (posterior.parts is None) == (shape == "rational_quadratic")
    mean, sd = posterior(new)
    expected_mean, expected_sd = regressor.predict(new, return_std=True)
    np.testing.assert_allclose(mean, expected_mean, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(sd, expected_sd, rtol=1e-12, atol=1e-14)
    # With the signal kernel alone the learned noise is left out of the sd.
    _, latent_sd = Posterior(regressor, regressor.kernel_.k1)(new)
    noise = regressor.kernel_.k2.noise_level * regressor._y_train_std**2
    np.testing.assert_allclose(latent_sd**2 + noise, expected_sd**2, rtol=1e-10)


# -- batches and pending points --------------------------------------------------------------


def test_a_batch_spreads_out_instead_of_piling_up():
    space = SearchSpace.box(["x1", "x2"], [-5, 0], [10, 15])
    f = BENCHMARKS["branin"][0]
    rng = np.random.default_rng(0)
    x = space.from_unit(rng.uniform(size=(12, 2)))
    history = History(space, x, [f(p) for p in x], noise_sd=0.0)
    method = fitflow.make_method("bayesopt", budget=40, batch=4)
    batch = space.to_unit(method.suggest(history, 4, np.random.default_rng(1)))
    gaps = [np.linalg.norm(a - b) for i, a in enumerate(batch) for b in batch[i + 1 :]]
    assert min(gaps) > 0.01, f"batch points pile up: {batch}"
    # Pending points count as taken: asking again with the batch pending gives other points.
    history.pending = space.from_unit(batch)
    more = space.to_unit(method.suggest(history, 2, np.random.default_rng(2)))
    assert min(np.linalg.norm(a - b) for a in more for b in batch) > 0.01


def test_batch_campaign_matches_its_shape_and_seed():
    data = fitflow.generate("black_box", seed=0, function="branin")
    method = fitflow.make_method("bayesopt", budget=14, batch=4, n_initial=6)
    first, _ = run_in_process(method, data.objective, 5)
    second, _ = run_in_process(method, data.objective, 5)
    assert len(first) == 14 and np.array_equal(first.x, second.x)


def test_objective_rejects_an_empty_box():
    with pytest.raises(ValueError, match="lower < upper"):
        Objective(lambda x: 0.0, ("x",), ([1.0], [1.0]))


# -- a misbehaving optimiser costs efficiency, not the campaign --------------------------------


class _Registry:
    """The real method registry, plus one optimiser class under test."""

    def __init__(self, extra):
        from fitflow.core.registry import methods

        self.real, self.extra = methods(), extra

    def get(self, name):
        return self.extra if name == self.extra.name else self.real.get(name)

    def distribution(self, name):
        return "tests" if name == self.extra.name else self.real.distribution(name)


@pytest.mark.parametrize(
    "proposal, words",
    [
        (RuntimeError("the optimiser crashed"), "suggest raised RuntimeError: the optimiser crashed"),
        ([[20.0, 1.0]], "outside its bounds"),
        ([[1.0]], "is not (1, 2) numbers"),
    ],
)
def test_a_broken_suggest_gets_a_random_round_with_a_warning(tmp_path, monkeypatch, proposal, words):
    from fitflow import Method, Setting
    from fitflow.core.artefacts import read_json
    import fitflow.run.campaign_jobs as jobs
    from fitflow.run.experiment import build_plan
    from fitflow.run.layout import Layout

    class Broken(Method):
        name = "broken_optimiser"
        version = "1"
        capabilities = frozenset({"black_box"})
        settings = {"budget": Setting(3, int), "batch": Setting(1, int)}

        def suggest(self, history, n, rng):
            if isinstance(proposal, Exception):
                raise proposal
            return proposal

    registry = _Registry(Broken)
    monkeypatch.setattr(jobs, "methods", lambda: registry)
    config = {
        "experiment": "x",
        "seed": 0,
        "campaigns": {
            "c": {
                "problem": "black_box",
                "settings": {"function": "branin"},
                "methods": {"broken_optimiser": {"settings": {"budget": 3, "batch": 1}}},
            }
        },
    }
    plan = build_plan(config, method_registry_=registry)
    jobs.propose_round(plan, tmp_path, "c", "broken_optimiser", 0)
    record = read_json(Layout(tmp_path).proposal("c", "broken_optimiser", 0))
    assert words in record["warnings"][0] and "drawn at random" in record["warnings"][0]
    ((x1, x2),) = record["x"]
    assert -5 <= x1 <= 10 and 0 <= x2 <= 15


def _noisy_peak_with_jets(rng):
    """An experiment-like objective to maximise: a peak at a = 0.7, b = 0.3 and jets = 5 (of
    1 .. 8) whose height falls off with the number of jets, and 5% multiplicative shot noise."""

    def shot(a, b, jets):
        value = np.exp(-((a - 0.7) ** 2 + (b - 0.3) ** 2) / (2 * 0.2**2) - (jets - 5) ** 2 / 4)
        return value * (1 + 0.05 * rng.standard_normal())

    return shot


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_noisy_batches_spread_and_move_the_integer_knob_to_the_optimum(seed):
    """Batches of 4 under unknown noise (issue 37): the smallest distance between two points
    of a round stays at least 0.05 of the unit cube in the median round (the kriging
    believer alone gave near-duplicates, 0.03 on benchmarks/bench_campaign_mixed.py); the
    integer knob never keeps one value for more than 8 consecutive proposals; and the
    recommendation has the optimum's 5 jets. Seeded; three seeds, each must pass."""
    parameters = {"a": [0, 1], "b": [0, 1], "jets": {"bounds": [1, 8], "type": "int"}}
    result = fitflow.maximise(
        _noisy_peak_with_jets(np.random.default_rng(100 + seed)), parameters, budget=32, batch=4, seed=seed
    )
    history = result.history
    unit = history.space.to_unit(history.x)
    _, n_initial, _ = campaign_shape(fitflow.make_method("bayesopt", budget=32, batch=4), 3, noise_sd=None)
    rounds = [unit[i : i + 4] for i in range(n_initial, len(unit), 4)]
    spreads = [min(np.linalg.norm(p - q) for i, p in enumerate(r) for q in r[i + 1 :]) for r in rounds]
    assert np.median(spreads) >= 0.05, spreads
    jets = history.x[n_initial:, 2]
    runs = np.diff(np.flatnonzero(np.diff(np.r_[np.nan, jets, np.nan]) != 0))
    assert runs.max() <= 8, jets
    assert result.params["jets"] == 5, result.params
