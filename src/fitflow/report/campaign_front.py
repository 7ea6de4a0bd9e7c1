"""The report's view of a campaign with several objectives: its front and its hypervolume.

Read from the optimisers' ``summary.json`` like the rest of the campaign section. Every
optimiser's hypervolume is measured against one reference point, the worst feasible value of
each objective over all of them plus a tenth of its range, so the curves compare; the front
shown is the best optimiser's (largest final hypervolume), the points a scientist chooses from.
"""

import numpy as np

from ..campaigns.pareto import hypervolume, non_dominated, reference_point
from .figures import _pyplot

__all__ = ["pareto_view", "front_figure", "hypervolume_figure", "SETTLED_GAIN"]

#: Relative growth of the hypervolume over the last quarter of the evaluations below which
#: the search has settled.
SETTLED_GAIN = 0.01


def _minimising_signs(senses):
    """``(g,)`` +1 for each objective minimised, -1 for each maximised (``senses``: name -> sense)."""
    return np.array([1.0 if sense == "minimise" else -1.0 for sense in senses.values()])


def _minimised(summary):
    """``(m, g)`` each evaluation's objectives in the minimising sign, NaN where infeasible."""
    goals = summary["objectives"]
    outputs = summary["history"]["outputs"]
    signs = _minimising_signs(goals)
    values = np.column_stack([np.asarray(outputs[name], dtype=float) for name in goals]) * signs
    feasible = np.asarray(summary["history"]["feasible"], dtype=bool)
    return np.where(feasible[:, None], values, np.nan), signs


def pareto_view(summaries):
    """``{objectives, reference, curves, best, front, verdict}`` for the template: every
    optimiser's hypervolume after each evaluation against a shared reference, and the best
    optimiser's front (parameters and objectives, in the user's sign) with a verdict."""
    goals = summaries[0]["objectives"]
    minimised, signs = {}, None
    for s in summaries:
        minimised[s["method"]], signs = _minimised(s)
    pooled = np.vstack(list(minimised.values()))
    if not np.all(np.isfinite(pooled), axis=1).any():
        measured = sum(status == "ok" for s in summaries for status in s["history"]["status"])
        empty = (
            "No evaluation kept every constraint: there is no front yet"
            if measured
            else "No evaluation gave its objectives (every one failed; the reasons are below): there is no front yet"
        )
        return {"objectives": goals, "front": [], "curves": {}, "verdict": None, "empty": empty}
    reference = reference_point(pooled[non_dominated(pooled)])
    curves = {
        method: [hypervolume(values[: i + 1], reference) for i in range(len(values))]
        for method, values in minimised.items()
    }
    best = max(summaries, key=lambda s: curves[s["method"]][-1])
    values = minimised[best["method"]]
    on_front = np.flatnonzero(non_dominated(values))
    on_front = on_front[np.argsort(values[on_front, 0], kind="stable")]
    x = np.asarray(best["history"]["x"], dtype=float).reshape(len(values), -1)
    front = [
        {
            "evaluation": int(i),
            "params": dict(zip(best["names"], x[i])),
            "objectives": dict(zip(goals, values[i] * signs)),
        }
        for i in on_front
    ]
    return {
        "objectives": goals,
        "reference": dict(zip(goals, reference * signs)),
        "curves": curves,
        "best": best["method"],
        "front": front,
        "verdict": _verdict(best["method"], curves, front, goals),
    }


def _verdict(method, curves, front, goals):
    """The lines of a several-objective campaign's verdict: the front to choose from, its
    ends, whether the hypervolume has stopped growing, and whether more shots pay."""
    curve = np.asarray(curves[method], dtype=float)
    n = len(curve)
    window = max(2, int(np.ceil(0.25 * n)))
    before = curve[-window - 1] if n > window else 0.0
    gain = (curve[-1] - before) / curve[-1] if curve[-1] > 0 else np.inf
    settled = n > window and gain < SETTLED_GAIN
    names = list(goals)

    def at(point):
        return ", ".join(f"{k} = {v:.4g}" for k, v in point["objectives"].items())

    # the front runs from the best first objective to the best second (two objectives)
    ends = [f"best {names[0]}: {at(front[0])}"] + ([f"best {names[1]}: {at(front[-1])}"] if len(front) > 1 else [])
    others = [f"{m}: hypervolume {c[-1]:.4g}" for m, c in curves.items() if m != method]
    return {
        "front": f"{len(front)} evaluation{'s' if len(front) != 1 else ''} by {method} form the front "
        f"(hypervolume {curve[-1]:.4g}, the largest); choose among them by the trade-off you need",
        "ends": "; ".join(ends),
        "settled": (
            f"settled: the hypervolume grew by {gain:.1%} over the last {window} of {n} evaluations"
            if settled
            else f"still improving: the hypervolume grew by {gain:.1%} over the last {window} of {n} evaluations"
        ),
        "more": "unlikely to pay: the front has stopped moving"
        if settled
        else "likely to pay: the front is still moving",
        "others": others,
    }


def front_figure(summaries, colours, view):
    """The first two objectives of every evaluation (user's units), each optimiser's front as
    a staircase, and its predicted front (dashed) where it has one; infeasible evaluations as
    open circles."""
    goals = list(view["objectives"])
    if len(goals) < 2 or not view["front"]:
        return None
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for s in summaries:
        colour = colours[s["method"]]
        outputs = s["history"]["outputs"]
        a, b = (np.asarray(outputs[g], dtype=float) for g in goals[:2])
        feasible = np.asarray(s["history"]["feasible"], dtype=bool)
        ax.scatter(a[feasible], b[feasible], s=14, color=colour, alpha=0.35, lw=0)
        if (~feasible).any():
            ax.scatter(a[~feasible], b[~feasible], s=16, facecolor="none", edgecolor=colour, lw=0.8)
        values, _ = _minimised(s)
        on = np.flatnonzero(non_dominated(values[:, :2]))
        # in the minimising sign the front falls along the first objective, and what it attains
        # between two of its points is the first's level of the second: a "post" staircase
        on = on[np.argsort(values[on, 0], kind="stable")]
        ax.step(a[on], b[on], where="post", color=colour, lw=1.2)
        ax.plot(a[on], b[on], "o", color=colour, ms=6, mec="k", mew=0.5, label=f"{s['method']} front ({len(on)})")
        predicted = s.get("predicted_front")
        if predicted:
            _draw_predicted_front(ax, predicted, goals, view["objectives"], colour, s["method"])
    ax.set_xlabel(f"{goals[0]} ({view['objectives'][goals[0]]})")
    ax.set_ylabel(f"{goals[1]} ({view['objectives'][goals[1]]})")
    ax.legend(loc="best")
    return fig


def _draw_predicted_front(ax, predicted, goals, senses, colour, method, n_bars=8):
    """An optimiser's predicted front (its surrogates' posterior means, projected on the
    first two objectives) as a dashed staircase, with one-sd error bars in both objectives
    at ``n_bars`` points along it."""
    a, b = (np.asarray(predicted["mean"][g], dtype=float) for g in goals[:2])
    sd_a, sd_b = (np.asarray(predicted["sd"][g], dtype=float) for g in goals[:2])
    signs = _minimising_signs({g: senses[g] for g in goals[:2]})
    on = np.flatnonzero(non_dominated(np.column_stack([a * signs[0], b * signs[1]])))
    on = on[np.argsort(a[on] * signs[0], kind="stable")]
    ax.step(a[on], b[on], where="post", color=colour, lw=1.0, ls="--", label=f"{method} predicted front (± 1 sd)")
    bars = on[np.unique(np.linspace(0, len(on) - 1, min(n_bars, len(on))).round().astype(int))]
    ax.errorbar(
        a[bars], b[bars], xerr=sd_a[bars], yerr=sd_b[bars], fmt="none", ecolor=colour, elinewidth=0.8, alpha=0.6
    )


def hypervolume_figure(summaries, colours, view):
    """Each optimiser's hypervolume (shared reference) against evaluations."""
    if not view["curves"]:
        return None
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 3.4))
    for s in summaries:
        curve = view["curves"][s["method"]]
        ax.step(np.arange(1, len(curve) + 1), curve, where="post", color=colours[s["method"]], label=s["method"])
    for first in np.cumsum(summaries[0]["rounds"])[:-1]:
        ax.axvline(first + 0.5, color="0.85", lw=0.8, zorder=0)
    ax.set_xlabel("evaluations (grey lines: ends of rounds)")
    ax.set_ylabel("hypervolume of the front")
    ax.legend(loc="lower right")
    return fig
