"""A problem's own metrics (Problem.extra_metrics): in the evaluation row, in the report's
leaderboard when named *_error, and a hook that raises costs its metrics only."""

import pandas as pd
import pytest

import fitflow
from fitflow.report.data import leaderboard


def test_a_problems_metric_joins_the_row_and_a_raising_hook_costs_only_its_metrics(monkeypatch):
    data = fitflow.generate("gaussian_peak", seed=0)
    result = fitflow.fit("nlls", data, seed=0)
    monkeypatch.setattr(type(data.problem), "extra_metrics", lambda self, d, r: {"shape_error": abs(r.params["A"] - 1)})
    row = fitflow.evaluate(data, result)
    assert row["shape_error"] == pytest.approx(abs(result.params["A"] - 1)) and row["rmse"] > 0

    def broken(self, dataset, result):
        raise KeyError("no such parameter")

    monkeypatch.setattr(type(data.problem), "extra_metrics", broken)
    with pytest.warns(UserWarning, match="extra_metrics raised KeyError"):
        row = fitflow.evaluate(data, result)
    assert "shape_error" not in row and row["rmse"] > 0


def test_an_error_metric_of_a_problem_gets_a_leaderboard_column_lowest_best():
    rows = pd.DataFrame(
        {
            "method": ["a", "a", "b", "b"],
            "method_settings": ["default"] * 4,
            "status": ["ok"] * 4,
            "rmse": [0.1, 0.2, 0.3, 0.4],
            "closure_rms_error": [0.02, 0.04, 0.01, 0.01],
            "param.A.error": [1.0, 1.0, 1.0, 1.0],  # a per-parameter column: not a problem metric
        }
    )
    columns, entries = leaderboard(rows)
    assert columns[:2] == ["rmse", "closure_rms_error"] and "param.A.error" not in columns
    best = {e["method"]: e["metrics"]["closure_rms_error"].get("best") for e in entries}
    assert best == {"a": False, "b": True}
