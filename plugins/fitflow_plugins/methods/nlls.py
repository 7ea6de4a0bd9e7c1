"""Non-linear least squares with Laplace (Gauss-Newton) uncertainties.

Unbounded fits use Levenberg-Marquardt from MINPACK (``lmder``/``lmdif``) through
``scipy.optimize.leastsq``, the routine ``least_squares(method="lm")`` and
``curve_fit`` also call; going through ``leastsq`` skips ``least_squares``'s
Python wrapper, which alone costs 1.3x a ``curve_fit`` call on small problems
(benchmarks/bench_core.py). Bounded fits use ``least_squares``'s trust-region
reflective method.

The covariance is the Laplace approximation ``(J^T W J)^-1`` at the optimum,
from the SVD of the whitened Jacobian with the small-singular-value cut-off of
``curve_fit``. The Jacobian there is the model's exact one where it gives one,
else central differences. A fit that stops without converging is reported as
failed with the optimiser's own reason.
"""

import numpy as np

from fitflow import FitResult, Method, Setting
from fitflow.uncertainty import correlation_for_report

__all__ = ["NonLinearLeastSquares"]

_LEASTSQ_SUCCESS = (1, 2, 3, 4)


class NonLinearLeastSquares(Method):
    name = "nlls"
    version = "1.0"
    description = "Levenberg-Marquardt (MINPACK) / TRF with Laplace covariance (J^T W J)^-1"
    capabilities = frozenset({"parametric"})
    resources = {"threads": 1, "mem_mb": 500, "runtime": 10}
    requires_modules = ("scipy.optimize",)
    settings = {
        "bounded": Setting(False, bool, "respect the model's bounds (least_squares TRF) instead of unbounded LM"),
        "jacobian": Setting("model", str, "'model': exact where the model gives it; 'finite-difference': the solver's own",
                            choices=("model", "finite-difference")),
        "ftol": Setting(1e-12, float, "relative tolerance on the cost", minimum=0.0),
        "xtol": Setting(1e-12, float, "relative tolerance on the parameters", minimum=0.0),
        "gtol": Setting(1e-12, float, "tolerance on the gradient", minimum=0.0),
        "max_nfev": Setting(None, int, "evaluation budget (default: the solver's)", minimum=1),
        "absolute_sigma": Setting(True, bool, "errors are absolute; if false, scale covariance by chi2/dof"),
    }

    def fit(self, dataset, rng):
        model = dataset.model
        x, y = dataset.x, dataset.y
        whiten = 1.0 / dataset.sigma if dataset.sigma is not None else np.ones_like(y)
        whiten_column = whiten[:, None]

        def residuals(theta):
            return (y - model(x, theta)) * whiten

        def jacobian(theta):
            return -model.jacobian_at(x, theta) * whiten_column

        exact = self.values["jacobian"] == "model" and (model.design is not None or model.jacobian is not None)
        bounded = self.values["bounded"] and model.is_bounded
        with np.errstate(all="ignore"):
            if bounded:
                theta, fvec, nfev, message, ok = self._trust_region(residuals, jacobian if exact else "2-point", model)
            else:
                theta, fvec, nfev, message, ok = self._levenberg_marquardt(residuals, jacobian if exact else None, model)
        if not ok or not np.all(np.isfinite(theta)):
            return FitResult.failed(f"{'least_squares' if bounded else 'leastsq'} did not converge: {message}")

        jac_at_optimum = jacobian(theta)
        covariance, condition = _laplace_covariance(jac_at_optimum)
        chi2 = float(fvec @ fvec)
        dof = y.size - theta.size
        warnings = []
        if dataset.sigma is None or not self.values["absolute_sigma"]:
            covariance = covariance * (chi2 / dof if dof > 0 else np.inf)
        if not np.all(np.isfinite(covariance)):
            warnings.append("covariance is not finite: the Jacobian is singular at the optimum")
        names = model.param_names
        return FitResult(
            params=dict(zip(names, theta)),
            stderr=dict(zip(names, np.sqrt(np.abs(np.diag(covariance))))),
            covariance=covariance,
            y_fit=y - fvec / whiten,
            n_evaluations=nfev,
            diagnostics={
                "algorithm": "trf" if bounded else "lm",
                "message": message,
                "nfev": nfev,
                "cost": 0.5 * chi2,
                "optimality": float(np.max(np.abs(jac_at_optimum.T @ fvec))),
                "condition_number": condition,
                "correlation": correlation_for_report(covariance),
            },
            warnings=warnings,
        )

    def _levenberg_marquardt(self, residuals, jacobian, model):
        from scipy.optimize import leastsq

        v = self.values
        theta, _, info, message, ier = leastsq(
            residuals, model.p0, Dfun=jacobian, full_output=True,
            ftol=v["ftol"], xtol=v["xtol"], gtol=v["gtol"], maxfev=v["max_nfev"] or 0,
        )
        return theta, info["fvec"], int(info["nfev"]), message, ier in _LEASTSQ_SUCCESS

    def _trust_region(self, residuals, jacobian, model):
        from scipy.optimize import least_squares

        v = self.values
        solution = least_squares(
            residuals, np.clip(model.p0, *model.bounds), jac=jacobian, bounds=model.bounds, method="trf",
            ftol=v["ftol"] or None, xtol=v["xtol"] or None, gtol=v["gtol"] or None, max_nfev=v["max_nfev"],
        )
        return solution.x, solution.fun, int(solution.nfev), solution.message, solution.status > 0


def _laplace_covariance(jacobian):
    """``pinv(J^T J)`` via the SVD of ``J``, with curve_fit's cut-off; and ``cond(J)``."""
    _, s, vt = np.linalg.svd(jacobian, full_matrices=False)
    keep = s > np.finfo(float).eps * max(jacobian.shape) * s[0]
    covariance = (vt[keep].T / s[keep] ** 2) @ vt[keep]
    if not keep.all():
        covariance = np.full_like(covariance, np.inf)
    condition = float(s[0] / s[-1]) if s[-1] > 0 else np.inf
    return covariance, condition
