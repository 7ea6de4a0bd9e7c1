"""The answer first: for each problem, the method to trust, the runner-up and those to avoid,
each claim with its uncertainty.

A verdict reads only what the leaderboard, the calibration table and the fits table already
hold, so every claim links to its evidence further down the report. The rule, written out in
docs/guide/verdict.md with its reasons:

1. **Avoid** a method that failed some of its fits, whose intervals miss the truth at their
   nominal rates (Wilson intervals), or that follows the noise on measured data (its residual
   RMS under :data:`FOLLOWS_NOISE` of its cross-validated error: it predicts the points it saw
   far better than those it did not).
2. **Compare in pairs, on the same units.** Each reliable method's error is compared with the
   lowest's on the units both share: the replicates (the same datasets) where there is a
   truth, the cross-validation folds (the same folds) on measurements. The mean paired
   log ratio gets a Student-t interval at :data:`TIE_LEVEL`; a method whose interval holds
   1 is **indistinguishable** from the best. One unit (one replicate, one fold) resolves
   nothing: every method is then indistinguishable, and the verdict says so.
3. **Choose among the indistinguishable**, in this order: a parametric fit (its parameters
   are what the scientist asked for), then calibrated intervals, then the cheaper (costs
   compared only above their resolution, :data:`COST_RESOLUTION` and :data:`MIN_TIMED_S`),
   then the lower error. This is the one-standard-error rule of Hastie, Tibshirani and
   Friedman, with parametric models as the simpler ones.
4. **Methods that give the same answer** (equal errors on every unit) are one computation
   under two names (``ols`` and ``ols`` with HAC errors): they are listed together, never
   ranked as rivals.

On measurements there is no truth: the verdict rests on the cross-validated error and χ²/dof,
says that calibration cannot be judged there (rehearse with ``simulate``), and says when the
stated errors reject the trusted fit (its χ² p-value outside
:data:`fitflow.core.goodness.ACCEPTED`).
"""

import math

import numpy as np

from ..core.goodness import ACCEPTED
from ..evaluation.crossval import follows_noise_warning

__all__ = [
    "case_verdict",
    "table_verdict",
    "verdict_text",
    "paired_comparison",
    "TIE_LEVEL",
    "COST_RESOLUTION",
    "MIN_TIMED_S",
    "CHOICE_RULE",
]

#: Two-sided confidence of the paired comparison: a difference whose interval holds zero is a tie.
TIE_LEVEL = 0.95
#: Costs within this factor of each other are "about the same cost" (repeat runs of one fit on a
#: shared machine vary by tens of percent).
COST_RESOLUTION = 2.0
#: Times under this are within the timer's and the interpreter's noise: no cost ranking below it.
MIN_TIMED_S = 0.01
#: Errors equal to this relative tolerance on every unit: the same answer.
SAME_ANSWER = 1e-9
#: The choice rule, as the report states it.
CHOICE_RULE = (
    "the verdict compares each method with the most accurate on the same replicates or folds "
    f"(paired, {TIE_LEVEL:.0%} interval); among those it cannot tell apart it prefers a parametric fit, "
    f"then calibrated intervals, then a cost lower by {COST_RESOLUTION:g}× or more, then the lower error"
)


def _name(entry):
    return entry["method"] if entry["settings"] == "default" else f"{entry['method']} [{entry['settings']}]"


def _median(entry, metric):
    summary = entry["metrics"].get(metric)
    return summary["median"] if summary else None


def _seconds(entry):
    return _median(entry, "wall_time_s")


def _time_text(seconds):
    if seconds is None:
        return "cost unknown"
    return f"{seconds:.2g} s per fit" if seconds >= 0.01 else f"{seconds * 1e3:.2g} ms per fit"


def _times(ratio):
    """``0.981×``, ``3.2×``, ``130×``, ``6,100×``, ``9,200,000×``: a ratio as a reader takes it in
    (three significant digits under 10, two above)."""
    if ratio < 10:
        return f"{ratio:.3g}×"
    return f"{float(f'{ratio:.2g}'):,.0f}×"


def _parametric(entry):
    """The fit estimates the model's parameters (scored on them, or given an AIC)."""
    return any(_median(entry, m) is not None for m in ("param_rms_error", "aic"))


def _follows_noise(entry):
    """Why the fit follows the noise (see :func:`fitflow.evaluation.crossval.follows_noise_warning`),
    or None."""
    return follows_noise_warning(_median(entry, "residual_rms"), _median(entry, "cv_rmse"))


def _units(rows, entry, metric):
    """``{unit: error}`` of a method on its ok fits: per fold (``cv_fold_mse``, keyed by
    replicate and fold) on measurements, else per replicate."""
    if rows is None:
        return {}
    mine = rows[(rows.method == entry["method"]) & (rows.method_settings == entry["settings"]) & (rows.status == "ok")]
    if metric == "cv_rmse" and "cv_fold_mse" in mine:
        units = {}
        for replicate, text in zip(mine.replicate, mine.cv_fold_mse):
            if isinstance(text, str) and text:
                units.update({(replicate, i): float(v) for i, v in enumerate(text.split())})
        return units
    if metric not in mine:
        return {}
    return {r: float(v) for r, v in zip(mine.replicate, mine[metric]) if np.isfinite(v)}


def paired_comparison(best, other):
    """The error of ``other`` against ``best`` on the units both have (``{unit: error}`` each):
    ``{"n", "ratio", "low", "high", "tied", "same"}``. Errors are compared as paired log
    ratios (errors span decades between datasets, a regret 1e-9 on one and 0.04 on the next):
    ``ratio`` is the geometric mean of ``other / best``, ``low`` to ``high`` its
    :data:`TIE_LEVEL` Student-t interval, ``tied`` whether that interval holds 1, ``same``
    whether the errors are equal on every unit. Fewer than two shared units resolve nothing:
    tied, with no interval. An error of zero counts as 1e-12 of the largest."""
    shared = sorted(set(best) & set(other), key=str)
    a = np.array([best[u] for u in shared], dtype=float)
    b = np.array([other[u] for u in shared], dtype=float)
    n = len(shared)
    found = {"n": n, "ratio": None, "low": None, "high": None, "tied": True, "same": False}
    if n == 0:
        return found
    largest = float(max(np.abs(a).max(), np.abs(b).max()))
    found["same"] = bool(np.allclose(a, b, rtol=SAME_ANSWER, atol=SAME_ANSWER * max(largest, 1e-300)))
    if largest <= 0:
        return found
    floor = 1e-12 * largest
    logs = np.log(np.maximum(b, floor)) - np.log(np.maximum(a, floor))
    mean = float(np.mean(logs))
    found["ratio"] = math.exp(mean)
    if n < 2 or found["same"]:
        return found
    from scipy.stats import t

    half = float(t.ppf(0.5 + TIE_LEVEL / 2, n - 1) * np.std(logs, ddof=1) / math.sqrt(n))
    found.update(low=math.exp(mean - half), high=math.exp(mean + half), tied=abs(mean) <= half)
    return found


def _rooted(comparison, metric):
    """The comparison in the metric's own units: fold errors are mean squares, so their
    ratios are carried to the root (the CV error is a root mean square)."""
    if metric != "cv_rmse":
        return comparison
    rooted = dict(comparison)
    for key in ("ratio", "low", "high"):
        value = comparison[key]
        rooted[key] = None if value is None else math.sqrt(max(value, 0.0))
    return rooted


def _units_name(metric, n):
    return f"{n} {'fold' if metric == 'cv_rmse' else 'replicate'}{'s' * (n != 1)}"


def _cost_classes(entries):
    """The entries whose cost is the lowest to the resolution of a timer: within
    :data:`COST_RESOLUTION` of the cheapest, or under :data:`MIN_TIMED_S`."""
    times = [_seconds(e) for e in entries if _seconds(e) is not None]
    if not times:
        return {id(e) for e in entries}
    cheapest = min(times)
    limit = max(COST_RESOLUTION * cheapest, MIN_TIMED_S)
    return {id(e) for e in entries if _seconds(e) is None or _seconds(e) <= limit}


def _cost_text(chosen, other):
    t_chosen, t_other = _seconds(chosen), _seconds(other)
    if not (t_chosen and t_other):
        return _time_text(t_other)
    ratio = t_other / t_chosen
    if max(t_chosen, t_other) < MIN_TIMED_S or 1 / COST_RESOLUTION < ratio < COST_RESOLUTION:
        return "about the same cost"
    return f"at {_times(ratio)} the cost" if ratio >= 1 else f"at 1/{_times(1 / ratio)[:-1]} of the cost"


def _interval_text(low, high):
    """``1.004× to 1.008×``: the bounds with as many digits as tell them apart (up to six)."""
    if high >= 10:
        return f"{_times(low)} to {_times(high)}"
    for digits in range(3, 7):
        left, right = f"{low:.{digits}g}", f"{high:.{digits}g}"
        if left != right:
            break
    return f"{left}× to {right}×"


def _evidence(comparison, metric, heading):
    """``×1.05 the CV prediction error, 95% interval ×0.93 to ×1.18 over 5 folds``."""
    n = comparison["n"]
    if comparison["ratio"] is None:
        return "not compared: no shared replicates or folds"
    evidence = f"{_times(comparison['ratio'])} the {heading}"
    if comparison["low"] is not None:
        evidence += (
            f", {TIE_LEVEL:.0%} interval {_interval_text(comparison['low'], comparison['high'])} "
            f"over {_units_name(metric, n)}"
        )
    elif n < 2:
        evidence += f" on {_units_name(metric, n)}, which cannot resolve a difference"
    return evidence


def _accuracy_text(comparison, metric, heading):
    """``indistinguishable from it (evidence)``, or the evidence of a resolved difference."""
    evidence = _evidence(comparison, metric, heading)
    return f"indistinguishable from it ({evidence})" if comparison["tied"] else evidence


def case_verdict(entries, metric, heading, measured, calibration=None, rows=None):
    """``{"trust", "runner_up", "same", "avoid", "note", "rule", "metric"}`` for one problem case
    (see the module's doc).

    ``entries``: the leaderboard's rows; ``metric``/``heading``: the accuracy metric and its
    name; ``calibration``: the case's calibration verdict (lists of method names); ``rows``:
    the case's fits (the fits table's rows), whose per-replicate or per-fold errors give the
    comparisons their uncertainty (without them, nothing is resolved)."""
    calibration = calibration or {"calibrated": [], "miscalibrated": [], "without": [], "unchecked": []}
    avoid, ranked = [], []
    for entry in entries:
        name = _name(entry)
        noisy = _follows_noise(entry) if measured else None
        row = entry.get("row")
        if entry["failed"]:
            why = f"failed {entry['failed']} of {entry['fits']} fits"
            avoid.append({"name": name, "row": row, "why": why, "failures": True})
        elif name in calibration["miscalibrated"]:
            why = "its intervals do not cover the truth at their nominal rates"
            avoid.append({"name": name, "row": row, "why": why})
        elif noisy:
            avoid.append({"name": name, "row": row, "why": noisy})
        elif metric and _median(entry, metric) is not None:
            ranked.append(entry)
    ranked.sort(key=lambda e: _median(e, metric))
    verdict = {
        "trust": None,
        "runner_up": None,
        "same": [],
        "avoid": avoid,
        "note": "",
        "rule": CHOICE_RULE,
        "metric": heading,
    }
    if not ranked:
        verdict["note"] = "no method gave a trustworthy answer on every replicate: see the failed fits below"
        return verdict
    units = {id(e): _units(rows, e, metric) for e in ranked}
    lowest = ranked[0]
    against_lowest = {id(e): paired_comparison(units[id(lowest)], units[id(e)]) for e in ranked}
    contenders = [e for e in ranked if against_lowest[id(e)]["tied"]]
    cheap = _cost_classes(contenders)

    def preference(entry):
        return (
            not _parametric(entry),
            _name(entry) not in calibration["calibrated"],
            id(entry) not in cheap,
            _median(entry, metric),
        )

    best = min(contenders, key=preference)
    why = _trust_reasons(best, lowest, ranked, contenders, metric, heading, calibration, measured, against_lowest)
    verdict["trust"] = {"name": _name(best), "row": best.get("row"), "why": why}
    # The rest, compared with the trusted method: the same answer, or a rival.
    against_best = {id(e): paired_comparison(units[id(best)], units[id(e)]) for e in ranked if e is not best}
    rivals = []
    for entry in ranked:
        if entry is best:
            continue
        if against_best[id(entry)]["same"]:
            verdict["same"].append(_name(entry))
        else:
            rivals.append(entry)
    if rivals:
        second = min(rivals, key=lambda e: (not against_best[id(e)]["tied"], *preference(e)))
        comparison = _rooted(against_best[id(second)], metric)
        why = f"{_accuracy_text(comparison, metric, heading)}, {_cost_text(best, second)}"
        if _name(second) in calibration["calibrated"] and _name(best) not in calibration["calibrated"]:
            why += "; prefer it for its calibrated intervals"
        verdict["runner_up"] = {"name": _name(second), "row": second.get("row"), "why": why}
    notes = []
    if verdict["same"]:
        notes.append(
            f"{', '.join(verdict['same'])} gave the same answer as {_name(best)} on every "
            f"{'fold' if metric == 'cv_rmse' else 'replicate'}: one computation, not a rival"
        )
    gof = _median(best, "chi2_p")
    if gof is not None and not ACCEPTED[0] <= gof <= ACCEPTED[1]:
        notes.append(
            f"the data's stated errors reject the trusted fit (χ² p-value {gof:.2g}, outside {ACCEPTED[0]:g} to "
            f"{ACCEPTED[1]:g}): its warnings say whether the errors look under- or overstated"
        )
    if measured:
        notes.append(
            "measured data: no truth to score against, so the verdict rests on the cross-validated "
            "error (and χ²/dof where the file gives errors); whether a method's uncertainties are "
            "calibrated cannot be judged here: rehearse with the simulate problem"
        )
    verdict["note"] = "; ".join(notes)
    return verdict


def _trust_reasons(best, lowest, ranked, contenders, metric, heading, calibration, measured, against_lowest):
    """Why the trusted method is trusted, as one sentence of clauses."""
    reliable = f"{len(ranked)} reliable method{'s' * (len(ranked) > 1)}"
    error = _median(best, metric)
    spread = _median(best, f"{metric}_se") if metric == "cv_rmse" else None
    shown = f"{error:.3g}" + (f" ± {spread:.2g}" if spread else "")
    n_units = against_lowest[id(ranked[-1])]["n"] if len(ranked) > 1 else None
    if best is lowest:
        why = [f"lowest median {heading} ({shown}) of {reliable}"]
    else:
        comparison = _rooted(against_lowest[id(best)], metric)
        why = [
            f"indistinguishable from the lowest {heading} of {reliable} ({_name(lowest)}: "
            f"{_median(lowest, metric):.3g}; this one {shown}: {_evidence(comparison, metric, heading)})"
        ]
        reasons = []
        if _parametric(best) and not _parametric(lowest):
            reasons.append("it fits the model's parameters")
        if _name(best) in calibration["calibrated"] and _name(lowest) not in calibration["calibrated"]:
            reasons.append("its intervals are calibrated")
        if not reasons:
            reasons.append("it is cheaper")
        why.append("chosen because " + " and ".join(reasons))
    others = [e for e in contenders if e is not best and not against_lowest[id(e)]["same"]]
    if others and best is lowest:
        why.append(
            f"{len(others)} other{'s' * (len(others) > 1)} cannot be told apart from it"
            + (f" on these {_units_name(metric, n_units)}" if n_units else "")
        )
    name = _name(best)
    if name in calibration["calibrated"]:
        why.append("its intervals are calibrated")
    elif name in calibration["without"]:
        why.append("it gives no parameter intervals")
    elif name in calibration.get("unchecked", []):
        why.append("no true parameter values here to check its intervals against")
    chi2 = _median(best, "chi2_dof")
    if measured and chi2 is not None:
        why.append(f"χ²/dof {chi2:.2g}")
    why.append(_time_text(_seconds(best)))
    return "; ".join(dict.fromkeys(why))


def table_verdict(table):
    """The verdict on a :func:`fitflow.compare` table (one dataset, each method's row), as
    :func:`case_verdict` gives it for a case of the report; None when no row has an error
    metric to compare on."""
    from .data import error_metric, has_truth, leaderboard

    rows = table.assign(method_settings="default", replicate=0)
    metric = error_metric(rows[rows.status == "ok"])
    if metric is None:
        return None
    _, entries = leaderboard(rows[rows.status.isin(["ok", "failed"])])
    from .data import METRICS

    return case_verdict(entries, metric, METRICS.get(metric, (metric,))[0], not has_truth(rows), None, rows)


def verdict_text(verdict):
    """The verdict as lines of plain text (the command line's)."""
    if verdict is None:
        return []
    lines = []
    if verdict["trust"]:
        lines.append(f"trust {verdict['trust']['name']}: {verdict['trust']['why']}")
    if verdict["runner_up"]:
        lines.append(f"runner-up {verdict['runner_up']['name']}: {verdict['runner_up']['why']}")
    lines += [f"avoid {a['name']}: {a['why']}" for a in verdict["avoid"]]
    if verdict["note"]:
        lines.append(verdict["note"])
    lines.append(f"how: {verdict['rule']}")
    return lines
