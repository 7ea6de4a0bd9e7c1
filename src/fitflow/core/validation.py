"""What a plugin hands back is checked before anything else reads it.

:func:`result_problems` lists every way a :class:`~fitflow.core.result.FitResult`
contradicts its dataset and model (names, shapes, finiteness, a symmetric
``(p, p)`` covariance, ``(n,)`` predictions, ``(s, p)`` samples);
:func:`dataset_problems` every way a :class:`~fitflow.core.dataset.Dataset`
contradicts its problem's declared capabilities (a ``linear`` problem without a
design matrix, a ``parametric`` one without a model, non-finite data). The
workflow turns any problem into a failed fit that names the plugin, the field
and the shapes, so a misbehaving plugin costs one fit, never the run; the
conformance checks (:mod:`fitflow.testing`) assert the same lists are empty.
"""

import json
import math

import numpy as np

from .result import FIT_FAILED, FIT_OK, FitResult

__all__ = [
    "result_problems",
    "dataset_problems",
    "validated_result",
    "plugin_origin",
    "extrapolation_warning",
    "dropped_rows_warning",
    "autocorrelation_warning",
    "heteroscedasticity_warning",
    "undetermined_warning",
]


def plugin_origin(plugin, key=None):
    """``method 'nlls' (distribution 'fitflow', config key 'methods.fast')``: who to blame."""
    from .registry import methods, problems

    cls = plugin if isinstance(plugin, type) else type(plugin)
    registry = problems() if cls.group == "fitflow.problems" else methods()
    details = []
    if cls.name in registry:
        details.append(f"distribution '{registry.distribution(cls.name)}'")
    if key:
        details.append(f"config key '{key}'")
    return cls.label() + (f" ({', '.join(details)})" if details else "")


def _shape(value):
    return tuple(np.shape(value))


def _finite(array):
    try:
        return bool(np.all(np.isfinite(np.asarray(array, dtype=float))))
    except (TypeError, ValueError):
        return False


def result_problems(result, dataset):
    """Every inconsistency of ``result`` with ``dataset`` (an empty list when it is sound)."""
    if not isinstance(result, FitResult):
        return [f"fit returned {type(result).__name__}, not a fitflow.FitResult"]
    if result.status not in (FIT_OK, FIT_FAILED):
        return [f"status is {result.status!r}; it must be 'ok' or 'failed'"]
    if not result.ok:
        return []
    found = []
    model = dataset.model if dataset.capabilities & {"parametric", "linear"} else None
    names = tuple(result.params or ())
    if result.params is not None:
        if model is not None and names != tuple(model.param_names):
            found.append(
                f"params are named {list(names)}; the model's parameters are {list(model.param_names)}, in that order"
            )
        if not _finite(list(result.params.values())):
            found.append(f"params are not all finite: {result.params}")
    p = len(names)
    if result.stderr is not None:
        if tuple(result.stderr) != names:
            found.append(f"stderr is given for {list(result.stderr)}; expected one per parameter {list(names)}")
        elif not all(math.isfinite(v) and v >= 0 for v in result.stderr.values()):
            found.append(f"stderr must be finite and >= 0; got {result.stderr}")
    if result.covariance is not None:
        cov = result.covariance
        if _shape(cov) != (p, p):
            found.append(f"covariance has shape {_shape(cov)}; expected ({p}, {p}) for parameters {list(names)}")
        elif not _finite(cov):
            found.append("covariance is not finite: the fit's uncertainties cannot be trusted")
        else:
            scale = float(np.max(np.abs(cov))) if cov.size else 0.0
            if np.max(np.abs(cov - cov.T), initial=0.0) > 1e-8 * scale or np.any(np.diag(cov) < -1e-12 * scale):
                found.append("covariance is not symmetric with a non-negative diagonal")
    if result.samples is not None:
        samples = result.samples
        if samples.ndim != 2 or samples.shape[1] != p or samples.shape[0] < 1:
            found.append(f"samples have shape {_shape(samples)}; expected (n_samples, {p})")
        elif not _finite(samples):
            found.append("samples are not all finite")
    n, outputs = dataset.n_points, dataset.y.shape[1:]
    if result.y_fit is not None:
        if _shape(result.y_fit) != (n, *outputs):
            found.append(
                f"y_fit has shape {_shape(result.y_fit)}; expected {(n, *outputs)}, one value per "
                f"observation{' and output' if outputs else ''}"
            )
        elif not _finite(result.y_fit):
            found.append("y_fit is not finite")
    grid = None if dataset.grid_x is None else len(dataset.grid_x)
    for field in ("grid_mean", "grid_std"):
        value = getattr(result, field)
        if value is None:
            continue
        if grid is None:
            found.append(f"{field} is given but the dataset has no grid_x to predict on")
        elif _shape(value) != (grid, *outputs):
            found.append(
                f"{field} has shape {_shape(value)}; expected {(grid, *outputs)}, one value per point "
                f"of grid_x{' and output' if outputs else ''}"
            )
        elif not _finite(value) or (field == "grid_std" and np.any(value < 0)):
            found.append(f"{field} must be finite" + (" and >= 0" if field == "grid_std" else ""))
    for name, value in result.arrays.items():
        if value.dtype == object:
            found.append(f"arrays[{name!r}] holds Python objects; only numeric or text arrays can be stored")
    try:
        json.dumps(result.diagnostics, default=_numpy_scalar)
    except (TypeError, ValueError) as exc:
        found.append(f"diagnostics are not JSON-able: {exc}")
    if result.params is None and result.grid_mean is None and not result.diagnostics:
        found.append("the result carries neither parameter estimates, nor a prediction on the grid, nor diagnostics")
    return found


def _numpy_scalar(value):
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"{type(value).__name__} is not JSON-able")


def validated_result(result, dataset, method, key=None, found=None):
    """``result`` if it is sound, else a failed result naming the plugin and what is wrong
    (``found``: :func:`result_problems` already computed for this result)."""
    found = result_problems(result, dataset) if found is None else found
    if not found:
        return result
    return FitResult.failed(f"{plugin_origin(method, key)} returned an invalid result: {'; '.join(found)}")


#: Significance at which residuals are called autocorrelated (Ljung-Box): one false alarm in a hundred fits.
AUTOCORRELATION_ALPHA = 0.01


def _measured_residuals(dataset, result):
    """``(x, residuals)`` of an ok fit of measured data with one x column and one output, the
    residuals in units of the errors the data's likelihood gives (stated, or a count's √f)
    where there are some; else None."""
    if not (result.ok and (dataset.meta or {}).get("measured")) or result.y_fit is None:
        return None
    x, y = np.asarray(dataset.x), np.asarray(dataset.y)
    if x.ndim == 2 and x.shape[1] == 1:
        x = x[:, 0]
    if x.ndim != 1 or y.ndim != 1 or y.size < 20 or np.shape(result.y_fit) != y.shape:
        return None
    fitted = np.asarray(result.y_fit, dtype=float)
    residuals = y - fitted
    from .likelihoods import scatter_of

    sigma = scatter_of(dataset, fitted)
    if sigma is not None and np.shape(sigma) == y.shape:
        residuals = residuals / sigma
    return x, residuals


def autocorrelation_warning(dataset, result):
    """A warning when a fit's residuals on measured data with one x (a time series, a scan)
    are autocorrelated in order of x (Ljung-Box test over ``min(10, n // 5)`` lags at
    :data:`AUTOCORRELATION_ALPHA`; the order HAC sums its lags in, see
    :func:`fitflow.core.lstsq.series_order`): standard errors that assume independent errors
    are then too small, and random cross-validation folds flatter every smoother."""
    found = _measured_residuals(dataset, result)
    if found is None:
        return None
    x, residuals = found
    from .lstsq import series_order

    residuals = residuals[series_order(x)]
    residuals = residuals - residuals.mean()
    variance = float(residuals @ residuals)
    if variance <= 0:
        return None
    n, lags = residuals.size, min(10, residuals.size // 5)
    rho = np.array([float(residuals[k:] @ residuals[:-k]) / variance for k in range(1, lags + 1)])
    q = n * (n + 2) * float(np.sum(rho**2 / (n - np.arange(1, lags + 1))))
    from scipy.stats import chi2

    p_value = float(chi2.sf(q, lags))
    if p_value >= AUTOCORRELATION_ALPHA:
        return None
    hac = (result.diagnostics or {}).get("covariance") == "hac"
    advice = (
        "the standard errors are Newey-West (HAC), which allow for it"
        if hac
        else "standard errors that assume independent errors are too small: for ols and nlls set covariance: hac"
    )
    return (
        f"the residuals are autocorrelated along x (lag-1 r = {rho[0]:.2f}, Ljung-Box p = {p_value:.2g} over "
        f"{lags} lags): {advice}; random cross-validation folds flatter smoothers on such data"
    )


#: Significance at which residuals are called heteroscedastic (Breusch-Pagan), as for autocorrelation.
HETEROSCEDASTICITY_ALPHA = 0.01


def heteroscedasticity_warning(dataset, result):
    """A warning when the spread of a fit's residuals on measured data changes with x
    (Koenker's studentised Breusch-Pagan test, statsmodels' ``het_breuschpagan`` default: ``n R^2``
    of the squared residuals regressed on a constant and x, against χ² with 1 degree of
    freedom, at :data:`HETEROSCEDASTICITY_ALPHA`). Residuals are in units of the stated
    errors where there are some, so errors that already follow the spread pass."""
    found = _measured_residuals(dataset, result)
    if found is None:
        return None
    x, residuals = found
    squared = residuals**2
    if np.ptp(x) == 0 or np.ptp(squared) == 0:
        return None
    design = np.column_stack([np.ones_like(x, dtype=float), (x - x.mean()) / np.std(x)])
    coefficients = np.linalg.lstsq(design, squared, rcond=None)[0]
    explained = design @ coefficients
    r_squared = 1.0 - float(np.sum((squared - explained) ** 2)) / float(np.sum((squared - squared.mean()) ** 2))
    statistic = squared.size * r_squared
    from scipy.stats import chi2

    p_value = float(chi2.sf(statistic, 1))
    if p_value >= HETEROSCEDASTICITY_ALPHA:
        return None
    kind = (result.diagnostics or {}).get("covariance")
    if kind in ("hc0", "hc1", "hc2", "hc3", "hac"):
        advice = f"the standard errors are robust ({kind.upper()}), which allow for it"
    elif dataset.sigma is not None:
        advice = "the stated errors do not follow the residuals' spread; for ols and nlls set covariance: hc3"
    else:
        advice = (
            "standard errors that assume one spread for every point are wrong: for ols and nlls set covariance: hc3"
        )
    return (
        f"the residuals' spread changes with x (Breusch-Pagan p = {p_value:.2g}, the spread "
        f"{'grows' if coefficients[1] > 0 else 'shrinks'} with x): {advice}"
    )


#: A parameter moved by one standard error that moves the model by this many times the data's
#: spread is not determined by the data.
UNDETERMINED_EFFECT = 1e4


def undetermined_warning(dataset, result):
    """A warning naming the parameters whose standard errors exceed any plausible scale, else
    None: one wider than the parameter's bounds, or one that, moved alone, would move the
    model by more than :data:`UNDETERMINED_EFFECT` times the spread of the data. A rank test
    catches a Jacobian that is singular; this catches one that is nearly so, whatever the
    method. The scale is the model's, not the estimate's: a slope of 1e-9 ± 0.05 is
    determined (to be near zero)."""
    if not (result.ok and result.params and result.stderr):
        return None
    model = dataset.model if dataset.capabilities & {"parametric", "linear"} else None
    if model is None or tuple(model.param_names) != tuple(result.params):
        return None
    theta = np.array(list(result.params.values()), dtype=float)
    errors = np.array([result.stderr.get(name, np.nan) for name in result.params], dtype=float)
    lower, upper = model.bounds
    found = [
        f"{name} = {theta[j]:.3g} ± {errors[j]:.3g}, wider than its bounds"
        for j, name in enumerate(result.params)
        if np.isfinite(upper[j] - lower[j]) and errors[j] > upper[j] - lower[j]
    ]
    # Cheap first: only a standard error a thousand times its estimate is worth a Jacobian.
    suspects = [j for j in range(theta.size) if np.isfinite(errors[j]) and errors[j] > 1e3 * abs(theta[j])]
    if suspects:
        spread = float(np.std(dataset.y)) + (float(np.mean(dataset.sigma)) if dataset.sigma is not None else 0.0)
        try:
            with np.errstate(all="ignore"):
                jacobian = model.jacobian_at(dataset.x, theta)
            effect = errors * np.sqrt(np.mean(np.asarray(jacobian, dtype=float) ** 2, axis=0))
        except Exception:  # a model that cannot give its Jacobian here: nothing to say
            effect = np.zeros_like(errors)
        names = list(result.params)
        found += [
            f"{names[j]} = {theta[j]:.3g} ± {errors[j]:.3g}"
            for j in suspects
            if spread > 0 and effect[j] > UNDETERMINED_EFFECT * spread
        ]
    if not found:
        return None
    return (
        f"not determined by these data: {'; '.join(found)} (a standard error beyond any plausible scale of the "
        "parameter: the data fix a combination of parameters, not each one)"
    )


def dropped_rows_warning(dataset):
    """A warning when the data file's rows with a missing value were left out (``missing: drop``)."""
    rows = (dataset.meta or {}).get("dropped_rows") or []
    if not rows:
        return None
    shown = ", ".join(map(str, rows[:10])) + (", ..." if len(rows) > 10 else "")
    return f"{len(rows)} data row(s) with a missing value were left out (rows {shown})"


def extrapolation_warning(dataset):
    """A warning when predictions are asked for outside the box the training inputs span
    (an emulator extrapolating), naming the inputs and how many points; else ``None``."""
    if dataset.grid_x is None or dataset.x.ndim != 2 or dataset.n_points == 0:
        return None
    grid = np.asarray(dataset.grid_x, dtype=float).reshape(len(dataset.grid_x), -1)
    if grid.shape[1] != dataset.x.shape[1]:
        return None
    low, high = dataset.x.min(axis=0), dataset.x.max(axis=0)
    outside = (grid < low) | (grid > high)
    if not outside.any():
        return None
    names = dataset.meta.get("inputs") or [f"x{j}" for j in range(grid.shape[1])]
    which = [names[j] for j in np.flatnonzero(outside.any(axis=0))]
    return (
        f"{int(outside.any(axis=1).sum())} of {len(grid)} prediction points lie outside the training box "
        f"(in {', '.join(which)}): there the method extrapolates"
    )


def dataset_problems(dataset, capabilities=None):
    """Every way ``dataset`` contradicts its problem's declared ``capabilities``."""
    from .dataset import Dataset

    if not isinstance(dataset, Dataset):
        return [f"generate returned {type(dataset).__name__}, not a fitflow.Dataset"]
    capabilities = frozenset(dataset.capabilities if capabilities is None else capabilities)
    found = []
    n = dataset.n_points
    if _shape(dataset.x)[:1] != (n,):
        found.append(f"x has shape {_shape(dataset.x)} but y has {n} values")
    if n < 1 and capabilities != {"black_box"}:
        found.append("there are no observations (only a pure black-box problem may have none)")
    if not (_finite(dataset.x) and _finite(dataset.y)):
        found.append("x and y must be finite")
    if dataset.sigma is not None and (
        _shape(dataset.sigma) != _shape(dataset.y) or not _finite(dataset.sigma) or np.any(dataset.sigma <= 0)
    ):
        found.append("sigma must hold one finite, positive standard error per observation")
    if dataset.grid_y is not None and (
        dataset.grid_x is None
        or len(dataset.grid_x) != len(dataset.grid_y)
        or dataset.grid_y.shape[1:] != dataset.y.shape[1:]
        or not _finite(dataset.grid_y)
    ):
        found.append("grid_y must be finite with one value per point of grid_x (and output)")
    if dataset.n_outputs > 1 and capabilities & {"parametric", "linear"}:
        found.append("a response with several outputs cannot be 'parametric' or 'linear' (one model, one output)")
    names = dataset.meta.get("outputs")
    if names is not None and len(names) != dataset.n_outputs:
        found.append(f"meta['outputs'] names {len(names)} outputs but y has {dataset.n_outputs}")
    if dataset.truth_params is not None and not _finite(list(dataset.truth_params.values())):
        found.append("truth_params must be finite")
    if capabilities & {"parametric", "linear"}:
        found += _model_problems(dataset, "linear" in capabilities)
    if "black_box" in capabilities and dataset.objective is None:
        found.append("the problem claims 'black_box' but objective(dataset) returned None")
    return found


def _model_problems(dataset, linear):
    model = dataset.model
    if model is None:
        return ["the problem claims 'parametric' but model(dataset) returned None"]
    found = []
    if not _finite(model.p0):
        found.append(f"the model's starting guess is not finite: {model.p0.tolist()}")
        return found
    n = dataset.n_points
    with np.errstate(all="ignore"):
        prediction = model(dataset.x, model.p0)
    if _shape(prediction) != (n,) or not _finite(prediction):
        found.append(f"model(x, p0) must return {n} finite values; got shape {_shape(prediction)}")
    if dataset.truth_params is not None and set(dataset.truth_params) != set(model.param_names):
        found.append(
            f"truth_params {sorted(dataset.truth_params)} must name the model's parameters {list(model.param_names)}"
        )
    if linear:
        if model.design is None:
            found.append("the problem claims 'linear' but its model gives no design matrix (design=None)")
        else:
            theta = np.linspace(0.5, 1.5, model.n_params)
            design = np.asarray(model.design(dataset.x), dtype=float)
            if design.shape != (n, model.n_params):
                found.append(f"design(x) has shape {design.shape}; expected ({n}, {model.n_params})")
            elif not np.allclose(design @ theta, model(dataset.x, theta), rtol=1e-8, atol=1e-12):
                found.append(
                    "design(x) @ theta differs from function(x, theta): the model is not the linear "
                    "model it claims to be"
                )
    return found
