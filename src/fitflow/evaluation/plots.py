"""Per-fit figure: the data with error bars, the truth and the fit with its band.

matplotlib is imported here only, on first use, with the non-interactive Agg
backend; figures are saved through :func:`fitflow.core.artefacts.save_figure`, which
strips dates and ids so reruns are byte-identical.
"""

import functools

from ..core.artefacts import save_figure
from .prediction import predict_on_grid

__all__ = ["plot_fit", "save_method_figures", "log_scale_if_wide", "PALETTE"]

#: Okabe-Ito without its yellow (too pale on white), then Paul Tol's muted colours:
#: twelve colour-blind-distinguishable hues before any repeats. One palette for the
#: per-fit figures and the report.
PALETTE = (
    "#0072B2",
    "#E69F00",
    "#009E73",
    "#D55E00",
    "#CC79A7",
    "#56B4E9",
    "#000000",
    "#882255",
    "#44AA99",
    "#999933",
    "#332288",
    "#AA4499",
)


def _pyplot():
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def log_scale_if_wide(ax, axis, values, decades=1.0):
    """Put ``axis`` ("x" or "y") on a log scale when positive ``values`` span more than
    ``decades`` decades; a narrower range reads better, with plain labels, on a linear one."""
    import numpy as np

    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    if values.size and values.min() > 0 and np.log10(values.max() / values.min()) > decades:
        (ax.set_xscale if axis == "x" else ax.set_yscale)("log")


def _in_default_style(draw):
    """Run ``draw`` under matplotlib's default rcParams, restoring the caller's after: a fit's
    figures are the same bytes whatever the process styled before (the report's figures set
    their own style globally; a notebook may set any). Without it, a fit drawn on demand
    after a report was rendered in the same process differed from the one its job drew."""

    @functools.wraps(draw)
    def drawn(*args, **kwargs):
        import matplotlib

        with matplotlib.rc_context():
            matplotlib.rcdefaults()
            return draw(*args, **kwargs)

    return drawn


@_in_default_style
def save_method_figures(method, dataset, result, folder):
    """Save the method's own diagnostic figures as ``folder/fig-<name>.png``."""
    plt = _pyplot()
    for name, fig in method.figures(dataset, result).items():
        save_figure(fig, folder / f"fig-{name}.png")
        plt.close(fig)


def axis_labels(dataset):
    """``(x label, y label)``: the data file's column names where the problem records them."""
    columns = dataset.meta.get("columns") or {}
    x = columns.get("x") or ["x"]
    return ", ".join(x), columns.get("y") or "y"


@_in_default_style
def plot_fit(dataset, result, path, title=""):
    """Save a figure of ``result`` on ``dataset`` to ``path``; False if there is nothing to draw."""
    if dataset.x.ndim != 1 or (dataset.n_points == 0 and dataset.grid_y is None):
        return False
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 4.0), dpi=100)
    fig.subplots_adjust(left=0.11, right=0.97, bottom=0.12, top=0.84)
    ax.errorbar(
        dataset.x,
        dataset.y,
        yerr=dataset.sigma,
        fmt="o",
        ms=3,
        color="0.35",
        ecolor="0.7",
        elinewidth=0.8,
        label="data",
        zorder=1,
    )
    if dataset.grid_y is not None:
        ax.plot(dataset.grid_x, dataset.grid_y, color="black", lw=1.5, ls="--", label="truth", zorder=3)
    mean, std = predict_on_grid(dataset, result) if result.ok else (None, None)
    if mean is not None:
        ax.plot(dataset.grid_x, mean, color=PALETTE[0], lw=1.8, label="fit", zorder=4)
        if std is not None:
            ax.fill_between(
                dataset.grid_x,
                mean - 1.96 * std,
                mean + 1.96 * std,
                color=PALETTE[0],
                alpha=0.25,
                lw=0,
                label="95% band",
                zorder=2,
            )
    if not result.ok:
        ax.text(0.5, 0.5, "fit failed", transform=ax.transAxes, ha="center", color=PALETTE[3], fontsize=14)
    xlabel, ylabel = axis_labels(dataset)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    fig.suptitle(title, x=0.11, y=0.98, ha="left", fontsize=10)
    # A row above the axes: a fixed spot that never hides data and costs no search.
    ax.legend(fontsize=8, loc="lower left", bbox_to_anchor=(0.0, 1.0), ncol=4, frameon=False)
    ax.grid(alpha=0.3)
    save_figure(fig, path)
    plt.close(fig)
    return True
