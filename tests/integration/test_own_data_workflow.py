"""A scientist's own measurement through the whole workflow.

A CSV in the working directory, a table problem with an expression model, one
with a user callable that raises inside the fit, and a synthetic problem beside
them. Checks: no-truth metrics in the table, the report says why, a raising
model is a failed fit with its traceback while the rest completes, and editing
the CSV reruns exactly the fits that read it.
"""

import json
import re
import shutil

import numpy as np
import pandas as pd
import pytest

from conftest import run_snakemake, whole_report, write_config
from fitflow.core.artefacts import sha256_file
from fitflow.core.autodiff import jax_available
from fitflow_plugins.problems.own.table import EXAMPLE_FILE

pytestmark = pytest.mark.slow

MODEL_MODULE = '''
def flaky(t, b1, b2):
    """Fine at the starting values; raises as soon as an optimiser moves b2."""
    import numpy as np
    if b2 != 1.0:
        raise RuntimeError(f"model exploded at b2={b2}")
    return b1 * (1 - np.exp(-b2 * t))
'''

TABLE = {
    "file": "data/measured.csv",
    "x": ["t"],
    "y": "signal",
    "sigma": "error",
    "params": ["b1", "b2"],
    "p0": [1.0, 1.0],
    "cv_folds": 3,
}
CONFIG = {
    "experiment": "mine",
    "seed": 3,
    "replicates": 1,
    "plot_fits": False,
    "problems": {
        "measured": {"plugin": "table", "settings": {**TABLE, "model": "b1*(1 - exp(-b2*t))"}},
        "flaky": {"plugin": "table", "settings": {**TABLE, "model": "usermodels:flaky"}, "methods": ["nlls"]},
        "synthetic": {"plugin": "gaussian_peak", "settings": {"n_points": 30}, "methods": ["nlls"]},
    },
    "methods": {"nlls": {}, "gp": {"settings": {"n_restarts": 0}}},
}


def stamps(root):
    return {
        p.parent.relative_to(root).as_posix(): p.stat().st_mtime_ns for p in root.glob("fits/*/*/*/*/rep-*/result.json")
    }


def test_measured_data_through_the_workflow(tmp_path):
    (tmp_path / "data").mkdir()
    csv = tmp_path / "data" / "measured.csv"
    shutil.copy(EXAMPLE_FILE, csv)
    (tmp_path / "usermodels.py").write_text(MODEL_MODULE)
    config = tmp_path / "config.yaml"
    write_config(CONFIG, config)
    env = {"PYTHONPATH": str(tmp_path)}
    run_snakemake(tmp_path, configfile=config, env=env)
    root = tmp_path / "results" / "mine"

    table = pd.read_csv(root / "fits.csv")
    measured = table[table.problem == "measured"].set_index("method")
    assert set(measured.index) == {"nlls", "gp"} and (measured.status == "ok").all()
    assert measured.cv_rmse.notna().all() and measured.param_rms_error.isna().all()
    assert measured.loc["nlls", "aic"] < measured.loc["nlls", "bic"]  # 2k < k ln(30)
    assert 0.5 < measured.loc["nlls", "chi2_dof"] < 2  # the example's errors are honest

    # The raising model: a failed fit with the traceback in its log; everything else finished.
    flaky = table[table.problem == "flaky"].iloc[0]
    assert flaky.status == "failed" and "model exploded" in flaky.message
    log = (root / flaky.fit_dir / "fit.log").read_text()
    assert "Traceback" in log and "RuntimeError: model exploded" in log
    assert log.startswith(f"failed: {flaky.message}\n")  # the reason first, as the job log shows it
    assert (table[table.problem != "flaky"].status == "ok").all()
    report = whole_report(root / "report.html")
    assert "These data are measurements: no truth is known" in report
    assert "model exploded" in report  # listed among the failed fits

    provenance = json.loads((root / "fits/measured/default/nlls/default/rep-0/provenance.json").read_text())
    assert provenance["inputs"]["data/measured.csv"] == sha256_file(csv)

    # Editing the file reruns exactly the fits that read it.
    before = stamps(root)
    lines = csv.read_text().splitlines()
    lines[-1] = lines[-1].replace(lines[-1].split(",")[1], "2.50000")
    csv.write_text("\n".join(lines) + "\n")
    run_snakemake(tmp_path, configfile=config, env=env)
    after = stamps(root)
    for fit, stamp in after.items():
        assert (stamp != before[fit]) == (not fit.startswith("fits/synthetic")), fit
    provenance = json.loads((root / "fits/measured/default/nlls/default/rep-0/provenance.json").read_text())
    assert provenance["inputs"]["data/measured.csv"] == sha256_file(csv)


def test_a_table_with_two_outputs_gets_a_report_with_a_panel_per_output(tmp_path):
    """y: [y1, y2] fitted by gp, mlp and vnn through the workflow: every fit ok, and the report is
    written with the fits figure drawn (it once raised 'too many values to unpack' and the
    report job died)."""
    rng = np.random.default_rng(0)
    t = np.linspace(0, 4, 40)
    frame = pd.DataFrame(
        {"t": t, "y1": np.sin(t) + 0.05 * rng.standard_normal(40), "y2": np.cos(2 * t) + 0.05 * rng.standard_normal(40)}
    )
    frame.to_csv(tmp_path / "two.csv", index=False)
    config = {
        "experiment": "two",
        "seed": 1,
        "replicates": 1,
        # cv_folds 0: the test is about the report's panels; cross-validation would train each method 5 more times
        "problems": {
            "two": {"plugin": "table", "settings": {"file": "two.csv", "x": ["t"], "y": ["y1", "y2"], "cv_folds": 0}}
        },
        "methods": {
            "gp": {"settings": {"n_restarts": 0}},
            "mlp": {"settings": {"n_networks": 2, "max_iter": 200}},
            **({"vnn": {"settings": {"steps": 2000}}} if jax_available() else {}),
        },
    }
    proc = run_snakemake(tmp_path, configfile=write_config(config, tmp_path / "config.yaml"))
    root = tmp_path / "results" / "two"
    table = pd.read_csv(root / "fits.csv")
    assert set(table.method) == set(config["methods"]) and (table.status == "ok").all()
    report = whole_report(root / "report.html")
    assert re.search(r'<figure class="fits-figure[^>]*>.*?<img alt="fits on two"', report, re.S), proc.stderr[-3000:]
    # the interactive overlay has a panel per output too
    spec = re.search(
        r'<figure class="fits-figure explorer"[^>]*><div class="plot"></div><script[^>]*>(.*?)</script>', report, re.S
    )
    assert {"yaxis", "yaxis2"} <= set(json.loads(spec.group(1))["layout"]) and "yaxis3" not in spec.group(1)


def test_a_config_where_every_fit_fails_still_gets_its_tables_and_report(tmp_path):
    config = {
        "experiment": "doomed",
        "seed": 1,
        "replicates": 2,
        "problems": {"gaussian_peak": {"settings": {"n_points": 30}}},
        "methods": {"nlls": {"settings": {"max_nfev": 1}}, "emcee": {"settings": {"n_steps": 10, "max_steps": 10}}},
    }
    run_snakemake(tmp_path, configfile=write_config(config, tmp_path / "config.yaml"))
    root = tmp_path / "results" / "doomed"
    table = pd.read_csv(root / "fits.csv")
    assert len(table) == 4 and (table.status == "failed").all()
    report = whole_report(root / "report.html")
    assert report.count('class="failed"') >= 2 and "did not converge" in report
