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
    cases = plan.chunk_cases()
    assert len(cases) == 3 and sorted(c for chunk in cases for c in map(id, chunk)) == sorted(map(id, plan.problems))
