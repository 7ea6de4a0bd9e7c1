"""The report's verdict (issue 36, part 2): the method to trust, the runner-up and those to
avoid, from the leaderboard's medians, the calibration verdicts and the failures."""

from fitflow.report.verdict import case_verdict


def entry(method, error, seconds, failed=0, fits=10, metric="rmse", chi2=None):
    metrics = {metric: {"median": error}, "wall_time_s": {"median": seconds}}
    if chi2 is not None:
        metrics["chi2_dof"] = {"median": chi2}
    return {"method": method, "settings": "default", "fits": fits, "failed": failed, "metrics": metrics}


CALIBRATION = {"calibrated": ["nlls", "emcee"], "miscalibrated": ["overconfident"], "without": ["gp"]}


def test_the_most_accurate_reliable_calibrated_method_is_trusted():
    entries = [
        entry("emcee", 0.0151, 4.0),
        entry("nlls", 0.0150, 0.005),
        entry("overconfident", 0.0100, 0.001),  # most accurate, but its intervals lie
        entry("starved", 0.0001, 0.001, failed=3),
    ]
    verdict = case_verdict(entries, "rmse", "RMSE vs truth", measured=False, calibration=CALIBRATION)
    assert verdict["trust"]["name"] == "nlls"
    assert "lowest median RMSE vs truth (0.015) of 2 reliable methods" in verdict["trust"]["why"]
    assert "its intervals are calibrated" in verdict["trust"]["why"] and "5 ms per fit" in verdict["trust"]["why"]
    assert verdict["runner_up"] == {"name": "emcee", "why": "as accurate, at 800× the cost"}
    avoid = {a["name"]: a["why"] for a in verdict["avoid"]}
    assert avoid == {
        "overconfident": "its intervals do not cover the truth at their nominal rates",
        "starved": "failed 3 of 10 fits",
    }


def test_a_cheaper_runner_up_nearly_as_good_is_said_so_and_a_poor_one_by_how_much():
    near = case_verdict([entry("gp", 1.0, 2.0), entry("spline", 1.05, 0.5)], "rmse", "RMSE", False)
    # As accurate (within 10%) and a quarter of the cost: the cheaper one is trusted.
    assert near["trust"]["name"] == "spline" and near["trust"]["why"].startswith("as accurate as the best of 2")
    assert near["runner_up"] == {"name": "gp", "why": "as accurate, at 4× the cost"}
    # The same with emcee against nlls (the default experiment's gaussian_peak): nlls, 800x cheaper.
    pair = case_verdict(
        [entry("emcee", 0.0079, 1.4), entry("nlls", 0.0080, 0.0016)], "rmse", "RMSE", False, CALIBRATION
    )
    assert pair["trust"]["name"] == "nlls" and pair["runner_up"]["why"] == "as accurate, at 875× the cost"
    poor = case_verdict(
        [entry("a", 1, 1, metric="regret"), entry("b", 55, 1, metric="regret")], "regret", "regret", False
    )
    assert poor["runner_up"]["why"].startswith("55× the regret")


def test_measured_data_say_what_cannot_be_judged_without_a_truth():
    entries = [entry("nlls", 0.3, 0.01, metric="cv_rmse", chi2=1.1), entry("gp", 0.35, 0.2, metric="cv_rmse")]
    verdict = case_verdict(entries, "cv_rmse", "CV prediction error", measured=True)
    assert verdict["trust"]["name"] == "nlls" and "χ²/dof 1.1" in verdict["trust"]["why"]
    assert "cannot be judged here: rehearse with the simulate problem" in verdict["note"]


def test_when_every_method_failed_the_verdict_says_so():
    verdict = case_verdict([entry("a", 1.0, 1.0, failed=10)], "rmse", "RMSE", False)
    assert verdict["trust"] is None and "no method gave a trustworthy answer" in verdict["note"]


def test_a_methods_own_evaluation_count_earns_no_star():
    """Issue 36, part 4: "evaluations = 1" (a direct solve) is no merit."""
    import pandas as pd

    from fitflow.report.data import leaderboard

    rows = pd.DataFrame(
        {
            "method": ["ols", "nlls"],
            "method_settings": ["default", "default"],
            "status": ["ok", "ok"],
            "rmse": [0.1, 0.2],
            "n_evaluations": [1, 12],
        }
    )
    columns, entries = leaderboard(rows)
    assert "n_evaluations" in columns
    assert not any(e["metrics"]["n_evaluations"].get("best") for e in entries)
    assert [e["metrics"]["rmse"].get("best") for e in entries] == [False, True]  # sorted: nlls, ols
