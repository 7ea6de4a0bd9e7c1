"""The report's figures, each returned as an embeddable PNG data URI.

One style for all: the Okabe-Ito colour-blind-safe palette with one fixed colour
per method across the whole report, labelled axes, legends outside the data.
Figures are summaries (medians, pooled pulls, one representative replicate),
so their number and size do not grow with the number of replicates.
"""

import base64
from dataclasses import dataclass
import io
import sys
import traceback

import numpy as np

from ..core.artefacts import dataset_failure, read_dataset, read_npz, read_result
from ..evaluation.plots import PALETTE, axis_labels, log_scale_if_wide
from ..evaluation.prediction import band_kind, predict_on_grid
from .data import METRICS, error_metric, scored_cases

__all__ = [
    "NotDrawn",
    "drawn",
    "data_uri",
    "png_data_uri",
    "method_colours",
    "fits_figure",
    "forest_figure",
    "pulls_figure",
    "calibration_figure",
    "cost_accuracy_figure",
    "optimisation_figure",
    "sweep_figure",
]

STYLE = {
    "font.size": 10,
    "axes.titlesize": 10,
    "axes.labelsize": 10,
    "legend.fontsize": 8,
    "xtick.labelsize": 8,
    "ytick.labelsize": 8,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "svg.hashsalt": "fitflow",
}


def _pyplot():
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    plt.rcParams.update(STYLE)
    return plt


@dataclass(frozen=True)
class NotDrawn:
    """A figure that raised while drawn: the report shows ``reason`` in its place."""

    name: str
    reason: str


def drawn(name, draw, *args, path=None, encode=None):
    """The figure ``draw(*args)`` as a data URI (also saved to ``path`` if given) or as
    ``encode(figure)``, None where ``draw`` has nothing to show, or :class:`NotDrawn` when
    drawing or encoding raises: one figure never takes the report down. The traceback goes
    to stderr, the report job's log."""
    try:
        fig = draw(*args)
        if fig is None:
            return None
        return encode(fig) if encode is not None else data_uri(fig, path)
    except Exception as exc:  # a figure of any kind, on data of any shape: report it, go on
        return NotDrawn(name, logged_failure(f"the figure '{name}' could not be drawn", exc))


def logged_failure(what, exc):
    """Print ``what`` and the traceback of ``exc`` (being handled) to stderr, the report job's
    log, and return the one-line reason the report shows in place of the part that failed."""
    print(f"fitflow report: {what}:", file=sys.stderr)
    traceback.print_exc(file=sys.stderr)
    return f"{type(exc).__name__}: {exc}"[:500]


def data_uri(fig, path=None):
    """Encode (and optionally save) a figure as PNG without dates or software tags."""
    from ..core.artefacts import write_bytes

    buffer = io.BytesIO()
    try:
        fig.savefig(buffer, format="png", dpi=100, metadata={"Software": None}, bbox_inches="tight", pad_inches=0.1)
    finally:
        _pyplot().close(fig)
    png = buffer.getvalue()
    if path is not None:
        write_bytes(path, png)
    return png_data_uri(png)


def png_data_uri(png):
    """PNG bytes as an inline ``data:`` URI for an ``<img src>``."""
    return "data:image/png;base64," + base64.b64encode(png).decode()


#: Line styles cycle too, so identical fits (OLS and NLLS on a linear model) stay visible.
LINE_STYLES = ("-", (0, (6, 2)), (0, (2, 1.5)), (0, (6, 2, 2, 2)))
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")


def method_colours(methods):
    """A fixed colour per method label, the same in every figure and table."""
    return {m: PALETTE[i % len(PALETTE)] for i, m in enumerate(sorted(methods))}


def _line_style(colours, method):
    return LINE_STYLES[sorted(colours).index(method) % len(LINE_STYLES)]


def _key_legends(ax, colours, methods, cases):
    """Two legends right of the axes: colour = method, marker = problem."""
    from matplotlib.lines import Line2D

    by_method = [Line2D([], [], color=colours[m], marker="o", ls="", label=m) for m in methods]
    by_case = [
        Line2D([], [], color="0.3", marker=MARKERS[i % len(MARKERS)], ls="", label=c) for i, c in enumerate(cases)
    ]
    first = ax.legend(handles=by_method, title="method", loc="upper left", bbox_to_anchor=(1.02, 1.0), frameon=False)
    ax.add_artist(first)
    ax.legend(handles=by_case, title="problem", loc="lower left", bbox_to_anchor=(1.02, 0.0), frameon=False)


def _legend_above(ax, ncol=4):
    ax.legend(loc="lower left", bbox_to_anchor=(0.0, 1.0), ncol=ncol, frameon=False)


def _representative(experiment, problem, psid, rep=0):
    """Dataset and every method's result for one replicate (``(None, {})`` where the
    problem produced no dataset)."""
    folder = experiment.dataset_dir(problem, psid, rep)
    if dataset_failure(folder):
        return None, {}
    dataset = read_dataset(folder)
    rows = experiment.rows(problem, psid)
    results = {}
    for method, msid in rows[["method", "method_settings"]].drop_duplicates().itertuples(index=False):
        folder = experiment.fit_dir(problem, psid, method, msid, rep)
        label = method if msid == "default" else f"{method} [{msid}]"
        results[label] = (method, read_result(folder))
    return dataset, results


def _output(values, j, k):
    """Output ``j`` of ``k`` of an array that is ``(n,)`` for one output or ``(n, k)``
    (a per-point sigma shared by every output stays ``(n,)``)."""
    if values is None:
        return None
    values = np.asarray(values)
    return values[:, j] if values.ndim == 2 and k > 1 else values


def fits_figure(experiment, problem, psid, colours, rep=0):
    """Data with error bars, the truth and each method's prediction with its 95% band;
    one panel per output where the response has several."""
    dataset, results = _representative(experiment, problem, psid, rep)
    if dataset is None or dataset.x.ndim != 1 or dataset.n_points == 0:
        return None
    k = dataset.n_outputs
    predictions = {
        _band_label(label, result): (method, *(predict_on_grid(dataset, result) if result.ok else (None, None)))
        for label, (method, result) in results.items()
    }
    plt = _pyplot()
    fig, axes = plt.subplots(k, 1, figsize=(8.0, 4.2 if k == 1 else 1.4 + 2.8 * k), sharex=True, squeeze=False)
    fig.subplots_adjust(left=0.08, right=0.98, bottom=0.12 if k == 1 else 0.3 / k, top=0.82 if k == 1 else 1 - 0.6 / k)
    off_scale = []
    xlabel, ylabel = axis_labels(dataset)
    for j, ax in enumerate(axes[:, 0]):
        off_scale += _draw_output(ax, dataset, j, k, predictions, colours)
        ax.set_ylabel(ylabel if k == 1 else dataset.output_names[j])
    axes[-1, 0].set_xlabel(xlabel)
    _legend_above(axes[0, 0], ncol=6)
    title = f"replicate {rep}; bands: 95%"
    if off_scale:
        title += f"; off the scale (not drawn): {', '.join(sorted(set(off_scale)))}"
    axes[0, 0].set_title(title, loc="right", fontsize=8, color="0.3")
    return fig


def _band_label(label, result):
    """A method's legend label with the kind of its band: ``"gp (predictive band)"``."""
    kind, _ = band_kind(result) if result.ok else (None, "")
    return f"{label} ({kind} band)" if kind else label


def _draw_output(ax, dataset, j, k, predictions, colours):
    """Output ``j``'s data, truth and predictions on ``ax``; returns the labels of the
    predictions too far off the data's scale to draw."""
    y = _output(dataset.y, j, k)
    ax.errorbar(
        dataset.x,
        y,
        yerr=_output(dataset.sigma, j, k),
        fmt="o",
        ms=2.5,
        color="0.45",
        ecolor="0.75",
        elinewidth=0.7,
        label="data",
        zorder=1,
    )
    truth = _output(dataset.grid_y, j, k)
    reference = truth if truth is not None else y
    if truth is not None:
        ax.plot(dataset.grid_x, truth, color="black", ls="--", lw=1.5, label="truth", zorder=5)
    off_scale = []
    low, high = np.min(reference), np.max(reference)
    pad = 0.25 * (high - low or 1.0)
    for label, (method, mean, std) in predictions.items():
        mean, std = _output(mean, j, k), _output(std, j, k)
        if mean is None:
            continue
        if np.max(np.abs(mean - np.clip(mean, low - 4 * pad, high + 4 * pad))) > 0:
            off_scale.append(label)
            continue
        ax.plot(
            dataset.grid_x, mean, color=colours[method], ls=_line_style(colours, method), lw=1.8, label=label, zorder=4
        )
        if std is not None:
            ax.fill_between(
                dataset.grid_x, mean - 1.96 * std, mean + 1.96 * std, color=colours[method], alpha=0.18, lw=0, zorder=2
            )
    ax.set_ylim(low - pad, high + pad)
    return off_scale


def forest_figure(experiment, problem, psid, colours, rep=0, max_params=8):
    """Each method's estimate ± 1σ for every parameter, against the truth (one replicate)."""
    from matplotlib.ticker import MaxNLocator

    dataset, results = _representative(experiment, problem, psid, rep)
    if dataset is None or not dataset.truth_params:
        return None
    fitted = {label: r for label, r in results.items() if r[1].ok and r[1].params}
    if not fitted:
        return None
    order = dataset.model.param_names if dataset.model is not None else tuple(dataset.truth_params)
    names = [n for n in order if n in dataset.truth_params][:max_params]
    plt = _pyplot()
    cols = min(4, len(names))
    rows_ = int(np.ceil(len(names) / cols))
    labels = list(fitted)
    fig, axes = plt.subplots(rows_, cols, figsize=(2.5 * cols, (0.32 * len(labels) + 1.1) * rows_), squeeze=False)
    fig.subplots_adjust(wspace=0.15, hspace=0.7)
    for k, name in enumerate(names):
        ax = axes[k // cols, k % cols]
        for i, label in enumerate(labels):
            method, result = fitted[label]
            if name not in result.params:
                continue
            err = (result.stderr or {}).get(name, np.nan)
            ax.errorbar(
                result.params[name],
                i,
                xerr=err if np.isfinite(err) else None,
                fmt="o",
                color=colours[method],
                ms=4,
                capsize=2,
            )
        ax.axvline(dataset.truth_params[name], color="black", ls="--", lw=1)
        ax.set_yticks(range(len(labels)))
        ax.set_yticklabels(labels if k % cols == 0 else [])
        ax.set_ylim(-0.7, len(labels) - 0.3)
        ax.invert_yaxis()
        ax.set_title(name)
        ax.xaxis.set_major_locator(MaxNLocator(3))
    for k in range(len(names), rows_ * cols):
        axes[k // cols, k % cols].set_visible(False)
    return fig


def pulls_figure(rows, colours):
    """Pulls (estimate − truth)/σ pooled over parameters and replicates, against N(0, 1)."""
    pull_columns = [c for c in rows.columns if c.startswith("param.") and c.endswith(".pull")]
    if not pull_columns:
        return None
    pulls = {}
    for method, group in rows[rows.status == "ok"].groupby("method", sort=True):
        values = group[pull_columns].to_numpy(dtype=float).ravel()
        values = values[np.isfinite(values)]
        if values.size:
            pulls[method] = values
    if not pulls:
        return None
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.0, 3.6))
    fig.subplots_adjust(left=0.11, right=0.97, bottom=0.14, top=0.82)
    bins = np.linspace(-4, 4, 33)
    for method, values in pulls.items():
        clipped = np.clip(values, -4, 4)
        ax.hist(
            clipped,
            bins=bins,
            density=True,
            histtype="step",
            lw=1.6,
            color=colours[method],
            label=f"{method} (sd {np.std(values):.2f}, n={values.size})",
        )
    grid = np.linspace(-4, 4, 200)
    ax.plot(grid, np.exp(-0.5 * grid**2) / np.sqrt(2 * np.pi), color="black", ls="--", label="N(0, 1)")
    ax.set_xlabel("pull (estimate − truth) / σ   [clipped to ±4]")
    ax.set_ylabel("density")
    _legend_above(ax, ncol=2)
    return fig


def calibration_figure(calibration, colours):
    """Empirical against nominal coverage of the 68% and 95% parameter intervals."""
    points = [(r, lvl) for r in calibration for lvl in ("68", "95") if f"param{lvl}" in r]
    if not points:
        return None
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5.0, 4.0))
    ax.plot([0.5, 1.0], [0.5, 1.0], color="black", lw=1, ls="--")
    ax.text(0.62, 0.635, "calibrated", ha="left", va="bottom", fontsize=8, color="0.3")
    cases = sorted({r["case"] for r, _ in points})
    methods = sorted({r["method"] for r, _ in points})
    slots = [(r["method"], r["case"]) for r in {(r["method"], r["case"]): r for r, _ in points}.values()]
    for row, level in points:
        cell = row[f"param{level}"]
        nominal = 0.6827 if level == "68" else 0.95
        # Spread the points of one nominal level sideways so their error bars do not overlap.
        offset = 0.05 * ((slots.index((row["method"], row["case"])) + 0.5) / len(slots) - 0.5)
        ax.errorbar(
            nominal + offset,
            cell["value"],
            yerr=[[max(0.0, cell["value"] - cell["low"])], [max(0.0, cell["high"] - cell["value"])]],
            fmt=MARKERS[cases.index(row["case"]) % len(MARKERS)],
            color=colours[row["method"]],
            ms=5,
            capsize=2,
        )
    ax.set_xlim(0.6, 1.0)
    ax.set_ylim(max(0.0, min(r[f"param{lvl}"]["low"] for r, lvl in points) - 0.05), 1.02)
    ax.set_xticks([0.6827, 0.95], ["68%", "95%"])
    ax.set_xlabel("nominal coverage")
    ax.set_ylabel("empirical coverage")
    _key_legends(ax, colours, methods, cases)
    return fig


def cost_accuracy_figure(experiment, colours):
    """Median wall time against median error, one point per method and problem."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5.6, 4.2))
    costs, errors, cases, methods = [], [], [], set()
    for problem, psid, rows, metric in scored_cases(experiment):
        marker = MARKERS[len(cases) % len(MARKERS)]  # the legend lists problems in this order
        for method, group in rows.groupby("method", sort=True):
            error = np.nanmedian(group[metric].to_numpy(dtype=float))
            cost = np.nanmedian(group["wall_time_s"].to_numpy(dtype=float))
            if not (np.isfinite(error) and np.isfinite(cost)) or error <= 0:
                continue
            ax.plot(max(cost, 1e-5), error, marker, color=colours[method], ms=7)
            costs.append(max(cost, 1e-5))
            errors.append(error)
            methods.add(method)
        cases.append(f"{experiment.case_label(problem, psid)}: {METRICS.get(metric, (metric,))[0]}")
    if not costs:
        plt.close(fig)
        return None
    # Log axes where the values span decades; within one, matplotlib's log axis labels its
    # minor ticks (2.6 x 10^-1, 2.7 x 10^-1, ...) on top of one another, and linear reads better.
    log_scale_if_wide(ax, "x", costs)
    log_scale_if_wide(ax, "y", errors)
    ax.set_xlabel("median wall time per fit [s]")
    ax.set_ylabel("median error (metric per problem in legend)")
    _key_legends(ax, colours, sorted(methods), cases)
    return fig


#: Replicates whose best-so-far curves the optimisation figure reads, at most.
MAX_CURVES = 200


def optimisation_figure(experiment, problem, psid, colours):
    """Median (and quartiles) over replicates of the best value so far against evaluations."""
    rows = experiment.rows(problem, psid)
    curves = {}
    optimum = None
    if "best_value" not in rows or rows["best_value"].isna().all():  # not an optimisation
        return None
    for (method, msid), group in rows[rows.status == "ok"].groupby(["method", "method_settings"], sort=True):
        histories = []
        for rep in group.replicate[:MAX_CURVES]:  # a median over more would look the same
            arrays = read_npz(experiment.fit_dir(problem, psid, method, msid, rep) / "result.npz")
            if "diag.best_so_far" in arrays:
                histories.append(arrays["diag.best_so_far"])
        if histories:
            length = min(len(h) for h in histories)
            curves[method] = np.array([h[:length] for h in histories])
        regret = group["regret"].to_numpy(dtype=float)
        best = group["best_value"].to_numpy(dtype=float)
        if np.isfinite(regret).any():
            optimum = float(np.nanmedian(best - regret))
    if not curves:
        return None
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 3.8))
    fig.subplots_adjust(left=0.12, right=0.97, bottom=0.13, top=0.84)
    for method, values in curves.items():
        y = values - optimum if optimum is not None else values
        if optimum is not None:
            y = np.maximum(y, 1e-12)
        q25, median, q75 = np.percentile(y, [25, 50, 75], axis=0)
        evaluations = np.arange(1, y.shape[1] + 1)
        ax.plot(evaluations, median, color=colours[method], lw=1.8, label=f"{method} (median of {len(y)})")
        ax.fill_between(evaluations, q25, q75, color=colours[method], alpha=0.2, lw=0)
    if optimum is not None:
        ax.set_yscale("log")
        ax.set_ylabel("regret of best so far")
    else:
        ax.set_ylabel("best objective value so far")
    ax.set_xlabel("evaluations")
    _legend_above(ax, ncol=3)
    return fig


def sweep_figure(experiment, problem, colours):
    """A problem's error metric against its swept setting, one line per method."""
    cases = [c for c in experiment.info.get("problems", []) if c["label"] == problem and c["swept"]]
    if len(cases) < 2:
        return None
    keys = sorted(cases[0]["swept"])
    rows = experiment.rows(problem)
    rows = rows[rows.status == "ok"]
    metric = error_metric(rows)
    if metric is None:
        return None
    numeric = len(keys) == 1 and all(isinstance(c["swept"][keys[0]], (int, float)) for c in cases)
    order = sorted(cases, key=lambda c: [c["swept"][k] for k in keys])
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.0, 3.8))
    fig.subplots_adjust(left=0.12, right=0.97, bottom=0.16, top=0.84)
    for method, group in rows.groupby("method", sort=True):
        xs, medians, lows, highs = [], [], [], []
        for i, case in enumerate(order):
            values = group[group.problem_settings == case["sid"]][metric].to_numpy(dtype=float)
            values = values[np.isfinite(values)]
            if not values.size:
                continue
            xs.append(case["swept"][keys[0]] if numeric else i)
            q25, q50, q75 = np.percentile(values, [25, 50, 75])
            medians.append(q50), lows.append(q25), highs.append(q75)
        if xs:
            ax.plot(xs, medians, "o-", color=colours[method], label=method)
            ax.fill_between(xs, lows, highs, color=colours[method], alpha=0.15, lw=0)
    if numeric:
        ax.set_xlabel(keys[0])
        log_scale_if_wide(ax, "x", [c["swept"][keys[0]] for c in cases])
    else:
        ax.set_xticks(range(len(order)))
        ax.set_xticklabels([c["sid"] for c in order], rotation=20, ha="right")
        ax.set_xlabel(", ".join(keys))
    log_scale_if_wide(ax, "y", rows[metric])
    ax.set_ylabel(f"median {METRICS.get(metric, (metric,))[0]} (band: quartiles)")
    _legend_above(ax, ncol=4)
    return fig


def built(name, build, fallback, not_built):
    """``build()``, or ``fallback`` when it raises: the report says which part is missing
    and why, the traceback goes to stderr (the report job's log), the rest is written."""
    try:
        return build()
    except Exception as exc:  # any artefact a section reads may be odd: report it, go on
        not_built.append({"name": name, "reason": logged_failure(f"the section '{name}' could not be built", exc)})
        return fallback
