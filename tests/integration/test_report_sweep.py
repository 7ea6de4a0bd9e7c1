"""The report of a 2,000-fit sweep: whole, every fit named in the cost explorer, a sweep
figure, and a size that does not grow with the fits (figures are summaries; the fits
overlay offers the first replicates only). Its build time and load time are measured by
benchmarks/bench_report.py, not here."""

import json
import re

import pandas as pd
import pytest

from conftest import run_snakemake, whole_report, write_config
from fitflow.report.interactive import MAX_REPLICATES

pytestmark = pytest.mark.slow

REPLICATES = 400  # 2 noise levels x (ols, nlls) + gaussian_peak's nlls = 5 x 400 fits


@pytest.fixture(scope="module")
def sweep(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("sweep")
    config = {
        "experiment": "sweep",
        "seed": 1,
        "replicates": REPLICATES,
        "batch_size": 100,
        "plot_fits": False,
        "problems": {
            "cosine_series": {"settings": {"n_samples": 40, "n_modes": 4}, "sweep": {"noise": [0.05, 0.2]}},
            "gaussian_peak": {"methods": ["nlls"]},
        },
        "methods": {"ols": {}, "nlls": {}},
    }
    run_snakemake(workdir, configfile=write_config(config, workdir / "config.yaml"))
    return workdir / "results" / "sweep"


def _specs(html, kind):
    pattern = rf'<figure class="{kind}[^"]*explorer"[^>]*><div class="plot"></div><script[^>]*>(.*?)</script>'
    return [json.loads(spec) for spec in re.findall(pattern, html, re.S)]


def test_a_2000_fit_sweep_gets_a_whole_report_naming_every_fit(sweep):
    table = pd.read_csv(sweep / "fits.csv")
    assert len(table) == 5 * REPLICATES and (table.status == "ok").all()
    html = whole_report(sweep / "report.html")
    (cost,) = _specs(html, "cost-explorer")
    named = [fit for trace in cost["data"] for fit in trace.get("customdata", [])]
    assert sorted(named) == sorted(table.fit_dir.str.removeprefix("fits/"))
    # one menu entry per problem case: the three cases of the sweep
    (cases,) = [m for m in cost["layout"]["updatemenus"] if m["type"] == "dropdown"]
    assert [b["label"] for b in cases["buttons"]] == [
        "cosine_series [noise-0.05]",
        "cosine_series [noise-0.2]",
        "gaussian_peak",
    ]
    assert 'class="sweep-figure"' in html
    fits = _specs(html, "fits-figure")
    assert len(fits) == 3
    for spec in fits:
        (menu,) = spec["layout"]["updatemenus"]
        assert [b["label"] for b in menu["buttons"]] == [f"replicate {k}" for k in range(MAX_REPLICATES)]
    # every fit's pull on each parameter: 400 fits x 3 or 8 parameters per method
    for spec in _specs(html, "recovery-explorer"):
        assert all(len(trace["y"]) % REPLICATES == 0 for trace in spec["data"])
    # the ceiling for 2,000 fits (measured: 4.4 MB, benchmarks/bench_report.py)
    assert (sweep / "report.html").stat().st_size < 15e6
