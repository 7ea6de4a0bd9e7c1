"""The report's interactive figures: Plotly figures the browser draws from JSON in the page.

Each is a companion of a static figure, which stays in the page as the fallback: with
JavaScript off, or in a browser that cannot unpack the library, the report reads as before.
Hover names the fit (``problem/settings/method/settings/rep-k``, what ``fitflow show``
takes), a click on a legend entry hides that method, buttons switch an axis between linear
and log, and a menu chooses the problem or the replicate.

Plotly over Bokeh and Vega-Lite, measured by ``benchmarks/bench_report_library.py`` (every
fit of a 2,000-fit sweep, nine methods): all three load in half a second, but only Plotly
has every interaction the report needs built in (Bokeh needs hand-written JavaScript to switch
an axis to log, and Vega-Lite cannot change a scale's type at all). Its one cost, a 4.8 MB
library, is paid once per report and shrunk to 2.0 MB: gzip-compressed in the page and
unpacked by the browser's own ``DecompressionStream``.
"""

import base64
import functools
import gzip
import json

import numpy as np

from ..evaluation.prediction import band_kind, predict_on_grid
from .data import METRICS, scored_cases
from .figures import _output, _representative

__all__ = [
    "plotly_bundle",
    "spec_json",
    "fits_explorer",
    "cost_explorer",
    "recovery_explorer",
    "calibration_explorer",
    "MAX_POINTS",
    "MAX_REPLICATES",
]

#: Fits drawn per problem in the cost explorer, at most (the first replicates of each
#: method); beyond it a point cloud only grows the file.
MAX_POINTS = 5000
#: Replicates the fits explorer offers, and grid points it draws per curve, at most.
MAX_REPLICATES = 5
MAX_GRID = 250

LAYOUT = {
    "template": "none",
    "font": {"family": "system-ui, sans-serif", "size": 12},
    "margin": {"l": 70, "r": 20, "t": 60, "b": 50},
    "hovermode": "closest",
    "legend": {"title": {"text": "method (click to hide)"}},
    "xaxis": {"gridcolor": "#e5e5e5", "zeroline": False},
    "yaxis": {"gridcolor": "#e5e5e5", "zeroline": False},
}


@functools.lru_cache(maxsize=1)
def plotly_bundle():
    """plotly.js, gzip-compressed with no timestamp (the same bytes every run) and base64-encoded."""
    from plotly.offline import get_plotlyjs

    return base64.b64encode(gzip.compress(get_plotlyjs().encode(), compresslevel=9, mtime=0)).decode()


def spec_json(fig):
    """A figure's JSON, safe inside ``<script type="application/json">``."""
    return fig.to_json().replace("</", "<\\/")


def _figure(data, layout):
    import plotly.graph_objects as go

    merged = json.loads(json.dumps(LAYOUT))
    for key, value in layout.items():
        merged[key] = {**merged[key], **value} if isinstance(value, dict) and key in merged else value
    return go.Figure(data=data, layout=merged)


def _scale_buttons(logs=()):
    """Linear/log switches for the x and y axes, one button row each; ``logs`` the axes on
    a log scale at first."""
    return [
        {
            "type": "buttons",
            "direction": "right",
            "x": 1.0,
            "xanchor": "right",
            "y": 1.02 + 0.09 * i,
            "yanchor": "bottom",
            "active": int(axis in logs),
            "pad": {"r": 2, "t": 0},
            "font": {"size": 10},
            "buttons": [
                {"label": f"{axis}: {kind}", "method": "relayout", "args": [{f"{axis}axis.type": kind}]}
                for kind in ("linear", "log")
            ],
        }
        for i, axis in enumerate(("x", "y"))
    ]


def _wide(values, decades=1.0):
    """Whether positive ``values`` span more than ``decades`` decades (a log axis reads better)."""
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    return bool(values.size and values.min() > 0 and np.log10(values.max() / values.min()) > decades)


def _case_menu(labels, visible, titles, logs):
    """A menu choosing the problem: each entry shows its traces, sets the y-axis title and
    puts each axis on the scale that suits its values (the scale buttons follow)."""

    def scales(wide):
        chosen = {f"{axis}axis.type": "log" if axis in wide else "linear" for axis in ("x", "y")}
        return chosen | {f"updatemenus[{i}].active": int(axis in wide) for i, axis in enumerate(("x", "y"))}

    return {
        "type": "dropdown",
        "x": 0.0,
        "xanchor": "left",
        "y": 1.02,
        "yanchor": "bottom",
        "pad": {"t": 0},
        "buttons": [
            {
                "label": label,
                "method": "update",
                "args": [{"visible": shown}, {"yaxis.title.text": title, **scales(wide)}],
            }
            for label, shown, title, wide in zip(labels, visible, titles, logs)
        ],
    }


def cost_explorer(experiment, colours):
    """Every fit's wall time against its error, one problem at a time (a menu chooses it):
    a point per fit, named on hover, and each method's median as a larger diamond."""
    import plotly.graph_objects as go

    traces, owners, labels, titles, logs = [], [], [], [], []
    for problem, psid, rows, metric in scored_cases(experiment):
        case, costs, errors = len(labels), [], []
        for method, group in rows.groupby("method", sort=True):
            group = group.sort_values("replicate", kind="stable").head(MAX_POINTS // max(1, rows.method.nunique()))
            cost = np.maximum(group["wall_time_s"].to_numpy(dtype=float), 1e-5)
            error = group[metric].to_numpy(dtype=float)
            keep = np.isfinite(cost) & np.isfinite(error)
            if not keep.any():
                continue
            ids = group["fit_dir"].str.removeprefix("fits/").to_numpy()[keep]
            common = {"legendgroup": method, "marker_color": colours[method], "visible": case == 0}
            traces.append(
                go.Scatter(
                    x=cost[keep],
                    y=error[keep],
                    mode="markers",
                    name=method,
                    marker={"size": 6, "opacity": 0.6},
                    customdata=ids,
                    hovertemplate=f"<b>%{{customdata}}</b><br>{metric} %{{y:.4g}}<br>wall time %{{x:.3g}} s<extra></extra>",
                    **common,
                )
            )
            traces.append(
                go.Scatter(
                    x=[float(np.median(cost[keep]))],
                    y=[float(np.median(error[keep]))],
                    mode="markers",
                    name=f"{method} median",
                    showlegend=False,
                    marker={"size": 14, "symbol": "diamond", "line": {"width": 1.5, "color": "black"}},
                    hovertemplate=f"<b>{method}</b>: median of {int(keep.sum())} fits<br>{metric} %{{y:.4g}}<br>"
                    "wall time %{x:.3g} s<extra></extra>",
                    **common,
                )
            )
            owners += [case, case]
            costs.extend(cost[keep])
            errors.extend(error[keep])
        labels.append(experiment.case_label(problem, psid))
        titles.append(f"{METRICS.get(metric, (metric,))[0]} (lower is better)")
        logs.append([axis for axis, values in (("x", costs), ("y", errors)) if _wide(values)])
    if not traces:
        return None
    menus = _scale_buttons(logs=logs[0])
    if len(labels) > 1:
        menus.append(_case_menu(labels, [[owner == i for owner in owners] for i in range(len(labels))], titles, logs))
    return _figure(
        traces,
        {
            "height": 480,
            "xaxis": {"title": {"text": "wall time of the fit [s]"}, "type": "log" if "x" in logs[0] else "linear"},
            "yaxis": {"title": {"text": titles[0]}, "type": "log" if "y" in logs[0] else "linear"},
            "updatemenus": menus,
            "margin": {"t": 90},
        },
    )


def recovery_explorer(experiment, problem, psid, colours):
    """Every fit's pull (estimate − truth)/σ per parameter, one box of points per method,
    each point named on hover with its estimate, standard error and the truth."""
    import plotly.graph_objects as go

    rows = experiment.rows(problem, psid)
    rows = rows[rows.status == "ok"]
    names = [c[len("param.") : -len(".pull")] for c in rows.columns if c.startswith("param.") and c.endswith(".pull")]
    traces = []
    for method, group in rows.groupby("method", sort=True):
        group = group.sort_values("replicate", kind="stable").head(MAX_POINTS // max(1, len(names)))
        xs, ys, text = [], [], []
        for name in names:
            pull = group[f"param.{name}.pull"].to_numpy(dtype=float)
            keep = np.isfinite(pull)
            estimate, stderr, truth = (
                group[f"param.{name}.{k}"].to_numpy(dtype=float)[keep] for k in ("estimate", "stderr", "truth")
            )
            ids = group["fit_dir"].str.removeprefix("fits/").to_numpy()[keep]
            xs += [name] * int(keep.sum())
            ys += list(pull[keep])
            text += [
                f"{i}<br>{name} = {e:.5g} ± {s:.2g} (truth {t:.5g})" for i, e, s, t in zip(ids, estimate, stderr, truth)
            ]
        if ys:
            traces.append(
                go.Box(
                    x=xs,
                    y=ys,
                    name=method,
                    legendgroup=method,
                    marker_color=colours[method],
                    boxpoints="all",
                    jitter=0.5,
                    pointpos=0,
                    marker={"size": 4, "opacity": 0.6},
                    line={"width": 1},
                    fillcolor="rgba(0,0,0,0)",
                    hovertext=text,
                    hoverinfo="text+y",
                    hoveron="points",
                )
            )
    if not traces:
        return None
    band = [
        {
            "type": "rect",
            "xref": "paper",
            "x0": 0,
            "x1": 1,
            "y0": -k,
            "y1": k,
            "line": {"width": 0},
            "fillcolor": "rgba(0,0,0,0.05)",
        }
        for k in (1, 2)
    ]
    return _figure(
        traces,
        {
            "height": 420,
            "boxmode": "group",
            "shapes": band,
            "xaxis": {"title": {"text": "parameter"}},
            "yaxis": {"title": {"text": "pull (estimate − truth) / σ; shaded: ±1σ, ±2σ"}, "range": [-5, 5]},
        },
    )


def calibration_explorer(calibration, colours):
    """Each method's empirical coverage of its 68% and 95% intervals, with the Wilson interval,
    per problem (hover), against the nominal level."""
    import plotly.graph_objects as go

    cases = sorted({row["case"] for row in calibration})
    symbols = ("circle", "square", "triangle-up", "diamond", "triangle-down", "cross", "x", "star")
    slots = sorted({(row["method"], row["case"], row["settings"]) for row in calibration})
    traces, shown = [], set()
    for row in calibration:
        points = [(level, row[f"param{level}"]) for level in ("68", "95") if f"param{level}" in row]
        if not points:
            continue
        method = row["method"]
        offset = 0.05 * ((slots.index((method, row["case"], row["settings"])) + 0.5) / len(slots) - 0.5)
        nominal = [0.6827 if level == "68" else 0.95 for level, _ in points]
        value = [cell["value"] for _, cell in points]
        label = method if row["settings"] == "default" else f"{method} [{row['settings']}]"
        traces.append(
            go.Scatter(
                x=[n + offset for n in nominal],
                y=value,
                mode="markers",
                name=method,
                legendgroup=method,
                showlegend=method not in shown,
                marker={
                    "color": colours[method],
                    "size": 9,
                    "symbol": symbols[cases.index(row["case"]) % len(symbols)],
                },
                error_y={
                    "type": "data",
                    "symmetric": False,
                    "array": [max(0.0, cell["high"] - cell["value"]) for _, cell in points],
                    "arrayminus": [max(0.0, cell["value"] - cell["low"]) for _, cell in points],
                },
                hovertext=[
                    f"<b>{label}</b> on {row['case']}<br>{level}% intervals: {cell['value']:.3f} of {cell['n']} "
                    f"contain the truth<br>Wilson 95%: [{cell['low']:.3f}, {cell['high']:.3f}]"
                    for level, cell in points
                ],
                hoverinfo="text",
            )
        )
        shown.add(method)
    if not traces:
        return None
    diagonal = go.Scatter(
        x=[0.6, 1.0],
        y=[0.6, 1.0],
        mode="lines",
        line={"color": "black", "dash": "dash", "width": 1},
        name="calibrated",
        hoverinfo="skip",
    )
    return _figure(
        [diagonal, *traces],
        {
            "height": 440,
            "xaxis": {
                "title": {"text": "nominal coverage"},
                "tickvals": [0.6827, 0.95],
                "ticktext": ["68%", "95%"],
                "range": [0.6, 1.0],
            },
            "yaxis": {"title": {"text": "empirical coverage (marker: problem, in the hover)"}},
        },
    )


def _thinned(n):
    """Indices of at most ``MAX_GRID`` of ``n`` grid points, evenly spread, both ends kept."""
    return np.unique(np.linspace(0, n - 1, min(n, MAX_GRID)).round().astype(int))


def fits_explorer(experiment, problem, psid, colours):
    """The fits overlay for each of the first replicates (a menu chooses which): data,
    truth where known, every method's prediction and its 95% band, labelled by its kind;
    a panel per output."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    rows = experiment.rows(problem, psid)
    replicates = sorted(rows.replicate.unique())[:MAX_REPLICATES]
    per_replicate, k, names = [], None, None
    for rep in replicates:
        traces = _replicate_traces(experiment, problem, psid, rep, colours, go)
        if traces is None:
            continue
        per_replicate.append((rep, traces[0]))
        k, names = traces[1], traces[2]
    if not per_replicate:
        return None
    fig = make_subplots(
        rows=k, cols=1, shared_xaxes=True, vertical_spacing=0.06, subplot_titles=names if k > 1 else None
    )
    owners = []
    for position, (_, traces) in enumerate(per_replicate):
        for j, trace in traces:
            trace.visible = position == 0
            fig.add_trace(trace, row=j + 1, col=1)
            owners.append(position)
    menu = {
        "type": "dropdown",
        "x": 0.0,
        "xanchor": "left",
        "y": 1.0,
        "yanchor": "bottom",
        "pad": {"t": 0, "b": 4},
        "buttons": [
            {"label": f"replicate {rep}", "method": "restyle", "args": [{"visible": [o == i for o in owners]}]}
            for i, (rep, _) in enumerate(per_replicate)
        ],
    }
    layout = {
        **LAYOUT,
        "height": 420 if k == 1 else 160 + 260 * k,
        "updatemenus": [menu],
        "margin": {**LAYOUT["margin"], "t": 70},
    }
    fig.update_layout(**{key: value for key, value in layout.items() if key not in ("xaxis", "yaxis")})
    fig.update_xaxes(gridcolor="#e5e5e5", zeroline=False)
    fig.update_yaxes(gridcolor="#e5e5e5", zeroline=False)
    return fig


def _replicate_traces(experiment, problem, psid, rep, colours, go):
    """``([(output j, trace)], k, output names)`` of one replicate, or None without a 1-D dataset."""
    dataset, results = _representative(experiment, problem, psid, rep)
    if dataset is None or dataset.x.ndim != 1 or dataset.n_points == 0:
        return None
    k = dataset.n_outputs
    names = list(dataset.output_names) if k > 1 else None
    traces = []

    def column(values, j):
        return _output(None if values is None else np.asarray(values, dtype=float), j, k)

    order = np.argsort(dataset.x, kind="stable")
    grid = None if dataset.grid_x is None else np.asarray(dataset.grid_x, dtype=float)
    thin = None if grid is None else _thinned(len(grid))
    for j in range(k):
        y, sigma = column(dataset.y, j), column(dataset.sigma, j)
        error = (
            None
            if sigma is None
            else {
                "type": "data",
                "array": np.broadcast_to(sigma, y.shape)[order].astype("f4"),
                "thickness": 0.8,
                "width": 0,
            }
        )
        traces.append(
            (
                j,
                go.Scatter(
                    x=dataset.x[order].astype("f4"),
                    y=y[order].astype("f4"),
                    mode="markers",
                    name="data",
                    legendgroup="data",
                    showlegend=j == 0,
                    marker={"color": "#777", "size": 4},
                    error_y=error,
                    hovertemplate="x %{x:.4g}<br>y %{y:.4g}<extra>data</extra>",
                ),
            )
        )
        truth = column(dataset.grid_y, j)
        if truth is not None:
            traces.append(
                (
                    j,
                    go.Scatter(
                        x=grid[thin].astype("f4"),
                        y=truth[thin].astype("f4"),
                        mode="lines",
                        name="truth",
                        legendgroup="truth",
                        showlegend=j == 0,
                        line={"color": "black", "dash": "dash", "width": 1.5},
                        hoverinfo="skip",
                    ),
                )
            )
    for label, (method, result) in sorted(results.items()):
        if not result.ok:
            continue
        mean, std = predict_on_grid(dataset, result)
        if mean is None or grid is None:
            continue
        kind, note = band_kind(result)
        band_name = f"{kind} band" if kind else "band"
        for j in range(k):
            m = column(mean, j)[thin]
            colour = colours[method]
            if std is not None:
                s = column(std, j)[thin]
                traces.append(
                    (
                        j,
                        go.Scatter(
                            x=np.concatenate([grid[thin], grid[thin][::-1]]).astype("f4"),
                            y=np.concatenate([m - 1.96 * s, (m + 1.96 * s)[::-1]]).astype("f4"),
                            fill="toself",
                            mode="none",
                            fillcolor=_transparent(colour),
                            name=f"{label} 95% {band_name}",
                            legendgroup=label,
                            showlegend=False,
                            hoverinfo="skip",
                        ),
                    )
                )
            traces.append(
                (
                    j,
                    go.Scatter(
                        x=grid[thin].astype("f4"),
                        y=m.astype("f4"),
                        mode="lines",
                        name=f"{label} ({band_name})" if std is not None else label,
                        legendgroup=label,
                        showlegend=j == 0,
                        line={"color": colour, "width": 2},
                        hovertemplate=f"{label}<br>x %{{x:.4g}}<br>prediction %{{y:.4g}}"
                        + (f"<br>95% {band_name}" + (f": {note}" if note else "") if std is not None else "")
                        + "<extra></extra>",
                    ),
                )
            )
    return traces, k, names


def _transparent(colour, alpha=0.18):
    """``#rrggbb`` as an ``rgba()`` fill."""
    red, green, blue = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({red},{green},{blue},{alpha})"
