"""One tidy table for an experiment: a row per fit, a column per metric.

The table (``fits.csv`` and ``fits.parquet``) holds only deterministic values,
so it is byte-identical on rerun. Wall-clock times cannot be, and go to
``timings.csv``, keyed by the same columns; :func:`read_table` joins them.
"""

from pathlib import Path

import pandas as pd

from ..core.artefacts import atomic_writer, read_json
from ..evaluation.evaluate import SUMMARY_METRICS

__all__ = [
    "KEY_COLUMNS",
    "build_table",
    "timings_table",
    "recorded_timings",
    "write_table",
    "read_table",
    "write_experiment_tables",
]

KEY_COLUMNS = ["problem", "problem_settings", "method", "method_settings", "replicate"]
_LEADING = KEY_COLUMNS + ["status", "message", "n_warnings", *SUMMARY_METRICS]


def build_table(metrics_files):
    """The tidy table from the fit jobs' metrics batch files (or compact chunks'
    manifests, which carry the same rows), sorted by key."""
    # A frame per file, so that a large sweep never holds all its rows as dicts at once.
    frames = [pd.DataFrame(read_json(path)["rows"]) for path in metrics_files]
    table = pd.concat(frames, ignore_index=True).infer_objects() if frames else pd.DataFrame(columns=KEY_COLUMNS)
    extra = sorted(c for c in table.columns if c not in _LEADING and c != "fit_dir")
    table = table.reindex(columns=[*_LEADING, *extra, "fit_dir"])
    return table.sort_values(KEY_COLUMNS, kind="mergesort").reset_index(drop=True)


#: What a fit's timing.json holds: its wall and CPU seconds, and its cross-validation's wall seconds.
TIMING_COLUMNS = ("wall_time_s", "cpu_time_s", "cv_wall_time_s")


def timings_table(table, root, chunk_manifests=()):
    """Per-fit wall and CPU seconds (and the cross-validation's wall seconds, where it ran),
    keyed like the main table: from each fit's ``timing.json``, or in the compact store from
    the chunk manifests."""
    root = Path(root)
    known = {}
    for path in chunk_manifests:
        known.update(read_json(path).get("timings", {}))
    records = []
    for key, fit_dir in zip(table[KEY_COLUMNS].itertuples(index=False), table["fit_dir"]):
        timing = known[fit_dir] if fit_dir in known else read_json(root / fit_dir / "timing.json")
        records.append({**dict(zip(KEY_COLUMNS, key)), **timing})
    return pd.DataFrame(records, columns=[*KEY_COLUMNS, *TIMING_COLUMNS])


def recorded_timings(root):
    """``{fit_dir: timing}`` from the experiment's last ``timings.csv`` (empty if none):
    what a compact chunk restores beside a fit it may reuse."""
    path = Path(root) / "timings.csv"
    table = Path(root) / "fits.csv"
    if not (path.exists() and table.exists()):
        return {}
    timings = read_table(root)
    columns = [c for c in TIMING_COLUMNS if c in timings]
    return {
        row["fit_dir"]: {c: float(row[c]) for c in columns if pd.notna(row[c])}
        for row in timings[["fit_dir", *columns]].dropna(subset=["wall_time_s"]).to_dict("records")
    }


def write_table(table, csv_path, parquet_path=None):
    """Write the table as CSV (and Parquet), atomically."""
    with atomic_writer(csv_path) as handle:
        handle.write(table.to_csv(index=False, lineterminator="\n").encode())
    if parquet_path is not None:
        with atomic_writer(parquet_path) as handle:
            table.to_parquet(handle, index=False)


def read_table(root, with_timings=True):
    """Read ``fits.csv`` of an experiment folder, joined with its timings."""
    root = Path(root)
    table = pd.read_csv(root / "fits.csv", keep_default_na=False, na_values=[""])
    if with_timings and (root / "timings.csv").exists():
        timings = pd.read_csv(root / "timings.csv", keep_default_na=False, na_values=[""])
        table = table.merge(timings, on=KEY_COLUMNS, how="left")
    return table


def write_experiment_tables(plan, layout, metrics_files, configfiles=()):
    """Write an experiment's tables once all its fits are done: ``fits.csv`` and
    ``fits.parquet`` from ``metrics_files`` (the fit jobs' metrics batches, or in the
    compact store the chunk manifests), ``timings.csv`` and ``experiment.json``; returns
    the table."""
    from ..core.artefacts import write_json
    from .archive import prune_empty_folders

    table = build_table(metrics_files)
    write_table(table, layout.table_csv, layout.table_parquet)
    compact = plan.store == "compact"
    if compact:  # every chunk has packed its work: drop any empty tree an older run left
        for tree in ("datasets", "fits"):
            prune_empty_folders(layout.root / tree)
    write_table(timings_table(table, layout.root, metrics_files if compact else ()), layout.timings_csv)
    write_json(layout.experiment_json, plan.describe(configfiles))
    return table
