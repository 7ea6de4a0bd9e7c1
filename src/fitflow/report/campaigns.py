"""The report's optimisation-campaign section: progress, evaluated points, surrogate, failures.

Read from each optimiser's ``summary.json`` (written by
:func:`fitflow.run.campaign_jobs.summarise_campaign`); nothing is re-evaluated.
"""

from pathlib import Path

import numpy as np

from ..core.artefacts import read_json
from .campaign_front import front_figure, hypervolume_figure, pareto_view
from .campaign_verdict import campaign_verdict
from .figures import drawn, logged_failure

__all__ = ["campaign_sections"]

PAIR_PLOT_MAX_DIM = 6


def campaign_sections(root, info, configfiles, colours_for):
    """One dict per campaign for the template (empty list without campaigns)."""
    root = Path(root)
    by_campaign = {}
    for run in info.get("campaigns") or []:
        path = root / "campaigns" / run["campaign"] / run["method"]["label"] / "summary.json"
        if path.exists():
            by_campaign.setdefault(run["campaign"], []).append(read_json(path))
    config = "".join(f" --configfile {f}" for f in configfiles)
    sections = []
    for campaign, summaries in by_campaign.items():
        methods = [s["method"] for s in summaries]
        colours = colours_for(methods)
        guided = next((s for s in summaries if s.get("slices")), summaries[0])
        pareto = _pareto(campaign, summaries) if summaries[0].get("objectives") else None
        view = pareto if pareto and "error" not in pareto else None
        sections.append(
            {
                "name": campaign,
                "anchor": f"campaign-{campaign}",
                "direction": summaries[0].get("direction"),
                "verdict": _verdict(campaign, summaries),
                "parameters": summaries[0]["names"],
                "constraints": summaries[0].get("constraints") or [],
                "rows": [_row(s, colours) for s in summaries],
                "failures": [dict(f, method=s["method"]) for s in summaries for f in s["failures"]],
                "pareto": pareto,
                "front": drawn(f"{campaign} front", front_figure, summaries, colours, view) if view else None,
                "progress": drawn(f"{campaign} progress", progress_figure, summaries, colours)
                if not pareto
                else drawn(f"{campaign} hypervolume", hypervolume_figure, summaries, colours, view)
                if view
                else None,
                "points": drawn(f"{campaign} points", points_figure, guided),
                "points_method": guided["method"],
                "slices": drawn(f"{campaign} slices", slices_figure, guided, colours[guided["method"]]),
                "histories": [f"campaigns/{campaign}/{s['method']}/history.csv" for s in summaries],
                "continue": f"snakemake --cores 4{config}",
            }
        )
    return sections


def _verdict(campaign, summaries):
    """The campaign's verdict, or ``{"error": reason}`` when forming it raises (traceback to the
    report job's log): the verdict is a summary, never the reason a report is missing."""
    try:
        return campaign_verdict(summaries)
    except Exception as exc:  # summaries of any vintage or shape
        return {"error": logged_failure(f"the verdict on campaign '{campaign}' could not be formed", exc)}


def _pareto(campaign, summaries):
    """The several-objective view of a campaign, or ``{"error": reason}`` when forming it raises."""
    try:
        return pareto_view(summaries)
    except Exception as exc:  # summaries of any vintage or shape
        return {"error": logged_failure(f"the Pareto front of campaign '{campaign}' could not be formed", exc)}


def _row(summary, colours):
    best = summary.get("recommended") or {}
    return {
        "method": summary["method"],
        "colour": colours[summary["method"]],
        "n": summary["n_evaluations"],
        "n_failed": summary["n_failed"],
        "n_infeasible": summary.get("n_infeasible", 0),
        "n_front": len(summary.get("front") or []),
        "no_answer": summary.get("no_answer") or "every evaluation failed",
        "rounds": len(summary["rounds"]),
        "batch": max(summary["rounds"][1:] or summary["rounds"]),
        "params": {name: best["params"][name] for name in summary["names"]} if best else None,
        "value": best.get("value"),
        "sd": best.get("sd"),
        "true_value": best.get("true_value"),
        "regret": best.get("regret"),
    }


def _pyplot():
    from .figures import _pyplot

    return _pyplot()


def progress_figure(summaries, colours):
    """Best value so far against evaluations for each optimiser, with the recommended
    value and its uncertainty at the end; regret on a log axis when the optimum is known."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7.0, 3.6))
    optimum = summaries[0].get("optimum_value")
    sign = -1.0 if summaries[0].get("direction") == "maximise" else 1.0
    values = []
    for s in summaries:
        best = np.asarray(s["history"]["best_so_far"], dtype=float)
        n = np.arange(1, best.size + 1)
        shown = sign * (best - optimum) if optimum is not None else best
        ax.step(n, shown, where="post", color=colours[s["method"]], label=f"{s['method']} best so far")
        values.append(shown[np.isfinite(shown)])
        rec = s.get("recommended")
        if rec:
            reference = rec.get("true_value", rec["value"])
            y = sign * (reference - optimum) if optimum is not None else rec["value"]
            sd = rec["sd"] if rec.get("sd") is not None and "true_value" not in rec else 0.0
            lower = min(sd, 0.999 * abs(y)) if optimum is not None else sd  # a log axis stays positive
            ax.errorbar(
                [best.size + 0.6],
                [y],
                yerr=[[lower], [sd]],
                fmt="D",
                ms=6,
                color=colours[s["method"]],
                capsize=3,
                label=f"{s['method']} recommended" + (" (true regret)" if "true_value" in rec else ""),
            )
            values.append(np.array([y]))
    values = np.concatenate(values) if values else np.array([])
    if optimum is not None:
        ax.set_yscale("log")
        ax.set_ylabel("regret (worse than the optimum by)")
    else:
        positive = values[values > 0]
        if positive.size == values.size and positive.size and positive.max() / positive.min() > 100:
            ax.set_yscale("log")
        ax.set_ylabel(f"best value ({summaries[0]['direction']})")
    for first in np.cumsum(summaries[0]["rounds"])[:-1]:
        ax.axvline(first + 0.5, color="0.85", lw=0.8, zorder=0)
    ax.set_xlabel("evaluations (grey lines: ends of rounds)")
    ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5))
    return fig


def points_figure(summary):
    """Pair plot of the evaluated points (d <= 6), coloured by round; failures as crosses,
    evaluations that broke a constraint as open circles. In one dimension: the parameter
    against the evaluation number."""
    names = summary["names"]
    dim = len(names)
    if dim > PAIR_PLOT_MAX_DIM:
        return None
    plt = _pyplot()
    x = np.asarray(summary["history"]["x"], dtype=float).reshape(-1, dim)
    rounds = np.asarray(summary["history"]["round"])
    ok = np.array([s == "ok" for s in summary["history"]["status"]])
    feasible = np.asarray(summary["history"].get("feasible", ok), dtype=bool)
    broke = ok & ~feasible
    ok &= feasible
    rec = (summary.get("recommended") or {}).get("x")
    cmap, norm = plt.get_cmap("viridis"), plt.Normalize(0, max(int(rounds.max()), 1))
    if dim == 1:
        fig, ax = plt.subplots(figsize=(6.0, 3.0))
        cells = [(ax, np.arange(1, len(x) + 1), x[:, 0], "evaluation", names[0], None)]
        _parameter_axis(ax, "y", summary, names[0])
    else:
        cells_per_side = dim - 1
        size = 2.2 if dim > 2 else 3.6
        fig, axes = plt.subplots(
            cells_per_side, cells_per_side, figsize=(size * cells_per_side + 1.3, size * cells_per_side), squeeze=False
        )
        cells = []
        for i in range(1, dim):
            for j in range(cells_per_side):
                ax = axes[i - 1, j]
                if j >= i:
                    ax.axis("off")
                    continue
                star = (rec[j], rec[i]) if rec is not None else None
                cells.append(
                    (ax, x[:, j], x[:, i], names[j] if i == dim - 1 else None, names[i] if j == 0 else None, star)
                )
                _parameter_axis(ax, "x", summary, names[j])
                _parameter_axis(ax, "y", summary, names[i])
    for ax, u, v, xlabel, ylabel, star in cells:
        ax.scatter(u[ok], v[ok], c=rounds[ok], cmap=cmap, norm=norm, s=20, edgecolor="k", lw=0.3)
        if broke.any():
            ax.scatter(u[broke], v[broke], facecolor="none", edgecolor=cmap(norm(rounds[broke])), s=20, lw=1.0)
        failed = ~ok & ~broke
        if failed.any():
            ax.scatter(u[failed], v[failed], marker="x", color="crimson", s=32)
        if star is not None:
            ax.plot(*star, "*", color="orange", ms=14, mec="k", mew=0.6)
        if xlabel:
            ax.set_xlabel(xlabel)
        if ylabel:
            ax.set_ylabel(ylabel)
    fig.colorbar(plt.cm.ScalarMappable(norm=norm, cmap=cmap), ax=fig.axes, label="round", shrink=0.7)
    return fig


def slices_figure(summary, colour):
    """The surrogate's mean and 95% band along each parameter through the recommendation."""
    slices = summary.get("slices")
    if not slices:
        return None
    plt = _pyplot()
    columns = min(3, len(slices))
    rows = -(-len(slices) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(3.3 * columns, 2.6 * rows), squeeze=False)
    rec = summary["recommended"]
    for ax, s, at in zip(axes.flat, slices, rec["x"]):
        name = s["name"]
        grid, mean, sd = (np.asarray(s[k], dtype=float) for k in ("grid", "mean", "sd"))
        if _parameter_axis(ax, "x", summary, name):
            ax.errorbar(grid, mean, 2 * sd, fmt="o", color=colour, capsize=3)
        else:
            ax.fill_between(grid, mean - 2 * sd, mean + 2 * sd, color=colour, alpha=0.2, lw=0)
            ax.plot(grid, mean, color=colour)
        ax.axvline(at, color="orange", lw=1.2)  # the coordinate: a choice's option is its index
        ax.set_xlabel(name)
        ax.set_ylabel("surrogate value")
    for ax in list(axes.flat)[len(slices) :]:
        ax.axis("off")
    fig.suptitle(f"{summary['method']}: surrogate mean ± 2 sd through the recommended point (orange)", fontsize=9)
    fig.tight_layout()
    return fig


def _parameter_axis(ax, which, summary, name):
    """Draw parameter ``name`` on axis ``which`` ("x" or "y") as the scientist wrote it: a
    choice ticked with its options at their indices, a log-scale knob on a log axis.
    Whether it is a choice."""
    spec = summary.get("parameters", {}).get(name)
    if isinstance(spec, dict) and "choices" in spec:
        axis = ax.xaxis if which == "x" else ax.yaxis
        axis.set_ticks(range(len(spec["choices"])), [str(option) for option in spec["choices"]])
        return True
    if isinstance(spec, dict) and spec.get("scale") == "log":
        (ax.set_xscale if which == "x" else ax.set_yscale)("log")
    return False
