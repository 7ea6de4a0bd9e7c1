"""Small helpers on covariance matrices shared by the parametric methods."""

import numpy as np

__all__ = ["correlation_matrix", "correlation_for_report"]


def correlation_matrix(covariance):
    """Correlation matrix of ``covariance`` (NaN where a variance is zero or not finite)."""
    covariance = np.asarray(covariance, dtype=float)
    scale = np.sqrt(np.abs(np.diag(covariance)))
    with np.errstate(divide="ignore", invalid="ignore"):
        return covariance / np.outer(scale, scale)


def correlation_for_report(covariance, max_params=20):
    """The correlation matrix as nested lists for diagnostics, or None when too large to read."""
    if covariance is None or len(covariance) > max_params:
        return None
    return correlation_matrix(covariance).tolist()
