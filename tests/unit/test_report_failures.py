"""The report's failed-fits table: replicates failing for one reason share a row."""

import pandas as pd

from fitflow.report.failures import grouped_failures


def _failed(messages, method="bayesopt"):
    return pd.DataFrame(
        {
            "problem": "gaussian_peak",
            "problem_settings": "default",
            "method": method,
            "method_settings": "default",
            "replicate": list(range(len(messages))),
            "message": messages,
            "fit_dir": [f"fits/x/rep-{i}" for i in range(len(messages))],
        }
    )


def test_reasons_that_differ_only_in_their_numbers_share_a_row_quoting_the_first():
    messages = [
        f"not converged: chi-square {2500 + 17 * i:.4g} there; the minimum reaches {72.3 - i / 10:.4g} "
        f"(delta chi-square / s^2 = {2.4e3 + i:.3g})"
        for i in (3, 0, 1, 2)
    ]
    table = _failed(messages)
    table["replicate"] = [3, 0, 1, 2]
    (row,) = grouped_failures(table)
    assert row["replicate"] == "0–3" and row["count"] == 4 and row["fit_dir"] == "fits/x/rep-1"
    assert row["message"].startswith(messages[1]) and "numbers vary" in row["message"]


def test_different_reasons_and_identical_reasons_stay_as_they_were():
    table = pd.concat(
        [_failed(["did not converge in 2 evaluations"] * 3), _failed(["rank-deficient design"], method="ols")],
        ignore_index=True,
    )
    rows = grouped_failures(table)
    assert [(r["method"], r["replicate"], r["message"]) for r in rows] == [
        ("bayesopt", "0–2", "did not converge in 2 evaluations"),
        ("ols", "0", "rank-deficient design"),
    ]
    different = grouped_failures(_failed(["timed out after 60 s", "all 30 evaluations failed: NaN"]))
    assert len(different) == 2
