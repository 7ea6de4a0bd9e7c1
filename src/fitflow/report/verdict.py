"""The answer first: for each problem, the method to trust, the runner-up and those to avoid.

A verdict reads only what the leaderboard and the calibration table already show, so every
claim it makes links to its evidence further down the report:

* **accuracy**: the rank of each method's median error on the problem's natural metric (RMSE
  or parameter error against the truth; on measurements, the cross-validated error);
* **calibration**: whether its 68% and 95% intervals covered the truth at their nominal rates
  (Wilson intervals); a method whose intervals do not is to be avoided for its uncertainties;
* **reliability**: a method that failed some of its fits is to be avoided;
* **cost**: its median wall time per fit, and the runner-up's as a multiple of it.

On measurements there is no truth: the verdict rests on the cross-validated error and χ²/dof,
and says that calibration cannot be judged there (rehearse with ``simulate``).
"""

__all__ = ["case_verdict"]

#: A runner-up within this fraction of the best error is "as accurate".
AS_ACCURATE = 0.10


def _name(entry):
    return entry["method"] if entry["settings"] == "default" else f"{entry['method']} [{entry['settings']}]"


def _seconds(entry):
    time = entry["metrics"].get("wall_time_s")
    return time["median"] if time else None


def _time_text(seconds):
    if seconds is None:
        return "cost unknown"
    return f"{seconds:.2g} s per fit" if seconds >= 0.01 else f"{seconds * 1e3:.2g} ms per fit"


def _times(ratio):
    """``3.2×``, ``130×``, ``6,100×``: a ratio as a reader takes it in."""
    return f"{ratio:.2g}×" if ratio < 10 else f"{ratio:,.0f}×"


def _trusted(ranked, metric, calibration):
    """Among the methods as accurate as the best (within :data:`AS_ACCURATE` of the lowest
    median error), the calibrated ones first, the cheapest: a scientist does not pay 800x
    for the same answer."""
    lowest = ranked[0]["metrics"][metric]["median"]
    tied = [e for e in ranked if e["metrics"][metric]["median"] <= lowest * (1 + AS_ACCURATE)]
    calibrated = [e for e in tied if _name(e) in calibration["calibrated"]]
    pool = calibrated or tied
    return min(pool, key=lambda e: _seconds(e) if _seconds(e) is not None else float("inf"))


def case_verdict(entries, metric, heading, measured, calibration=None):
    """``{"trust", "runner_up", "avoid", "note"}`` for one problem case (see the module's doc).

    ``entries``: the leaderboard's rows; ``metric``/``heading``: the accuracy metric and its
    name; ``calibration``: the case's calibration verdict (lists of method names)."""
    calibration = calibration or {"calibrated": [], "miscalibrated": [], "without": [], "unchecked": []}
    avoid, ranked = [], []
    for entry in entries:
        name = _name(entry)
        if entry["failed"]:
            avoid.append({"name": name, "why": f"failed {entry['failed']} of {entry['fits']} fits"})
        elif name in calibration["miscalibrated"]:
            avoid.append({"name": name, "why": "its intervals do not cover the truth at their nominal rates"})
        elif metric and entry["metrics"].get(metric):
            ranked.append(entry)
    ranked.sort(key=lambda e: e["metrics"][metric]["median"])
    verdict = {"trust": None, "runner_up": None, "avoid": avoid, "note": "", "metric": heading}
    if not ranked:
        verdict["note"] = "no method gave a trustworthy answer on every replicate: see the failed fits below"
        return verdict
    best = _trusted(ranked, metric, calibration)
    ranked.remove(best)
    ranked.insert(0, best)
    error = best["metrics"][metric]["median"]
    lowest = min(e["metrics"][metric]["median"] for e in ranked)
    reliable = f"{len(ranked)} reliable method{'s' * (len(ranked) > 1)}"
    if error == lowest:
        why = [f"lowest median {heading} ({error:.3g}) of {reliable}"]
    else:
        why = [
            f"as accurate as the best of {reliable} (median {heading} {error:.3g}, within {AS_ACCURATE:.0%}) and the cheapest"
        ]
    name = _name(best)
    if name in calibration["calibrated"]:
        why.append("its intervals are calibrated")
    elif name in calibration["without"]:
        why.append("it gives no parameter intervals")
    elif name in calibration.get("unchecked", []):
        why.append("no true parameter values here to check its intervals against")
    chi2 = best["metrics"].get("chi2_dof")
    if measured and chi2:
        why.append(f"χ²/dof {chi2['median']:.2g}")
    why.append(_time_text(_seconds(best)))
    verdict["trust"] = {"name": name, "why": "; ".join(why)}
    if len(ranked) > 1:
        second = ranked[1]
        gap = second["metrics"][metric]["median"] / error - 1 if error > 0 else 0.0
        gap = max(gap, 0.0)  # a pricier runner-up may be a hair more accurate: "as accurate"
        if gap <= AS_ACCURATE:
            accuracy = "as accurate"
        elif gap < 1:
            accuracy = f"{gap:.0%} higher {heading}"
        else:
            accuracy = f"{_times(gap + 1)} the {heading}"
        t_best, t_second = _seconds(best), _seconds(second)
        if t_best and t_second:
            ratio = t_second / t_best
            cost = f"at {_times(ratio)} the cost" if ratio >= 1 else f"at 1/{_times(1 / ratio)[:-1]} of the cost"
        else:
            cost = _time_text(t_second)
        when = ""
        if _name(second) in calibration["calibrated"] and name not in calibration["calibrated"]:
            when = "; prefer it for its calibrated intervals"
        elif t_best and t_second and t_second < t_best and gap <= AS_ACCURATE:
            when = "; prefer it when fits are many"
        verdict["runner_up"] = {"name": _name(second), "why": f"{accuracy}, {cost}{when}"}
    if measured:
        verdict["note"] = (
            "measured data: no truth to score against, so the verdict rests on the cross-validated "
            "error (and χ²/dof where the file gives errors); whether a method's uncertainties are "
            "calibrated cannot be judged here: rehearse with the simulate problem"
        )
    return verdict
