"""The compact store's archive: deterministic bytes, files moved (not copied), and a
store that reads a folder back from either layout."""

import zipfile

import pytest
import yaml

from fitflow.archive import ArtefactStore, archive_writer, prune_empty_folders


def make_tree(root):
    fit = root / "fits/p/default/m/default/rep-0"
    fit.mkdir(parents=True)
    (fit / "result.json").write_text('{"status": "ok"}\n')
    (fit / "result.npz").write_bytes(b"PK-not-really")
    (fit / "timing.json").write_text('{"wall_time_s": 0.1}\n')
    (root / "fits/p/default/m/default/batch-0.json").write_text("{}\n")
    return fit


def pack(root, archive):
    with archive_writer(root, archive) as mover:
        mover.move_in("fits/p/default/m/default/rep-0")
        mover.move_in("fits/p/default/m/default/batch-0.json")


def test_packing_moves_files_in_and_gives_the_same_bytes_twice(tmp_path):
    archives = []
    for name in ("a", "b"):
        root = tmp_path / name
        fit = make_tree(root)
        pack(root, root / "chunks/chunk-0.zip")
        assert not fit.exists() and not (root / "fits/p/default/m/default/batch-0.json").exists()
        archives.append((root / "chunks/chunk-0.zip").read_bytes())
    assert archives[0] == archives[1]
    with zipfile.ZipFile(tmp_path / "a/chunks/chunk-0.zip") as handle:
        names = handle.namelist()
        assert handle.read("fits/p/default/m/default/rep-0/result.json") == b'{"status": "ok"}\n'
    # wall-clock timings stay out of the archive, so that it is byte-identical on rerun
    assert names == ["fits/p/default/m/default/rep-0/result.json", "fits/p/default/m/default/rep-0/result.npz",
                     "fits/p/default/m/default/batch-0.json"]


def test_a_failed_block_leaves_the_previous_archive(tmp_path):
    make_tree(tmp_path)
    pack(tmp_path, tmp_path / "chunks/chunk-0.zip")
    before = (tmp_path / "chunks/chunk-0.zip").read_bytes()
    make_tree(tmp_path)
    with pytest.raises(RuntimeError), archive_writer(tmp_path, tmp_path / "chunks/chunk-0.zip") as mover:
        mover.move_in("fits/p/default/m/default/rep-0")
        raise RuntimeError("killed")
    assert (tmp_path / "chunks/chunk-0.zip").read_bytes() == before
    assert [p.name for p in (tmp_path / "chunks").iterdir()] == ["chunk-0.zip"]  # no temporary left


def test_the_store_reads_a_folder_from_either_layout(tmp_path):
    folders, compact = tmp_path / "folders", tmp_path / "compact"
    make_tree(folders)
    make_tree(compact)
    pack(compact, compact / "chunks/chunk-0.zip")
    prune_empty_folders(compact / "fits")
    assert not (compact / "fits").exists()
    for root in (folders, compact):
        store = ArtefactStore(root)
        folder = store.folder("fits/p/default/m/default/rep-0")
        assert (folder / "result.json").read_text() == '{"status": "ok"}\n'
        assert store.fit_ids() == ["p/default/m/default/rep-0"]
        assert not (store.folder("fits/p/default/m/default/rep-9") / "result.json").exists()
    assert ArtefactStore(compact).compact and not ArtefactStore(folders).compact


def test_store_config_is_checked(tmp_path):
    from conftest import TINY_CONFIG
    from fitflow.errors import ConfigError
    from fitflow.experiment import DEFAULT_COMPACT_CHUNKS, build_plan

    config = yaml.safe_load(TINY_CONFIG.read_text())
    with pytest.raises(ConfigError, match="key 'store'.*'folders'"):
        build_plan({**config, "store": "zarr"})
    with pytest.raises(ConfigError, match="key 'chunks'.*needs chunks >= 1"):
        build_plan({**config, "store": "compact", "chunks": 0})
    assert build_plan({**config, "store": "compact"}).chunks == DEFAULT_COMPACT_CHUNKS
    assert build_plan(config).store == "folders"


def test_an_unreadable_archive_is_an_error_naming_it(tmp_path):
    from fitflow.errors import ArtefactError

    (tmp_path / "chunks").mkdir()
    (tmp_path / "chunks/chunk-0.zip").write_bytes(b"half a zip")
    with pytest.raises(ArtefactError, match=r"chunk-0.zip: not a readable chunk archive.*chunk-0.json"):
        ArtefactStore(tmp_path, compact=True).folder("fits/p/default/m/default/rep-0")


def test_the_chunk_archive_is_written_durably_and_its_transient_files_are_not(tmp_path, monkeypatch):
    """The packed files skip fsync; the archive, which alone must survive a crash, does not."""
    import os

    from fitflow.artefacts import transient_writes, write_bytes

    synced = []
    real_fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (synced.append(os.readlink(f"/proc/self/fd/{fd}")), real_fsync(fd)))
    make_tree(tmp_path)
    with archive_writer(tmp_path, tmp_path / "chunks/chunk-0.zip") as mover, transient_writes():
        write_bytes(tmp_path / "fits/p/default/m/default/rep-0/extra.json", b"{}")
        mover.move_in("fits/p/default/m/default/rep-0")
    assert [os.path.basename(p).startswith(".chunk-0.zip.") for p in synced] == [True]
