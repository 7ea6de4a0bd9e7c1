"""A first HTML page for an experiment: a leaderboard per problem and the full table.

Rendered with jinja2 from ``templates/report.html``, self-contained (no external
files or URLs), from the aggregate tables alone.
"""

from pathlib import Path

import numpy as np
import pandas as pd

from .aggregate import read_table
from .artefacts import write_bytes

__all__ = ["LEADERBOARD_METRICS", "leaderboards", "render_report", "write_report"]

#: Columns of the per-problem leaderboard, with the direction that is better.
LEADERBOARD_METRICS = {
    "param_rms_error": "lower",
    "rmse": "lower",
    "chi2_dof": "closer to 1",
    "coverage68": "closer to 0.68",
    "coverage95": "closer to 0.95",
    "n_evaluations": "lower",
    "wall_time_s": "lower",
}


def leaderboards(table):
    """Per problem and problem setting: a row per method, median of each metric over replicates."""
    boards = {}
    for (problem, psid), rows in table.groupby(["problem", "problem_settings"], sort=True):
        summary = []
        for (method, msid), group in rows.groupby(["method", "method_settings"], sort=True):
            ok = group[group["status"] == "ok"]
            entry = {"method": method, "settings": msid, "fits": len(group), "failed": int((group["status"] != "ok").sum())}
            for metric in LEADERBOARD_METRICS:
                values = ok[metric].to_numpy(dtype=float) if metric in ok else np.array([])
                values = values[np.isfinite(values)]
                entry[metric] = float(np.median(values)) if values.size else None
            summary.append(entry)
        boards[problem if psid == "default" else f"{problem} ({psid})"] = summary
    return boards


def _environment():
    from jinja2 import Environment, PackageLoader, select_autoescape

    env = Environment(loader=PackageLoader("fitflow", "templates"), autoescape=select_autoescape())
    env.filters["num"] = lambda v: "–" if v is None or (isinstance(v, float) and not np.isfinite(v)) else f"{v:.4g}"
    return env


def render_report(root, config=None):
    """The report's HTML for the experiment folder ``root``."""
    root = Path(root)
    table = read_table(root, with_timings=True)
    failed = table[table["status"] != "ok"]
    columns = [c for c in table.columns if not c.startswith("param.") and c != "fit_dir"]
    context = {
        "experiment": root.name,
        "n_fits": len(table),
        "n_failed": len(failed),
        "problems": sorted(table["problem"].unique()),
        "methods": sorted(table["method"].unique()),
        "replicates": int(table["replicate"].nunique()),
        "boards": leaderboards(table),
        "metrics": LEADERBOARD_METRICS,
        "failed": failed[["problem", "method", "method_settings", "replicate", "message", "fit_dir"]].to_dict("records"),
        "columns": columns,
        "rows": table[columns].replace({np.nan: None}).to_dict("records"),
        "config": config,
    }
    return _environment().get_template("report.html").render(**context)


def write_report(root, path=None, config=None):
    """Render and atomically write the report (default ``root/report.html``)."""
    root = Path(root)
    html = render_report(root, config=config)
    write_bytes(path or root / "report.html", html.encode())
