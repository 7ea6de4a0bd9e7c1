"""The answer first for a campaign: which settings to use, how sure, and whether to go on.

Read from the optimisers' ``summary.json`` only, like the rest of the campaign section:

* **follow**: the optimiser whose recommendation is best (by true regret where the optimum is
  known, else by its predicted value), with the settings it recommends;
* **how sure** and **settled**: as :mod:`fitflow.campaigns.progress` judges them (which
  ``fitflow suggest`` and ``minimise`` print too);
* **more shots**: likely to pay while the search is still improving, or where the surrogate's
  expected improvement along some knob through the recommendation exceeds its uncertainty
  there; otherwise more shots would refine the answer rather than move it.
"""

import numpy as np
from scipy.stats import norm

from ..campaigns.progress import how_sure, quiet_evaluations, quiet_needed

__all__ = ["campaign_verdict"]


def campaign_verdict(summaries):
    """``{"follow", "sure", "settled", "more", "others"}`` (texts; ``follow`` a dict) for one
    campaign's optimisers, or ``None`` when none of them recommends anything."""
    answered = [s for s in summaries if s.get("recommended")]
    if not answered:
        return None
    best = min(answered, key=_badness)
    rec = best["recommended"]
    spread = _spread(best)
    verdict = {
        "follow": {
            "method": best["method"],
            "params": rec["params"],
            "value": rec["value"],
            "sd": rec.get("sd"),
            "regret": rec.get("regret"),
        },
        "sure": _how_sure(best, spread),
        "settled": None,
        "more": None,
        "others": [*rec.get("limits", []), *_others(best, summaries)],
    }
    needed = _quiet_needed(best)
    quiet, moved = _quiet_evaluations(best, needed, rec.get("sd") or 0.0, spread)
    gain, knob = _largest_expected_gain(best)
    settled = quiet is not None and quiet >= needed
    n = best["n_evaluations"]
    if settled:
        verdict["settled"] = (
            f"settled: the best measured value has not improved by more than the surrogate's sd in the last {quiet} of {n} evaluations"
        )
    elif quiet is None:
        verdict["settled"] = f"not settled: too few evaluations ({n}) to tell"
    else:
        verdict["settled"] = (
            f"still improving: the best measured value improved by {_number(moved)} within the last {needed} of {n} evaluations"
        )
    threshold = max(rec.get("sd") or 0.0, 0.01 * spread)
    if gain is not None and gain > threshold:
        verdict["more"] = (
            f"likely to pay: the surrogate expects a gain of up to {_number(gain)} along {knob} through the recommendation, above its uncertainty there"
        )
    elif not settled:
        verdict["more"] = "likely to pay: the search has not settled"
    elif gain is not None:
        verdict["more"] = (
            f"unlikely to pay here: the surrogate expects at most {_number(gain)} along any knob through the recommendation; more shots would refine the answer rather than move it (they can still find a peak the surrogate has not seen)"
        )
    else:
        verdict["more"] = "unlikely to pay: the search has settled (no surrogate to say where else to look)"
    return verdict


def _sign(summary):
    return -1.0 if summary.get("direction") == "maximise" else 1.0


def _badness(summary):
    """Lower is better: the true regret where known, else the predicted value in minimising sign."""
    rec = summary["recommended"]
    if rec.get("regret") is not None:
        return (0, rec["regret"])
    return (1, _sign(summary) * rec["value"])


def _measured(summary):
    """The values of the evaluations that succeeded, in the user's sign."""
    values = np.asarray(summary["history"]["value"], dtype=float)
    ok = np.array([status == "ok" for status in summary["history"]["status"]])
    return values[ok & np.isfinite(values)]


def _spread(summary):
    values = _measured(summary)
    return float(np.ptp(values)) if values.size > 1 else 0.0


def _how_sure(summary, spread):
    rec = summary["recommended"]
    where = f"evaluation {rec['evaluation'] + 1} measured it" if rec.get("evaluation") is not None else "predicted only"
    sure = how_sure(rec.get("sd"), spread)
    return f"{sure}; {where}" if sure else f"{where}; no surrogate to say how sure"


def _quiet_needed(summary):
    rounds = summary["rounds"]
    last_two = sum(rounds[-2:]) if len(rounds) > 1 else rounds[-1]
    return quiet_needed(summary["n_evaluations"], last_two)


def _quiet_evaluations(summary, needed, sd, spread):
    """:func:`fitflow.campaigns.progress.quiet_evaluations` on a summary's best-so-far values."""
    best = _sign(summary) * np.asarray(summary["history"]["best_so_far"], dtype=float)
    return quiet_evaluations(best, needed, sd, spread)


def _largest_expected_gain(summary):
    """``(gain, knob)``: the largest expected improvement over the recommended value along the
    surrogate's slices through it, and the knob where it lies; ``(None, None)`` without slices."""
    slices, rec = summary.get("slices"), summary["recommended"]
    if not slices:
        return None, None
    sign = _sign(summary)
    largest, knob = 0.0, slices[0]["name"]
    for s in slices:
        mean, sd = sign * np.asarray(s["mean"], dtype=float), np.asarray(s["sd"], dtype=float)
        improvement = sign * rec["value"] - mean
        z = np.divide(improvement, sd, out=np.zeros_like(sd), where=sd > 0)
        expected = np.where(sd > 0, improvement * norm.cdf(z) + sd * norm.pdf(z), np.maximum(improvement, 0.0))
        if expected.size and np.nanmax(expected) > largest:
            largest, knob = float(np.nanmax(expected)), s["name"]
    return largest, knob


def _others(best, summaries):
    """One line on each other optimiser: its recommendation's regret or value, or that it has none."""
    lines = []
    for s in summaries:
        if s is best:
            continue
        rec = s.get("recommended")
        if not rec:
            lines.append(f"{s['method']}: no recommendation ({s.get('no_answer') or 'every evaluation failed'})")
        elif rec.get("regret") is not None and best["recommended"].get("regret") is not None:
            lines.append(
                f"{s['method']}: true regret {_number(rec['regret'])} against {_number(best['recommended']['regret'])}"
            )
        else:
            lines.append(
                f"{s['method']}: predicted {_number(rec['value'])} against {_number(best['recommended']['value'])}"
            )
    return lines


def _number(value):
    return f"{value:.3g}"
