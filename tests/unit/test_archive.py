"""The compact store's archive: deterministic bytes, files staged in memory and packed
(never written to disk), and a store that reads a folder back from either layout."""

import zipfile

import pytest

from fitflow.core.artefacts import artefact_exists, read_json, write_bytes
from fitflow.core.staging import staged
from fitflow.run.archive import ArtefactStore, archive_writer, prune_empty_folders

UNIT = ("fits/p/default/m/default/rep-0", "fits/p/default/m/default/batch-0.json")


def write_tree(root):
    """The files of one fit and its batch manifest, through the artefact writers."""
    fit = root / UNIT[0]
    write_bytes(fit / "result.json", b'{"status": "ok"}\n')
    write_bytes(fit / "result.npz", b"PK-not-really")
    write_bytes(fit / "timing.json", b'{"wall_time_s": 0.1}\n')
    write_bytes(root / UNIT[1], b"{}\n")
    return fit


def pack(root, archive):
    with archive_writer(root, archive) as packer, staged(root / p for p in UNIT) as stage:
        write_tree(root)
        for path in UNIT:
            packer.pack(path, stage)
        assert stage.files == {}


def test_staged_files_reach_only_the_archive_and_give_the_same_bytes_twice(tmp_path):
    archives = []
    for name in ("a", "b"):
        root = tmp_path / name
        pack(root, root / "chunks/chunk-0.zip")
        assert sorted(p.relative_to(root).as_posix() for p in root.rglob("*")) == ["chunks", "chunks/chunk-0.zip"]
        archives.append((root / "chunks/chunk-0.zip").read_bytes())
    assert archives[0] == archives[1]
    with zipfile.ZipFile(tmp_path / "a/chunks/chunk-0.zip") as handle:
        names = handle.namelist()
        assert handle.read("fits/p/default/m/default/rep-0/result.json") == b'{"status": "ok"}\n'
    # wall-clock timings stay out of the archive, so that it is byte-identical on rerun
    assert names == [
        "fits/p/default/m/default/rep-0/result.json",
        "fits/p/default/m/default/rep-0/result.npz",
        "fits/p/default/m/default/batch-0.json",
    ]


def test_staged_files_read_back_and_other_paths_stay_on_disk(tmp_path):
    with staged([tmp_path / UNIT[0]]) as stage:
        fit = write_tree(tmp_path)
        assert read_json(fit / "result.json") == {"status": "ok"}
        assert artefact_exists(fit) and artefact_exists(fit / "result.npz") and not artefact_exists(fit / "fit.png")
        assert not fit.exists()  # in memory only
        assert (tmp_path / UNIT[1]).read_bytes() == b"{}\n"  # not below a staged folder: on disk
        assert sorted(p.name for p in stage.pop_below(fit)) == ["result.json", "result.npz", "timing.json"]
        assert not artefact_exists(fit)


def test_a_failed_block_leaves_the_previous_archive(tmp_path):
    pack(tmp_path, tmp_path / "chunks/chunk-0.zip")
    before = (tmp_path / "chunks/chunk-0.zip").read_bytes()
    with (
        pytest.raises(RuntimeError),
        archive_writer(tmp_path, tmp_path / "chunks/chunk-0.zip") as packer,
        staged(tmp_path / p for p in UNIT) as stage,
    ):
        write_tree(tmp_path)
        packer.pack(UNIT[0], stage)
        raise RuntimeError("killed")
    assert (tmp_path / "chunks/chunk-0.zip").read_bytes() == before
    assert [p.name for p in (tmp_path / "chunks").iterdir()] == ["chunk-0.zip"]  # no temporary left


def test_the_store_reads_a_folder_from_either_layout(tmp_path):
    folders, compact = tmp_path / "folders", tmp_path / "compact"
    write_tree(folders)
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
    from conftest import shipped_config
    from fitflow.core.errors import ConfigError
    from fitflow.run.experiment import DEFAULT_COMPACT_CHUNKS, build_plan

    config = shipped_config()
    with pytest.raises(ConfigError, match="key 'store'.*'folders'"):
        build_plan({**config, "store": "zarr"})
    with pytest.raises(ConfigError, match="key 'chunks'.*needs chunks >= 1"):
        build_plan({**config, "store": "compact", "chunks": 0})
    unset = {key: value for key, value in config.items() if key != "chunks"}
    assert build_plan({**unset, "store": "compact"}).chunks == DEFAULT_COMPACT_CHUNKS
    assert build_plan(config).store == "folders"


def test_an_unreadable_archive_is_an_error_naming_it(tmp_path):
    from fitflow.core.errors import ArtefactError

    (tmp_path / "chunks").mkdir()
    (tmp_path / "chunks/chunk-0.zip").write_bytes(b"half a zip")
    with pytest.raises(ArtefactError, match=r"chunk-0.zip: the chunk archive is damaged .*run snakemake again"):
        ArtefactStore(tmp_path, compact=True).folder("fits/p/default/m/default/rep-0")


def test_the_chunk_archive_is_the_one_file_written_and_it_is_written_durably(tmp_path, monkeypatch):
    """The staged files never reach the disk; the archive, which must survive a crash, is fsynced."""
    import os

    synced = []
    real_fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (synced.append(os.readlink(f"/proc/self/fd/{fd}")), real_fsync(fd)))
    pack(tmp_path, tmp_path / "chunks/chunk-0.zip")
    assert [os.path.basename(p).startswith(".chunk-0.zip.") for p in synced] == [True]
