"""The fit result every method plugin returns.

One dataclass for all methods: a frequentist fit fills ``params``, ``stderr`` and
``covariance``; a sampler adds ``samples``; a non-parametric regressor fills
``grid_mean`` and ``grid_std`` on the dataset's dense grid. Evaluation reads only
these fields, which is what lets one evaluation serve every method.
"""

from dataclasses import dataclass, field

import numpy as np

__all__ = ["FitResult", "FIT_OK", "FIT_FAILED"]

FIT_OK = "ok"
FIT_FAILED = "failed"


@dataclass(eq=False)
class FitResult:
    """What a method learned from one dataset.

    Parameters
    ----------
    params
        Point estimates by parameter name (parametric methods).
    stderr
        One-sigma standard errors by name.
    covariance
        ``(p, p)`` covariance in the order of ``params``.
    samples
        ``(n_samples, p)`` posterior samples in the order of ``params``.
    grid_mean, grid_std
        Prediction and its standard deviation on ``dataset.grid_x``. Say what the band
        covers in ``diagnostics["band"]``: ``"mean"`` (where the function lies) or
        ``"predictive"`` (where a new measurement will, noise included).
    y_fit
        Prediction at the observed ``x`` (for residuals and chi-square).
    n_evaluations
        Number of model or objective evaluations, where the method knows it.
    n_effective_params
        Effective number of fitted parameters (for chi-square per degree of
        freedom); defaults to ``len(params)``.
    diagnostics
        JSON-able scalars and short lists describing the fit (condition number,
        convergence status, ...).
    arrays
        Named diagnostic arrays (loss curves, chains, ...), stored in NPZ.
    warnings
        Human-readable warnings about this fit.
    status, message
        ``"ok"`` or ``"failed"``, and why a fit failed.
    """

    params: dict = None
    stderr: dict = None
    covariance: np.ndarray = None
    samples: np.ndarray = None
    grid_mean: np.ndarray = None
    grid_std: np.ndarray = None
    y_fit: np.ndarray = None
    n_evaluations: int = None
    n_effective_params: float = None
    diagnostics: dict = field(default_factory=dict)
    arrays: dict = field(default_factory=dict)
    warnings: list = field(default_factory=list)
    status: str = FIT_OK
    message: str = ""

    def __post_init__(self):
        if self.params is not None:
            self.params = {k: float(v) for k, v in self.params.items()}
        if self.stderr is not None:
            self.stderr = {k: float(v) for k, v in self.stderr.items()}
        for name in ("covariance", "samples", "grid_mean", "grid_std", "y_fit"):
            value = getattr(self, name)
            if value is not None:
                setattr(self, name, np.asarray(value, dtype=float))
        self.arrays = {k: np.asarray(v) for k, v in self.arrays.items()}
        self.warnings = [str(w) for w in self.warnings]

    @classmethod
    def failed(cls, message):
        """A result recording that the fit did not produce an answer, and why."""
        return cls(status=FIT_FAILED, message=str(message))

    @property
    def ok(self):
        return self.status == FIT_OK

    @property
    def param_names(self):
        return tuple(self.params) if self.params else ()

    def estimate_vector(self):
        return np.array([self.params[k] for k in self.param_names])

    def stderr_vector(self):
        if self.stderr is not None:
            return np.array([self.stderr[k] for k in self.param_names])
        if self.covariance is not None:
            return np.sqrt(np.clip(np.diag(self.covariance), 0, None))
        return None

    def array_fields(self):
        """Every array of the result by storage name (for NPZ files)."""
        out = {}
        for name in ("covariance", "samples", "grid_mean", "grid_std", "y_fit"):
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        for name, value in self.arrays.items():
            out[f"diag.{name}"] = value
        return out
