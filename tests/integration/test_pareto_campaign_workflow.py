"""The shipped two-objective campaign (config/campaign-pareto.yaml) through the workflow:
beam charge maximised and energy spread minimised at once, every shot its own job; the
answer is the Pareto front, shown in the report with its hypervolume (issue 37, item 5)."""

import csv
import json

import numpy as np
import pytest

from conftest import run_laser_campaign, whole_report
from fitflow.campaigns.pareto import hypervolume, non_dominated, reference_point

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def pareto_run(tmp_path_factory):
    def shorten(config):
        assert config["campaigns"]["laser"]["settings"]["objectives"] == {"charge": "maximise", "spread": "minimise"}
        for method in config["campaigns"]["laser"]["methods"].values():
            method["settings"]["budget"] = 16  # shorter than shipped

    return run_laser_campaign(tmp_path_factory.mktemp("pareto"), "campaign-pareto", shorten)


def test_the_front_is_the_shots_no_other_beats_on_both(pareto_run):
    folder = pareto_run / "campaigns" / "laser" / "bayesopt"
    summary = json.loads((folder / "summary.json").read_text())
    rows = list(csv.DictReader((folder / "history.csv").open()))
    assert len(rows) == 16 and {"charge", "spread"} <= set(rows[0])
    minimised = np.array([[-float(r["charge"]), float(r["spread"])] for r in rows])
    assert summary["front"] == np.flatnonzero(non_dominated(minimised)).tolist() and len(summary["front"]) >= 3
    curve = np.asarray(summary["hypervolume"])
    reference = [-summary["reference"]["charge"], summary["reference"]["spread"]]
    assert curve[-1] == pytest.approx(hypervolume(minimised, reference)) and np.all(np.diff(curve) >= 0)
    assert summary["recommended"] is None and summary["objectives"] == {"charge": "maximise", "spread": "minimise"}
    assert "direction" not in summary  # each objective has its own sense; one direction meant nothing
    # bayesopt's predicted front: at most 100 points, in the user's units and signs, none of
    # whose predicted means another beats on both objectives
    predicted = summary["predicted_front"]
    charge, spread = (np.asarray(predicted["mean"][k]) for k in ("charge", "spread"))
    assert 2 <= len(predicted["params"]) <= 100 and set(predicted["params"][0]) == {"energy", "focus", "density"}
    assert np.all(non_dominated(np.column_stack([-charge, spread]))) and charge.max() > 0
    assert np.all(np.asarray(predicted["sd"]["charge"]) > 0)


def _minimised(folder):
    rows = list(csv.DictReader((folder / "history.csv").open()))
    return np.array([[-float(r["charge"]), float(r["spread"])] for r in rows])


def test_the_report_opens_with_the_front_of_the_optimiser_that_covers_most(pareto_run):
    """The optimiser followed is the one whose front has the larger hypervolume against one
    reference shared by both (recomputed here from the two histories)."""
    fronts = {m: _minimised(pareto_run / "campaigns" / "laser" / m) for m in ("bayesopt", "random_search")}
    pooled = np.vstack(list(fronts.values()))
    reference = reference_point(pooled[non_dominated(pooled)])
    best = max(fronts, key=lambda m: hypervolume(fronts[m], reference))
    other = ({"bayesopt", "random_search"} - {best}).pop()
    html = whole_report(pareto_run / "report.html")
    verdict = html[html.index('id="verdict"') : html.index('id="campaigns"')]
    assert f"by {best} form the front" in verdict and f"{other}: hypervolume" in verdict
    assert "best charge" in verdict and "best spread" in verdict
    assert 'class="campaign-front sortable-table"' in html and 'class="campaign-front-figure"' in html
