"""chunk_workers: W forked processes run a chunk's units, costliest first, and the
artefacts are the same bytes as with one process, in both layouts."""

import json
import os
import time
import zipfile

import pytest

from conftest import artefact_hashes, run_snakemake, shipped_config, write_config

pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True)
def a_fresh_job_process(monkeypatch):
    """A chunk job is a fresh process, where JAX has not run; this suite's worker may have run
    JAX tests before these, and a chunk then keeps its units in its own process
    (fitflow.core.isolation.fork_is_safe), which is not what these tests look at."""
    monkeypatch.setattr("fitflow.run.chunks.fork_is_safe", lambda: True)


def _plan(**changes):
    from fitflow.run.experiment import build_plan

    return build_plan({**shipped_config(), "chunks": 1, **changes})


@pytest.mark.parametrize("store", ["folders", "compact"])
def test_two_workers_write_the_same_bytes_as_one(tmp_path, monkeypatch, store):
    from fitflow.run.chunks import run_chunk, worker_count
    from fitflow.run.snakemake_job import thread_limit

    plan = _plan(chunk_workers=2, store=store)
    assert worker_count(plan, len(plan.chunk_units()[0]), threads=2) == 2
    roots = []
    for threads in (1, 2):  # one worker, then two; one BLAS thread each, as in the jobs
        workdir = tmp_path / f"threads-{threads}"
        workdir.mkdir()
        monkeypatch.chdir(workdir)  # a relative root, as in the workflow (provenance names inputs by path)
        with thread_limit(1):
            run_chunk(plan, f"results/{plan.name}", 0, threads=threads)
        roots.append(workdir / "results" / plan.name)
    one, two = (artefact_hashes(root) for root in roots)
    if store == "compact":  # the archive and its manifest, the archive holding every fit's files
        assert sorted(one) == ["chunks/chunk-0.json", "chunks/chunk-0.zip"]
        with zipfile.ZipFile(roots[1] / "chunks/chunk-0.zip") as archive:
            assert len(archive.namelist()) > 50
        # The manifest carries the fits' wall times: the same fits and rows, in the same order.
        one_manifest, two_manifest = (json.loads((root / "chunks/chunk-0.json").read_text()) for root in roots)
        assert one_manifest["rows"] == two_manifest["rows"] and one_manifest["units"] == two_manifest["units"]
        assert list(one_manifest["timings"]) == list(two_manifest["timings"])
        one.pop("chunks/chunk-0.json"), two.pop("chunks/chunk-0.json")
    else:
        assert len(one) > 50
    assert one == two


def test_units_go_to_forked_workers_costliest_first_and_come_back_in_order():
    from fitflow.run.chunks import _unit_results

    plan = _plan(chunk_workers=2, replicates=8, batch_size=1)
    units = plan.chunk_units()[0]
    started = {}

    def run(unit):
        time.sleep(0.05)  # long enough for the second worker to take the next unit
        return unit, os.getpid(), time.monotonic()

    results = list(_unit_results(run, plan, units, None, workers=2, threads=2))
    assert [unit for unit, _, _ in results] == units  # the units' order, not the finishing order
    pids = {pid for _, pid, _ in results}
    assert len(pids) == 2 and os.getpid() not in pids
    for unit, _, finished in results:
        started[unit] = finished
    costs = [plan.unit_cost(*unit) for unit in sorted(units, key=started.get)]
    # Finishing order follows the cost order within the time each unit takes (two at once).
    assert costs[0] == max(costs) and costs[-1] == min(costs)


def test_a_unit_that_raises_in_a_worker_fails_the_chunk_with_its_message():
    from fitflow.core.errors import ConfigError
    from fitflow.run.chunks import _unit_results

    plan = _plan(chunk_workers=2)
    units = plan.chunk_units()[0]

    def run(unit):
        if unit == units[-1]:
            raise ConfigError("a bad value in the last unit", source="x.yaml", key="noise", value=-1)
        return unit

    with pytest.raises(Exception, match="a bad value in the last unit"):
        list(_unit_results(run, plan, units, None, workers=2, threads=2))


def test_a_worker_killed_by_a_signal_fails_the_chunk_instead_of_hanging_it():
    import signal

    from fitflow.run.chunks import _unit_results

    plan = _plan(chunk_workers=2)
    units = plan.chunk_units()[0]

    def run(unit):
        if unit == units[0]:
            os.kill(os.getpid(), signal.SIGKILL)  # as a crash in compiled code, or the OOM killer, would
        return unit

    started = time.monotonic()
    with pytest.raises(RuntimeError, match="a worker process of this chunk died"):
        list(_unit_results(run, plan, units, None, workers=2, threads=2))
    assert time.monotonic() - started < 60


def test_chunk_workers_must_be_a_whole_number_of_at_least_one():
    from fitflow.core.errors import ConfigError

    for value in (0, -1, 1.5, True, "2"):
        with pytest.raises(ConfigError, match="key 'chunk_workers'"):
            _plan(chunk_workers=value)


def test_a_chunk_job_asks_for_cores_and_memory_for_each_worker(tmp_path):
    from test_chunked_workflow import _chunk_jobs

    from fitflow.core.registry import methods

    config = {**shipped_config(), "chunks": 2, "chunk_workers": 3}
    config["methods"]["mlp"]["resources"] = {"mem_mb": 3000}
    path = tmp_path / "workers.yaml"
    write_config(config, path)
    jobs = _chunk_jobs(run_snakemake(tmp_path, "-n", "--cores", "16", "--quiet", "progress", configfile=path).stdout)

    def mem_mb(label):
        entry = config["methods"][label]
        given = (entry.get("resources") or {}).get("mem_mb")
        return given or methods().get(entry.get("plugin", label)).resource_hints()["mem_mb"]

    plan = _plan(chunks=2, chunk_workers=3)
    assert sorted(jobs) == [0, 1]
    for chunk, units in enumerate(plan.chunk_units()):
        workers = min(3, len(units))
        largest = max(mem_mb(p.method.label) for case, _ in units for p in plan.pairs if p.problem == case)
        assert jobs[chunk]["threads"] == workers
        assert jobs[chunk]["mem_mb"] == workers * largest
