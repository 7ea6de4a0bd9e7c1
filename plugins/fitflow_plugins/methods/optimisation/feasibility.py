"""The probability that a point keeps an objective's output constraints.

Each constraint gets its own Gaussian-process surrogate (:mod:`.surrogate`) of its
*slack* (how far inside the limit the output is, negative outside), fitted to every
evaluation that measured it, infeasible ones included. The probability of feasibility is
the product over constraints of P(slack >= 0) under each posterior (constraints taken as
independent, as in Gardner et al. 2014 and Gelbart, Snoek & Adams 2014). Expected
improvement over the best *feasible* value, weighted by this probability, is the
constrained acquisition; before any evaluation is feasible the probability alone is.
"""

import numpy as np
from scipy.stats import norm

from .surrogate import GaussianSurrogate

__all__ = ["Feasibility"]


class Feasibility:
    """``probability(unit)`` of keeping every constraint of ``history``; learns a noise
    level per constraint when ``noisy``."""

    def __init__(self, history, noisy, rng, encode=None):
        self.surrogates = []
        for j, constraint in enumerate(history.constraints):
            measured = history.ok & np.isfinite(history.outputs[:, j])
            slack = constraint.slack(history.outputs[measured, j])
            unit = history.space.to_unit(history.x[measured])
            self.surrogates.append(
                GaussianSurrogate(unit, slack, learn_noise=noisy, rng=rng, encode=encode) if len(slack) >= 2 else None
            )

    @classmethod
    def of(cls, history, noisy, rng, encode=None):
        """A Feasibility for a constrained history, ``None`` for an unconstrained one
        (``encode``: the GP inputs, as :class:`.surrogate.GaussianSurrogate`'s)."""
        return cls(history, noisy, rng, encode) if history.constraints else None

    def probability(self, unit):
        """P(every constraint kept) at ``unit`` (q, d); 0.5 per constraint measured fewer than twice."""
        unit = np.atleast_2d(unit)
        out = np.ones(len(unit))
        for surrogate in self.surrogates:
            if surrogate is None:
                out *= 0.5
                continue
            mean, sd = surrogate.predict(unit)
            out *= norm.cdf(mean / np.maximum(sd, 1e-12))
        return out

    def outputs(self, history, unit):
        """``{name: {"mean", "sd", "probability"}}`` at one point ``unit`` (d,): each constrained
        output's posterior in its own units, and the probability that a repeat of the shot there
        keeps its limit (the latent sd and the learned shot noise together); a constraint
        measured fewer than twice is left out."""
        found = {}
        for constraint, surrogate in zip(history.constraints, self.surrogates):
            if surrogate is None:
                continue
            mean, sd = surrogate.predict(np.atleast_2d(unit))
            slack, spread = float(mean[0]), float(sd[0])
            value = constraint.limit + slack if constraint.op == ">=" else constraint.limit - slack
            repeat = float(np.hypot(spread, surrogate.noise_level))
            probability = float(norm.cdf(slack / max(repeat, 1e-12)))
            found[constraint.name] = {"mean": value, "sd": spread, "probability": probability}
        return found
