"""The compact store: a chunk's artefacts in one ZIP archive instead of a folder per fit.

With ``store: compact`` a chunk job still makes every dataset and fit exactly as the
folder layout does (same names, same bytes), but in memory (see :mod:`fitflow.staging`),
and packs each finished unit's folders into ``chunks/chunk-<i>.zip`` under their paths
(``fits/<problem>/<psid>/<method>/<msid>/rep-<k>/result.json``). A sweep of a million fits is then a few hundred
files instead of six million, below any inode quota. ZIP needs no new dependency, reads
one member without touching the rest (its central directory is the index), and its
members are the folder layout's files byte for byte, so the two layouts are compared
exactly. Wall-clock timings stay out of the archive (they go to the chunk manifest), so
the archive itself is byte-identical on rerun.

Readers need not know the layout: :class:`ArtefactStore` returns a folder for any
artefact path, extracting it from its archive into a private temporary folder when the
experiment is compact.

**A store that heals.** Each chunk manifest records its archive's SHA-256, size and time
(:func:`archive_record`). A reader checks an archive against that record before it
trusts it (a flipped byte, a truncated file, a file that is not the archive written), and
says which chunk is damaged; the Snakefile, before it builds the DAG, sets every damaged
or missing archive aside with its manifest (:func:`heal_chunks`), so Snakemake rebuilds
exactly those chunks, and the tables and the report after them, to the same bytes.
"""

import contextlib
import os
from pathlib import Path, PurePosixPath
import tempfile
import zipfile

from ..core.artefacts import atomic_writer, read_json, sha256_file
from ..core.errors import ArtefactError

__all__ = [
    "NOT_ARCHIVED",
    "archive_writer",
    "ArchivePacker",
    "ArtefactStore",
    "prune_empty_folders",
    "CHUNK_ARCHIVE_GLOB",
    "archive_record",
    "archive_damage",
    "heal_chunks",
]

#: Files that carry wall-clock times: kept in the chunk manifest, not in the archive.
NOT_ARCHIVED = ("timing.json",)
CHUNK_ARCHIVE_GLOB = "chunks/chunk-*.zip"
_EPOCH = (1980, 1, 1, 0, 0, 0)
_ALREADY_COMPRESSED = (".npz", ".png")


@contextlib.contextmanager
def archive_writer(root, path):
    """Yield an :class:`ArchivePacker` into the ZIP archive ``path``, written atomically:
    the archive appears (replacing any older one) only when the block succeeds, so a
    chunk killed half-way leaves the previous archive untouched."""
    with atomic_writer(path) as handle, zipfile.ZipFile(handle, "w", allowZip64=True) as archive:
        yield ArchivePacker(root, archive)


class ArchivePacker:
    """Packs the artefacts staged in memory (see :mod:`fitflow.staging`) below ``root``
    into an open ZIP archive."""

    def __init__(self, root, archive):
        self.root = Path(root)
        self.archive = archive

    def pack(self, relative, stage):
        """Add the staged file or folder ``relative`` (below the root), removing it from
        ``stage``. Members are added in sorted order with a fixed timestamp, so the same
        files give the same archive bytes."""
        root = Path(os.path.abspath(self.root))
        for path, data in stage.pop_below(root / relative).items():
            if path.name in NOT_ARCHIVED:
                continue
            info = zipfile.ZipInfo(path.relative_to(root).as_posix(), date_time=_EPOCH)
            info.compress_type = zipfile.ZIP_STORED if path.suffix in _ALREADY_COMPRESSED else zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            self.archive.writestr(info, data)


def archive_record(path):
    """What a chunk manifest records of its archive: ``{"sha256", "size", "mtime_ns"}``."""
    info = os.stat(path)
    return {"sha256": sha256_file(path), "size": info.st_size, "mtime_ns": info.st_mtime_ns}


def archive_damage(path, record, full=False):
    """Why the archive ``path`` is not the one its manifest's ``record`` describes, or ``""``.
    The file is hashed only when its size or time differ from the record (a file copied
    elsewhere keeps its bytes but not its time): an unchanged file costs one ``stat``;
    ``full`` hashes it whatever its size and time."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        return "it is missing"
    if not record:
        return ""  # written before archives were recorded: trusted as before
    if info.st_size != record["size"]:
        return f"it has {info.st_size:,} bytes where {record['size']:,} were written"
    if info.st_mtime_ns == record["mtime_ns"] and not full:
        return ""
    if sha256_file(path) != record["sha256"]:
        return "its bytes differ from those written (SHA-256)"
    return ""


def heal_chunks(root, n_chunks, dry_run=False, say=print, full=False):
    """Set aside each chunk archive of ``root`` that is missing or damaged, with its manifest
    and the report, so that Snakemake rebuilds that chunk (whose manifest is the rule's
    output) and the report after it: Snakemake would not rebuild a missing intermediate
    file whose consumers are up to date. Returns ``[(chunk, reason)]``. A damaged archive
    is kept as ``chunk-<i>.zip.damaged`` for inspection, never deleted; a dry run only
    says what a run would do."""
    from .layout import Layout

    layout, healed = Layout(root), []
    for chunk in range(n_chunks):
        manifest = layout.chunk_manifest(chunk)
        archive = layout.chunk_archive(chunk)
        if not manifest.is_file():
            if layout.report_html.exists():  # a chunk deleted after the report was written
                healed.append((chunk, "its manifest is missing"))
                say(f"fitflow: {manifest} is missing: chunk {chunk} is rebuilt" + (" by a real run" if dry_run else ""))
            continue
        try:
            record = read_json(manifest).get("archive")
        except ArtefactError as exc:
            reason = f"its manifest is unreadable ({exc})"
        else:
            reason = archive_damage(archive, record, full) if record is not None or not archive.exists() else ""
        if not reason:
            continue
        healed.append((chunk, reason))
        if dry_run:
            say(f"fitflow: {archive} is damaged ({reason}): a real run rebuilds chunk {chunk}")
            continue
        if archive.exists():
            os.replace(archive, archive.with_name(archive.name + ".damaged"))
        manifest.unlink()
        say(f"fitflow: {archive} is damaged ({reason}): chunk {chunk} is rebuilt")
    if healed and not dry_run:
        layout.report_html.unlink(missing_ok=True)
    return healed


def prune_empty_folders(root):
    """Remove the empty folders below ``root`` (what packing leaves of the per-fit tree);
    run only when no chunk is writing."""
    root = Path(root)
    if not root.is_dir():
        return
    for path in sorted((p for p in root.rglob("*") if p.is_dir()), key=lambda p: len(p.parts), reverse=True):
        with contextlib.suppress(OSError):
            path.rmdir()
    with contextlib.suppress(OSError):
        root.rmdir()


class ArtefactStore:
    """The artefacts of one experiment folder, in either layout.

    ``folder(relative)`` is the folder holding the files of ``relative`` (say
    ``fits/p/default/nlls/default/rep-0``): below the root in the folder layout; in the
    compact layout, a copy extracted from the chunk archive that holds it (read lazily,
    once). ``compact`` defaults to what ``experiment.json`` records, else to whether
    chunk archives exist.
    """

    def __init__(self, root, compact=None):
        self.root = Path(root)
        self._archives = None
        if compact is None:
            info = self.root / "experiment.json"
            recorded = read_json(info).get("store") if info.exists() else None
            compact = recorded == "compact" if recorded else any(self.archives())
        self.compact = bool(compact)
        self._folders = {}
        self._handles = {}
        self._scratch = None

    def archives(self):
        """The chunk archives, in chunk order."""
        if self._archives is None:
            self._archives = sorted(self.root.glob(CHUNK_ARCHIVE_GLOB), key=lambda p: int(p.stem.rpartition("-")[2]))
        return self._archives

    def folders_in(self, archive):
        """``{folder path: [member names]}`` of one archive, read once from its central
        directory."""
        if archive not in self._folders:
            folders = {}
            for name in self._open(archive).namelist():
                folders.setdefault(name.rpartition("/")[0], []).append(name)
            self._folders[archive] = folders
        return self._folders[archive]

    def locate(self, relative):
        """The archive holding folder ``relative``, or None; archives are read in turn
        until one holds it, so one lookup need not index a whole sweep."""
        relative = PurePosixPath(relative).as_posix()
        for archive in self.archives():
            if relative in self.folders_in(archive):
                return archive
        return None

    def forget_handles(self):
        """Drop the open archives (in a forked process, which must not share their file
        offsets with its parent); they reopen on the next read."""
        self._handles = {}

    def _open(self, archive):
        """The open archive, checked first against what its manifest recorded."""
        if archive not in self._handles:
            manifest = Path(archive).with_suffix(".json")
            try:
                record = read_json(manifest).get("archive") if manifest.exists() else None
                reason = archive_damage(archive, record)
                if reason:
                    raise ArtefactError(reason)
                self._handles[archive] = zipfile.ZipFile(archive)
            except (OSError, zipfile.BadZipFile, ArtefactError) as exc:
                raise _damaged(archive, exc) from None
        return self._handles[archive]

    def members(self, relative):
        """``{member name: bytes}`` of folder ``relative``, or None when no archive holds it."""
        archive = self.locate(relative)
        if archive is None:
            return None
        handle = self._open(archive)
        try:
            return {name: handle.read(name) for name in self.folders_in(archive)[PurePosixPath(relative).as_posix()]}
        except (OSError, zipfile.BadZipFile) as exc:  # a CRC or a header that does not check out
            raise _damaged(archive, exc) from None

    def extract(self, relative, destination):
        """Copy folder ``relative`` out of its archive below ``destination``; returns
        whether the archive held it."""
        members = self.members(relative)
        for name, data in (members or {}).items():
            target = Path(destination) / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        return members is not None

    def restore(self, relative, stage, root):
        """Put folder ``relative``'s files from its archive into ``stage``, as if written
        below ``root``; returns whether the archive held it."""
        members = self.members(relative)
        for name, data in (members or {}).items():
            stage.files[os.path.abspath(Path(root) / name)] = data
        return members is not None

    def folder(self, relative):
        """A folder with the files of ``relative`` (which may not exist: readers then
        raise their own "artefact is missing" error naming it)."""
        if not self.compact:
            return self.root / relative
        if self._scratch is None:
            self._scratch = tempfile.TemporaryDirectory(prefix="fitflow-store-")
        target = Path(self._scratch.name) / relative
        if not target.is_dir():
            self.extract(relative, self._scratch.name)
        return target

    def newest_write(self, relatives):
        """The newest modification time (seconds) of the artefacts of these folders:
        their ``result.json`` files, or in the compact layout the archives."""
        if self.compact:
            paths = self.archives()
        else:
            paths = [self.root / r / "result.json" for r in relatives]
        newest = 0.0
        for path in paths:
            try:
                newest = max(newest, os.stat(path).st_mtime)
            except FileNotFoundError:
                raise ArtefactError(
                    f"{path}: a fit of the table is missing; run snakemake with this experiment's config "
                    "again, which rebuilds it (or `fitflow heal CONFIG` to see what else is damaged)"
                ) from None
        return newest

    def fit_ids(self):
        """Every fit folder below ``fits/``, as ``problem/psid/method/msid/rep-k``."""
        if self.compact:
            folders = [
                f
                for archive in self.archives()
                for f in self.folders_in(archive)
                if f.startswith("fits/") and PurePosixPath(f).name.startswith("rep-")
            ]
            return sorted(f.removeprefix("fits/") for f in folders)
        return sorted(
            str(p.parent.relative_to(self.root / "fits"))
            for p in (self.root / "fits").glob("*/*/*/*/rep-*/result.json")
        )


def _damaged(archive, reason):
    return ArtefactError(
        f"{archive}: the chunk archive is damaged ({reason}); run snakemake again: it sets the "
        "archive aside and rebuilds that chunk"
    )
