"""Reading NIST's StRD linear-regression sets (``../shared/nist-strd-linear``) for tests and
benchmarks: parsed here, never by the package, so the package is tested, not trusted."""

from pathlib import Path

import numpy as np
import yaml

LINEAR_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "nist-strd-linear"
SKIP_REASON = f"NIST StRD linear sets not found at {LINEAR_DIR} (../shared/nist-strd-linear beside the checkout)"

__all__ = ["LINEAR_DIR", "SKIP_REASON", "certified", "table_settings", "lre_of"]


def certified():
    """``{set: {"columns", "beta", "sd"}}`` from certified.yaml, numbers as floats."""
    sets = yaml.safe_load((LINEAR_DIR / "certified.yaml").read_text())
    return {
        name: {
            "columns": list(entry["columns"]),
            "beta": np.array(entry["beta"], dtype=float),
            "sd": np.array(entry["sd"], dtype=float),
        }
        for name, entry in sets.items()
    }


def table_settings(name, entry):
    """The ``table`` problem's settings a user would write for this set: its CSV, its
    columns, and the model as an expression (a polynomial in x, or linear in several x)."""
    columns = entry["columns"]
    p = len(entry["beta"])
    params = [f"b{i}" for i in range(p)]
    if len(columns) > 1:
        terms = [f"b{i}*{c}" for i, c in enumerate(columns, start=1)]
    else:
        terms = [f"b{i}*{columns[0]}**{i}" for i in range(1, p)]
    return {
        "file": str(LINEAR_DIR / f"{name}.csv"),
        "x": columns,
        "y": "y",
        "model": " + ".join(["b0", *terms]),
        "params": params,
        "p0": [0.0] * p,
        "cv_folds": 0,
    }


def lre_of(estimate, certified_values):
    """The smallest LRE over a vector: -log10 of the relative error (of the absolute error
    where the certified value is 0), capped at 15, as the set's README defines it."""
    estimate = np.asarray(estimate, dtype=float)
    certified_values = np.asarray(certified_values, dtype=float)
    if not np.all(np.isfinite(estimate)):
        return 0.0
    error = np.abs(estimate - certified_values)
    error = np.where(certified_values == 0, error, error / np.where(certified_values == 0, 1, np.abs(certified_values)))
    with np.errstate(divide="ignore"):
        return float(np.min(np.clip(-np.log10(error), 0.0, 15.0)))
