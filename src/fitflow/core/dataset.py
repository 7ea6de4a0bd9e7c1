"""The dataset a problem plugin generates and every method fits.

A :class:`Dataset` holds observations, the truth they were drawn from and a link
back to the problem that made it, through which a parametric problem supplies its
:class:`~fitflow.core.model.ParametricModel`. Only arrays and JSON-able metadata are
stored on disk; the model is rebuilt from the problem plugin when a dataset is
read, so no code is ever pickled.
"""

from dataclasses import dataclass, field

import numpy as np

__all__ = ["Dataset"]


@dataclass(eq=False)
class Dataset:
    """Observations plus the truth behind them.

    Parameters
    ----------
    problem
        The problem plugin instance that generated the data.
    x, y
        Observations: ``x`` of shape ``(n,)`` or ``(n, d)``; ``y`` of shape ``(n,)``,
        or ``(n, k)`` for ``k`` outputs (an emulated simulation's several
        results), named by ``meta["outputs"]``.
    sigma
        Known per-point standard errors of ``y`` (same shape), or ``None`` where unknown.
    truth_params
        True parameter values by name, for parametric problems.
    grid_x, grid_y
        The true function on a dense grid, for problems with a true function.
    extras
        Further named arrays a method needs (for example a response matrix).
    meta
        JSON-able facts about the data (for example the true noise level).
    """

    problem: object
    x: np.ndarray
    y: np.ndarray
    sigma: np.ndarray = None
    truth_params: dict = None
    grid_x: np.ndarray = None
    grid_y: np.ndarray = None
    extras: dict = field(default_factory=dict)
    meta: dict = field(default_factory=dict)

    def __post_init__(self):
        self.x = np.asarray(self.x, dtype=float)
        self.y = np.asarray(self.y, dtype=float)
        if self.y.ndim != 2 or self.y.shape[1] == 1:
            self.y = self.y.reshape(-1)
        if self.sigma is not None:
            self.sigma = np.asarray(self.sigma, dtype=float).reshape(self.y.shape)
        for name in ("grid_x", "grid_y"):
            value = getattr(self, name)
            if value is not None:
                setattr(self, name, np.asarray(value, dtype=float))
        if self.truth_params is not None:
            self.truth_params = {k: float(v) for k, v in self.truth_params.items()}
        self.extras = {k: np.asarray(v) for k, v in self.extras.items()}
        self._model = None

    @property
    def n_points(self):
        return self.y.shape[0]

    @property
    def n_outputs(self):
        """``k`` for a response of shape ``(n, k)``, 1 for a single response."""
        return 1 if self.y.ndim == 1 else self.y.shape[1]

    @property
    def output_names(self):
        """Names of the outputs (``meta["outputs"]``, else ``y0``, ``y1``, ...)."""
        names = self.meta.get("outputs")
        return list(names) if names else [f"y{j}" for j in range(self.n_outputs)]

    @property
    def capabilities(self):
        return frozenset(self.problem.capabilities)

    @property
    def model(self):
        """The problem's parametric model for these data, or ``None``."""
        if self._model is None:
            self._model = self.problem.model(self)
        return self._model

    @property
    def objective(self):
        """A fresh black-box objective for these data (evaluation count at 0), or ``None``."""
        return self.problem.objective(self)

    @property
    def weights(self):
        """``1 / sigma**2`` where errors are known, else ones."""
        if self.sigma is None:
            return np.ones_like(self.y)
        return 1.0 / self.sigma**2

    def arrays(self):
        """Every array of the dataset by storage name (for NPZ files)."""
        out = {"x": self.x, "y": self.y}
        for name in ("sigma", "grid_x", "grid_y"):
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        for name, value in self.extras.items():
            out[f"extra.{name}"] = value
        return out
