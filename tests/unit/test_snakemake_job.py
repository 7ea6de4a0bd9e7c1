"""A job's thread cap must hold for every BLAS and OpenMP pool, including those that
scipy and scikit-learn load only when a plugin first imports them."""

import json
import subprocess
import sys

import pytest

PROBE = """
import json, os, sys
import numpy  # numpy's OpenBLAS is loaded before the job starts, as in a Snakemake script
from threadpoolctl import threadpool_info
from fitflow.run.snakemake_job import thread_limit

with thread_limit(int(sys.argv[1])):
    import scipy.linalg, sklearn.gaussian_process  # their own OpenBLAS and OpenMP load here
    inside = [(i["internal_api"], i["filepath"], i["num_threads"]) for i in threadpool_info()]
print(json.dumps({"inside": inside, "restored": os.environ.get("OMP_NUM_THREADS")}))
"""


@pytest.mark.parametrize("threads", [1, 2])
def test_every_thread_pool_loaded_inside_a_job_obeys_its_thread_count(threads):
    env = {k: v for k, v in __import__("os").environ.items() if not k.endswith("_NUM_THREADS")}
    out = subprocess.run(
        [sys.executable, "-c", PROBE, str(threads)], capture_output=True, text=True, env=env, check=True
    ).stdout
    probe = json.loads(out)
    apis = {api for api, _, _ in probe["inside"]}
    assert {"openblas", "openmp"} <= apis, probe  # scipy's OpenBLAS and scikit-learn's libgomp were seen
    assert all(n == threads for _, _, n in probe["inside"]), probe["inside"]
    assert probe["restored"] is None  # the process environment is left as it was


def test_the_exit_hook_cancels_waiting_timers_so_the_process_need_not_wait_for_them():
    """Snakemake's rate limiter leaves a non-daemon one-second Timer that Python waits for
    at exit; the Snakefile's onsuccess/onerror hooks cancel it. A 60 s Timer stands in."""
    import threading

    from fitflow.run.snakemake_job import cancel_pending_timers

    fired = []
    timer = threading.Timer(60, fired.append, args=[True])
    timer.start()
    cancel_pending_timers()
    timer.join(timeout=10)
    assert not timer.is_alive() and fired == []


def test_jobs_take_the_plan_the_snakefile_shared_for_their_very_config(tmp_path, monkeypatch):
    """A job reuses the plan built from its own config, without validating it again, and
    builds one itself when the shared plan is missing, corrupt or of another config."""

    from conftest import shipped_config
    from fitflow.run import snakemake_job
    from fitflow.run.experiment import build_plan

    monkeypatch.chdir(tmp_path)
    config = shipped_config()
    plan = build_plan(config)
    snakemake_job.share_plan(plan, config)
    built = []
    monkeypatch.setattr(snakemake_job, "build_plan", lambda c: built.append(c) or build_plan(c))

    assert snakemake_job.shared_plan(config).describe() == plan.describe() and built == []

    other = {**config, "seed": config["seed"] + 1}  # another config: its own plan
    assert snakemake_job.shared_plan(other).seed == other["seed"] and built == [other]

    snakemake_job.share_plan(build_plan(other), other)  # sharing a new plan drops the old one
    assert len(list(snakemake_job.PLAN_FOLDER.glob("*.pickle"))) == 1
    assert snakemake_job.shared_plan(other).seed == other["seed"] and len(built) == 1

    next(snakemake_job.PLAN_FOLDER.glob("*.pickle")).write_bytes(b"not a pickle")
    assert snakemake_job.shared_plan(other).seed == other["seed"] and len(built) == 2
