"""Which plotting library the report's interactive figures use: Plotly, Bokeh or Vega-Lite.

The same figure in each: every fit of a 2,000-fit sweep as a point (wall time against
error, one trace per method, nine methods), a tooltip naming the fit, zoom, a legend that
hides a method. Printed per library: the stand-alone HTML's size, the time to build it in
Python, and the time headless Chromium takes from navigation to the drawn figure (median of
three loads).

Needs the three libraries, which fitflow does not install; run it in a venv beside::

    python -m venv /tmp/vizvenv
    /tmp/vizvenv/bin/pip install plotly altair bokeh vl-convert-python pandas selenium
    /tmp/vizvenv/bin/python benchmarks/bench_report_library.py
"""

from pathlib import Path
import tempfile
import time

import numpy as np

from timing import browser_load_time, drawn

N_FITS = 2000
METHODS = ("ols", "nlls", "emcee", "gp", "mlp", "spline", "tikhonov", "bayesopt", "nuts")


def fits():
    rng = np.random.default_rng(0)
    method = np.array(METHODS)[rng.integers(len(METHODS), size=N_FITS)]
    return {
        "method": method,
        "wall_time_s": 10 ** rng.uniform(-3, 2, N_FITS),
        "rmse": 10 ** rng.uniform(-2, 0, N_FITS),
        "fit_id": [f"gaussian_peak/{m}/noise={i % 20}/r{i // 20}" for i, m in enumerate(method)],
    }


def plotly_html(data):
    import plotly.graph_objects as go

    fig = go.Figure()
    for m in METHODS:
        keep = data["method"] == m
        fig.add_scattergl(
            x=data["wall_time_s"][keep],
            y=data["rmse"][keep],
            mode="markers",
            name=m,
            customdata=np.array(data["fit_id"])[keep],
            hovertemplate="%{customdata}<br>rmse %{y:.3g}<extra></extra>",
        )
    fig.update_xaxes(type="log")
    fig.update_yaxes(type="log")
    return fig.to_html(include_plotlyjs=True, full_html=True)


def bokeh_html(data):
    from bokeh.embed import file_html
    from bokeh.models import ColumnDataSource, HoverTool
    from bokeh.plotting import figure
    from bokeh.resources import INLINE

    p = figure(x_axis_type="log", y_axis_type="log", tools="pan,wheel_zoom,box_zoom,reset")
    for m in METHODS:
        keep = data["method"] == m
        source = ColumnDataSource(
            {"x": data["wall_time_s"][keep], "y": data["rmse"][keep], "fit": np.array(data["fit_id"])[keep]}
        )
        p.scatter("x", "y", source=source, legend_label=m)
    p.add_tools(HoverTool(tooltips=[("fit", "@fit"), ("rmse", "@y")]))
    p.legend.click_policy = "hide"
    return file_html(p, INLINE, "bench")


def vega_html(data):
    import altair as alt
    import pandas as pd

    frame = pd.DataFrame(data)
    pick = alt.selection_point(fields=["method"], bind="legend")
    chart = (
        alt.Chart(frame)
        .mark_point()
        .encode(
            x=alt.X("wall_time_s", scale=alt.Scale(type="log")),
            y=alt.Y("rmse", scale=alt.Scale(type="log")),
            color="method",
            opacity=alt.condition(pick, alt.value(1), alt.value(0.05)),
            tooltip=["fit_id", "rmse"],
        )
        .add_params(pick)
        .interactive()
    )
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "chart.html"
        chart.save(path, inline=True)
        return path.read_text()


#: Found in the page once the figure is drawn.
DRAWN = {"plotly": ".main-svg", "bokeh": "canvas", "vega": "svg.marks, canvas.marks"}


def main():
    data = fits()
    with tempfile.TemporaryDirectory() as folder:
        print(
            f"{'library':8s} {'size MB':>8s} {'build s':>8s} {'load s':>7s}   ({N_FITS} fits, {len(METHODS)} methods)"
        )
        for name, build in (("plotly", plotly_html), ("bokeh", bokeh_html), ("vega", vega_html)):
            start = time.perf_counter()
            html = build(data)
            built = time.perf_counter() - start
            path = Path(folder) / f"{name}.html"
            path.write_text(html)
            loaded = browser_load_time(path, drawn(DRAWN[name]))
            print(f"{name:8s} {len(html.encode()) / 1e6:8.2f} {built:8.2f} {loaded:7.2f}")


if __name__ == "__main__":
    main()
