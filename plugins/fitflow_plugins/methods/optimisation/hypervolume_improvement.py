"""Two objectives: expected hypervolume improvement (EHVI), in closed form.

With one GP per objective (independent posteriors), the hypervolume a new point would add
to the front, averaged over those posteriors, is an integral of ``Phi_1(z_1) Phi_2(z_2)``
over the region below the reference point that the front does not dominate. For two
objectives that region is a row of strips, one per gap between neighbouring front points,
and each strip's integral factorises into two one-dimensional ones with the closed form
``integral_{-inf}^{c} Phi((z - mu) / s) dz = s psi((c - mu) / s)``, ``psi(t) = t Phi(t) +
phi(t)`` (Emmerich, Deutz & Klinkenberg 2011 give the general box decomposition). Exact, and
as cheap as expected improvement on a front of a few dozen points.

:func:`suggest_by_ehvi` proposes with it for ``bayesopt``: one GP per objective (the
objectives normalised to [0, 1] over the evaluations), the front of the feasible evaluations
(their posterior means under noise), a reference point a tenth of each range beyond the
worst value, EHVI weighted by the probability of feasibility under constraints, and batches
by the kriging believer, each chosen point's predicted outcome joining the front.
:func:`predicted_front` gives the same GPs' front for the report (any number of objectives).
"""

import numpy as np
from scipy.stats import norm

from .feasibility import Feasibility
from .parego import normalised_goals

__all__ = ["expected_hypervolume_improvement", "front_strips", "GoalSurrogates", "suggest_by_ehvi", "predicted_front"]

#: The reference point's distance beyond the worst value of each normalised objective.
REFERENCE_MARGIN = 0.1


def _psi(t):
    """``integral_{-inf}^{t} Phi(s) ds``; 0 at -inf."""
    t = np.asarray(t, dtype=float)
    with np.errstate(invalid="ignore"):
        out = t * norm.cdf(t) + norm.pdf(t)
    return np.where(np.isneginf(t), 0.0, out)


def front_strips(front, reference):
    """``(lower, upper, cap)`` of the strips of the region below ``reference`` (2,) that the
    rows of ``front`` (m, 2), minimised, leave undominated: strip i spans the first objective
    from ``lower[i]`` to ``upper[i]`` and the second from -inf to ``cap[i]``. Rows not below
    the reference in both objectives, or dominated, change nothing."""
    front = np.asarray(front, dtype=float).reshape(-1, 2)
    front = front[np.all(np.isfinite(front), axis=1) & np.all(front < reference, axis=1)]
    front = front[np.argsort(front[:, 0], kind="stable")]
    keep = front[:, 1] < np.minimum.accumulate(np.append(reference[1], front[:, 1]))[:-1]  # the second falls
    front = front[keep]
    lower = np.append(-np.inf, front[:, 0])
    upper = np.append(front[:, 0], reference[0])
    cap = np.append(reference[1], front[:, 1])
    return lower, upper, cap


def expected_hypervolume_improvement(mean, sd, front, reference):
    """``(q,)`` the expected hypervolume that a point with independent normal predictions
    ``mean`` (q, 2), ``sd`` (q, 2) of two minimised objectives adds to ``front`` (m, 2) below
    ``reference`` (2,)."""
    mean, sd = np.atleast_2d(mean), np.maximum(np.atleast_2d(sd), 1e-12)
    lower, upper, cap = front_strips(front, np.asarray(reference, dtype=float))
    m1, s1 = mean[:, :1], sd[:, :1]
    m2, s2 = mean[:, 1:], sd[:, 1:]
    width = s1 * (_psi((upper - m1) / s1) - _psi((lower - m1) / s1))
    height = s2 * _psi((cap - m2) / s2)
    return np.sum(width * height, axis=1)


class GoalSurrogates:
    """One GP per objective of ``history`` (each fitted by ``optimiser``, a
    :class:`.bayesopt.BayesianOptimisation`), on the objectives normalised to [0, 1] over
    the evaluations that gave them all (``given``): ``low + scaled * span`` is the minimised
    value. ``noise_prior``: learned noise levels under the log-normal prior, as ``bayesopt``
    reports (its module docstring, item 7)."""

    def __init__(self, optimiser, history, rng, noise_prior=False):
        self.given, self.low, self.span, self.scaled = normalised_goals(history)
        self.models = [
            optimiser._surrogate(history, rng, warp=False, values=self.scaled[:, j], noise_prior=noise_prior)
            for j in range(self.scaled.shape[1])
        ]

    def predict(self, unit):
        """``(mean (q, k), sd (q, k))`` of the normalised objectives at ``unit`` (q, d)."""
        predictions = [model.predict(unit) for model in self.models]
        return np.column_stack([m for m, _ in predictions]), np.column_stack([s for _, s in predictions])

    def believe(self, u):
        """Tell every GP its own mean at ``u`` (d,) (the kriging believer); that mean (k,)."""
        mean = self.predict(u[None, :])[0][0]
        self.models = [model.believing(u[None, :], m) for model, m in zip(self.models, mean)]
        return mean


def suggest_by_ehvi(optimiser, history, n, rng):
    """``(n, d)`` unit points for the two objectives of ``history``, chosen one by one by
    EHVI under the kriging believer; ``optimiser`` (a :class:`.bayesopt.BayesianOptimisation`)
    fits the surrogates and searches the acquisition."""
    space = history.space
    goals = GoalSurrogates(optimiser, history, rng)
    noisy = optimiser._noisy(history)
    feasibility = Feasibility.of(history, noisy, rng, optimiser._encoding(history))
    front = goals.predict(space.to_unit(history.x[goals.given]))[0] if noisy else goals.scaled[goals.given]
    front = front[history.feasible[goals.given]]
    reference = np.full(2, 1.0 + REFERENCE_MARGIN)
    known = np.vstack([space.to_unit(history.x), space.to_unit(history.pending)])
    fantasies = []

    def believe(u):
        nonlocal front
        mean = goals.believe(u)
        if feasibility is None:  # under constraints the believed outcome may be infeasible
            front = np.vstack([front, mean])
        fantasies.append(u)

    for u in known[len(history.x) :]:
        believe(u)
    chosen = []
    for _ in range(n):

        def losses(u):
            gain = expected_hypervolume_improvement(*goals.predict(u), front, reference)
            if feasibility is not None:
                gain = gain * feasibility.probability(u)
            if noisy and fantasies:  # the believer alone lets a noisy batch pile up (bayesopt, item 4)
                gain = gain * np.prod(1.0 - goals.models[0].correlation(u, np.array(fantasies)), axis=1)
            return -gain

        box = (np.zeros(space.dim), np.ones(space.dim))
        u = optimiser._search(losses, space, np.vstack([known, *chosen]) if chosen else known, rng, box)
        chosen.append(u[None, :])
        if len(chosen) < n:
            believe(u)
    return np.vstack(chosen)


def predicted_front(optimiser, history, n, rng):
    """The surrogates' Pareto front, for the report: ``{x (p, d), mean (p, k), sd (p, k)}``
    (parameters' units; objectives minimised) of the candidates whose posterior means no
    other candidate beats on every objective, sorted by the first. The candidates: the
    evaluated points, ``n`` random ones, and ``n`` scattered around the measured front (sd
    0.05 of each range); under constraints only those more likely feasible than not. With a
    learned noise level, the GPs are the noise prior's, as for ``bayesopt``'s reported values."""
    from fitflow.plugin import non_dominated

    space = history.space
    goals = GoalSurrogates(optimiser, history, rng, noise_prior=True)
    measured = space.to_unit(history.x[goals.given])
    feasible = history.feasible[goals.given]
    on_front = measured[non_dominated(np.where(feasible[:, None], goals.scaled[goals.given], np.nan))]
    around = on_front[rng.integers(len(on_front), size=n)] if len(on_front) else np.empty((0, space.dim))
    around = np.clip(around + 0.05 * rng.standard_normal(around.shape), 0.0, 1.0)
    candidates = np.vstack([measured, space.snap_unit(rng.uniform(size=(n, space.dim))), space.snap_unit(around)])
    mean, sd = goals.predict(candidates)
    feasibility = Feasibility.of(history, optimiser._noisy(history), rng, optimiser._encoding(history))
    rows = (
        np.arange(len(candidates))
        if feasibility is None
        else np.flatnonzero(feasibility.probability(candidates) >= 0.5)
    )
    rows = rows[non_dominated(mean[rows])]
    rows = rows[np.argsort(mean[rows, 0], kind="stable")]
    return {
        "x": space.from_unit(candidates[rows]),
        "mean": goals.low + mean[rows] * goals.span,
        "sd": sd[rows] * goals.span,
    }
