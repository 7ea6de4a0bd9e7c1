"""How the data scatter about the model: the likelihood a dataset declares.

* ``gaussian`` (the default): ``y_i ~ Normal(f_i, sigma_i)``, with the stated errors, or one
  unknown error for every point;
* ``poisson``: counts, ``y_i ~ Poisson(f_i)``, so that the variance is the mean. Radioactive
  decays, photons, cases of a disease.

A dataset declares it in ``meta["likelihood"]`` (the ``likelihood`` setting of the table and
simulate problems); the methods that can honour it read it with :func:`likelihood_of` and
those that cannot refuse the data in ``can_fit``. For counts, maximum likelihood is
iteratively reweighted least squares with the weights ``1 / f_i`` at the current fit: at its
fixed point the score equations of the Poisson likelihood hold exactly, and ``(J^T W J)^-1`` is
the inverse Fisher information, which is what ``nlls`` reports (statsmodels' ``GLM`` with
``family=Poisson()`` does the same for a log-linear model).
"""

import numpy as np

__all__ = [
    "LIKELIHOODS",
    "likelihood_of",
    "needs_gaussian",
    "poisson_log_likelihood",
    "poisson_scale",
    "scatter_of",
    "count_problem",
]

#: The likelihoods a dataset may declare.
LIKELIHOODS = ("gaussian", "poisson")
#: The smallest Poisson mean a weight is computed from (a mean of 0 at a count of 0 fits exactly).
_SMALLEST_MEAN = 1e-12


def likelihood_of(dataset):
    """``"gaussian"`` or ``"poisson"``: the likelihood ``dataset`` declares."""
    return (getattr(dataset, "meta", None) or {}).get("likelihood", "gaussian")


def needs_gaussian(method, dataset):
    """Why ``method`` (one that fits a Gaussian likelihood only) cannot fit ``dataset``, or None."""
    kind = likelihood_of(dataset)
    if kind == "gaussian":
        return None
    return (
        f"fits a Gaussian likelihood only; the data declare likelihood: {kind} (counts: nlls, emcee, nuts "
        "and gradient_descent maximise or sample the Poisson likelihood)"
    )


def poisson_scale(mean):
    """The standard deviation of a Poisson count of mean ``mean``: ``sqrt(mean)``, floored."""
    return np.sqrt(np.maximum(np.asarray(mean, dtype=float), _SMALLEST_MEAN))


def scatter_of(dataset, fitted):
    """The standard errors the data's likelihood gives each point for the fitted values
    ``fitted``: the stated ``sigma``, the Poisson ``sqrt(f)``, or None (one unknown error)."""
    if likelihood_of(dataset) == "poisson":
        return poisson_scale(fitted)
    return dataset.sigma


def poisson_log_likelihood(y, mean):
    """``sum(y log f - f - log y!)``; ``-inf`` where a mean is negative, or zero under a count."""
    from scipy.special import gammaln

    y = np.asarray(y, dtype=float)
    mean = np.asarray(mean, dtype=float)
    if np.any(mean < 0) or np.any((mean == 0) & (y > 0)) or not np.all(np.isfinite(mean)):
        return -np.inf
    terms = np.where(y > 0, y * np.log(np.where(mean > 0, mean, 1.0)), 0.0) - mean - gammaln(y + 1)
    return float(np.sum(terms))


def count_problem(y):
    """``(row index, value)`` of the first value of ``y`` that is not a count (a whole number
    >= 0), or None."""
    y = np.asarray(y, dtype=float)
    bad = np.flatnonzero(~np.isfinite(y) | (y < 0) | (y != np.round(y)))
    return None if bad.size == 0 else (int(bad[0]), float(y[bad[0]]))
