"""Reading a scientist's measurements from a CSV, TSV, whitespace-separated text or NPZ file.

:func:`read_observations` returns the columns a config names as float arrays,
or raises :class:`~fitflow.core.errors.DataError` naming the file, the column, the
row and the value at fault: an empty file, a missing column, a cell that is not
a number, a NaN or infinite value, an error bar that is not positive. A .csv
whose header is separated by semicolons is read as such, decimal commas
included (``1,5``: a spreadsheet's export where the comma is the decimal mark). A .txt
or .dat file holds columns separated by spaces or tabs, as ``numpy.savetxt``, gnuplot
and many instruments write them: its column names are its first line, or the last
``#`` comment line before the numbers (``numpy.savetxt(..., header="t y")``), or,
without either, ``col1``, ``col2``, ... A NIST/ITL StRD reference file (its first line
``NIST/ITL StRD``) is read as NIST lays it out: the rows its ``Data (lines a to b)`` entry
names, the columns its ``Data:  y  x`` line names. Other text
files are parsed by pandas with every cell read as text first, so the first bad
cell can be reported exactly; NPZ archives are opened with
``allow_pickle=False``, so nothing in a data file is ever executed.
"""

from dataclasses import dataclass
import functools
import math
import os
from pathlib import Path
import zipfile

import numpy as np

from ..core.errors import DataError

__all__ = [
    "Observations",
    "read_observations",
    "observations_from_arrays",
    "npz_array",
    "cell_number",
    "Reader",
    "READERS",
    "formats",
]


@dataclass(frozen=True)
class Reader:
    """One input format: the suffixes it is read from, what it reads (one line), and
    ``read(path, wanted) -> {column: cells}``, the columns ``wanted`` as the file holds them."""

    suffixes: tuple
    description: str
    read: object


#: The formats a data file may have, the one list that the readers below, ``fitflow compare --help``,
#: the table plugins' settings and the config reference all read.
READERS = (
    Reader(
        (".csv",),
        "comma-separated, with a header line; a header separated by semicolons is read so, "
        "with decimal commas (`1,5`), as a spreadsheet exports it where the comma is the decimal mark",
        lambda path, wanted: _read_text(path, wanted, _separator(path, ",")),
    ),
    Reader((".tsv", ".tab"), "tab-separated, with a header line", lambda path, wanted: _read_text(path, wanted, "\t")),
    Reader(
        (".txt", ".dat"),
        "columns separated by spaces or tabs (as `numpy.savetxt` and gnuplot write them), named by the "
        "first line, else the last `#` comment line before the numbers, else `col1`, `col2`, ...; "
        "a NIST/ITL StRD reference file is read as NIST lays it out",
        lambda path, wanted: _read_whitespace(path, wanted),
    ),
    Reader(
        (".npz",),
        "a NumPy archive with one array per column (read with `allow_pickle=False`)",
        lambda path, wanted: _read_npz(path, wanted),
    ),
)


def formats():
    """The formats read, as a phrase: ``".csv, .tsv/.tab, .txt/.dat or .npz"``."""
    names = ["/".join(reader.suffixes) for reader in READERS]
    return ", ".join(names[:-1]) + " or " + names[-1]


@dataclass(frozen=True)
class Observations:
    """The columns of one data file: ``x`` is ``(n,)`` for one predictor, ``(n, k)`` for several."""

    x: np.ndarray
    y: np.ndarray
    sigma: np.ndarray = None
    #: Data rows (1-based, as errors name them) left out for a missing value (``missing="drop"``).
    dropped_rows: tuple = ()

    @property
    def n_points(self):
        return self.y.size


def read_observations(path, x_columns, y_column, sigma_column=None, missing="error"):
    """Read predictors, response and optional per-point errors from ``path``.

    ``y_column`` (and ``sigma_column``) may be a list of columns: one per output, read
    into an ``(n, k)`` array. A missing value (an empty cell, ``NA``, ``NaN``, ``null``)
    is an error naming its column and row, or with ``missing="drop"`` its row is left out
    (the rows are in ``dropped_rows``).

    Results are cached per file state (path, size, modification time), so the
    many jobs of a workflow that rebuild the same problem read the file once each.
    """
    path = Path(path)
    try:
        stat = path.stat()
    except OSError as exc:
        raise DataError(f"cannot be read ({exc.strerror or exc})", file=path) from None
    if not path.is_file():
        raise DataError("is not a file", file=path)
    return _read_cached(
        str(path),
        stat.st_size,
        stat.st_mtime_ns,
        tuple(x_columns),
        _names(y_column),
        _names(sigma_column) if sigma_column else None,
        missing,
    )


def _names(columns):
    return (columns,) if isinstance(columns, str) else tuple(columns)


def observations_from_arrays(
    x, y, sigma=None, x_columns=("x",), y_columns=("y",), sigma_columns=None, source="<arrays>"
):
    """The :class:`Observations` of arrays held in memory, checked as a file's columns are
    (equal lengths, finite numbers, positive errors; the error names the column and row).
    ``x`` is ``(n,)`` or ``(n, k)`` for the k ``x_columns``; ``y`` and ``sigma`` likewise."""
    columns = {}
    for names, array in (
        (x_columns, x),
        (_names(y_columns), y),
        (_names(sigma_columns) if sigma_columns else (), sigma),
    ):
        if not names:
            continue
        try:
            array = np.asarray(array, dtype=float)
        except (TypeError, ValueError) as exc:
            raise DataError(f"is not an array of numbers ({exc})", file=source, key=", ".join(names)) from None
        array = array.reshape(-1, 1) if array.ndim == 1 else array
        if array.ndim != 2 or array.shape[1] != len(names):
            raise DataError(
                f"has shape {np.shape(array)}; expected (n,) or (n, {len(names)}) for the columns {', '.join(names)}",
                file=source,
                key=", ".join(names),
            )
        columns.update({name: array[:, j] for j, name in enumerate(names)})
    columns = _finite_columns(source, columns)
    return _observations(
        source, columns, tuple(x_columns), _names(y_columns), _names(sigma_columns) if sigma_columns else None
    )


@functools.lru_cache(maxsize=32)
def _read_cached(path, size, mtime_ns, x_columns, y_columns, sigma_columns, missing="error"):
    wanted = [*x_columns, *y_columns, *(sigma_columns or ())]
    columns, dropped = _read_columns(Path(path), list(dict.fromkeys(wanted)), missing)
    observations = _observations(path, columns, x_columns, y_columns, sigma_columns)
    return Observations(observations.x, observations.y, observations.sigma, dropped)


def _observations(path, columns, x_columns, y_columns, sigma_columns):
    """:class:`Observations` from checked ``{column: float array}``, errors checked > 0."""

    def stacked(names):
        return np.column_stack([columns[c] for c in names]) if len(names) > 1 else columns[names[0]]

    x, y = stacked(x_columns), stacked(y_columns)
    sigma = stacked(sigma_columns) if sigma_columns else None
    for name in sigma_columns or ():
        bad = np.flatnonzero(columns[name] <= 0)
        if bad.size:
            raise DataError(
                "per-point errors must be > 0",
                file=path,
                key=name,
                row=int(bad[0]) + 1,
                value=float(columns[name][bad[0]]),
            )
    for array in (x, y, sigma):
        if array is not None:
            array.setflags(write=False)  # cached: shared by every caller
    return Observations(x=x, y=y, sigma=sigma)


#: What a spreadsheet or a data frame writes for a missing value.
MISSING_CELLS = frozenset({"", "na", "n/a", "nan", "null", "none"})


def _read_columns(path, wanted, missing="error"):
    """``({column: float array}, dropped rows)`` for the ``wanted`` columns, every cell
    checked; rows with a missing value dropped when ``missing == "drop"``."""
    raw = _raw_columns(path, wanted)
    dropped = ()
    if missing == "drop":
        gone = np.zeros(len(next(iter(raw.values()))), dtype=bool)
        for cells in raw.values():
            if cells.dtype.kind in "fc":
                gone |= np.isnan(cells)
            elif cells.dtype.kind not in "iub":
                gone |= np.array([str(c).strip().lower() in MISSING_CELLS for c in cells], dtype=bool)
        dropped = tuple(int(i) + 1 for i in np.flatnonzero(gone))
        raw = {name: cells[~gone] for name, cells in raw.items()}
        rows = np.flatnonzero(~gone) + 1  # an error still names the row as the file has it
        return _finite_columns(path, raw, missing, rows), dropped
    return _finite_columns(path, raw, missing), dropped


def _raw_columns(path, wanted):
    """``{column: cells}`` for the ``wanted`` columns, as the file's format (:data:`READERS`) holds them."""
    suffix = path.suffix.lower()
    for reader in READERS:
        if suffix in reader.suffixes:
            return reader.read(path, wanted)
    raise DataError(f"unknown format {suffix or '(no suffix)'!r}; use {formats()}", file=path)


def _finite_columns(path, raw, missing="error", rows=None):
    """``{column: float array}`` from ``{column: cells}`` of equal, non-zero length;
    ``rows``: the file's row number of each cell (default 1, 2, ...)."""
    lengths = {len(v) for v in raw.values()}
    if lengths == {0}:
        raise DataError(
            "holds no data rows" + (" once those with a missing value are dropped" if missing == "drop" else ""),
            file=path,
        )
    if len(lengths) > 1:
        raise DataError(f"columns differ in length: { {k: len(v) for k, v in raw.items()} }", file=path)
    return {name: _as_finite_floats(path, name, cells, rows) for name, cells in raw.items()}


def _separator(path, default):
    """``default``, or ``;`` for a .csv whose header line holds semicolons and no commas:
    the CSV that a spreadsheet writes where the comma is the decimal mark."""
    if default != ",":
        return default
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            for line in handle:
                if line.strip() and not line.lstrip().startswith("#"):
                    return ";" if ";" in line and "," not in line else default
    except OSError:
        pass  # read_csv reports it
    return default


#: A number written with a decimal comma (``-1,5``, ``2,0e-3``), as a semicolon-separated CSV holds it.
_DECIMAL_COMMA = r"^\s*[+-]?(?:\d+,\d*|,\d+)(?:[eE][+-]?\d+)?\s*$"


def _read_text(path, wanted, separator):
    import pandas as pd

    try:
        table = pd.read_csv(
            path,
            sep=separator,
            dtype=str,
            keep_default_na=False,
            comment="#",
            skipinitialspace=True,
            skip_blank_lines=True,
            engine="c",
        )
    except pd.errors.EmptyDataError:
        raise DataError("is empty (no header line, no data)", file=path) from None
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DataError(f"is not a valid {separator!r}-separated table: {message}", file=path) from None
    header = (
        pd.read_csv(
            path,
            sep=separator,
            dtype=str,
            header=None,
            nrows=1,
            keep_default_na=False,
            comment="#",
            skipinitialspace=True,
            engine="c",
        )
        .iloc[0]
        .tolist()
    )
    _require_unique_names(path, [str(c).strip() for c in header])  # pandas would rename a second copy
    table.columns = [str(c).strip() for c in table.columns]
    _require_columns(path, wanted, list(table.columns))
    if separator == ";":
        return {
            name: table[name]
            .str.replace(",", ".", regex=False)
            .where(table[name].str.match(_DECIMAL_COMMA), table[name])
            .to_numpy()
            for name in wanted
        }
    return {name: table[name].to_numpy() for name in wanted}


def _read_whitespace(path, wanted):
    """``{column: cells}`` of a file whose columns are separated by spaces or tabs; the
    names as the module docstring says. A row with more or fewer cells than names is an
    error naming it (its line in the file)."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError as exc:
        raise DataError(f"is not UTF-8 text ({exc.reason} at byte {exc.start})", file=path) from None
    strd = _strd_data(path, lines)
    if strd is not None:
        return _named_cells(path, wanted, *strd)
    names, rows, comment = None, [], None
    for number, line in enumerate(lines, start=1):
        text = line.split("#", 1)[0].strip()
        if not text:
            if line.lstrip().startswith("#") and not rows and names is None:
                comment = line.lstrip()[1:].split()
            continue
        cells = text.split()
        if names is None and not rows and not all(_is_number(c) for c in cells):
            names = cells
            continue
        rows.append((number, cells))
    if not rows:
        raise DataError("holds no data rows", file=path)
    width = len(rows[0][1])
    if names is None:
        names = comment if comment and len(comment) == width else [f"col{j + 1}" for j in range(width)]
    return _named_cells(path, wanted, names, rows)


def _named_cells(path, wanted, names, rows):
    """``{column: cells}`` of the ``wanted`` columns from ``rows`` of ``(line number, cells)``;
    a repeated name, or a row with more or fewer cells than ``names``, is an error naming it."""
    _require_unique_names(path, names)
    for number, cells in rows:
        if len(cells) != len(names):
            raise DataError(
                f"line {number} has {len(cells)} values; the columns are {len(names)} ({' '.join(names)})", file=path
            )
    _require_columns(path, wanted, names)
    index = {name: names.index(name) for name in wanted}
    return {name: np.array([cells[index[name]] for _, cells in rows], dtype=object) for name in wanted}


def _strd_data(path, lines):
    """``(names, rows)`` of a NIST/ITL StRD file's data block, or None for any other file.
    The block's place comes from the file's own ``Data (lines a to b)`` entry and its column
    names from the ``Data:`` line above it (``Data:   y   x``)."""
    import re

    if not lines or lines[0].strip() != "NIST/ITL StRD":
        return None
    where = next((m for m in map(re.compile(r"^\s*Data\s+\(lines\s+(\d+)\s+to\s+(\d+)\)").match, lines) if m), None)
    if where is None:
        raise DataError("is a NIST/ITL StRD file without its 'Data (lines a to b)' entry", file=path)
    first, last = int(where.group(1)), int(where.group(2))
    header = None
    if first <= last <= len(lines):
        # The names are on the last 'Data:' line before the block (an earlier one describes the data).
        header = next((i for i in range(first - 2, -1, -1) if lines[i].startswith("Data:")), None)
    if header is None:
        raise DataError(
            f"is a NIST/ITL StRD file whose data lines {first} to {last} do not follow a 'Data:' line "
            f"of column names inside its {len(lines)} lines",
            file=path,
        )
    names = lines[header].split(":", 1)[1].split()
    rows = [(number, lines[number - 1].split()) for number in range(first, last + 1) if lines[number - 1].strip()]
    return names, rows


def _is_number(text):
    try:
        float(text)
    except ValueError:
        return False
    return True


def _read_npz(path, wanted):
    # np.load takes a file that is not a zip archive for a pickle: refuse it first.
    if not zipfile.is_zipfile(path):
        raise DataError("is not an NPZ (zip) archive", file=path)
    try:
        with np.load(path, allow_pickle=False) as archive:
            _require_columns(path, wanted, list(archive.files))
            return {name: npz_array(archive, path, name, ndim=1) for name in wanted}
    except DataError:
        raise
    except (zipfile.BadZipFile, EOFError, OSError, ValueError) as exc:
        raise DataError(f"is not a valid NPZ archive ({exc})", file=path) from None


def memory_ceiling():
    """The most bytes one input array may take: half this machine's physical memory (a
    fit needs a few working copies of it)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2
    except (ValueError, OSError, AttributeError):
        return 8 << 30


def npz_array(archive, path, name, ndim=None, rows=None):
    """Array ``name`` of an open NPZ ``archive`` (``np.load``) as float64, checked from its
    header *before* it is read, so a wrong or huge array costs no memory: its type (complex,
    object, text and structured arrays are refused by name), its number of dimensions
    ``ndim``, its number of ``rows`` and its size against :func:`memory_ceiling`."""
    try:
        with archive.zip.open(f"{name}.npy") as handle:
            version = np.lib.format.read_magic(handle)
            read_header = {(1, 0): np.lib.format.read_array_header_1_0}.get(
                version, np.lib.format.read_array_header_2_0
            )
            shape, _, dtype = read_header(handle)
    except KeyError:
        raise DataError(f"holds no array {name!r}; it has: {', '.join(archive.files) or '(none)'}", file=path) from None
    kinds = {
        "c": "complex numbers; fitflow fits real data: store the real part, or the modulus, as a real array",
        "O": "Python objects, which are never unpickled",
        "U": "text, not numbers",
        "S": "bytes, not numbers",
        "V": "a structured (record) array: store each field as an array of its own",
        "M": "dates, not numbers: store them as numbers (seconds, days)",
        "m": "time spans, not numbers: store them as numbers (seconds, days)",
    }
    if dtype.kind in kinds:
        raise DataError(f"holds {kinds[dtype.kind]} (dtype {dtype})", file=path, key=name)
    if ndim is not None and len(shape) != ndim:
        raise DataError(f"must be a {ndim}-D array; has shape {shape}", file=path, key=name)
    if rows is not None and (not shape or shape[0] != rows):
        raise DataError(f"has shape {shape}; it needs one row per measurement ({rows})", file=path, key=name)
    needed = 8 * math.prod(shape)
    if needed > memory_ceiling():
        raise DataError(
            f"has shape {shape}: {needed / 1e9:.1f} GB as float64, more than half this machine's memory "
            f"({2 * memory_ceiling() / 1e9:.1f} GB), before any fit's working copies",
            file=path,
            key=name,
        )
    return np.asarray(archive[name], dtype=float)


def _require_unique_names(path, names):
    """A header that names a column twice is an error naming it."""
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise DataError(
            f"names the column {repeated[0]!r} {names.count(repeated[0])} times in its header; "
            f"column names must be unique",
            file=path,
            key=repeated[0],
        )


def _require_columns(path, wanted, available):
    for name in wanted:
        if name not in available:
            raise DataError(
                f"no such column; the file has: {', '.join(map(str, available)) or '(none)'}", file=path, key=name
            )


def cell_number(text):
    """The number a data cell holds, or ``ValueError``: Python's ``float`` reads ``1_000``
    as 1000, which a data file never means."""
    if "_" in text:
        raise ValueError(f"{text!r} is not a number")
    return float(text)


def _as_finite_floats(path, name, cells, rows=None):
    """Cells as floats; the first cell that is not a finite number raises DataError naming
    its row (``rows[i]``, default ``i + 1``)."""
    rows = np.arange(1, len(cells) + 1) if rows is None else rows
    if cells.dtype.kind in "fiu":
        values = cells.astype(float)
    else:
        values = np.empty(len(cells))
        for i, cell in enumerate(cells):
            text = str(cell).strip()
            try:
                values[i] = cell_number(text)
            except ValueError:
                hint = (
                    " (a missing value: set 'missing: drop' to leave such rows out)"
                    if text.lower() in MISSING_CELLS
                    else ""
                )
                raise DataError(
                    f"is not a number{hint}", file=path, key=name, row=int(rows[i]), value=str(cell)
                ) from None
    bad = np.flatnonzero(~np.isfinite(values))
    if bad.size:
        value = float(values[bad[0]])
        kind = "NaN" if math.isnan(value) else "infinite"
        hint = " (a missing value: set 'missing: drop' to leave such rows out)" if kind == "NaN" else ""
        raise DataError(
            f"is {kind}; every value must be a finite number{hint}",
            file=path,
            key=name,
            row=int(rows[bad[0]]),
            value=str(cells[bad[0]]),
        )
    return values
