"""Timing helpers shared by the benchmarks: interleaved per-call timing, and one way to
run (and time) a Snakemake workflow."""

import functools
import os
from pathlib import Path
import shutil
import subprocess
import sys
import tempfile
import time
import timeit

__all__ = ["per_call", "run_workflow", "browser_load_time", "drawn", "one_quiet_thread"]

REPO = Path(__file__).resolve().parents[1]


def one_quiet_thread():
    """Run this process's campaign or fit as a workflow job with ``threads: 1`` runs it, and
    without warnings: one BLAS and OpenMP thread, both for the libraries loaded now
    (threadpoolctl) and for those loaded later (their environment variables; scipy's own
    OpenBLAS, which L-BFGS-B uses, loads with scipy.optimize). With threadpoolctl alone, a
    q = 8 proposal beside a second campaign on two cores took 4.9 s instead of 1.4 s."""
    import warnings

    from fitflow.run.snakemake_job import limit_threads

    warnings.filterwarnings("ignore")
    limit_threads(1)


def per_call(functions, repeats, blocks=15):
    """Seconds per call of each function: blocks of ``repeats`` calls, interleaved so that
    every function meets the same machine conditions, and the best block of each kept
    (timeit's rule: the minimum is the run least disturbed by the rest of the machine)."""
    best = [float("inf")] * len(functions)
    for _ in range(blocks):
        for i, function in enumerate(functions):
            best[i] = min(best[i], timeit.timeit(function, number=repeats) / repeats)
    return best


@functools.cache
def workflow_env():
    """The environment the workflows run in.

    The SLURM executor plugin (installed by ``make setup``) runs ``scontrol show config``
    each time Snakemake starts, even for a local run. On a machine whose SLURM tools are
    installed but whose controller is down (this one, between runs of the SLURM test) that
    call takes ~9 s to fail; on a laptop without SLURM it fails at once, on a cluster it
    answers at once. So that the benchmarks time fitflow rather than this machine's broken
    SLURM, a stub that fails at once stands in for ``scontrol`` when the real one fails:
    the plugin gets the same answer (none) either way. The benchmark says so when it does."""
    env = dict(os.environ)
    if not shutil.which("scontrol"):
        return env
    start = time.perf_counter()
    try:
        probe = subprocess.run(["scontrol", "show", "config"], capture_output=True, timeout=15).returncode
    except subprocess.TimeoutExpired:
        probe = 1
    if probe == 0 or time.perf_counter() - start < 1.0:  # it answers, or fails at once: nothing to spare
        return env
    stub = Path(tempfile.mkdtemp(prefix="fitflow-bench-")) / "scontrol"
    stub.write_text("#!/bin/sh\nexit 1\n")
    stub.chmod(0o755)
    env["PATH"] = f"{stub.parent}{os.pathsep}{env.get('PATH', '')}"
    print(
        f"note: `scontrol show config` fails here after {time.perf_counter() - start:.1f} s (no SLURM controller); "
        f"the workflows run with a stub that fails at once, as on a machine without SLURM",
        file=sys.stderr,
    )
    return env


def run_workflow(workdir, configfile, *args, python=sys.executable, tree=REPO, overrides=()):
    """Run ``snakemake --cores 2`` (target ``all``) with the default workflow profile of
    ``tree`` on ``configfile`` in ``workdir``; its wall time in seconds. ``overrides`` are
    ``key=value`` strings for ``--config``; ``args`` go last."""
    config = ["--config", *overrides] if overrides else []  # before --quiet, whose optional values end it
    command = [
        str(python),
        "-m",
        "snakemake",
        "--snakefile",
        str(Path(tree) / "Snakefile"),
        "--directory",
        str(workdir),
        "--configfile",
        str(configfile),
        "--cores",
        "2",
        "--workflow-profile",
        str(Path(tree) / "workflow/profiles/default"),
        *config,
        "--quiet",
        "all",
        *args,
    ]
    env = workflow_env()
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, env=env)
    return time.perf_counter() - start


def drawn(selector):
    """A JavaScript test that is true once ``selector`` is on the page, searched in shadow
    roots too (where Bokeh draws)."""
    import json

    return f"""
    const find = (root, selector) => root.querySelector(selector) ||
        [...root.querySelectorAll('*')].some(e => e.shadowRoot && find(e.shadowRoot, selector));
    return document.readyState === 'complete' && !!find(document, {json.dumps(selector)});
    """


def browser_load_time(path, ready="return document.readyState === 'complete'", repeats=3):
    """Median seconds headless Chromium (Debian's ``chromium``) takes from navigation to
    ``path`` until the JavaScript test ``ready`` holds (by default: the page has loaded)."""
    import statistics

    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1300,1000"):
        options.add_argument(argument)
    options.binary_location = shutil.which("chromium")
    driver = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=options)
    try:
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            driver.get(Path(path).resolve().as_uri())
            while not driver.execute_script(ready):
                time.sleep(0.01)
            times.append(time.perf_counter() - start)
        return statistics.median(times)
    finally:
        driver.quit()
