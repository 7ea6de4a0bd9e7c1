"""Several objectives for a single-objective optimiser: ParEGO (Knowles, 2006).

Each proposal minimises one weighting of the objectives, drawn at random (uniformly on the
simplex) afresh for every point: the objectives, normalised to [0, 1] over the evaluations
so far, become the augmented Chebyshev scalarisation ``max_i(w_i f_i) + rho sum_i w_i f_i``.
Unlike a weighted sum it reaches every point of a concave front, and the small ``rho`` term
keeps weakly dominated points from tying with the ones that dominate them. The optimiser
then proposes for that one objective as it always does (its surrogate, its acquisition, its
constraints); the points already chosen in the round are pending, so a batch spreads along
the front. ``bayesopt`` uses it for three or more objectives; for two, expected
hypervolume improvement (:mod:`.hypervolume_improvement`) covered more of the front
(docs/benchmarks.md, "Several objectives").
"""

import numpy as np

from fitflow.plugin import History

__all__ = ["RHO", "normalised_goals", "scalarised", "suggest_for_goals"]

#: Weight of the augmented Chebyshev scalarisation's sum term (Knowles, 2006).
RHO = 0.05


def normalised_goals(history):
    """``(given, low, span, scaled)``: the mask of the evaluations that gave every objective,
    each objective's lowest value and range over them (1 where it has none), and ``(m, g)`` the
    objectives of every evaluation, minimised, as ``(value - low) / span``."""
    values = history.goal_values()
    given = history.ok & np.all(np.isfinite(values), axis=1)
    if not given.any():
        return given, None, None, np.full(values.shape, np.nan)
    low, high = values[given].min(axis=0), values[given].max(axis=0)
    span = np.where(high > low, high - low, 1.0)
    return given, low, span, (values - low) / span


def scalarised(history, weights):
    """``(m,)`` the augmented Chebyshev scalarisation of ``history``'s objectives under
    ``weights``, each objective normalised to [0, 1] over the evaluations that gave it (NaN
    where an evaluation gave none)."""
    given, _, _, scaled = normalised_goals(history)
    if not given.any():
        return np.full(len(history), np.nan)
    weighted = scaled * weights
    scalar = weighted.max(axis=1) + RHO * weighted.sum(axis=1)
    return np.where(given, scalar, np.nan)


def suggest_for_goals(optimiser, history, n, rng):
    """``n`` points for the several objectives of ``history``: each one the ``optimiser``'s
    single proposal for a fresh random weighting, the points chosen before it pending. Before
    the surrogate has data, the optimiser's space-filling design for all ``n`` at once."""
    k = len(history.goals)
    c = len(history.constraints)
    chosen = np.empty((0, history.space.dim))
    for j in range(n):
        weights = rng.dirichlet(np.ones(k))
        single = History(
            history.space,
            x=history.x,
            y=scalarised(history, weights),
            status=history.status,
            pending=np.vstack([history.pending, chosen]),
            noise_sd=0.0 if history.noise_sd == 0 else None,
            reasons=history.reasons,
            constraints=history.constraints,
            outputs=history.outputs[:, :c],
        )
        if single.ok.sum() < 2:
            return (
                np.vstack([chosen, optimiser.suggest(single, n - j, rng)]) if j else optimiser.suggest(single, n, rng)
            )
        chosen = np.vstack([chosen, np.reshape(optimiser.suggest(single, 1, rng), (1, -1))])
    return chosen
