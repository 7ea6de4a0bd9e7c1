import json
import time

import numpy as np
import pytest

from fitflow import ArtefactError
from fitflow.core import artefacts
from fitflow.core.artefacts import atomic_writer, durable_on_exit, read_json, read_npz, write_json, write_npz


def test_npz_bytes_depend_only_on_the_arrays(tmp_path):
    arrays = {"b": np.arange(5.0), "a": np.eye(2)}
    write_npz(tmp_path / "one.npz", arrays)
    time.sleep(2.1)  # the zip timestamp resolution is 2 s: numpy.savez would differ now
    write_npz(tmp_path / "two.npz", dict(reversed(list(arrays.items()))))
    assert (tmp_path / "one.npz").read_bytes() == (tmp_path / "two.npz").read_bytes()
    again = read_npz(tmp_path / "one.npz")
    assert np.array_equal(again["a"], np.eye(2)) and np.array_equal(again["b"], np.arange(5.0))


def test_object_arrays_are_refused_on_write_and_pickles_on_read(tmp_path):
    with pytest.raises(ValueError):
        write_npz(tmp_path / "x.npz", {"o": np.array([{"a": 1}], dtype=object)})
    np.savez(tmp_path / "pickled.npz", o=np.array([{"a": 1}], dtype=object))
    with pytest.raises(ArtefactError, match="pickled.npz"):
        read_npz(tmp_path / "pickled.npz")


def test_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "result.json"
    write_json(target, {"value": 1})
    with pytest.raises(RuntimeError):
        with atomic_writer(target) as handle:
            handle.write(b'{"value": 2, "trunc')
            raise RuntimeError("killed mid-write")
    assert read_json(target) == {"value": 1}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["result.json"]


def test_json_is_sorted_and_non_finite_floats_become_null(tmp_path):
    write_json(tmp_path / "m.json", {"b": float("nan"), "a": np.float64(2.5), "c": np.arange(2)})
    text = (tmp_path / "m.json").read_text()
    assert json.loads(text) == {"a": 2.5, "b": None, "c": [0, 1]}
    assert text.index('"a"') < text.index('"b"') < text.index('"c"')


def test_unreadable_artefacts_raise_artefact_error_naming_the_file(tmp_path):
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(ArtefactError, match="bad.json"):
        read_json(tmp_path / "bad.json")
    with pytest.raises(ArtefactError, match="missing"):
        read_npz(tmp_path / "absent.npz")


def test_a_job_flushes_its_files_to_disk_once_at_its_end_not_once_per_file(tmp_path, monkeypatch):
    """Outside a job every file is fsynced as it is written; inside durable_on_exit the
    files are renamed into place unflushed and one syncfs per file system follows at the
    outermost exit, also when the job fails."""
    calls = []
    real_fsync = artefacts.os.fsync
    monkeypatch.setattr(artefacts.os, "fsync", lambda fd: (calls.append("fsync"), real_fsync(fd))[1])
    monkeypatch.setattr(artefacts, "_syncfs", lambda fd: calls.append("syncfs") or 0)
    write_json(tmp_path / "alone.json", {"a": 1})
    assert calls == ["fsync"]

    calls.clear()
    with durable_on_exit():
        with durable_on_exit():  # nested: the inner exit does not flush
            for i in range(5):
                write_json(tmp_path / "sub" / f"f{i}.json", {"i": i})
        assert calls == []
        write_json(tmp_path / "g.json", {"g": 1})
        assert read_json(tmp_path / "sub" / "f4.json") == {"i": 4}  # whole files, under their final names
    assert calls == ["syncfs"]  # two folders, one file system
    assert sorted(p.name for p in (tmp_path / "sub").iterdir()) == [f"f{i}.json" for i in range(5)]

    calls.clear()
    with pytest.raises(RuntimeError):
        with durable_on_exit():
            write_json(tmp_path / "h.json", {"h": 1})
            raise RuntimeError("the job failed")
    assert calls == ["syncfs"]
    write_json(tmp_path / "after.json", {})
    assert calls == ["syncfs", "fsync"]  # back to a flush per file
