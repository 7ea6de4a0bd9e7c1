"""The workflow through Snakemake's SLURM executor on a live one-node cluster gives the
same artefacts as a local run."""

import subprocess
import sys

import pytest
from slurm_cluster import slurm_cluster  # noqa: F401  (the fixture)

from conftest import REPO, artefact_hashes, run_snakemake, write_config

pytestmark = [pytest.mark.slow, pytest.mark.slurm]

CONFIG = {
    "experiment": "cluster",
    "seed": 3,
    "replicates": 2,
    "batch_size": 2,
    "problems": {
        "cosine_series": {"settings": {"n_samples": 25, "n_modes": 3}, "methods": ["ols", "nlls"]},
        "gaussian_peak": {"settings": {"n_points": 40}, "methods": ["nlls"]},
    },
    "methods": {"ols": {}, "nlls": {"resources": {"mem_mb": 300}}},
}


@pytest.mark.parametrize("chunks", [0, 2])
def test_slurm_run_matches_a_local_run(slurm_cluster, tmp_path, chunks):
    config = tmp_path / "cluster.yaml"
    write_config({**CONFIG, "chunks": chunks}, config)
    local, cluster = tmp_path / "local", tmp_path / "cluster"
    local.mkdir(), cluster.mkdir()
    run_snakemake(local, configfile=config)
    command = [
        "timeout",
        "-k",
        "10",
        "420",
        sys.executable,
        "-m",
        "snakemake",
        "--snakefile",
        str(REPO / "Snakefile"),
        "--directory",
        str(cluster),
        "--configfile",
        str(config),
        "--workflow-profile",
        str(REPO / "tests" / "cluster" / "profile"),
        "--slurm-logdir",
        str(cluster / "slurm-logs"),
    ]
    proc = subprocess.run(command, capture_output=True, text=True, env=slurm_cluster)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    # The remote jobs really went through SLURM: one SLURM log per submitted job, here
    # 2 generate jobs (one per problem) and 3 fit jobs (one per problem x method; each
    # evaluates its own fits), or with chunks the 2 chunk jobs, which ask for their
    # methods' resources.
    slurm_logs = list((cluster / "slurm-logs").rglob("*.log"))
    assert len(slurm_logs) == (2 if chunks else 5), proc.stderr[-3000:]
    expected_rules = {"rule_chunk"} if chunks else {"rule_generate", "rule_fit"}
    assert {p.parent.parent.name for p in slurm_logs} == expected_rules
    assert artefact_hashes(local / "results" / "cluster") == artefact_hashes(cluster / "results" / "cluster")


def test_gradient_methods_through_slurm_match_a_local_run(slurm_cluster, tmp_path):
    """Issue 55's matrix on its last path, the SLURM profile's job script: an expression and a
    JAX ODE solver, fitted by nlls (exact Jacobian), gradient_descent and nuts, each fit a job
    submitted to SLURM, give a local run's bytes."""
    pytest.importorskip("blackjax", reason="needs the jax extra (pip install -e '.[jax]')")
    import shutil

    import pandas as pd

    sys.path.insert(0, str(REPO / "tests" / "jax"))
    from test_gradient_paths import METHODS, MODELS, NUTS_SETTINGS, table_settings, write_inputs

    forms = ("expression", "jax_solver")
    config = tmp_path / "gradients.yaml"
    write_config(
        {
            "experiment": "gradients",
            "seed": 3,
            "replicates": 1,
            "chunks": 0,
            "problems": {f: {"plugin": "table", "settings": table_settings(MODELS[f])} for f in forms},
            "methods": {m: {"settings": NUTS_SETTINGS} if m == "nuts" else {} for m in METHODS},
        },
        config,
    )
    local, cluster = tmp_path / "local", tmp_path / "cluster"
    local.mkdir(), cluster.mkdir()
    write_inputs(local)
    for path in local.iterdir():
        shutil.copy(path, cluster / path.name)
    run_snakemake(local, configfile=config)
    command = [
        "timeout", "-k", "10", "600", sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"),
        "--directory", str(cluster), "--configfile", str(config),
        "--workflow-profile", str(REPO / "tests" / "cluster" / "profile"),
        "--slurm-logdir", str(cluster / "slurm-logs"),
    ]  # fmt: skip
    proc = subprocess.run(command, capture_output=True, text=True, env=slurm_cluster)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    table = pd.read_csv(cluster / "results" / "gradients" / "fits.csv")
    assert len(table) == len(forms) * len(METHODS) and (table.status == "ok").all(), table[["method", "message"]]
    assert len(list((cluster / "slurm-logs").rglob("*.log"))) == len(forms) * (1 + len(METHODS))
    assert artefact_hashes(local / "results" / "gradients") == artefact_hashes(cluster / "results" / "gradients")
