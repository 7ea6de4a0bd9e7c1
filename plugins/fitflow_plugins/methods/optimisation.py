"""What the optimisers share: the result built from an evaluation history, and its plot."""

import numpy as np

from fitflow import FitResult

__all__ = ["history_result", "best_so_far_figure"]


def history_result(objective, xs, ys, diagnostics=None, warnings=()):
    """A FitResult for an optimiser: best point, best value, full history, evaluations."""
    xs, ys = np.asarray(xs, dtype=float), np.asarray(ys, dtype=float)
    best = int(np.argmin(ys))
    return FitResult(
        params=dict(zip(objective.names, xs[best])),
        n_evaluations=objective.n_evaluations,
        diagnostics={"best_value": float(ys[best]), "best_index": best, **(diagnostics or {})},
        arrays={"history_x": xs, "history_y": ys, "best_so_far": np.minimum.accumulate(ys)},
        warnings=list(warnings),
    )


def best_so_far_figure(dataset, result, label):
    """Best value found against evaluations (as regret on a log scale when the optimum is known)."""
    import matplotlib.pyplot as plt

    best = result.arrays["best_so_far"]
    objective = dataset.objective
    fig, ax = plt.subplots(figsize=(6.4, 3.6), dpi=100)
    fig.subplots_adjust(left=0.13, right=0.97, bottom=0.14, top=0.9)
    evaluations = np.arange(1, best.size + 1)
    if objective is not None and objective.optimum_value is not None:
        regret = np.maximum(best - objective.optimum_value, 1e-16)
        ax.semilogy(evaluations, regret, "o-", ms=3, label=label)
        ax.set_ylabel("regret (best so far - optimum)")
    else:
        ax.plot(evaluations, best, "o-", ms=3, label=label)
        ax.set_ylabel("best objective value so far")
    ax.set_xlabel("evaluations")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return {"best_so_far": fig}
