"""Fault injection, the compact store (issue 34, item 8): a chunk archive with a flipped
byte, cut to half, or deleted with its manifest is found by every reader (a clear error,
never a traceback), and the next `snakemake` rebuilds exactly that chunk, and the report,
to byte-identical archives."""

import hashlib

import pytest

from conftest import run_snakemake, write_config
from fitflow.cli import main
from fitflow.core.errors import ArtefactError
from fitflow.run.archive import ArtefactStore

pytestmark = pytest.mark.slow

CONFIG = {
    "experiment": "heal",
    "seed": 3,
    "replicates": 2,
    "store": "compact",
    "chunks": 2,
    "plot_fits": False,
    "problems": {
        "gaussian_peak": {"settings": {"n_points": 30}, "methods": ["nlls"]},
        "cosine_series": {"settings": {"n_samples": 25, "n_modes": 3}, "methods": ["ols"]},
    },
    "methods": {"nlls": {}, "ols": {}},
}
FIT = "gaussian_peak/default/nlls/default/rep-0"


def digests(root):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(root.glob("chunks/chunk-*.zip"))}


@pytest.fixture()
def healthy(tmp_path):
    path = tmp_path / "c.yaml"
    write_config(CONFIG, path)
    run_snakemake(tmp_path, configfile=path)
    root = tmp_path / "results" / "heal"
    return tmp_path, path, root, digests(root)


def flip_a_byte(path):
    data = bytearray(path.read_bytes())
    data[len(data) // 3] ^= 0xFF
    path.write_bytes(bytes(data))


def cut_to_half(path):
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def delete_with_manifest(path):
    path.unlink()
    path.with_suffix(".json").unlink()


@pytest.mark.parametrize("damage", [flip_a_byte, cut_to_half, delete_with_manifest])
def test_a_damaged_chunk_is_rebuilt_to_the_same_bytes(healthy, damage, capsys):
    workdir, config, root, clean = healthy
    archive = root / "chunks" / "chunk-0.zip"
    located = ArtefactStore(root).locate(f"fits/{FIT}")
    damage(located or archive)
    if damage is not delete_with_manifest:
        # Every reader says which archive is damaged and what to do; none opens it.
        assert main(["show", str(root), FIT]) != 0
        err = capsys.readouterr().err
        assert "the chunk archive is damaged" in err and "run snakemake again" in err and "Traceback" not in err
        with pytest.raises(ArtefactError, match="damaged"):
            ArtefactStore(root).members(f"fits/{FIT}")
    proc = run_snakemake(workdir, configfile=config)
    assert "is rebuilt" in proc.stderr
    assert digests(root) == clean  # exactly the archives of the clean run
    assert (root / "report.html").is_file()
    again = run_snakemake(workdir, "-n", configfile=config)
    assert "Nothing to be done" in again.stdout + again.stderr
