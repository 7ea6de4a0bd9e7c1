"""Bayesian optimisation against random search, the known optima, and a Monte-Carlo EI."""

import numpy as np
import pytest

import fitflow
from fitflow_plugins.methods.bayesopt import expected_improvement


def median_regret(method, function, budget, seeds=range(10)):
    data = fitflow.generate("black_box", function=function)
    return float(np.median([
        fitflow.evaluate(data, fitflow.fit(method, data, seed=seed, budget=budget))["regret"] for seed in seeds
    ]))


def test_expected_improvement_matches_a_monte_carlo_estimate():
    rng = np.random.default_rng(0)
    for mean, std, best in [(0.0, 1.0, 0.5), (2.0, 0.3, 1.5), (-1.0, 2.0, -3.0)]:
        draws = rng.normal(mean, std, 2_000_000)
        monte_carlo = np.mean(np.maximum(best - draws, 0.0))
        assert expected_improvement(np.array([mean]), np.array([std]), best, 0.0)[0] == pytest.approx(monte_carlo, rel=0.01)


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


def test_bayesopt_on_a_chi_square_objective_reports_named_parameters():
    data = fitflow.generate("gaussian_peak", seed=3)
    result = fitflow.fit("bayesopt", data, seed=3, budget=12)
    metrics = fitflow.evaluate(data, result)
    assert tuple(result.params) == data.model.param_names
    # Its best point is scored like any parametric fit: chi-square of the data at that point.
    assert metrics["chi2"] == pytest.approx(result.diagnostics["best_value"], rel=1e-9)
