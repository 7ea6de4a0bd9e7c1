"""Growing a finished experiment recomputes only what changed: added replicates or
methods run only their new fits; a changed method setting reruns only that method."""

import json

import pytest

from conftest import run_snakemake, write_config

pytestmark = pytest.mark.slow

BASE = {
    "experiment": "grow",
    "seed": 5,
    "replicates": 3,
    "batch_size": 2,
    "chunks": 0,  # a job per batch: what a rerun redoes is visible per job (chunked reruns: test_chunked_workflow)
    "plot_fits": False,
    "problems": {"cosine_series": {"settings": {"n_samples": 20, "n_modes": 3}, "methods": ["ols", "nlls"]}},
    "methods": {"ols": {}, "nlls": {}},
}


def run(workdir, config):
    path = workdir / "config.yaml"
    write_config(config, path)
    return run_snakemake(workdir, configfile=path)


def stamps(root):
    """Modification time of every fit's result and provenance, by fit folder."""
    return {
        p.parent.relative_to(root).as_posix(): (p.stat().st_mtime_ns, (p.parent / "provenance.json").stat().st_mtime_ns)
        for p in root.glob("fits/*/*/*/*/rep-*/result.json")
    }


def test_growing_an_experiment_recomputes_only_the_new_or_changed_fits(tmp_path):
    root = tmp_path / "results" / "grow"
    run(tmp_path, BASE)
    first = stamps(root)
    assert len(first) == 6

    # Two more replicates: batch 1 grows from [2] to [2, 3]; rep 2 is reused, not refitted.
    grown = {**BASE, "replicates": 5}
    run(tmp_path, grown)
    second = stamps(root)
    assert len(second) == 10
    assert all(second[k] == first[k] for k in first), "an existing fit was recomputed"
    log = (root / "logs/fit/cosine_series/default/ols/default/batch-1.log").read_text()
    assert "rep 2: reused" in log and "rep 3: ok" in log

    # A changed nlls setting reruns nlls only.
    tuned = {**grown, "methods": {"ols": {}, "nlls": {"settings": {"xtol": 1e-10}}}}
    run(tmp_path, tuned)
    third = stamps(root)
    for fit, stamp in third.items():
        assert (stamp != second[fit]) == ("/nlls/" in fit), fit
    record = json.loads((root / "fits/cosine_series/default/nlls/default/rep-0/provenance.json").read_text())
    assert record["plugins"]["method"]["settings"]["xtol"] == 1e-10

    # A new method runs only its own fits.
    extended = {**tuned, "methods": {**tuned["methods"], "emcee": {"settings": {"n_steps": 200}}}}
    extended["problems"] = {
        "cosine_series": {**tuned["problems"]["cosine_series"], "methods": ["ols", "nlls", "emcee"]}
    }
    run(tmp_path, extended)
    fourth = stamps(root)
    assert all(fourth[k] == third[k] for k in third)
    assert sum("/emcee/" in k for k in fourth) == 5
