"""Staging in memory: the files of a compact chunk's unit live in a dict until packed.

A compact chunk (see :mod:`fitflow.archive`) writes every dataset and fit exactly as the
folder layout does, then packs each finished unit into its archive. Written to disk
first, those files cost a ``mkstemp``, a rename and a directory entry each, eight per
fit: on this project's test machine two thirds of a cheap fit's time, and on a cluster's
parallel file system (Lustre, GPFS) the metadata storm its administrators ask users to
avoid. Inside :func:`staged`, :mod:`fitflow.artefacts` keeps the files below the named
folders in a :class:`MemoryStage` instead, under their usual paths, so the code that
writes and reads them is unchanged and the archive gets the same bytes. Paths outside
those folders (a problem's input files, the archive itself) are read and written on disk
as usual.
"""

import contextlib
import contextvars
import os
from pathlib import Path

__all__ = ["MemoryStage", "staged", "staged_key"]

_STAGE = contextvars.ContextVar("fitflow_memory_stage", default=None)


class MemoryStage:
    """The files below some folders, held in memory by absolute path.

    ``folders`` are folders and single files (say a batch manifest) whose paths, and
    every path below them, are staged."""

    def __init__(self, folders=()):
        self.files = {}
        self._roots = {os.path.abspath(p) for p in folders}

    def key(self, path):
        """The absolute path of ``path`` when it is staged, else None."""
        key = os.path.abspath(path)
        probe = key
        while True:
            if probe in self._roots:
                return key
            parent = os.path.dirname(probe)
            if parent == probe:
                return None
            probe = parent

    def exists(self, key):
        prefix = key + os.sep
        return key in self.files or any(name.startswith(prefix) for name in self.files)

    def pop_below(self, path):
        """``{path: bytes}`` of the staged files at or below ``path``, in sorted order,
        removed from the stage."""
        key = os.path.abspath(path)
        prefix = key + os.sep
        names = sorted(n for n in self.files if n == key or n.startswith(prefix))
        return {Path(n): self.files.pop(n) for n in names}


def staged_key(path):
    """``(stage, key)``: the active stage and ``path``'s key in it, or ``(stage, None)``
    when ``path`` is not staged (``stage`` is None outside a :func:`staged` block)."""
    stage = _STAGE.get()
    return stage, (stage.key(path) if stage is not None else None)


@contextlib.contextmanager
def staged(folders=()):
    """Within this block, files below ``folders`` are kept in a :class:`MemoryStage`
    (yielded) instead of on disk."""
    stage = MemoryStage(folders)
    token = _STAGE.set(stage)
    try:
        yield stage
    finally:
        _STAGE.reset(token)
