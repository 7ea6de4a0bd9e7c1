"""Black-box objectives: what an optimisation problem hands to an optimiser.

An :class:`Objective` is a scalar function to *minimise* over a box, with named
coordinates, a counter of evaluations (an optimiser's real cost) and, where the
problem knows it, the optimum value and location(s) for computing regret.
Parametric problems expose their chi-square as an objective over the model's
parameters, so an optimiser's best point can be compared with NLLS on the same
fit.
"""

from dataclasses import dataclass, field

import numpy as np

__all__ = ["Objective", "chi_square_objective"]


@dataclass(eq=False)
class Objective:
    """``function(x) -> float`` to minimise over ``bounds``.

    Parameters
    ----------
    function
        Takes a 1-D array ordered as ``names``; returns a float.
    names
        Coordinate names (for a parametric problem: the model's parameter names).
    bounds
        ``(lower, upper)`` finite arrays: the search box.
    optimum_value
        The global minimum, where known (else ``None``).
    optimum_locations
        ``(k, d)`` array of the global minimisers, where known.
    """

    function: object
    names: tuple
    bounds: tuple
    optimum_value: float = None
    optimum_locations: np.ndarray = None
    n_evaluations: int = field(default=0, init=False)

    def __post_init__(self):
        self.names = tuple(self.names)
        lower = np.asarray(self.bounds[0], dtype=float).reshape(len(self.names))
        upper = np.asarray(self.bounds[1], dtype=float).reshape(len(self.names))
        if not (np.all(np.isfinite(lower)) and np.all(np.isfinite(upper)) and np.all(lower < upper)):
            raise ValueError(f"an objective needs a finite box with lower < upper; got {lower}, {upper}")
        self.bounds = (lower, upper)
        if self.optimum_locations is not None:
            self.optimum_locations = np.atleast_2d(np.asarray(self.optimum_locations, dtype=float))

    @property
    def dim(self):
        return len(self.names)

    def __call__(self, x):
        """Evaluate at ``x`` and count the evaluation."""
        self.n_evaluations += 1
        return float(self.function(np.asarray(x, dtype=float)))

    def distance_to_optimum(self, x):
        """Euclidean distance from ``x`` to the nearest known minimiser (None if unknown)."""
        if self.optimum_locations is None:
            return None
        return float(np.min(np.linalg.norm(self.optimum_locations - np.asarray(x, dtype=float), axis=1)))


def chi_square_objective(dataset):
    """The chi-square of ``dataset``'s parametric model as an objective over its bounds."""
    model = dataset.model
    x, y = dataset.x, dataset.y
    whiten = 1.0 / dataset.sigma if dataset.sigma is not None else np.ones_like(y)

    def chi_square(theta):
        residuals = (y - model(x, theta)) * whiten
        return float(residuals @ residuals)

    return Objective(chi_square, model.param_names, model.bounds)
