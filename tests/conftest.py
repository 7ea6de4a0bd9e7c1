"""Shared test helpers: the repository's paths, a Snakemake runner, shared datasets.

One conftest for the whole suite: tests import helpers from it as ``conftest``,
which a second conftest.py in a subfolder would shadow."""

import hashlib
import os
from pathlib import Path
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]

if os.environ.get("PYTEST_XDIST_WORKER"):
    # `make test` runs a worker per core; a worker's BLAS and OpenMP pools must not spin a
    # thread per core each, or N workers run N x N threads on N cores (measured: the 50
    # emulator rehearsals took 1,161 s beside another worker against 207 s alone). Snakemake
    # jobs the tests start set their own limits from their `threads`, as they always do.
    from fitflow.run.snakemake_job import limit_threads

    limit_threads(1)
TINY_CONFIG = REPO / "config" / "test-config.yaml"


def shipped_config(name="test-config"):
    """The shipped ``config/<name>.yaml`` as a dict, for a test to edit."""
    import yaml

    return yaml.safe_load((REPO / "config" / f"{name}.yaml").read_text())


def write_config(config, path):
    """``config`` written as YAML to ``path``, keys in their order; returns ``path``."""
    import yaml

    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def run_snakemake(workdir, *args, configfile=TINY_CONFIG, env=None, check=True, timeout=600):
    """Run the repository's workflow with ``workdir`` as working directory."""
    command = [
        sys.executable,
        "-m",
        "snakemake",
        "--snakefile",
        str(REPO / "Snakefile"),
        "--directory",
        str(workdir),
        "--workflow-profile",
        str(REPO / "workflow" / "profiles" / "default"),
        "--cores",
        "2",
        "--quiet",
        "rules",
    ]
    if configfile is not None:
        command += ["--configfile", str(configfile)]
    command += list(args)
    proc = subprocess.run(command, capture_output=True, text=True, timeout=timeout, env={**os.environ, **(env or {})})
    if check and proc.returncode != 0:
        raise AssertionError(f"snakemake failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc


def kill_workflow_when(workdir, configfile, pattern, count, timeout=300, min_bytes=0):
    """Start the workflow in ``workdir`` and SIGKILL its whole process group as soon as
    ``count`` files of at least ``min_bytes`` match ``pattern`` below ``workdir``: an
    interrupted run to resume."""
    command = [
        sys.executable,
        "-m",
        "snakemake",
        "--snakefile",
        str(REPO / "Snakefile"),
        "--directory",
        str(workdir),
        "--workflow-profile",
        str(REPO / "workflow" / "profiles" / "default"),
        "--cores",
        "2",
        "--quiet",
        "rules",
        "--configfile",
        str(configfile),
    ]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline and process.poll() is None:
            if sum(_size(p) >= min_bytes for p in Path(workdir).glob(pattern)) >= count:
                break
            time.sleep(0.05)
        assert process.poll() is None, "the workflow finished before it could be interrupted"
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    _assert_no_process_outlives(workdir)


def _assert_no_process_outlives(workdir, grace=10.0):
    """No process of the killed run (a job's script, its forked child, a chunk's workers:
    each names ``workdir`` on its command line) is left running ``grace`` seconds later:
    an orphan would hold its memory, and a lock, for ever. Linux only (/proc)."""
    if not Path("/proc/self/cmdline").exists():
        return
    deadline, left = time.monotonic() + grace, []
    while time.monotonic() < deadline:
        left = []
        for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
            try:
                text = cmdline.read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if str(workdir) in text:
                left.append(f"{cmdline.parent.name}: {text[:200]}")
        if not left:
            return
        time.sleep(0.2)
    raise AssertionError("processes outlived the killed workflow:\n" + "\n".join(left))


def whole_report(path):
    """The text of the report at ``path`` after checking it is whole: strict HTML, no part
    that could not be drawn or built, and every interactive figure's JSON a Plotly figure
    with traces. Every kind of experiment's workflow test reads its report through here."""
    import json
    import re

    import html5lib

    html = Path(path).read_text()
    html5lib.HTMLParser(strict=True, namespaceHTMLElements=False).parse(html)
    for broken in ("could not be drawn", "could not be built"):
        at = html.find(broken)
        assert at < 0, f"{path}: ...{html[max(0, at - 300) : at + 200]}..."
    for spec in re.findall(r'<script type="application/json">(.*?)</script>', html, re.S):
        figure = json.loads(spec)
        assert figure["data"] and "layout" in figure
    return html


def _size(path):
    try:
        return path.stat().st_size
    except FileNotFoundError:  # renamed away since the glob
        return -1


def artefact_hashes(root, exclude_names=("timing.json", "timings.csv", "report.html", "cost_accuracy.png")):
    """SHA-256 of every artefact below ``root`` except logs and the files that carry
    wall-clock times (README: Reproducibility)."""
    root = Path(root)
    hashes = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if path.is_file() and rel.parts[0] != "logs" and path.name not in exclude_names:
            hashes[str(rel)] = hashlib.sha256(path.read_bytes()).hexdigest()
    return hashes


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory):
    """One end-to-end run of the tiny experiment, shared by the tests that read it, and by
    the suite's workers (``make test`` runs one per core): the first to ask runs it, under
    a lock, and the others read its results, never changing them. Each worker ran its own
    before: seven files read it, so both workers usually did, each run about 40 s."""
    import fcntl

    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base  # the run's folder, or the workers'
    workdir = shared / "tiny-shared"
    with open(shared / "tiny-shared.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (workdir / "finished").exists():
            shutil.rmtree(workdir, ignore_errors=True)  # a run that failed in another worker
            workdir.mkdir()
            run_snakemake(workdir)
            (workdir / "finished").touch()
    return workdir / "results" / "tiny"


def _decay(x, theta):
    return theta[0] * np.exp(-x / theta[1]) + theta[2]


@pytest.fixture
def decay_below_its_bound():
    """``(dataset, decay)``: a decay whose background is measured at -0.1 while its bounds
    say b >= 0, so the unbounded least-squares optimum lies outside the bounds."""
    import fitflow
    from fitflow.testing import GivenModel

    rng = np.random.default_rng(2)
    x, sigma = np.linspace(0, 5, 30), np.full(30, 0.05)
    y = _decay(x, [1.0, 1.0, -0.1]) + sigma * rng.standard_normal(x.size)
    model = fitflow.ParametricModel(_decay, ("A", "tau", "b"), [1.0, 1.0, 0.1], bounds=([0, 0.1, 0], [10, 10, 1]))
    return fitflow.Dataset(problem=GivenModel(model), x=x, y=y, sigma=sigma), _decay


def run_laser_campaign(workdir, shipped, edit):
    """Run a shipped campaign config of ``examples/laser_shot.py`` (``shipped``: its name under
    config/) in ``workdir``, after ``edit(config)`` shortens it; returns the results folder."""
    (workdir / "examples").mkdir()
    shutil.copy(REPO / "examples" / "laser_shot.py", workdir / "examples")
    config = shipped_config(shipped)
    edit(config)
    run_snakemake(workdir, configfile=write_config(config, workdir / "campaign.yaml"))
    return workdir / "results" / config["experiment"]
