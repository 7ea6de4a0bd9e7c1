"""Bayesian optimisation against random search, the known optima, and a Monte-Carlo EI."""

import numpy as np
import pytest

import fitflow
from fitflow_plugins.methods.optimisation.acquisitions import expected_improvement


def median_regret(method, function, budget, seeds=range(10)):
    data = fitflow.generate("black_box", function=function)
    return float(
        np.median(
            [fitflow.evaluate(data, fitflow.fit(method, data, seed=seed, budget=budget))["regret"] for seed in seeds]
        )
    )


def test_expected_improvement_matches_a_monte_carlo_estimate():
    rng = np.random.default_rng(0)
    for mean, std, best in [(0.0, 1.0, 0.5), (2.0, 0.3, 1.5), (-1.0, 2.0, -3.0)]:
        draws = rng.normal(mean, std, 2_000_000)
        monte_carlo = np.mean(np.maximum(best - draws, 0.0))
        assert expected_improvement(np.array([mean]), np.array([std]), best, 0.0)[0] == pytest.approx(
            monte_carlo, rel=0.01
        )


@pytest.mark.slow
def test_forrester_budget_15_median_regret_below_1e3_and_below_random_search():
    bayes = median_regret("bayesopt", "forrester", 15)
    random = median_regret("random_search", "forrester", 15)
    assert bayes < 1e-3 and bayes < random, (bayes, random)


@pytest.mark.slow
def test_branin_budget_30_median_regret_below_1e2():
    assert median_regret("bayesopt", "branin", 30) < 1e-2


def test_budget_is_respected_and_history_is_complete():
    data = fitflow.generate("black_box", function="branin")
    for method in ("bayesopt", "random_search"):
        result = fitflow.fit(method, data, seed=1, budget=12)
        assert result.n_evaluations == 12 and result.arrays["history_y"].shape == (12,)
        lower, upper = data.objective.bounds
        assert np.all(result.arrays["history_x"] >= lower) and np.all(result.arrays["history_x"] <= upper)
        assert result.diagnostics["best_value"] == result.arrays["history_y"].min()


def test_an_optimiser_that_misses_the_chi_square_minimum_is_a_failed_fit_saying_how_far():
    """Twelve evaluations of BO do not find a Gaussian peak's least-squares answer: the
    fit is failed, not ok with untrustworthy parameters, and the reason quotes the
    chi-square there and at the minimum, the one NLLS reaches."""
    data = fitflow.generate("gaussian_peak", seed=3)
    result = fitflow.fit("bayesopt", data, seed=3, budget=12)
    nlls = fitflow.evaluate(data, fitflow.fit("nlls", data, seed=3))
    assert result.status == "failed" and result.message.startswith("not converged"), result.message
    assert f"{nlls['chi2']:.4g} after a least-squares solve" in result.message, (result.message, nlls["chi2"])


@pytest.mark.parametrize("problem", ["cosine_series", "gaussian_peak"])
def test_the_chi_square_check_passes_inside_the_one_standard_error_contour_and_fails_outside(problem):
    """Steps from NLLS's answer of delta chi-square 1/4 and 4 (d' C^-1 d, with NLLS's
    covariance C): inside the contour the point is a minimum to within the data's
    precision; outside, the check fails and reports that delta chi-square. Exact for the
    linear cosine series (to the 3 digits reported); 5% for the peak, whose chi-square is
    not exactly quadratic."""
    data = fitflow.generate(problem, seed=5)
    best = fitflow.fit("nlls", data, seed=5)
    check = data.objective.convergence_check
    theta, inverse = best.estimate_vector(), np.linalg.inv(best.covariance)
    direction = np.ones_like(theta)
    unit = direction / np.sqrt(direction @ inverse @ direction)
    assert check(theta) is None and check(theta + 0.5 * unit) is None
    reason = check(theta + 2 * unit)
    assert reason is not None and reason.startswith("not converged"), reason
    # s^2, the Birge ratio, is the minimum's reduced chi-square where that exceeds 1.
    birge = max(1.0, fitflow.evaluate(data, best)["chi2"] / (data.n_points - theta.size))
    reported = float(reason.split("s^2 = ")[1].split(" ")[0])
    assert reported == pytest.approx(4.0 / birge, rel=2e-3 if problem == "cosine_series" else 0.05), reason


def test_a_point_stranded_on_a_plateau_fails_the_chi_square_check():
    """A peak narrower than the sampling and parked at the edge: no least-squares step from
    there moves it (its parameters barely touch the model), yet the solve from the model's
    starting point finds the real minimum, so the point is not a fit's answer."""
    data = fitflow.generate("gaussian_peak", seed=5)
    lower, upper = data.model.bounds
    stranded = np.array([1.0, upper[1], lower[2], float(np.mean(data.y))])
    reason = data.objective.convergence_check(stranded)
    nlls = fitflow.evaluate(data, fitflow.fit("nlls", data, seed=5))
    assert reason is not None and "from the model's starting point" in reason, reason
    assert f"{nlls['chi2']:.4g} after a least-squares solve" in reason, (reason, nlls["chi2"])


def test_any_optimiser_plugin_is_held_to_the_chi_square_check():
    """The check is the framework's, not a built-in plugin's: a third-party optimiser that
    returns a poor point on a chi-square is failed, one returning the least-squares answer
    is ok."""
    from fitflow import FitResult, Method

    data = fitflow.generate("gaussian_peak", seed=5)
    answer = fitflow.fit("nlls", data, seed=5).params

    class FixedPoint(Method):
        name = "fixed_point"
        capabilities = frozenset({"black_box"})
        point = None

        def fit(self, dataset, rng):
            return FitResult(params=dict(self.point), n_evaluations=1)

    FixedPoint.point = {name: value * 1.5 for name, value in answer.items()}
    poor = fitflow.fit(FixedPoint(), data)
    FixedPoint.point = answer
    good = fitflow.fit(FixedPoint(), data)
    assert (
        poor.status == "failed" and poor.message.startswith("not converged") and "after 1 evaluations" in poor.message
    )
    assert good.ok


def test_the_chi_square_check_on_data_fitted_exactly_has_no_tolerance_but_rounding():
    """Unknown errors and noise-free data: the minimum's chi-square is 0, so s^2 is 0 and
    any point off the exact solution fails; the exact solution passes."""
    from fitflow.inputs.objective import chi_square_gap

    design = np.column_stack([np.ones(20), np.linspace(0, 1, 20)])
    truth = np.array([0.5, -2.0])
    y = design @ truth
    bounds = (np.full(2, -10.0), np.full(2, 10.0))

    def check(theta):
        return chi_square_gap(lambda t: y - design @ t, lambda t: -design, theta, bounds, sigma_known=False)

    assert check(truth) is None
    assert check(truth + [1e-3, 0.0]).startswith("not converged")


def _branin_history(n, seed=0):
    from fitflow.campaigns.campaign import History
    from fitflow.inputs.space import SearchSpace
    from fitflow_plugins.problems.synthetic.black_box import BENCHMARKS

    f, lower, upper, _, _ = BENCHMARKS["branin"]
    x = np.random.default_rng(seed).uniform(lower, upper, size=(n, 2))
    space = SearchSpace.box(["x0", "x1"], lower, upper)
    return History(space, x, np.array([f(row) for row in x]), noise_sd=0.0), space


@pytest.mark.parametrize("n", [9, 10])
def test_every_other_proposal_stays_in_the_local_box_around_the_incumbent(n):
    # An odd count of known points makes a local proposal, an even one a global one: the
    # count decides, so suggest stays a pure function of the history.
    history, space = _branin_history(n)
    method = fitflow.make_method("bayesopt", budget=30, local_width=0.2)
    centre = space.to_unit(history.x[np.argmin(history.y)])
    assert method._local_choices(n, 1) == [n % 2 == 1]
    lower, upper = method._search_box(centre, local=n % 2 == 1)
    if n % 2:
        assert np.allclose(lower, np.clip(centre - 0.1, 0, 1)) and np.allclose(upper, np.clip(centre + 0.1, 0, 1))
        for k in range(5):
            u = space.to_unit(method.suggest(history, 1, np.random.default_rng(k))[0])
            assert np.all(u >= lower - 1e-12) and np.all(u <= upper + 1e-12), (u, centre)
    else:
        assert np.array_equal(lower, np.zeros(2)) and np.array_equal(upper, np.ones(2))
    # local_width 0 searches globally every time.
    assert fitflow.make_method("bayesopt", local_width=0.0)._local_choices(n, 1) == [False]


def test_a_batch_searches_locally_but_for_one_global_choice_in_every_four():
    method = fitflow.make_method("bayesopt", budget=30, local_width=0.2)
    assert method._local_choices(13, 4) == [True, True, True, False]
    assert method._local_choices(14, 2) == [True, False]
    assert method._local_choices(9, 8) == [True, True, True, False] * 2
    history, space = _branin_history(10)
    centre = space.to_unit(history.x[np.argmin(history.y)])
    batch = space.to_unit(method.suggest(history, 4, np.random.default_rng(0)))
    lower, upper = method._search_box(centre, local=True)
    assert np.all(batch[:3] >= lower - 1e-12) and np.all(batch[:3] <= upper + 1e-12), (batch, centre)
    assert len({tuple(u) for u in batch}) == 4  # the believer keeps the local three apart


def test_a_noise_free_local_proposal_is_the_posterior_mean_minimum_in_its_box():
    # Without noise the local half exploits: it takes the surrogate's own best guess near the
    # incumbent (EI there would pay for uncertainty the global half already explores).
    # (On seed 1, EI's choice in the box lies 4 above the mean's minimum there.)
    history, space = _branin_history(9, seed=1)  # odd: a local proposal
    method = fitflow.make_method("bayesopt", budget=30)
    proposal = space.to_unit(method.suggest(history, 1, np.random.default_rng(3))[0])
    surrogate = method._surrogate(history, np.random.default_rng(3))  # the same draws: the same GP
    lower, upper = method._search_box(space.to_unit(history.x[np.argmin(history.y)]), local=True)
    grid = np.stack(np.meshgrid(*[np.linspace(a, b, 201) for a, b in zip(lower, upper)]), -1).reshape(-1, 2)
    best_on_grid = surrogate.predict(grid)[0].min()
    # L-BFGS-B lands at least as low as a 201 x 201 grid (to the grid's own resolution).
    assert surrogate.predict(proposal[None])[0][0] <= best_on_grid + 1e-6 * np.ptp(history.y)


@pytest.mark.slow
def test_local_cycling_reaches_branin_regret_sooner_than_global_search_alone():
    # Medians over 12 seeds of the evaluations until regret < 1e-2 (budget 30). Over 40
    # seeds (benchmarks/bench_bo_vs_skopt.py --first-seed 20 --seeds 40) cycling needs 20
    # against 26.5; on these 12 seeds 18 against 28.5 (session 30). Seeded, so deterministic; it fails
    # if the local half stops helping (or stops happening).
    from fitflow.campaigns.campaign import run_in_process
    from fitflow_plugins.problems.synthetic.black_box import BENCHMARKS

    optimum = BENCHMARKS["branin"][3]

    def reached(history):
        return np.flatnonzero(history.y - optimum < 1e-2)

    def evaluations(width, seed):
        # The campaign stops at the round that reaches the target: the rounds after it change
        # nothing before it (the same counts either way, measured), and cost a sixth of the time.
        data = fitflow.generate("black_box", seed=seed, function="branin")
        method = fitflow.make_method("bayesopt", budget=30, local_width=width)
        history, _ = run_in_process(method, data.objective, seed, stop=lambda h: reached(h).size > 0)
        hit = reached(history)
        return hit[0] + 1 if hit.size else 31

    cycling = np.median([evaluations(0.4, seed) for seed in range(100, 112)])
    global_only = np.median([evaluations(0.0, seed) for seed in range(100, 112)])
    assert cycling < global_only, (cycling, global_only)


def test_a_converged_local_box_is_searched_by_ei_not_measured_again():
    # Noise-free, with the bowl's minimum measured: the posterior mean's minimum in the
    # local box is that very point (within MEASURED_RADIUS), so exploiting would spend an
    # evaluation learning nothing; the step must be a new point of the box instead.
    from fitflow.campaigns.campaign import History
    from fitflow.inputs.space import SearchSpace
    from fitflow_plugins.methods.optimisation.bayesopt import MEASURED_RADIUS

    space = SearchSpace.box(["a", "b"], [0.0, 0.0], [1.0, 1.0])
    grid = np.stack(np.meshgrid(np.linspace(0.2, 0.4, 5), np.linspace(0.2, 0.4, 5)), -1).reshape(-1, 2)
    x = np.vstack([grid, [[0.9, 0.9], [0.95, 0.1]]])  # 27 points (odd: a local step), (0.3, 0.3) among them
    history = History(space, x, np.sum((x - 0.3) ** 2, axis=1), noise_sd=0.0)
    method = fitflow.make_method("bayesopt", budget=30)
    assert method._local_choices(len(x), 1) == [True]
    surrogate = method._surrogate(history, np.random.default_rng(0))
    box = method._search_box(np.array([0.3, 0.3]), local=True)
    exploited = method._maximise_acquisition(
        surrogate, 0.0, history, np.empty((0, 2)), np.random.default_rng(0), box, exploit=True
    )
    assert np.linalg.norm(exploited - 0.3) < MEASURED_RADIUS  # the branch under test is taken
    for seed in range(3):
        u = space.to_unit(method.suggest(history, 1, np.random.default_rng(seed))[0])
        assert np.min(np.linalg.norm(x - u, axis=1)) >= MEASURED_RADIUS, u
        assert np.all(u >= box[0] - 1e-12) and np.all(u <= box[1] + 1e-12), u  # still in the local box


def test_the_warp_keeps_the_order_of_the_values_and_pulls_in_a_long_tail():
    from scipy.stats import skew

    from fitflow_plugins.methods.optimisation.bayesopt import warped

    y = np.random.default_rng(0).lognormal(0.0, 1.5, 40)  # a long tail of bad values, as Rosenbrock's
    z = warped(y)
    assert np.array_equal(np.argsort(z), np.argsort(y))  # a monotone map: the best point stays the best
    assert skew(y) > 2 and abs(skew(z)) < 0.5, (skew(y), skew(z))
    assert np.array_equal(warped(np.ones(5)), np.ones(5)) and np.array_equal(warped(y[:2]), y[:2])


def test_the_report_sees_the_surrogate_in_the_values_units_when_the_gp_is_fitted_warped():
    from fitflow.campaigns.campaign import History
    from fitflow.inputs.space import SearchSpace

    levels = np.linspace(-2, 2, 5)  # the slices' grid, so that the measured points lie on it
    x = np.array([(a, b) for a in levels for b in levels])[::2]
    y = 100 * (x[:, 1] - x[:, 0] ** 2) ** 2 + (1 - x[:, 0]) ** 2  # noise-free Rosenbrock: warped
    history = History(SearchSpace.box(["a", "b"], [-2, -2], [2, 2]), x, y, noise_sd=0.0)
    method = fitflow.make_method("bayesopt")
    for k in range(len(x)):  # the GP interpolates: along a slice through a measured point, its value
        at = method.surrogate_slices(history, x[k], 5)["a"]
        np.testing.assert_allclose(at["grid"], levels)
        assert at["mean"][np.argmin(np.abs(levels - x[k, 0]))] == pytest.approx(y[k], abs=1e-3 * np.ptp(y))


def test_acquisitions_are_named_and_each_path_says_which_it_honours():
    """The setting's choices are the registry's; a path that weights the acquisition (constraints)
    takes EI in place of LCB, whose signed bound a probability cannot weight; LCB is the
    posterior mean less kappa sd, EI the closed form."""
    from fitflow_plugins.methods.optimisation.acquisitions import ACQUISITIONS, for_path
    from fitflow_plugins.methods.optimisation.bayesopt import BayesianOptimisation

    assert BayesianOptimisation.settings["acquisition"].choices == tuple(ACQUISITIONS) == ("ei", "lcb")
    assert for_path("lcb", weighted=False).name == "lcb"
    assert for_path("lcb", weighted=True).name == "ei"
    assert for_path("ei", weighted=True).name == "ei"
    mean, std = np.array([1.0, 2.0]), np.array([0.5, 0.1])
    settings = {"xi": 0.0, "kappa": 2.0}
    assert ACQUISITIONS["lcb"].loss(mean, std, 0.0, settings, 1.0) == pytest.approx([0.0, 1.8])
    assert ACQUISITIONS["ei"].loss(mean, std, 1.5, settings, 1.0) == pytest.approx(
        -expected_improvement(mean, std, 1.5, 0.0)
    )
    with pytest.raises(Exception, match="acquisition"):
        BayesianOptimisation(acquisition="pi")
