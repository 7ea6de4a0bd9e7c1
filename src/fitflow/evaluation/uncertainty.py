"""Small helpers on covariance matrices shared by the parametric methods."""

import numpy as np

__all__ = ["correlation_matrix"]


def correlation_matrix(covariance):
    """Correlation matrix of ``covariance`` (NaN where a variance is zero or not finite)."""
    covariance = np.asarray(covariance, dtype=float)
    scale = np.sqrt(np.abs(np.diag(covariance)))
    with np.errstate(divide="ignore", invalid="ignore"):
        return covariance / np.outer(scale, scale)
