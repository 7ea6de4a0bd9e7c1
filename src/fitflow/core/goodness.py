"""Goodness of fit against errors the data state: is χ² what those errors allow?

A fit to data with per-point errors σ_i has ``χ² = Σ ((y_i - f_i) / σ_i)²`` (for counts,
Pearson's χ² with σ_i = √f_i). If the model is
right and the errors are what the file says, χ² follows the χ² distribution with
``ν = n - p`` degrees of freedom (``p``: the fit's parameters, or its effective number for a
smoother). :func:`goodness_of_fit` gives the probability of a χ² at least as large
(``p_value``) and, outside :data:`ACCEPTED` in either tail, what it suggests:

* **χ² too large** (``p_value`` below ``ACCEPTED[0]``): the errors are understated, or the
  model misses something the data show; the standard errors computed from those errors are
  too small by about √χ²_ν.
* **χ² too small** (``p_value`` above ``ACCEPTED[1]``): the errors are overstated (a unit
  slip: kJy/sr against MJy/sr gives χ²_ν ≈ 1e-6), by about √(1/χ²_ν), and so are the
  standard errors; or the model follows the noise.

The way out where the errors' scale is not to be trusted is the one ``curve_fit`` offers with
``absolute_sigma=False``: scale the covariance by χ²_ν (the setting ``absolute_sigma: false`` of
the least-squares methods). Why the range is two-sided at 0.1% in each tail: a check that
fires on one honest fit in 500 is read, not ignored; docs/guide/verdict.md gives the reasoning.
"""

import math

import numpy as np

from .likelihoods import scatter_of

__all__ = ["ACCEPTED", "goodness_of_fit", "goodness_warning"]

#: The range of the χ² p-value a fit with stated errors is accepted in: 0.1% in each tail.
ACCEPTED = (1e-3, 1.0 - 1e-3)


def _fitted_values(dataset, result):
    """The fit's values at the data: its own ``y_fit``, else its model at its estimates."""
    if result.y_fit is not None and np.shape(result.y_fit) == np.shape(dataset.y):
        return np.asarray(result.y_fit, dtype=float)
    model = dataset.model
    if model is None or not result.params or tuple(result.params) != tuple(model.param_names):
        return None
    with np.errstate(all="ignore"):
        values = np.asarray(model(dataset.x, result.estimate_vector()), dtype=float)
    return values if values.shape == np.shape(dataset.y) else None


def goodness_of_fit(dataset, result):
    """``{"chi2", "dof", "chi2_dof", "p_value", "p_lower"}`` of ``result`` against ``dataset``'s stated
    errors, or None where there are none, no fitted values, or no degrees of freedom.
    ``p_value`` is the upper tail ``P(χ²_ν ≥ χ²)``, ``p_lower`` the lower ``P(χ²_ν ≤ χ²)``."""
    if not result.ok or np.ndim(dataset.y) != 1:
        return None
    fitted = _fitted_values(dataset, result)
    sigma = None if fitted is None else scatter_of(dataset, fitted)
    if sigma is None:
        return None
    n_params = result.n_effective_params
    if n_params is None:
        if not result.params:
            return None  # a smoother that does not say how many parameters it spent: no ν to test against
        n_params = len(result.params)
    dof = dataset.y.size - n_params
    if dof <= 0:
        return None
    chi2 = float(np.sum(((dataset.y - fitted) / sigma) ** 2))
    if not math.isfinite(chi2):
        return None
    from scipy.stats import chi2 as distribution

    return {
        "chi2": chi2,
        "dof": float(dof),
        "chi2_dof": chi2 / dof,
        "p_value": float(distribution.sf(chi2, dof)),
        "p_lower": float(distribution.cdf(chi2, dof)),
    }


def _factor(value):
    """``×1,000``, ``×3.2``: a factor as a reader takes it in."""
    return f"×{value:,.0f}" if value >= 10 else f"×{value:.2g}"


def goodness_warning(gof, scaled=False):
    """The warning, named ``goodness of fit:``, when ``gof`` (from :func:`goodness_of_fit`) lies
    outside :data:`ACCEPTED`; else None. ``scaled``: the fit's covariance was already scaled
    by χ²_ν, so its standard errors allow for the mismatch."""
    if gof is None or ACCEPTED[0] <= gof["p_value"] <= ACCEPTED[1]:
        return None
    reduced = gof["chi2_dof"]
    said = f"goodness of fit: χ²/dof = {reduced:.3g} for {gof['dof']:g} degrees of freedom"
    too_large = gof["p_value"] < ACCEPTED[0]
    if scaled:
        then = "the covariance is scaled by χ²/dof (absolute_sigma: false), so the standard errors allow for it"
    else:
        then = (
            f"standard errors from these errors are too {'small' if too_large else 'large'}; set "
            "absolute_sigma: false to scale the covariance by χ²/dof if the errors' scale is not to be trusted"
        )
    if too_large:
        return (
            f"{said} (p = {gof['p_value']:.2g}): the stated errors are too small for these residuals, by about "
            f"{_factor(math.sqrt(reduced))}, or the model misses something the data show; {then}"
        )
    factor = f"by about {_factor(math.sqrt(1.0 / reduced))}" if reduced > 0 else "by a large factor"
    return (
        f"{said} (P(χ² this small) = {gof['p_lower']:.2g}): the stated errors look overstated, {factor} (a unit "
        f"slip?), or the fit follows the noise; {then}"
    )
