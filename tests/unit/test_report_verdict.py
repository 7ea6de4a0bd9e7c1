"""The report's verdict (issue 36, part 2; issue 56): the method to trust, the runner-up and
those to avoid, from the leaderboard, the calibration verdicts, the failures and the paired
per-replicate or per-fold errors that give each comparison its uncertainty."""

import numpy as np
import pandas as pd
import pytest

from fitflow.report.data import leaderboard
from fitflow.report.verdict import CHOICE_RULE, case_verdict, paired_comparison


def entry(method, error, seconds, failed=0, fits=10, metric="rmse", chi2=None, **more):
    metrics = {metric: {"median": error}, "wall_time_s": {"median": seconds}}
    if chi2 is not None:
        metrics["chi2_dof"] = {"median": chi2}
    metrics.update({k: {"median": v} for k, v in more.items()})
    return {"method": method, "settings": "default", "fits": fits, "failed": failed, "metrics": metrics}


def rows_of(errors, metric="rmse"):
    """The fits table's rows: ``{method: [error per replicate]}``."""

    def key(name):  # "ols [hac]": method ols, settings hac
        method, _, settings = name.partition(" [")
        return {"method": method, "method_settings": settings.rstrip("]") or "default"}

    return pd.DataFrame(
        [
            {**key(m), "status": "ok", "replicate": r, metric: v}
            for m, values in errors.items()
            for r, v in enumerate(values)
        ]
    )


CALIBRATION = {"calibrated": ["nlls", "emcee"], "miscalibrated": ["overconfident"], "without": ["gp"]}


def test_the_most_accurate_reliable_calibrated_method_is_trusted():
    rng = np.random.default_rng(0)
    base = 0.015 * (1 + 0.1 * rng.standard_normal(20))
    errors = {"nlls": base, "emcee": base * 1.006 + 1e-5 * rng.standard_normal(20), "overconfident": base / 2}
    entries = [
        entry("emcee", 0.0151, 4.0, param_rms_error=0.0151),
        entry("nlls", 0.0150, 0.005, param_rms_error=0.015),
        entry("overconfident", 0.0100, 0.001),  # most accurate, but its intervals lie
        entry("starved", 0.0001, 0.001, failed=3),
    ]
    verdict = case_verdict(entries, "rmse", "RMSE vs truth", False, CALIBRATION, rows_of(errors))
    assert verdict["trust"]["name"] == "nlls"
    assert "lowest median RMSE vs truth (0.015) of 2 reliable methods" in verdict["trust"]["why"]
    assert "its intervals are calibrated" in verdict["trust"]["why"] and "5 ms per fit" in verdict["trust"]["why"]
    # emcee is 0.6% worse on every replicate: a real difference, resolved by pairing, at 800x the cost.
    assert verdict["runner_up"]["name"] == "emcee"
    assert verdict["runner_up"]["why"].startswith("1.01× the RMSE vs truth, 95% interval 1.005")
    assert verdict["runner_up"]["why"].endswith("over 20 replicates, at 800× the cost")
    avoid = {a["name"]: a["why"] for a in verdict["avoid"]}
    assert avoid == {
        "overconfident": "its intervals do not cover the truth at their nominal rates",
        "starved": "failed 3 of 10 fits",
    }
    assert verdict["rule"] == CHOICE_RULE


def test_paired_comparison_resolves_what_the_spread_between_replicates_hides():
    rng = np.random.default_rng(1)
    base = np.exp(rng.normal(0, 1, 30))  # errors spread over a factor of 10 between datasets
    slower = base * 1.05 * rng.lognormal(0, 0.02, 30)  # 5% worse on every dataset, give or take 2%
    worse = paired_comparison(dict(enumerate(base)), dict(enumerate(slower)))
    assert not worse["tied"] and 1.0 < worse["low"] < 1.05 < worse["high"] and worse["n"] == 30
    noisy = paired_comparison(dict(enumerate(base)), dict(enumerate(base * rng.lognormal(0, 0.5, 30))))
    assert noisy["tied"] and noisy["low"] < 1 < noisy["high"]
    one = paired_comparison({0: 1.0}, {0: 3.0})  # one replicate resolves nothing
    assert one["tied"] and one["low"] is None and one["ratio"] == pytest.approx(3.0)
    same = paired_comparison(dict(enumerate(base)), dict(enumerate(base.copy())))
    assert same["same"] and same["tied"]
    # The interval is scipy's Student-t interval of the mean paired log ratio.
    from scipy import stats

    logs = np.log(slower) - np.log(base)
    low, high = stats.t.interval(0.95, 29, loc=logs.mean(), scale=stats.sem(logs))
    assert worse["low"] == pytest.approx(np.exp(low), rel=1e-12)
    assert worse["high"] == pytest.approx(np.exp(high), rel=1e-12)
    # Errors spanning decades (a regret 1e-9 on one replicate, 0.04 on the next): compared as
    # ratios, a method ten thousand times worse on every replicate is resolved.
    regret = np.exp(rng.normal(-12, 4, 10))
    assert not paired_comparison(dict(enumerate(regret)), dict(enumerate(regret * 1e4 * rng.lognormal(0, 1, 10))))[
        "tied"
    ]


def test_among_the_indistinguishable_the_parametric_then_calibrated_then_cheaper_is_trusted():
    rng = np.random.default_rng(2)
    base = 1 + 0.3 * rng.standard_normal(8) ** 2
    errors = {"spline": base * 0.97 * rng.lognormal(0, 0.2, 8), "nlls": base, "gp": base * rng.lognormal(0, 0.2, 8)}
    entries = [
        entry("spline", 0.97, 0.001),
        entry("nlls", 1.0, 0.004, param_rms_error=1.0),
        entry("gp", 1.01, 0.5),
    ]
    verdict = case_verdict(entries, "rmse", "RMSE", False, None, rows_of(errors))
    assert verdict["trust"]["name"] == "nlls"
    assert verdict["trust"]["why"].startswith("indistinguishable from the lowest RMSE of 3 reliable methods (spline")
    assert "chosen because it fits the model's parameters" in verdict["trust"]["why"]
    # Of two non-parametric methods indistinguishable, the one 500x cheaper.
    two = case_verdict(entries[::2], "rmse", "RMSE", False, None, rows_of({k: errors[k] for k in ("spline", "gp")}))
    assert two["trust"]["name"] == "spline" and two["runner_up"]["why"].startswith("indistinguishable from it")
    assert two["runner_up"]["why"].endswith("at 500× the cost")


def test_costs_are_ranked_only_above_their_resolution_and_the_same_answer_is_no_rival():
    errors = {"ols": [1.0, 1.2, 0.9], "ols [hac]": [1.0, 1.2, 0.9], "nlls": [1.1, 1.3, 1.0]}
    entries = [
        entry("ols", 1.0, 0.0008, param_rms_error=1.0),
        {**entry("ols", 1.0, 0.0003, param_rms_error=1.0), "settings": "hac"},
        entry("nlls", 1.1, 0.0015, param_rms_error=1.1),
    ]
    verdict = case_verdict(entries, "rmse", "RMSE", False, None, rows_of(errors))
    # Indistinguishable, 1 ms against 0.3 ms: below the timer's resolution, so the lower error
    # decides, a tie; the two ols rows are one computation.
    assert {verdict["trust"]["name"], *verdict["same"]} == {"ols", "ols [hac]"}
    assert "one computation, not a rival" in verdict["note"]
    assert verdict["runner_up"]["name"] == "nlls"
    assert verdict["runner_up"]["why"].endswith("about the same cost")  # 1 ms against 2 ms: timer noise


def test_measured_data_compare_on_the_folds_and_say_what_cannot_be_judged_without_a_truth():
    folds = {"nlls": [0.09, 0.10, 0.08, 0.11, 0.12], "gp": [0.12, 0.14, 0.10, 0.15, 0.16]}
    rows = pd.DataFrame(
        [
            {
                "method": m,
                "method_settings": "default",
                "status": "ok",
                "replicate": 0,
                "cv_fold_mse": " ".join(map(str, v)),
            }
            for m, v in folds.items()
        ]
    )
    entries = [
        entry("nlls", 0.3, 0.01, metric="cv_rmse", chi2=1.1, aic=3.0, cv_rmse_se=0.02, residual_rms=0.29),
        entry("gp", 0.35, 0.2, metric="cv_rmse", residual_rms=0.3),
    ]
    verdict = case_verdict(entries, "cv_rmse", "CV prediction error", True, None, rows)
    assert verdict["trust"]["name"] == "nlls" and "χ²/dof 1.1" in verdict["trust"]["why"]
    assert "(0.3 ± 0.02)" in verdict["trust"]["why"]
    # gp's fold errors are 1.36x nlls's mean square: its RMSE 1.17x, resolved over 5 folds.
    assert verdict["runner_up"]["why"].startswith(
        "1.16× the CV prediction error, 95% interval 1.13× to 1.19× over 5 folds"
    )
    assert "over 5 folds" in verdict["runner_up"]["why"]
    assert "cannot be judged here: rehearse with the simulate problem" in verdict["note"]


def test_a_smoother_that_follows_the_noise_is_avoided_on_measured_data():
    """The influenza counts: a GP's residual RMS 8e-6 against a CV error of 19.5."""
    entries = [
        entry("gp", 19.5, 0.1, metric="cv_rmse", residual_rms=8e-6),
        entry("nlls", 24.0, 0.01, metric="cv_rmse", residual_rms=20.0, aic=100.0),
    ]
    verdict = case_verdict(entries, "cv_rmse", "CV prediction error", True)
    assert verdict["trust"]["name"] == "nlls"
    assert verdict["avoid"][0]["name"] == "gp" and "follows the noise" in verdict["avoid"][0]["why"]


def test_the_stated_errors_rejecting_the_trusted_fit_is_said():
    entries = [entry("nlls", 0.3, 0.01, metric="cv_rmse", chi2=1e-6, chi2_p=1.0, aic=1.0)]
    verdict = case_verdict(entries, "cv_rmse", "CV prediction error", True)
    assert "the data's stated errors reject the trusted fit (χ² p-value 1" in verdict["note"]


def test_when_every_method_failed_the_verdict_says_so():
    verdict = case_verdict([entry("a", 1.0, 1.0, failed=10)], "rmse", "RMSE", False)
    assert verdict["trust"] is None and "no method gave a trustworthy answer" in verdict["note"]


def test_a_methods_own_evaluation_count_earns_no_star():
    """Issue 36, part 4: "evaluations = 1" (a direct solve) is no merit."""
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
