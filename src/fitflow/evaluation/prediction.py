"""A fit's prediction and its one-sigma band at any x, whatever the method.

Non-parametric methods give their prediction on the dataset's dense grid
directly. For a parametric fit the prediction is the model at the estimate and
the band is propagated from the parameter covariance through the model's
Jacobian (exact for a linear model, first order otherwise). Evaluation and
plots both go through here, so they can never disagree.
"""

import numpy as np

from ..core.diagnostics import BAND, BAND_KINDS, BAND_NOTE

__all__ = ["predict", "predict_on_grid", "predict_at_data", "propagated_std", "band_kind", "BAND_KINDS"]


def propagated_std(jacobian, covariance):
    """Standard deviation of ``J theta`` for ``theta`` with ``covariance``: sqrt(diag(J C J^T))."""
    var = np.einsum("ij,jk,ik->i", jacobian, covariance, jacobian)
    return np.sqrt(np.clip(var, 0.0, None))


def predict(dataset, result, x):
    """``(mean, std)`` of a parametric fit at ``x``; ``std`` is None without covariance."""
    model = dataset.model
    if model is None or not result.params:
        return None, None
    if tuple(result.param_names) != tuple(model.param_names):
        return None, None  # the result does not describe this model's parameters
    theta = result.estimate_vector()
    mean = model(x, theta)
    if result.covariance is None:
        return mean, None
    return mean, propagated_std(model.jacobian_at(x, theta), result.covariance)


def predict_on_grid(dataset, result):
    """``(mean, std)`` on ``dataset.grid_x``, from the method or from the model.

    Where the model declares a ``signal`` (the truth grid holds something other
    than the observed function, as in deconvolution), that is what is predicted.
    """
    if result.grid_mean is not None:
        return result.grid_mean, result.grid_std
    if dataset.grid_x is None:
        return None, None
    model = dataset.model
    if model is not None and model.signal is not None:
        if not result.params or tuple(result.param_names) != tuple(model.param_names):
            return None, None
        theta = result.estimate_vector()
        mean = np.asarray(model.signal(dataset.grid_x, theta), dtype=float)
        if result.covariance is None or model.signal_design is None:
            return mean, None
        return mean, propagated_std(model.signal_design(dataset.grid_x), result.covariance)
    return predict(dataset, result, dataset.grid_x)


def band_kind(result):
    """``(kind, note)`` of the band :func:`predict_on_grid` gives: ``kind`` one of
    :data:`BAND_KINDS` or None where the method does not say (``diagnostics["band"]``), and
    ``note`` its ``diagnostics["band_note"]``. A band propagated from the parameter
    covariance is the mean's; no band gives ``(None, "")``."""
    diagnostics = result.diagnostics or {}
    note = str(diagnostics.get(BAND_NOTE, ""))
    if result.grid_std is not None:
        kind = diagnostics.get(BAND)
        return (kind if kind in BAND_KINDS else None), note
    if result.covariance is not None:
        return "mean", note or "propagated from the parameters' covariance"
    return None, ""


def predict_at_data(dataset, result):
    """The fit's prediction at the observed ``x`` (None when it cannot be known)."""
    if result.y_fit is not None:
        return result.y_fit
    mean, _ = predict(dataset, result, dataset.x)
    if mean is not None:
        return mean
    if result.grid_mean is not None and dataset.grid_x is not None and dataset.x.ndim == 1:
        return np.interp(dataset.x, dataset.grid_x, result.grid_mean)
    return None
