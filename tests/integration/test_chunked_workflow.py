"""chunks: N runs generate, fit and evaluate of a share of the problem cases in one job:
a handful of jobs, and artefacts byte-identical to a job per batch and stage."""

import pytest
import yaml

from conftest import TINY_CONFIG, artefact_hashes, run_snakemake
from test_campaign_workflow import job_counts

pytestmark = pytest.mark.slow


def test_chunked_run_has_few_jobs_and_the_same_artefacts(tmp_path, tiny_run):
    config = yaml.safe_load(TINY_CONFIG.read_text())
    config["chunks"] = 2
    path = tmp_path / "chunked.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    counts = job_counts(run_snakemake(tmp_path, "-n", configfile=path))
    assert counts["chunk"] == 2 and "fit" not in counts and "generate" not in counts
    run_snakemake(tmp_path, configfile=path)
    root = tmp_path / "results" / "tiny"

    def artefacts(folder):
        # The config echo differs by the chunks key; the chunk manifests exist in one layout only.
        return {k: v for k, v in artefact_hashes(folder).items()
                if k != "experiment.json" and not k.startswith("chunks/")}

    assert artefacts(root) == artefacts(tiny_run)
    assert "Nothing to be done" in run_snakemake(tmp_path, "-n", configfile=path).stdout


def test_chunks_must_be_a_whole_number(tmp_path):
    from fitflow.errors import ConfigError
    from fitflow.experiment import build_plan

    config = yaml.safe_load(TINY_CONFIG.read_text())
    with pytest.raises(ConfigError, match="key 'chunks'"):
        build_plan({**config, "chunks": -1})
    plan = build_plan({**config, "chunks": 3})
    chunks = plan.chunk_units()
    units = [(case.key, case.sid, b) for chunk in chunks for case, b in chunk]
    # Every (case, batch) unit is in exactly one of the 3 chunks.
    assert len(chunks) == 3 and len(units) == len(set(units)) == len(plan.problems) * -(-plan.replicates // 2)


def test_one_case_with_many_replicates_still_fills_every_chunk():
    from fitflow.experiment import build_plan

    config = {"experiment": "one", "seed": 1, "replicates": 100, "batch_size": 10, "chunks": 4,
              "problems": {"cosine_series": {}}, "methods": {"ols": {}}}
    sizes = [len(units) for units in build_plan(config).chunk_units()]
    assert sizes == [3, 3, 2, 2]
