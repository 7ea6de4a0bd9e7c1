"""What the two samplers share: the diagnostics they record and the figures drawn from them.

Both ``emcee`` and ``nuts`` keep a few chains of the first parameters in
``result.arrays["chains"]`` (steps x chains x parameters), strided to a bounded size; the
stride is recorded under :data:`TRACE_STRIDE` so that the trace plot's x axis counts real
steps. ``emcee`` also records where its burn-in ends (:data:`BURN_IN`).
"""

import numpy as np

__all__ = ["BURN_IN", "TRACE_STRIDE", "trace_plot", "pair_plot"]

#: Diagnostic key: steps discarded as burn-in (emcee), drawn as a dashed line on the traces.
BURN_IN = "burn_in"
#: Diagnostic key: the stored chains keep every this-many-th step.
TRACE_STRIDE = "trace_stride"

#: The most parameters drawn in the trace and pair plots.
MAX_PLOTTED = 6


def trace_plot(result, xlabel, burn_in=None):
    """One panel per parameter (the first :data:`MAX_PLOTTED`): every stored chain against
    its step, with a dashed line at ``burn_in`` where given."""
    import matplotlib.pyplot as plt

    names = result.param_names[:MAX_PLOTTED]
    chains = result.arrays["chains"]
    steps = np.arange(len(chains)) * result.diagnostics.get(TRACE_STRIDE, 1)
    k = len(names)
    fig, axes = plt.subplots(k, 1, figsize=(7, 1.3 * k + 0.6), dpi=100, sharex=True, squeeze=False)
    fig.subplots_adjust(left=0.12, right=0.98, bottom=0.08, top=0.97, hspace=0.1)
    for i, name in enumerate(names):
        axes[i, 0].plot(steps, chains[:, :, i], lw=0.5, alpha=0.7)
        if burn_in is not None:
            axes[i, 0].axvline(burn_in, color="#D55E00", ls="--", lw=1)
        axes[i, 0].set_ylabel(name)
    axes[-1, 0].set_xlabel(xlabel)
    return fig


def pair_plot(result, truth):
    """A corner plot of the posterior samples of the first :data:`MAX_PLOTTED` parameters,
    the truth (where known) as lines."""
    names = result.param_names[:MAX_PLOTTED]
    return _corner(result.samples[:, : len(names)], names, truth)


def _corner(samples, names, truth):
    """A corner-style plot: histograms on the diagonal, 2-D histograms below."""
    import matplotlib.pyplot as plt

    k = len(names)
    fig, axes = plt.subplots(k, k, figsize=(1.8 * k + 0.8, 1.8 * k + 0.8), dpi=100, squeeze=False)
    fig.subplots_adjust(left=0.12, right=0.98, bottom=0.1, top=0.98, wspace=0.08, hspace=0.08)
    for i in range(k):
        for j in range(k):
            ax = axes[i, j]
            if j > i:
                ax.set_visible(False)
                continue
            if i == j:
                ax.hist(samples[:, i], bins=40, color="#0072B2", histtype="stepfilled", alpha=0.6)
                ax.set_yticks([])
            else:
                ax.hist2d(samples[:, j], samples[:, i], bins=40, cmap="Blues")
            if truth and names[j] in truth:
                ax.axvline(truth[names[j]], color="#D55E00", lw=1)
                if i != j and names[i] in truth:
                    ax.axhline(truth[names[i]], color="#D55E00", lw=1)
            ax.tick_params(labelsize=7)
            if i == k - 1:
                ax.set_xlabel(names[j], fontsize=9)
            else:
                ax.set_xticklabels([])
            if j == 0 and i > 0:
                ax.set_ylabel(names[i], fontsize=9)
            elif j > 0:
                ax.set_yticklabels([])
    return fig
