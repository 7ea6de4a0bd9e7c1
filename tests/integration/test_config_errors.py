"""Config errors found by the JSON schema name the config file, like every other config error."""

import pytest
import yaml

from conftest import run_snakemake

pytestmark = pytest.mark.slow


def test_a_schema_error_names_the_config_file_and_the_key(tmp_path):
    path = tmp_path / "my-experiment.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "experiment": "x",
                "seed": 1,
                "replicates": 1,
                "reuse_fits": "sometimes",
                "problems": {"gaussian_peak": {}},
                "methods": {"nlls": {}},
            }
        )
    )
    proc = run_snakemake(tmp_path, "--dry-run", configfile=path, check=False)
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert "my-experiment.yaml" in output and "reuse_fits" in output and "sometimes" in output
