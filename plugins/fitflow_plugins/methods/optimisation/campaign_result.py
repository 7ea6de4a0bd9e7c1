"""What the optimisers share: the result built from an evaluation history, and its plot."""

import numpy as np

from fitflow.plugin import BEST_VALUE, TRUE_VALUE, FitResult, no_answer

__all__ = ["history_result", "best_so_far_figure"]


def history_result(objective, history, recommendation, diagnostics=None):
    """A FitResult for an optimiser: the recommended point and what it expects there,
    the full history, and every failed evaluation as a warning. (On a chi-square,
    :func:`fitflow.core.pipeline.checked_optimum` then checks the recommendation is its minimum.)

    ``best_value`` is the recommendation's expected value (the posterior mean
    under noise), ``best_observed`` the lowest value seen, which under noise is
    optimistic. ``true_value`` is the noise-free value at the recommendation,
    where the objective knows its truth.
    """
    if recommendation is None:
        return FitResult.failed(no_answer(history))
    out = {
        BEST_VALUE: recommendation.mean,
        "recommended_sd": recommendation.sd,
        "best_observed": float(np.nanmin(history.y)),
        "n_failed_evaluations": int((~history.ok).sum()),
        **(diagnostics or {}),
    }
    true_value = objective.true_value(recommendation.x)
    if true_value is not None:
        out[TRUE_VALUE] = true_value
    warnings = [f"evaluation {i + 1} {history.status[i]}: {history.reasons[i]}" for i in np.flatnonzero(~history.ok)]
    return FitResult(
        params=dict(zip(objective.names, recommendation.x)),
        n_evaluations=len(history),
        diagnostics=out,
        arrays={"history_x": history.x, "history_y": history.y, "best_so_far": history.best_so_far()},
        warnings=warnings,
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
