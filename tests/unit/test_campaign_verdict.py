"""A campaign's verdict (issue 36, part 2): the settings to use, how sure the surrogate is,
whether the search has settled and whether more shots are likely to pay, from summaries
shaped like the workflow's ``summary.json``."""

import json

import numpy as np
from scipy.stats import norm

from fitflow.report.campaign_verdict import campaign_verdict
from fitflow.report.campaigns import _verdict


def summary(values, rounds, method="bayesopt", direction="maximise", sd=0.1, regret=None, slices=None):
    """A campaign over ``x`` whose evaluations measured ``values`` in ``rounds`` (batch sizes);
    the recommendation is the best measured point."""
    values = np.asarray(values, dtype=float)
    sign = -1.0 if direction == "maximise" else 1.0
    best_so_far = sign * np.minimum.accumulate(sign * values)
    index = int(np.argmin(sign * values))
    recommended = {
        "params": {"x": 0.1 * index},
        "x": [0.1 * index],
        "value": values[index],
        "sd": sd,
        "evaluation": index,
    }
    if regret is not None:
        recommended["regret"] = regret
    return {
        "method": method,
        "direction": direction,
        "names": ["x"],
        "rounds": rounds,
        "n_evaluations": values.size,
        "history": {"value": list(values), "status": ["ok"] * values.size, "best_so_far": list(best_so_far)},
        "recommended": recommended,
        "slices": slices,
    }


ROUNDS = [4, 2, 2, 2, 2, 2, 2]  # 16 evaluations: "quiet" needs the last max(2 rounds, 4) = 4


def test_a_search_whose_best_has_not_moved_for_the_last_quarter_is_settled():
    values = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 10.05, 9, 8, 10.02, 7, 6]
    verdict = campaign_verdict([summary(values, ROUNDS, sd=0.1)])
    # From evaluation 10 on, the best (10, then 10.05) is within the sd of its final level.
    assert verdict["settled"].startswith("settled") and "last 7 of 16 evaluations" in verdict["settled"]
    assert verdict["more"].startswith("unlikely to pay") and "no surrogate" in verdict["more"]
    assert verdict["follow"]["params"] == {"x": 1.0} and verdict["follow"]["value"] == 10.05
    # sd 0.1 against measured values spread over 9.05: 1%, "sure"; evaluation 11 measured it.
    assert verdict["sure"].startswith("sure: sd 0.1 at the recommendation, 1% of the spread")
    assert "evaluation 11 measured it" in verdict["sure"]


def test_a_search_that_improved_in_its_last_rounds_is_not_settled_and_says_by_how_much():
    values = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 10, 10, 10, 10, 10, 12.5]
    verdict = campaign_verdict([summary(values, ROUNDS, sd=2.0)])
    # Within the last 4 evaluations the best went from 10 to 12.5.
    assert (
        verdict["settled"]
        == "still improving: the best measured value improved by 2.5 within the last 4 of 16 evaluations"
    )
    assert verdict["more"] == "likely to pay: the search has not settled"
    assert verdict["sure"].startswith("fairly sure: sd 2 at the recommendation, 17% of the spread")


def test_minimising_reads_improvement_downwards():
    values = [9, 8, 7, 6, 5, 4, 3, 2, 1, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5]
    verdict = campaign_verdict([summary(values, ROUNDS, direction="minimise", sd=0.01)])
    assert verdict["settled"].startswith("settled") and "last 7 of 16" in verdict["settled"]
    assert verdict["follow"]["value"] == 0.5


def test_the_surrogates_expected_gain_along_a_knob_says_more_shots_would_pay():
    values = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 10, 10, 10, 10, 10, 10]
    grid = np.linspace(0, 1, 5)
    flat = {"name": "x", "grid": list(grid), "mean": [9.0] * 5, "sd": [0.1] * 5}
    promising = {"name": "y", "grid": list(grid), "mean": [9, 9, 9, 9, 10.5], "sd": [0.1, 0.1, 0.1, 0.1, 1.0]}
    verdict = campaign_verdict([summary(values, ROUNDS, sd=0.1, slices=[flat, promising])])
    assert verdict["settled"].startswith("settled")
    # Expected improvement over 10 of a normal N(10.5, 1) at the slice's last point:
    gain = 0.5 * norm.cdf(0.5) + 1.0 * norm.pdf(0.5)
    assert verdict["more"].startswith(f"likely to pay: the surrogate expects a gain of up to {gain:.3g} along y")
    unpromising = {"name": "y", "grid": list(grid), "mean": [9.0] * 5, "sd": [0.1] * 5}
    verdict = campaign_verdict([summary(values, ROUNDS, sd=0.1, slices=[flat, unpromising])])
    assert verdict["more"].startswith("unlikely to pay here: the surrogate expects at most")


def test_the_optimiser_with_the_lower_true_regret_is_followed_and_the_others_named():
    values = list(range(16))
    good = summary(values, ROUNDS, method="bayesopt", regret=0.2)
    poor = summary(values, ROUNDS, method="random_search", regret=3.0)
    none = dict(summary(values, ROUNDS, method="broken"), recommended=None, no_answer="every evaluation failed")
    verdict = campaign_verdict([poor, good, none])
    assert verdict["follow"]["method"] == "bayesopt"
    assert verdict["others"] == [
        "random_search: true regret 3 against 0.2",
        "broken: no recommendation (every evaluation failed)",
    ]
    assert campaign_verdict([none]) is None


def test_too_few_evaluations_to_tell_and_an_odd_summary_costs_only_the_verdict(capsys):
    verdict = campaign_verdict([summary([1, 2, 3], [3], sd=None)])
    assert verdict["settled"] == "not settled: too few evaluations (3) to tell"
    assert verdict["sure"] == "evaluation 3 measured it; no surrogate to say how sure"
    odd = summary([1, 2, 3], [3])
    del odd["history"]
    assert "KeyError" in _verdict("odd", [odd])["error"]
    assert "could not be formed" in capsys.readouterr().err
    json.dumps(verdict)  # the verdict is plain data
