"""Fault injection, a data file that changes (issue 34, item 1): the hash recorded with a
dataset is the hash of the bytes it was read from, every fit's provenance carries that same
hash, and a file whose bytes changed reruns its datasets and fits, even when its
modification time says nothing (a file replaced mid-run, or copied with its old time)."""

import json
import os
import re

import numpy as np
import pytest
import yaml

from conftest import run_snakemake
from fitflow.core.artefacts import sha256_file
from fitflow.core.errors import ArtefactError
from fitflow.run.experiment import build_plan
from fitflow.run.jobs import generate_batch

pytestmark = pytest.mark.slow

X = np.linspace(0, 1, 30)


def write_data(path, intercept, slope):
    path.write_text("x,y\n" + "".join(f"{float(a)!r},{float(intercept + slope * a)!r}\n" for a in X))


def config(workdir):
    entry = {
        "plugin": "table",
        "settings": {"file": "data.csv", "x": ["x"], "y": "y", "model": "a + b*x", "params": ["a", "b"], "cv_folds": 0},
        "methods": ["ols", "nlls"],
    }
    path = workdir / "config.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "experiment": "stale",
                "seed": 1,
                "replicates": 1,
                "chunks": 0,
                "plot_fits": False,
                "problems": {"t": entry},
                "methods": {"ols": {}, "nlls": {}},
            }
        )
    )
    return path


def recorded(root):
    dataset = json.loads((root / "datasets/t/default/rep-0/dataset.json").read_text())["inputs"]["data.csv"]
    fits = {
        m: json.loads((root / f"fits/t/default/{m}/default/rep-0/provenance.json").read_text())["inputs"]["data.csv"]
        for m in ("ols", "nlls")
    }
    intercept = json.loads((root / "fits/t/default/ols/default/rep-0/result.json").read_text())["params"]["a"]
    return dataset, fits, intercept


def test_a_file_replaced_with_its_old_time_reruns_its_datasets_and_fits(tmp_path):
    data = tmp_path / "data.csv"
    write_data(data, 1.0, 2.0)
    path = config(tmp_path)
    run_snakemake(tmp_path, configfile=path)
    root = tmp_path / "results" / "stale"
    dataset, fits, intercept = recorded(root)
    assert dataset == sha256_file(data) and set(fits.values()) == {dataset} and intercept == pytest.approx(1.0)

    stamp = os.stat(data).st_mtime_ns - 10**9  # older than every output: mtime cannot tell
    write_data(data, 5.0, -3.0)
    os.utime(data, ns=(stamp, stamp))
    dry = run_snakemake(tmp_path, "-n", configfile=path)
    assert re.search(r"^generate\s+1$", dry.stdout, re.M), dry.stdout  # the bytes' hash is a param of the job
    run_snakemake(tmp_path, configfile=path)
    dataset, fits, intercept = recorded(root)
    assert dataset == sha256_file(data) and set(fits.values()) == {dataset}
    assert intercept == pytest.approx(5.0)  # the new data, not the old
    again = run_snakemake(tmp_path, "-n", configfile=path)
    assert "Nothing to be done" in again.stdout + again.stderr


def test_a_file_changed_while_its_datasets_are_generated_fails_the_batch(tmp_path, monkeypatch):
    data = tmp_path / "data.csv"
    write_data(data, 1.0, 2.0)
    monkeypatch.chdir(tmp_path)
    plan = build_plan(yaml.safe_load(config(tmp_path).read_text()), source="config.yaml")
    from fitflow_plugins.problems.own.table import Table

    real = Table.generate

    def generate_then_edit(self, rng):
        dataset = real(self, rng)
        write_data(data, 5.0, -3.0)  # another process writes the file as it is being read
        return dataset

    monkeypatch.setattr(Table, "generate", generate_then_edit)
    with pytest.raises(ArtefactError, match="data.csv changed while its datasets were being generated"):
        generate_batch(plan, tmp_path / "results" / "stale", "t", "default", 0)
    assert not (tmp_path / "results/stale/datasets/t/default/batch-0.json").exists()


def test_a_model_file_edited_after_its_datasets_were_made_fails_the_fit_that_imported_it(tmp_path, monkeypatch):
    """Issue 57, item 2: a model file edited while a run was under way was used silently (an
    edited data file fails its job). The fit hashes what it imported, against what the dataset
    recorded; the next run reruns both, the file being an input of their jobs."""
    import json as json_module

    from fitflow.run.jobs import fit_batch

    write_data(tmp_path / "data.csv", 1.0, 2.0)
    (tmp_path / "line.py").write_text("def line(x, a, b):\n    return a + b * x\n")
    monkeypatch.chdir(tmp_path)
    settings = {"file": "data.csv", "x": ["x"], "y": "y", "model": "line.py:line", "p0": [0, 1], "cv_folds": 0}
    config = {
        "experiment": "edited",
        "seed": 1,
        "replicates": 1,
        "chunks": 0,
        "plot_fits": False,
        "problems": {"t": {"plugin": "table", "settings": settings, "methods": ["nlls"]}},
        "methods": {"nlls": {}},
    }
    plan = build_plan(config, source="config.yaml")
    root = tmp_path / "results" / "edited"
    generate_batch(plan, root, "t", "default", 0)
    key = ("t", "default", "nlls", "default")
    fit_batch(plan, root, key, 0, plot=False)
    first = json_module.loads((root / "fits/t/default/nlls/default/rep-0/result.json").read_text())
    assert first["status"] == "ok" and first["params"]["a"] == pytest.approx(1.0)

    (tmp_path / "line.py").write_text("def line(x, a, b):\n    return a + 2 * b * x\n")  # edited mid-run
    (root / "fits/t/default/nlls/default/rep-0/provenance.json").unlink()  # a fit job still to run
    fit_batch(plan, root, key, 0, plot=False)
    second = json_module.loads((root / "fits/t/default/nlls/default/rep-0/result.json").read_text())
    assert second["status"] == "failed"
    assert "the model file line.py changed after its datasets were generated" in second["message"]
