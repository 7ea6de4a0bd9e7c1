"""How sure, and whether a campaign has settled (issue 58): said by suggest, minimise and
maximise on every call, not only in the workflow's report."""

import io

import numpy as np

import fitflow
from fitflow.campaigns.campaign import History, Recommendation
from fitflow.campaigns.measurement_log import suggest
from fitflow.campaigns.progress import assess, quiet_evaluations
from fitflow.inputs.constraints import parse_constraints
from fitflow.inputs.objective import Observation
from fitflow.inputs.space import SearchSpace

SPACE = SearchSpace.from_config({"x": [0, 1]}, source="test")


def history_of(values, constraints=None, outputs=None):
    history = History(
        SPACE, noise_sd=0.0, constraints=parse_constraints(constraints, source="test") if constraints else ()
    )
    for i, value in enumerate(values):
        extra = {} if outputs is None else {"spread": outputs[i]}
        history.add([i / len(values)], Observation(value, outputs=extra))
    return history


def test_a_campaign_still_improving_says_by_how_much_and_a_quiet_one_says_settled():
    improving = history_of([5, 4, 4, 4, 4, 4, 4, 4, 3, 2.5, 2, 1])
    said = assess(improving, Recommendation(np.array([0.9]), 1.0, 0.01), last_rounds=4)
    assert said[0].startswith("sure: sd 0.01 at the recommendation, 0% of the spread")
    assert (
        said[1]
        == "still improving: the best measured value improved by 3 within the last 4 of 12 evaluations; more shots are likely to pay"
    )
    quiet = history_of([5, 3, 1, 1.2, 1.5, 1.1, 1.3, 1.4, 1.2, 1.6, 1.05, 1.3])
    said = assess(quiet, Recommendation(np.array([0.2]), 1.0, 0.01), last_rounds=4)
    assert said[1].startswith(
        "settled: the best measured value has not improved by more than the surrogate's sd in the last 10 of 12"
    )
    # The evidence is the best-so-far curve itself: recomputed by hand.
    assert quiet_evaluations(np.minimum.accumulate([5, 3, 1, 1.2]), 2, 0.0, 4.0) == (2, 2.0)


def test_nothing_feasible_yet_is_said_with_how_close_each_limit_came():
    history = history_of([3, 2, 1], constraints={"spread": "<= 0.05"}, outputs=[0.2, 0.09, 0.0706])
    said = assess(history, None)
    assert said == [
        "nothing feasible yet: none of the 3 evaluations that gave a number kept the constraints: "
        "spread <= 0.05 (best reached spread = 0.0706)"
    ]


def test_maximise_returns_its_assessment():
    result = fitflow.maximise(lambda x: -((x - 0.3) ** 2), {"x": [0, 1]}, budget=14, batch=2, noise_sd=0)
    assert any(s.startswith(("settled:", "still improving:", "not settled:")) for s in result.assessment)
    assert result.assessment[0].startswith(("sure:", "fairly sure:", "unsure:"))


def test_suggest_prints_the_assessment(tmp_path):
    path = tmp_path / "campaign.yaml"
    path.write_text("parameters: {x: [0, 1]}\nlog: shots.csv\nseed: 1\nnoise_sd: 0\n")
    rows = "".join(f"{x},{(x - 0.3) ** 2},,\n" for x in np.linspace(0, 1, 9))
    (tmp_path / "shots.csv").write_text("x,value,error,suggested\n" + rows)
    out = io.StringIO()
    suggest(path, 0, out=out)
    printed = out.getvalue()
    # Nine shots on a parabola: the best (x = 0.25) came third; 1% of the spread (0.0049) is the
    # tolerance at sd 0, and no later shot came within it of improving: 7 quiet of 9, 4 needed.
    assert "recommended so far: x = 0.25: value 0.0025 ± 0" in printed
    assert (
        "settled: the best measured value has not improved by more than the surrogate's sd in the last 7 of 9"
        in printed
    )


def test_each_limit_at_the_recommendation_is_said_with_its_margin_and_probability():
    """Issue 58: a recommendation measured a spread of 0.0706 against a limit of 0.075, with no comment."""
    history = history_of([3, 2, 1], constraints={"spread": "<= 0.075"}, outputs=[0.2, 0.09, 0.0706])
    predicted = {"spread": {"mean": 0.0712, "sd": 0.003, "probability": 0.81}}
    said = assess(history, Recommendation(np.array([2 / 3]), 1.0, 0.05, index=2, outputs=predicted))
    assert said[1] == (
        "spread <= 0.075 at the recommendation: measured 0.0706, 0.0044 inside the limit, 5.9% of the limit; "
        "predicted 0.0712 ± 0.003; a repeat keeps it with probability 81%; a repeat may well break it"
    )


def test_maximise_under_a_constraint_gives_the_probability_a_repeat_keeps_it():
    rng = np.random.default_rng(0)

    def shot(x, y):
        noise = rng.standard_normal(2)
        return {
            "value": -((x - 0.3) ** 2 + (y - 0.6) ** 2) + 0.01 * noise[0],
            "spread": 0.05 + 0.05 * abs(x - 0.2) + 0.003 * noise[1],
        }

    result = fitflow.maximise(shot, {"x": [0, 1], "y": [0, 1]}, budget=16, batch=4, constraints={"spread": "<= 0.06"})
    line = next(s for s in result.assessment if s.startswith("spread <= 0.06 at the recommendation"))
    probability = float(line.split("a repeat keeps it with probability ")[1].split("%")[0]) / 100
    # The learned shot noise (0.003) and the latent sd, against the predicted margin.
    assert 0 < probability <= 1 and "predicted 0.0" in line
