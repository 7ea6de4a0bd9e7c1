"""Uniform evaluation of a fit: against the known truth, and what can be known without it.

One function, :func:`evaluate`, turns (dataset, fit result) into a flat dict of
metrics; the aggregate table is one such dict per fit. Metrics that do not apply
(no truth function, no errors, no uncertainty) are NaN rather than absent, so
every row of a table has the same columns.

Optimisers report ``diagnostics["best_value"]``; where the problem's objective
knows its optimum, the regret (best value found minus the optimum) and the
distance to the nearest minimiser follow.

Measured data have no truth: for them the rows carry what needs none, namely
chi2/dof and its p-value (where errors are known), the residual spread, AIC/BIC for parametric
fits and the k-fold cross-validated prediction error (computed at fit time, see
:mod:`fitflow.crossval`).

Intervals: where the method gives posterior samples, the 68% and 95% intervals
are the central percentiles of the samples; otherwise they are the Gaussian
intervals estimate ± 1σ and ± 1.96σ.
"""

import math
import warnings

import numpy as np

from ..core.likelihoods import likelihood_of, poisson_log_likelihood, scatter_of
from .prediction import predict_at_data, predict_on_grid

__all__ = ["evaluate", "SUMMARY_METRICS"]

#: Metrics every row carries, in table order.
SUMMARY_METRICS = (
    "param_rms_error",
    "rms_pull",
    "max_abs_pull",
    "coverage68",
    "coverage95",
    "rmse",
    "band_coverage68",
    "band_coverage95",
    "chi2",
    "dof",
    "chi2_dof",
    "chi2_p",
    "residual_rms",
    "aic",
    "bic",
    "cv_rmse",
    "cv_rmse_se",
    "n_evaluations",
    "best_value",
    "regret",
    "distance_to_optimum",
)

_Z95 = 1.959963984540054


def evaluate(dataset, result):
    """Metrics of ``result`` against ``dataset``'s truth, as a flat dict."""
    metrics = {name: math.nan for name in SUMMARY_METRICS}
    metrics["status"] = result.status
    if not result.ok:
        return metrics
    if result.n_evaluations is not None:
        metrics["n_evaluations"] = float(result.n_evaluations)
    metrics.update(_parameter_metrics(dataset, result))
    metrics.update(_function_metrics(dataset, result))
    metrics.update(_residual_metrics(dataset, result))
    metrics.update(_optimisation_metrics(dataset, result))
    metrics.update(_information_criteria(dataset, result))
    if result.diagnostics.get("cv_rmse") is not None:
        metrics["cv_rmse"] = float(result.diagnostics["cv_rmse"])
        metrics.update(_fold_metrics(result.diagnostics.get("cv_fold_mse"), metrics["cv_rmse"]))
    metrics.update(_problem_metrics(dataset, result))
    return metrics


def _fold_metrics(fold_mse, rmse):
    """The CV error's standard error over its folds, ``cv_rmse_se`` (the folds' mean squared
    errors' standard error of the mean, carried to the root by the delta method: se / (2 rmse)),
    and the folds' errors themselves, ``cv_fold_mse``, as text (``"0.12 0.31 ..."``) for the
    verdict's paired comparison of two methods on the same folds."""
    if not fold_mse or len(fold_mse) < 2 or not math.isfinite(rmse) or rmse <= 0:
        return {}
    folds = np.asarray(fold_mse, dtype=float)
    se = float(np.std(folds, ddof=1) / math.sqrt(folds.size)) / (2.0 * rmse)
    return {"cv_rmse_se": se, "cv_fold_mse": " ".join(f"{v:.17g}" for v in folds)}


def _problem_metrics(dataset, result):
    """The problem's own metrics (:meth:`fitflow.Problem.extra_metrics`); a problem whose
    hook raises costs those metrics, with a warning, never the evaluation."""
    hook = getattr(dataset.problem, "extra_metrics", None)
    if hook is None:
        return {}
    try:
        return {str(k): float(v) for k, v in (hook(dataset, result) or {}).items()}
    except Exception as exc:  # a plugin's bug: its own metrics are lost, not the row
        warnings.warn(
            f"{type(dataset.problem).__name__}.extra_metrics raised {type(exc).__name__}: {exc}", stacklevel=2
        )
        return {}


def _intervals(result):
    """``(lo68, hi68, lo95, hi95)`` arrays in the order of ``result.params``."""
    if result.samples is not None and len(result.samples) > 1:
        lo68, hi68, lo95, hi95 = np.percentile(result.samples, [15.865, 84.135, 2.5, 97.5], axis=0)
        return lo68, hi68, lo95, hi95
    est, err = result.estimate_vector(), result.stderr_vector()
    if err is None:
        return None
    return est - err, est + err, est - _Z95 * err, est + _Z95 * err


def _parameter_metrics(dataset, result):
    truth = dataset.truth_params
    if not truth or not result.params:
        return {}
    names = [n for n in result.param_names if n in truth]
    est = np.array([result.params[n] for n in names])
    true = np.array([truth[n] for n in names])
    err = result.stderr_vector()
    err = None if err is None else np.array([err[result.param_names.index(n)] for n in names])
    out = {"param_rms_error": float(np.sqrt(np.mean((est - true) ** 2)))}
    intervals = _intervals(result)
    for i, name in enumerate(names):
        prefix = f"param.{name}."
        out[prefix + "estimate"] = est[i]
        out[prefix + "truth"] = true[i]
        out[prefix + "error"] = est[i] - true[i]
        out[prefix + "stderr"] = math.nan if err is None else err[i]
        out[prefix + "pull"] = math.nan if err is None or err[i] <= 0 else (est[i] - true[i]) / err[i]
        if intervals is not None:
            j = result.param_names.index(name)
            lo68, hi68, lo95, hi95 = (a[j] for a in intervals)
            out[prefix + "in68"] = float(lo68 <= true[i] <= hi68)
            out[prefix + "in95"] = float(lo95 <= true[i] <= hi95)
    if err is not None:
        pulls = np.array([out[f"param.{n}.pull"] for n in names])
        out["rms_pull"] = float(np.sqrt(np.mean(pulls**2)))
        out["max_abs_pull"] = float(np.max(np.abs(pulls)))
    if intervals is not None:
        out["coverage68"] = float(np.mean([out[f"param.{n}.in68"] for n in names]))
        out["coverage95"] = float(np.mean([out[f"param.{n}.in95"] for n in names]))
    return {k: float(v) for k, v in out.items()}


def _function_metrics(dataset, result):
    """RMSE against the true function and the band's coverage of it.

    With several outputs, ``rmse.<output>`` and ``band_coverage95.<output>`` are
    given per output, ``rmse`` is the mean over outputs of each RMSE divided by
    that output's spread on the grid (dimensionless: outputs in different units
    can be pooled), and the band coverages are pooled over outputs.
    """
    if dataset.grid_y is None:
        return {}
    mean, std = predict_on_grid(dataset, result)
    if mean is None:
        return {}
    deviation = np.abs(mean - dataset.grid_y)
    if deviation.ndim == 1:
        out = {"rmse": float(np.sqrt(np.mean(deviation**2)))}
    else:
        per_output = np.sqrt(np.mean(deviation**2, axis=0))
        spread = np.std(dataset.grid_y, axis=0)
        out = {"rmse": float(np.mean(per_output / np.where(spread > 0, spread, 1.0)))}
        for j, name in enumerate(dataset.output_names):
            out[f"rmse.{name}"] = float(per_output[j])
            if std is not None:
                out[f"band_coverage68.{name}"] = float(np.mean(deviation[:, j] <= std[:, j]))
                out[f"band_coverage95.{name}"] = float(np.mean(deviation[:, j] <= _Z95 * std[:, j]))
    if std is not None:
        out["band_coverage68"] = float(np.mean(deviation <= std))
        out["band_coverage95"] = float(np.mean(deviation <= _Z95 * std))
    return out


def _residual_metrics(dataset, result):
    y_fit = predict_at_data(dataset, result)
    if y_fit is None:
        return {}
    residuals = dataset.y - y_fit
    if residuals.ndim == 1:
        out = {"residual_rms": float(np.sqrt(np.mean(residuals**2)))}
    else:  # several outputs: each output's RMS relative to its spread, averaged (as for rmse)
        spread = np.std(dataset.y, axis=0)
        out = {
            "residual_rms": float(np.mean(np.sqrt(np.mean(residuals**2, axis=0)) / np.where(spread > 0, spread, 1.0)))
        }
    sigma = scatter_of(dataset, y_fit) if residuals.ndim == 1 else dataset.sigma
    if sigma is not None:
        n_params = result.n_effective_params
        if n_params is None:
            n_params = len(result.params or ())
        dof = residuals.size - n_params
        chi2 = float(np.sum((residuals / sigma) ** 2))
        out.update(chi2=chi2, dof=float(dof), chi2_dof=chi2 / dof if dof > 0 else math.nan)
        if dof > 0 and math.isfinite(chi2):  # the goodness of fit (fitflow.core.goodness): P(χ²_ν >= χ²)
            from scipy.stats import chi2 as distribution

            out["chi2_p"] = float(distribution.sf(chi2, dof))
    return out


def _information_criteria(dataset, result):
    """AIC and BIC of a parametric fit under its likelihood (for counts, the Poisson one).

    With known errors, ``-2 ln L = chi2 + sum ln(2 pi sigma_i^2)`` and k counts the
    model's parameters; without, the common error is estimated by maximum
    likelihood (``RSS / n``), ``-2 ln L = n ln(2 pi RSS / n) + n``, and counts as one
    more parameter. Lower is better; only differences between fits of the same
    data mean anything.
    """
    model = dataset.model
    if model is None or not result.params or tuple(result.param_names) != tuple(model.param_names):
        return {}
    y_fit = predict_at_data(dataset, result)
    if y_fit is None:
        return {}
    residuals = dataset.y - y_fit
    n, k = dataset.n_points, model.n_params
    if likelihood_of(dataset) == "poisson":
        log_l = poisson_log_likelihood(dataset.y, y_fit)
        if not np.isfinite(log_l):
            return {}
        minus_two_log_l = -2.0 * log_l
    elif dataset.sigma is not None:
        minus_two_log_l = float(np.sum((residuals / dataset.sigma) ** 2) + np.sum(np.log(2 * np.pi * dataset.sigma**2)))
    else:
        rss = float(residuals @ residuals)
        if rss <= 0:
            return {}
        minus_two_log_l = n * math.log(2 * math.pi * rss / n) + n
        k += 1
    return {"aic": minus_two_log_l + 2 * k, "bic": minus_two_log_l + k * math.log(n)}


def _optimisation_metrics(dataset, result):
    """Regret and distance to the optimum, for optimisers on a black-box objective."""
    best = result.diagnostics.get("best_value")
    if best is None:
        return {}
    out = {"best_value": float(best)}
    objective = dataset.objective
    if objective is None:
        return out
    if objective.optimum_value is not None:
        # The regret of what is recommended, on the noise-free function where there is one:
        # never the luck of a noisy sample.
        true_value = result.diagnostics.get("true_value", best)
        out["regret"] = float(true_value) - objective.optimum_value
    if result.params and tuple(result.param_names) == objective.names:
        distance = objective.distance_to_optimum(result.estimate_vector())
        if distance is not None:
            out["distance_to_optimum"] = distance
    return out
