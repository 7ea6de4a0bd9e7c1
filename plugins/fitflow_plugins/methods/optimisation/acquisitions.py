"""Acquisition functions: what ``bayesopt`` minimises to choose its next point.

Each acquisition is a small named record: a loss of the surrogate's posterior ``(mean, std)``
at candidate points (lower is better), and whether it may be weighted by a factor in [0, 1]
(the probability of meeting output constraints, the penalty near a batch's pending points).
Only a loss that is zero where nothing is to be gained and negative elsewhere may be so
weighted: expected improvement is, a confidence bound is not (scaling a signed bound by a
probability rewards infeasible points whose bound is positive).

Which path honours which (:func:`for_path`):

* one objective, no constraint: the ``acquisition`` setting (``ei`` or ``lcb``);
* one objective under constraints: ``ei``, weighted by the probability of feasibility
  (Gardner et al. 2014);
* three or more objectives (ParEGO, and ``pareto: parego``): each scalarisation is one
  objective, so as above;
* two objectives with ``pareto: ehvi``: expected hypervolume improvement, in
  :mod:`.hypervolume_improvement`, whatever the setting.

To add one: write its loss below, add it to :data:`ACQUISITIONS`; the ``acquisition`` setting's
choices are read from there.
"""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

__all__ = [
    "Acquisition",
    "ACQUISITIONS",
    "expected_improvement",
    "lower_confidence_bound",
    "for_path",
]


def expected_improvement(mean, std, best, xi):
    """EI for minimisation: E[max(best - xi - f, 0)] under f ~ N(mean, std^2) (Jones et al. 1998)."""
    from scipy.stats import norm

    std = np.maximum(std, 1e-12)
    improvement = best - xi - mean
    z = improvement / std
    return improvement * norm.cdf(z) + std * norm.pdf(z)


def lower_confidence_bound(mean, std, kappa):
    """``mean - kappa std``: optimism in the face of uncertainty (Srinivas et al. 2010)."""
    return mean - kappa * std


@dataclass(frozen=True)
class Acquisition:
    """A named acquisition. ``loss(mean, std, best, settings, spread)`` is minimised;
    ``settings`` are the optimiser's, ``spread`` the measured values' standard deviation
    (the unit of ``xi``). ``weighted``: it may be multiplied by a factor in [0, 1]."""

    name: str
    description: str
    loss: Callable
    weighted: bool


ACQUISITIONS = {
    "ei": Acquisition(
        "ei",
        "expected improvement",
        lambda mean, std, best, settings, spread: -expected_improvement(mean, std, best, settings["xi"] * spread),
        weighted=True,
    ),
    "lcb": Acquisition(
        "lcb",
        "lower confidence bound",
        lambda mean, std, best, settings, spread: lower_confidence_bound(mean, std, settings["kappa"]),
        weighted=False,
    ),
}


def for_path(requested, weighted):
    """The acquisition a proposal uses: ``requested`` (a key of :data:`ACQUISITIONS`), unless the
    path must ``weight`` it (constraints, a batch's penalty) and it cannot be: then ``ei``."""
    acquisition = ACQUISITIONS[requested]
    return acquisition if acquisition.weighted or not weighted else ACQUISITIONS["ei"]
