"""What the report reads from an experiment folder, and the summaries it shows.

Everything comes from artefacts: the tidy tables, ``experiment.json``, and the
fit folders of the representative replicate. Nothing is refitted.
"""

from dataclasses import dataclass, field
import datetime
import math
from pathlib import Path
import re

import numpy as np

from ..core.artefacts import read_json
from ..run.aggregate import read_table
from ..run.archive import ArtefactStore

__all__ = [
    "Experiment",
    "load_experiment",
    "scored_cases",
    "METRICS",
    "leaderboard",
    "calibration_rows",
    "calibration_verdicts",
    "error_metric",
    "has_truth",
    "metric_spec",
    "format_number",
    "failed_runs",
    "per_output_table",
    "row_anchor",
]

#: Leaderboard columns: metric -> (heading, what is better, target value or None).
#: A "for reference" column gets no best mark.
METRICS = {
    "param_rms_error": ("parameter error", "lower", None),
    "rmse": ("RMSE vs truth", "lower", None),
    "chi2_dof": ("χ²/dof", "closer to 1", 1.0),
    "chi2_p": ("χ² p-value", "for reference (0.001 to 0.999: the stated errors allow the fit)", None),
    "coverage68": ("68% coverage", "closer to 0.68", 0.6827),
    "coverage95": ("95% coverage", "closer to 0.95", 0.95),
    "band_coverage95": ("95% band coverage", "closer to 0.95", 0.95),
    "regret": ("regret", "lower", None),
    "cv_rmse": ("CV prediction error", "lower", None),
    "residual_rms": ("residual RMS", "for reference (lower can mean overfitting)", None),
    "aic": ("AIC", "lower", None),
    "bic": ("BIC", "lower", None),
    "wall_time_s": ("wall time [s]", "lower", None),
    "n_evaluations": ("evaluations", "for reference (a method's own count: one for a direct solve)", None),
}


@dataclass
class Experiment:
    """An experiment folder's tables and plan."""

    root: Path
    table: object
    info: dict
    date: str
    methods: list = field(default_factory=list)
    store: object = None

    @property
    def name(self):
        return self.info.get("experiment", self.root.name)

    def cases(self):
        """``(problem, problem_settings)`` pairs in table order."""
        keys = self.table[["problem", "problem_settings"]].drop_duplicates()
        return [tuple(k) for k in keys.itertuples(index=False)]

    def rows(self, problem, psid=None):
        rows = self.table[self.table.problem == problem]
        return rows if psid is None else rows[rows.problem_settings == psid]

    def case_label(self, problem, psid):
        return problem if psid == "default" else f"{problem} [{psid}]"

    def fit_dir(self, problem, psid, method, msid, rep):
        return self.store.folder(f"fits/{problem}/{psid}/{method}/{msid}/rep-{rep}")

    def dataset_dir(self, problem, psid, rep):
        return self.store.folder(f"datasets/{problem}/{psid}/rep-{rep}")


def load_experiment(root):
    """Read the tables and ``experiment.json`` of the experiment folder ``root``."""
    root = Path(root)
    table = read_table(root, with_timings=True)
    info = read_json(root / "experiment.json") if (root / "experiment.json").exists() else {}
    store = ArtefactStore(root)
    # The date of the artefacts: when the newest result was written (deterministic for a
    # given set of files, so regenerating the report from them gives the same bytes).
    campaigns = sorted(root.glob("campaigns/*/*/summary.json"))
    newest = max([store.newest_write(table["fit_dir"]), *(path.stat().st_mtime for path in campaigns)])
    date = datetime.datetime.fromtimestamp(newest, datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return Experiment(root, table, info, date, sorted(table["method"].unique()), store)


def _finite(values):
    values = np.asarray(values, dtype=float)
    return values[np.isfinite(values)]


def _summary(values):
    values = _finite(values)
    if not values.size:
        return None
    q25, median, q75 = np.percentile(values, [25, 50, 75])
    return {"median": float(median), "q25": float(q25), "q75": float(q75), "n": int(values.size)}


#: Metrics that need no truth: the columns of a leaderboard for measured data.
NO_TRUTH_METRICS = ("chi2_dof", "chi2_p", "cv_rmse", "residual_rms", "aic", "bic")
#: Metrics that need a truth; when none has a value the data are measurements.
TRUTH_METRICS = ("param_rms_error", "rmse", "coverage68", "coverage95", "band_coverage95", "regret")


def has_truth(rows):
    """True when some fit of these rows was scored against a known truth."""
    return any(m in rows and _finite(rows[m]).size for m in TRUTH_METRICS)


def problem_error_metrics(rows):
    """A problem's own error metrics in the table (:meth:`fitflow.Problem.extra_metrics`
    named ``*_error``, lower is better): a closure's error against its reference, say."""
    return [
        c
        for c in rows.columns
        if c.endswith("_error") and "." not in c and c not in METRICS and rows[c].dtype.kind == "f"
    ]


def metric_spec(metric):
    """``(heading, what is better, target)`` of a leaderboard column."""
    return METRICS.get(metric) or (metric.replace("_", " "), "lower", None)


def row_anchor(method, settings):
    """The anchor of a method setting's row in a case's leaderboard (the verdict links to it)."""
    return re.sub(r"[^A-Za-z0-9_-]", "_", f"{method}-{settings}")


def leaderboard(rows):
    """A row per method setting: fits, failures and each metric's median and quartiles.

    Returns ``(columns, entries)``: only metrics with a value for some method are
    columns; the best median of each column is flagged. Data with a truth are
    ranked on truth-based metrics (plus chi2/dof); measurements, which have none,
    on the metrics that need none (see ``NO_TRUTH_METRICS``).
    """
    entries, extra = [], problem_error_metrics(rows)
    for (method, msid), group in rows.groupby(["method", "method_settings"], sort=True):
        ok = group[group.status == "ok"]
        entry = {
            "method": method,
            "settings": msid,
            "row": row_anchor(method, msid),
            "fits": len(group),
            "failed": int((group.status != "ok").sum()),
            "metrics": {m: _summary(ok[m]) if m in ok else None for m in [*METRICS, *extra]},
        }
        entries.append(entry)
    shown = set(METRICS) - set(NO_TRUTH_METRICS[1:]) if has_truth(rows) else set(METRICS) - set(TRUTH_METRICS)
    columns = [m for m in METRICS if m in shown and any(e["metrics"][m] for e in entries)]
    columns[1:1] = [m for m in extra if any(e["metrics"][m] for e in entries)]  # beside the truth's own errors
    for metric in columns:
        _, better, target = metric_spec(metric)
        if better.startswith("for reference"):
            continue
        scored = [
            (abs(e["metrics"][metric]["median"] - target) if target is not None else e["metrics"][metric]["median"], i)
            for i, e in enumerate(entries)
            if e["metrics"][metric]
        ]
        if len(scored) > 1:
            best = min(scored)[0]
            for score, i in scored:
                entries[i]["metrics"][metric]["best"] = math.isclose(score, best, rel_tol=1e-12, abs_tol=1e-15)
    return columns, entries


def _binomial_interval(successes, trials, z=1.959963984540054):
    """Wilson score interval for a coverage fraction."""
    if trials == 0:
        return None, None
    p = successes / trials
    centre = (p + z**2 / (2 * trials)) / (1 + z**2 / trials)
    half = z * math.sqrt(p * (1 - p) / trials + z**2 / (4 * trials**2)) / (1 + z**2 / trials)
    # Clipped: at p = 0 or 1 rounding can put a bound one ulp inside the value it bounds.
    return max(0.0, min(p, centre - half)), min(1.0, max(p, centre + half))


def calibration_rows(experiment):
    """Empirical coverage of the 68% and 95% intervals per problem and method, pooled over
    parameters and replicates, with Wilson 95% intervals; and of the predictive bands."""
    table = experiment.table[experiment.table.status == "ok"]
    flags = [c for c in table.columns if c.startswith("param.") and c.endswith(".in68")]
    # Cases with true parameter values: elsewhere (a closure learned in a family that does not
    # hold the reference) no interval can be checked, whether the method gives one or not.
    checked = {
        key for key, group in table.groupby(["problem", "problem_settings"]) if _finite(group[flags].to_numpy()).size
    }
    rows = []
    for (problem, psid, method, msid), group in table.groupby(
        ["problem", "problem_settings", "method", "method_settings"], sort=True
    ):
        entry = {
            "case": experiment.case_label(problem, psid),
            "method": method,
            "settings": msid,
            "truth": (problem, psid) in checked,
        }
        for level, nominal in (("68", 0.6827), ("95", 0.95)):
            columns = [c for c in group.columns if c.startswith("param.") and c.endswith(f".in{level}")]
            flags = _finite(group[columns].to_numpy().ravel()) if columns else np.array([])
            if flags.size:
                low, high = _binomial_interval(flags.sum(), flags.size)
                entry[f"param{level}"] = {
                    "value": float(flags.mean()),
                    "n": int(flags.size),
                    "low": low,
                    "high": high,
                    "ok": low <= nominal <= high,
                }
            band = _finite(group.get(f"band_coverage{level}", []))
            if band.size:
                entry[f"band{level}"] = {"value": float(band.mean()), "n": int(band.size)}
        if any(k in entry for k in ("param68", "param95", "band68", "band95")):
            rows.append(entry)
    return rows


def calibration_verdicts(calibration):
    """Per problem case: which methods' parameter intervals were calibrated at both levels.

    A method is calibrated when the nominal 68% and 95% levels both lie inside the
    Wilson intervals of its empirical coverage; methods without parameter
    intervals (non-parametric ones) are listed apart, and so are all methods of a case
    with no true parameter values to check against (``unchecked``).
    """
    verdicts = {}
    for row in calibration:
        verdict = verdicts.setdefault(
            row["case"], {"case": row["case"], "calibrated": [], "miscalibrated": [], "without": [], "unchecked": []}
        )
        name = row["method"] if row["settings"] == "default" else f"{row['method']} [{row['settings']}]"
        levels = [row.get("param68"), row.get("param95")]
        if not row.get("truth", True):
            verdict["unchecked"].append(name)
        elif not any(levels):
            verdict["without"].append(name)
        elif all(level and level["ok"] for level in levels):
            verdict["calibrated"].append(name)
        else:
            verdict["miscalibrated"].append(name)
    return list(verdicts.values())


def error_metric(rows):
    """The accuracy metric a problem's fits are best compared on: RMSE, parameter error,
    regret or, for measured data, the cross-validated prediction error (before an
    optimiser's best value: on measurements, that is the optimiser's own chi-square)."""
    for metric in ("rmse", "param_rms_error", "regret", "cv_rmse", "best_value"):
        if metric in rows and _finite(rows[metric]).size:
            return metric
    return None


def scored_cases(experiment):
    """``(problem, psid, ok rows, error metric)`` of each problem case with an error metric to
    score its fits on, in table order."""
    for problem, psid in experiment.cases():
        rows = experiment.rows(problem, psid)
        rows = rows[rows.status == "ok"]
        metric = error_metric(rows)
        if metric is not None:
            yield problem, psid, rows, metric


def format_number(value):
    """A number as the report prints it: three significant digits, "–" for none or a non-finite one."""
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return "–"
    if isinstance(value, (str, bool, int, np.integer)):  # an option of a choice parameter, or a count
        return str(value)
    return f"{value:.3g}"


def failed_runs(experiment, problem, psid):
    """The simulation runs of a case that failed and were left out (``[]`` for other problems)."""
    path = experiment.dataset_dir(problem, psid, 0) / "dataset.json"
    if not path.exists():
        return []
    meta = read_json(path).get("meta") or {}
    return [dict(run, n_runs=meta.get("n_runs")) for run in meta.get("failed_runs") or []]


def per_output_table(rows):
    """``(outputs, [(method, settings, {output: (rmse median, 95% band coverage median)})])``
    for a case whose response has several outputs (``rmse.<output>`` columns), else None."""
    outputs = [c.split(".", 1)[1] for c in rows.columns if c.startswith("rmse.") and rows[c].notna().any()]
    if not outputs:
        return None
    ok = rows[rows.status == "ok"]
    table = []
    for (method, msid), group in ok.groupby(["method", "method_settings"], sort=True):
        cells = {}
        for name in outputs:
            coverage = group.get(f"band_coverage95.{name}")
            cells[name] = (
                float(np.nanmedian(group[f"rmse.{name}"])),
                float(np.nanmedian(coverage)) if coverage is not None and coverage.notna().any() else None,
            )
        table.append((method, msid, cells))
    return outputs, table
