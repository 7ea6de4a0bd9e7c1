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
from fitflow.snakemake_job import thread_limit

with thread_limit(int(sys.argv[1])):
    import scipy.linalg, sklearn.gaussian_process  # their own OpenBLAS and OpenMP load here
    inside = [(i["internal_api"], i["filepath"], i["num_threads"]) for i in threadpool_info()]
print(json.dumps({"inside": inside, "restored": os.environ.get("OMP_NUM_THREADS")}))
"""


@pytest.mark.parametrize("threads", [1, 2])
def test_every_thread_pool_loaded_inside_a_job_obeys_its_thread_count(threads):
    env = {k: v for k, v in __import__("os").environ.items() if not k.endswith("_NUM_THREADS")}
    out = subprocess.run([sys.executable, "-c", PROBE, str(threads)], capture_output=True, text=True, env=env,
                         check=True).stdout
    probe = json.loads(out)
    apis = {api for api, _, _ in probe["inside"]}
    assert {"openblas", "openmp"} <= apis, probe  # scipy's OpenBLAS and scikit-learn's libgomp were seen
    assert all(n == threads for _, _, n in probe["inside"]), probe["inside"]
    assert probe["restored"] is None  # the process environment is left as it was


def test_the_exit_hook_cancels_waiting_timers_so_the_process_need_not_wait_for_them():
    """Snakemake's rate limiter leaves a non-daemon one-second Timer that Python waits for
    at exit; the Snakefile's onsuccess/onerror hooks cancel it. A 60 s Timer stands in."""
    import threading

    from fitflow.snakemake_job import cancel_pending_timers

    fired = []
    timer = threading.Timer(60, fired.append, args=[True])
    timer.start()
    cancel_pending_timers()
    timer.join(timeout=10)
    assert not timer.is_alive() and fired == []
