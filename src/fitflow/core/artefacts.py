"""Writing and reading artefacts: atomic, byte-reproducible, no pickles.

Every file is written to a temporary name in its destination folder and renamed
into place, so an interrupted run never leaves a half-written file that
Snakemake would take as done. A file is made durable (on disk, not only in
the page cache) before it counts as written; a job that writes many files does
that once for all of them at its end (:func:`durable_on_exit`), since an
``fsync`` per file costs several times the write itself (docs/benchmarks.md). Writers are deterministic: JSON with sorted keys,
NPZ archives with fixed timestamps, figures without dates or random ids. Arrays
are read with ``allow_pickle=False``: nothing in a data file is ever executed.
"""

import contextlib
import errno
import hashlib
import io
import json
import math
import os
from pathlib import Path
import tempfile
import zipfile

import numpy as np

from .dataset import Dataset
from .errors import ArtefactError
from .result import FitResult
from .staging import staged_key

__all__ = [
    "atomic_writer",
    "durable_on_exit",
    "write_bytes",
    "read_bytes",
    "artefact_exists",
    "write_json",
    "read_json",
    "normalised_json",
    "write_npz",
    "read_npz",
    "save_figure",
    "sha256_file",
    "write_dataset",
    "read_dataset",
    "write_failed_dataset",
    "dataset_failure",
    "write_result",
    "read_result",
]

_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


#: Folders written to inside :func:`durable_on_exit` whose files still await their flush
#: to disk (None: outside it, every file is flushed as it is written).
_UNFLUSHED = None


@contextlib.contextmanager
def durable_on_exit():
    """Within this context (a job's work), files are renamed into place without an
    ``fsync`` each; on leaving it, normally or by an exception, one flush of each
    file system written to makes them all durable at once (``syncfs`` on Linux, else
    ``sync``). Atomicity is unchanged: a killed process leaves whole files or
    temporary ones, never half a file under its final name. Nested uses flush once, at
    the outermost exit. Also a decorator."""
    global _UNFLUSHED
    if _UNFLUSHED is not None:
        yield
        return
    _UNFLUSHED = set()
    try:
        yield
    finally:
        folders, _UNFLUSHED = _UNFLUSHED, None
        _flush_file_systems(folders)


def _flush_file_systems(folders):
    """Flush the file system of each folder in ``folders`` (one call per device)."""
    seen = set()
    for folder in sorted(folders):
        try:
            device = os.stat(folder).st_dev
        except OSError:
            continue
        if device in seen:
            continue
        seen.add(device)
        fd = os.open(folder, os.O_RDONLY)
        try:
            if _syncfs is None or _syncfs(fd) != 0:
                os.sync()
        finally:
            os.close(fd)


def _load_syncfs():
    """Linux's ``syncfs(fd)`` (flush one file system), or None where libc lacks it."""
    try:
        import ctypes

        return ctypes.CDLL(None, use_errno=True).syncfs
    except (OSError, AttributeError):
        return None


_syncfs = _load_syncfs()


@contextlib.contextmanager
def atomic_writer(path, mode=None):
    """Yield a binary file object whose content replaces ``path`` only on success, with
    permissions ``mode`` (default: a new file's, under the umask)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            if _UNFLUSHED is None:
                os.fsync(handle.fileno())
            else:
                _UNFLUSHED.add(str(path.parent))
        os.chmod(tmp, 0o666 & ~_umask() if mode is None else mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def write_bytes(path, data, mode=None):
    """Write ``data`` to ``path`` atomically (or into the active memory stage, see
    :mod:`fitflow.staging`), with permissions ``mode`` (see :func:`atomic_writer`)."""
    stage, key = staged_key(path)
    if key is not None:
        stage.files[key] = bytes(data)
        return
    with atomic_writer(path, mode) as handle:
        handle.write(data)


def read_bytes(path):
    """The bytes of ``path``, from the active memory stage where it is staged."""
    stage, key = staged_key(path)
    if key is None:
        return Path(path).read_bytes()
    try:
        return stage.files[key]
    except KeyError:
        raise FileNotFoundError(errno.ENOENT, "No such file (staged in memory)", str(path)) from None


def artefact_exists(path):
    """Whether the file or folder ``path`` exists, on disk or in the active memory stage."""
    stage, key = staged_key(path)
    return Path(path).exists() if key is None else stage.exists(key)


def _jsonable(obj):
    """Convert numpy scalars/arrays and non-finite floats into plain JSON values."""
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return _jsonable(obj.tolist())
    if isinstance(obj, np.generic):
        return _jsonable(obj.item())
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, (frozenset, set)):
        return sorted(_jsonable(v) for v in obj)
    return obj


def normalised_json(obj):
    """``obj`` as it reads back from :func:`write_json` (for comparing records)."""
    return json.loads(json.dumps(_jsonable(obj), sort_keys=True, allow_nan=False))


def write_json(path, obj):
    """Write ``obj`` as indented JSON with sorted keys; NaN and inf become null."""
    text = json.dumps(_jsonable(obj), indent=2, sort_keys=True, allow_nan=False)
    write_bytes(path, (text + "\n").encode())


def read_json(path):
    path = Path(path)
    try:
        return json.loads(read_bytes(path))
    except FileNotFoundError as exc:
        raise ArtefactError(f"{path}: artefact is missing") from exc
    except json.JSONDecodeError as exc:
        raise ArtefactError(f"{path}: not valid JSON ({exc})") from exc
    except UnicodeDecodeError as exc:  # a flipped byte: not even text
        raise ArtefactError(f"{path}: not valid JSON (byte {exc.start} is not UTF-8)") from exc


def write_npz(path, arrays):
    """Write arrays to an NPZ archive whose bytes depend only on the arrays.

    ``numpy.savez`` stamps each member with the current time; this writer uses a
    fixed timestamp and sorted member order instead, and refuses object arrays.
    """
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(arrays):
            info = zipfile.ZipInfo(f"{name}.npy", date_time=_ZIP_EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            member = io.BytesIO()
            np.lib.format.write_array(member, np.asarray(arrays[name]), allow_pickle=False)
            archive.writestr(info, member.getvalue())
    write_bytes(path, buffer.getvalue())


def read_npz(path):
    """Read an NPZ archive into a dict, never unpickling anything."""
    path = Path(path)
    try:
        with np.load(io.BytesIO(read_bytes(path)), allow_pickle=False) as archive:
            return {name: archive[name] for name in archive.files}
    except FileNotFoundError as exc:
        raise ArtefactError(f"{path}: artefact is missing") from exc
    except (ValueError, OSError, zipfile.BadZipFile) as exc:
        raise ArtefactError(f"{path}: not a readable NPZ archive ({exc})") from exc


def save_figure(fig, path):
    """Save a matplotlib figure reproducibly (no date, software tag or random ids)."""
    import matplotlib

    path = Path(path)
    fmt = path.suffix.lstrip(".").lower()
    metadata = {"Date": None} if fmt in ("svg", "pdf") else {"Software": None}
    buffer = io.BytesIO()
    with matplotlib.rc_context({"svg.hashsalt": "fitflow", "svg.fonttype": "none"}):
        fig.savefig(buffer, format=fmt, metadata=metadata)
    write_bytes(path, buffer.getvalue())


def sha256_file(path):
    if staged_key(path)[1] is not None:
        return hashlib.sha256(read_bytes(path)).hexdigest()
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# -- datasets ----------------------------------------------------------------


def write_dataset(dataset, folder, extra_meta=None):
    """Write ``dataset.npz`` and ``dataset.json`` into ``folder``."""
    folder = Path(folder)
    problem = dataset.problem
    write_npz(folder / "dataset.npz", dataset.arrays())
    write_json(
        folder / "dataset.json",
        {
            "problem": problem.name,
            "problem_version": problem.version,
            "settings": problem.get_settings(),
            "capabilities": sorted(problem.capabilities),
            "truth_params": dataset.truth_params,
            "meta": dataset.meta,
            **(extra_meta or {}),
        },
    )


def write_failed_dataset(folder, problem, message, extra_meta=None):
    """Record in ``folder`` that ``problem`` produced no usable dataset, and why.

    The fits of such a dataset are failed fits carrying ``message``; the rest of
    the experiment goes on.
    """
    folder = Path(folder)
    write_npz(folder / "dataset.npz", {})
    write_json(
        folder / "dataset.json",
        {
            "problem": problem.name,
            "problem_version": problem.version,
            "settings": problem.get_settings(),
            "failed": str(message),
            **(extra_meta or {}),
        },
    )


def dataset_failure(folder):
    """Why the dataset in ``folder`` could not be generated, or ``None`` when it was."""
    return read_json(Path(folder) / "dataset.json").get("failed")


def read_dataset(folder, registry=None):
    """Read a dataset written by :func:`write_dataset`, rebuilding its problem."""
    from .registry import problems

    folder = Path(folder)
    info = read_json(folder / "dataset.json")
    arrays = read_npz(folder / "dataset.npz")
    problem_cls = (registry or problems()).get(info["problem"])
    problem = problem_cls(**info["settings"])
    extras = {k.split(".", 1)[1]: v for k, v in arrays.items() if k.startswith("extra.")}
    return Dataset(
        problem=problem,
        x=arrays["x"],
        y=arrays["y"],
        sigma=arrays.get("sigma"),
        truth_params=info.get("truth_params"),
        grid_x=arrays.get("grid_x"),
        grid_y=arrays.get("grid_y"),
        extras=extras,
        meta=info.get("meta") or {},
    )


# -- fit results -------------------------------------------------------------


def write_result(result, folder, extra_meta=None):
    """Write ``result.json`` (scalars) and ``result.npz`` (arrays) into ``folder``."""
    folder = Path(folder)
    write_npz(folder / "result.npz", result.array_fields())
    write_json(
        folder / "result.json",
        {
            "status": result.status,
            "message": result.message,
            # JSON objects are written with sorted keys: the order of the
            # parameters (which covariance and samples follow) is kept here.
            "param_names": list(result.param_names),
            "params": result.params,
            "stderr": result.stderr,
            "n_evaluations": result.n_evaluations,
            "n_effective_params": result.n_effective_params,
            "diagnostics": result.diagnostics,
            "warnings": result.warnings,
            **(extra_meta or {}),
        },
    )


def _ordered_floats(mapping, names):
    """``mapping`` in the order of ``names``, with null (a non-finite float) back to NaN."""
    if mapping is None:
        return None
    return {k: (math.nan if mapping[k] is None else mapping[k]) for k in names}


def read_result(folder):
    """Read a fit result written by :func:`write_result`."""
    folder = Path(folder)
    info = read_json(folder / "result.json")
    arrays = read_npz(folder / "result.npz")
    diag = {k.split(".", 1)[1]: v for k, v in arrays.items() if k.startswith("diag.")}
    names = info.get("param_names") or []
    return FitResult(
        params=_ordered_floats(info.get("params"), names),
        stderr=_ordered_floats(info.get("stderr"), names),
        covariance=arrays.get("covariance"),
        samples=arrays.get("samples"),
        grid_mean=arrays.get("grid_mean"),
        grid_std=arrays.get("grid_std"),
        y_fit=arrays.get("y_fit"),
        n_evaluations=info.get("n_evaluations"),
        n_effective_params=info.get("n_effective_params"),
        diagnostics=info.get("diagnostics") or {},
        arrays=diag,
        warnings=info.get("warnings") or [],
        status=info["status"],
        message=info.get("message", ""),
    )
