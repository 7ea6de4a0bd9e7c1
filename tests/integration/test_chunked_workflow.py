"""chunks: N runs generate, fit and evaluate of a share of the problem cases in one job:
a handful of jobs, and artefacts byte-identical to a job per batch and stage."""

import pytest
from test_campaign_workflow import job_counts

from conftest import artefact_hashes, run_snakemake, shipped_config, write_config

pytestmark = pytest.mark.slow


def test_chunked_run_has_few_jobs_and_the_same_artefacts(tmp_path, tiny_run):
    config = shipped_config()
    config["chunks"] = 2
    path = tmp_path / "chunked.yaml"
    write_config(config, path)
    counts = job_counts(run_snakemake(tmp_path, "-n", configfile=path))
    assert counts["chunk"] == 2 and "fit" not in counts and "generate" not in counts
    run_snakemake(tmp_path, configfile=path)
    root = tmp_path / "results" / "tiny"

    def artefacts(folder):
        # The config echo differs by the chunks key; the chunk manifests exist in one layout only.
        return {
            k: v for k, v in artefact_hashes(folder).items() if k != "experiment.json" and not k.startswith("chunks/")
        }

    assert artefacts(root) == artefacts(tiny_run)
    assert "Nothing to be done" in run_snakemake(tmp_path, "-n", configfile=path).stdout


def test_chunks_must_be_a_whole_number(tmp_path):
    from fitflow.core.errors import ConfigError
    from fitflow.run.experiment import build_plan

    config = shipped_config()
    with pytest.raises(ConfigError, match="key 'chunks'"):
        build_plan({**config, "chunks": -1})
    plan = build_plan({**config, "chunks": 3})
    chunks = plan.chunk_units()
    units = [(case.key, case.sid, b) for chunk in chunks for case, b in chunk]
    # Every (case, batch) unit is in exactly one of the 3 chunks.
    assert len(chunks) == 3 and len(units) == len(set(units)) == len(plan.problems) * -(-plan.replicates // 2)


def test_one_case_with_many_replicates_still_fills_every_chunk():
    from fitflow.run.experiment import build_plan

    config = {
        "experiment": "one",
        "seed": 1,
        "replicates": 100,
        "batch_size": 10,
        "chunks": 4,
        "problems": {"cosine_series": {}},
        "methods": {"ols": {}},
    }
    sizes = [len(units) for units in build_plan(config).chunk_units()]
    assert sizes == [3, 3, 2, 2]


def _chunk_jobs(dry_run_stdout):
    """``{chunk: {"threads": n, "priority": p, resource: value}}`` from a dry run printed
    with job details."""
    jobs, current = {}, None
    for line in dry_run_stdout.splitlines():
        line = line.strip()
        if line.startswith("rule "):
            current = {} if line == "rule chunk:" else None
        elif current is not None and line.startswith("wildcards: chunk="):
            jobs[int(line.split("=")[1])] = current
            current.setdefault("threads", 1)
        elif current is not None and line.startswith(("threads:", "priority:")):
            current[line.split(":")[0]] = int(line.split()[1])
        elif current is not None and line.startswith("resources:"):
            for item in line.split(":", 1)[1].split(","):
                key, value = item.strip().split("=")
                if key in ("mem_mb", "runtime"):
                    current[key] = int(value)
    return jobs


def test_a_chunk_job_asks_for_what_its_methods_need(tmp_path):
    """On a cluster a chunk job runs several methods' fits one after another: it asks for
    the most threads and memory any of them needs and for the sum of their runtimes (each a
    fit job's limit for one batch), config overrides included. Its priority is that runtime,
    so the costliest chunks start first."""
    from fitflow.core.registry import methods
    from fitflow.run.experiment import build_plan

    config = shipped_config()
    config["chunks"] = 3
    config["chunk_workers"] = 1  # what chunk_workers: auto gives a cluster, where this matters
    config["methods"]["mlp"]["resources"] = {"mem_mb": 3000, "threads": 2}
    config["methods"]["nlls"]["resources"] = {"runtime": 30}
    path = tmp_path / "chunked.yaml"
    write_config(config, path)
    jobs = _chunk_jobs(run_snakemake(tmp_path, "-n", "--quiet", "progress", configfile=path).stdout)

    def need(label, name):
        entry = config["methods"][label]
        given = (entry.get("resources") or {}).get(name)
        return given if given is not None else methods().get(entry.get("plugin", label)).resource_hints()[name]

    plan = build_plan(config)
    assert sorted(jobs) == [0, 1, 2]
    for chunk, units in enumerate(plan.chunk_units()):
        labels = [[p.method.label for p in plan.pairs if p.problem == case] for case, _ in units]
        flat = [label for unit in labels for label in unit]
        assert jobs[chunk]["threads"] == max(need(label, "threads") for label in flat)
        assert jobs[chunk]["mem_mb"] == max(need(label, "mem_mb") for label in flat)
        assert jobs[chunk]["runtime"] == sum(need(label, "runtime") for label in flat)
        assert jobs[chunk]["priority"] == jobs[chunk]["runtime"]
    # The overrides reach the chunks that run those methods.
    assert max(job["mem_mb"] for job in jobs.values()) == 3000
    assert max(job["threads"] for job in jobs.values()) == 2
