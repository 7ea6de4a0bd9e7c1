"""Fault injection through the workflow (issue 34, item 4): user code that takes its process
down, with a job per batch (``chunks: 0``), and in a campaign. The crashed unit becomes one
failed fit or evaluation with the signal or exit code; every other fit, the campaign's
other evaluations and the report are complete. (The chunked run of the same plugins is
``tests/integration/test_broken_plugins_workflow.py``.)"""

import json
import sys

import pandas as pd
import pytest

from conftest import REPO

sys.path.insert(0, str(REPO / "tests" / "broken_plugins"))
from install import run_with_broken_plugins  # noqa: E402

pytestmark = pytest.mark.slow

OBJECTIVE = """\
import ctypes, os

def shot(x):
    if x > 0.9:
        ctypes.string_at(0)          # a crash in compiled code
    if x < 0.1:
        os._exit(4)                  # a library that ends the process
    if 0.45 < x < 0.5:
        return 10 ** 400             # past float's range
    return (x - 0.3) ** 2
"""


@pytest.fixture(scope="module")
def crash_run(tmp_path_factory):
    config = {
        "experiment": "crash",
        "seed": 2,
        "replicates": 2,
        "batch_size": 2,
        "chunks": 0,
        "problems": {
            "peak": {"plugin": "gaussian_peak", "settings": {"n_points": 30}, "methods": ["nlls", "segfaults"]},
            "segfaults_in_generate": {"methods": ["nlls"]},
        },
        "methods": {"nlls": {}, "segfaults": {}},
        "campaigns": {
            "shots": {
                "settings": {"parameters": {"x": [0.0, 1.0]}, "function": "objective.py:shot", "noise_sd": 0.0},
                # Random points over the whole range: the crashing regions are certain to be hit.
                "methods": {"random_search": {"settings": {"budget": 24, "batch": 6}}},
            }
        },
    }
    return run_with_broken_plugins(
        tmp_path_factory, config, before=lambda w: (w / "objective.py").write_text(OBJECTIVE)
    )


def test_the_run_completes_with_its_report(crash_run):
    proc, root = crash_run
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert (root / "report.html").is_file()


def test_a_segfaulting_fit_is_one_failed_fit_and_the_good_fits_are_ok(crash_run):
    _, root = crash_run
    table = pd.read_csv(root / "fits.csv")
    assert (table[table.method == "nlls"].query("problem == 'peak'").status == "ok").all()
    crashed = table[table.method == "segfaults"]
    assert len(crashed) == 2 and (crashed.status == "failed").all()
    assert crashed.message.str.contains("killed by signal 11 \\(SIGSEGV\\)").all()
    no_data = table[table.problem == "segfaults_in_generate"]
    assert (no_data.status == "failed").all() and no_data.message.str.contains("killed by signal 11").all()


def test_campaign_evaluations_that_crash_are_failed_records_and_the_campaign_finishes(crash_run):
    _, root = crash_run
    records = [json.loads(p.read_text()) for p in sorted(root.glob("campaigns/shots/**/evaluation.json"))]
    assert len(records) == 24
    by_region = {"segv": [], "exit": [], "huge": [], "fine": []}
    for record in records:
        x = record["x"][0]
        region = "segv" if x > 0.9 else "exit" if x < 0.1 else "huge" if 0.45 < x < 0.5 else "fine"
        by_region[region].append(record)
    assert by_region["segv"] and by_region["exit"] and by_region["fine"], {k: len(v) for k, v in by_region.items()}
    assert all("killed by signal 11" in r["reason"] for r in by_region["segv"])
    assert all("exit status 4" in r["reason"] for r in by_region["exit"])
    assert all(r["status"] != "ok" for r in by_region["segv"] + by_region["exit"] + by_region["huge"])
    assert all(r["status"] == "ok" for r in by_region["fine"])
    assert (root / "campaigns" / "shots" / "random_search" / "history.csv").is_file()
