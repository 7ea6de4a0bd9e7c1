"""How sure a campaign is, and whether it has settled: said on every call, not only in the report.

:func:`assess` reads a campaign's history and its recommendation and gives the experimenter's
questions their answers, each with its evidence:

* **how sure**: the surrogate's sd at the recommendation as a share of the spread of the
  measured values (below :data:`SURE`: sure; above :data:`UNSURE`: unsure);
* **settled**: whether the best measured value has moved, by more than that sd (at least 1% of
  the spread), over the last :data:`QUIET_SHARE` of the evaluations (at least two rounds);
  with how far it moved;
* **the limits**: under constraints, each limit at the recommendation (its measured value and
  margin, the surrogates' prediction and the probability of keeping it); with no feasible shot,
  that nothing is feasible yet and how close each limit came.

The workflow's report (:mod:`fitflow.report.campaign_verdict`) and ``fitflow suggest``,
``minimise``, ``maximise`` all read these.
"""

import math

import numpy as np

__all__ = [
    "assess",
    "limits_at",
    "quiet_evaluations",
    "quiet_needed",
    "how_sure",
    "SURE",
    "UNSURE",
    "QUIET_SHARE",
    "SAFE_PROBABILITY",
]

#: The sd at the recommendation, as a fraction of the measured values' spread, below which the
#: surrogate is "sure" and above which it is "unsure"; "fairly sure" between.
SURE, UNSURE = 0.05, 0.25
#: The share of the evaluations (at least two rounds) over which a settled search has not improved.
QUIET_SHARE = 0.25


def quiet_needed(n_evaluations, last_rounds):
    """How many of the last evaluations must leave the best value still to call a campaign
    settled: the last two rounds (``last_rounds``, their sizes summed), and at least
    :data:`QUIET_SHARE` of all."""
    return max(int(last_rounds), math.ceil(QUIET_SHARE * n_evaluations))


def quiet_evaluations(best_so_far, needed, sd, spread):
    """``(quiet, moved)``: how many of the last evaluations left the best value (minimising
    sign, NaN until the first) within ``sd`` (at least 1% of ``spread``) of its final level,
    and how much it moved over the last ``needed``; ``(None, None)`` with too few evaluations."""
    best = np.asarray(best_so_far, dtype=float)
    n = best.size
    if n <= needed or not np.isfinite(best[-1]):
        return None, None
    tolerance = max(sd if math.isfinite(sd) else 0.0, 0.01 * spread)
    behind = ~(best <= best[-1] + tolerance)  # NaN (nothing measured yet) counts as behind
    quiet = n - (int(np.flatnonzero(behind)[-1]) + 1) if behind.any() else n
    before = best[n - needed - 1]
    moved = float(before - best[-1]) if np.isfinite(before) else float("inf")
    return quiet, moved


def how_sure(sd, spread):
    """``sure``, ``fairly sure`` or ``unsure``, with the sd and its share of the spread; None
    without an sd."""
    if sd is None or not math.isfinite(sd):
        return None
    if spread <= 0:
        return f"sd {sd:.3g} (the measured values do not vary)"
    share = sd / spread
    word = "sure" if share < SURE else "fairly sure" if share < UNSURE else "unsure"
    return f"{word}: sd {sd:.3g} at the recommendation, {share:.0%} of the spread of the measured values"


#: Below this probability of keeping a limit, a repeat of the recommended shot may well break it.
SAFE_PROBABILITY = 0.9


def limits_at(history, recommendation):
    """One sentence per constraint at the recommendation: its measured value and margin, and,
    where the optimiser's surrogates predict it, the predicted value ± sd and the probability of
    keeping the limit (a warning below :data:`SAFE_PROBABILITY`)."""
    said = []
    predicted = recommendation.outputs or {}
    for j, constraint in enumerate(history.constraints):
        parts = []
        if recommendation.index is not None and math.isfinite(history.outputs[recommendation.index, j]):
            value = float(history.outputs[recommendation.index, j])
            margin = float(constraint.slack(value))
            share = f", {100 * abs(margin) / abs(constraint.limit):.2g}% of the limit" if constraint.limit else ""
            inside = "inside" if margin >= 0 else "outside"
            parts.append(f"measured {value:.4g}, {abs(margin):.3g} {inside} the limit{share}")
        guess = predicted.get(constraint.name)
        if guess:
            parts.append(
                f"predicted {guess['mean']:.4g} ± {guess['sd']:.2g}; a repeat keeps it with probability "
                f"{guess['probability']:.0%}"
            )
            if guess["probability"] < SAFE_PROBABILITY:
                parts.append("a repeat may well break it")
        if parts:
            said.append(f"{constraint} at the recommendation: {'; '.join(parts)}")
    return said


def assess(history, recommendation, last_rounds=None):
    """Sentences for the experimenter: how sure, settled or not (with the evidence), and,
    under constraints, feasible or how close. ``last_rounds``: the sizes of the last two
    rounds summed (default: a quarter of the evaluations, at least 4)."""
    said = []
    values = history.y[history.feasible & np.isfinite(history.y)]
    spread = float(np.ptp(values)) if values.size > 1 else 0.0
    if history.constraints and not history.feasible.any():
        from .campaign import no_answer

        said.append(f"nothing feasible yet: {no_answer(history)}")
        return said
    if recommendation is None:
        return said
    sure = how_sure(recommendation.sd, spread)
    if sure:
        said.append(sure)
    said += limits_at(history, recommendation)
    n = len(history)
    needed = quiet_needed(n, last_rounds if last_rounds is not None else max(4, math.ceil(n / 4)))
    quiet, moved = quiet_evaluations(history.best_so_far(), needed, recommendation.sd, spread)
    if quiet is None:
        said.append(f"not settled: too few evaluations ({n}) to tell (needs more than {needed})")
    elif quiet >= needed:
        said.append(
            f"settled: the best measured value has not improved by more than the surrogate's sd in the last "
            f"{quiet} of {n} evaluations; more shots would refine the answer rather than move it (they can "
            "still find a peak no shot has come near)"
        )
    else:
        said.append(
            f"still improving: the best measured value improved by {moved:.3g} within the last {needed} of {n} "
            "evaluations; more shots are likely to pay"
        )
    return said
