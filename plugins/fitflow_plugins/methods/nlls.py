"""Non-linear least squares with Laplace (Gauss-Newton) uncertainties.

Wraps ``scipy.optimize.least_squares``: Levenberg-Marquardt (MINPACK) when the
fit is unbounded, the trust-region reflective method when bounds apply. The
covariance is the Laplace approximation ``(J^T W J)^-1`` at the optimum, from
the SVD of the whitened Jacobian with the same small-singular-value cut-off as
``scipy.optimize.curve_fit``. A fit that stops without converging is reported
as failed with the optimiser's own reason.
"""

import numpy as np

from fitflow import FitResult, Method, Setting
from fitflow.uncertainty import correlation_matrix

__all__ = ["NonLinearLeastSquares"]


class NonLinearLeastSquares(Method):
    name = "nlls"
    version = "1.0"
    description = "scipy least_squares (LM / TRF) with Laplace covariance (J^T W J)^-1"
    capabilities = frozenset({"parametric"})
    resources = {"threads": 1, "mem_mb": 500, "runtime": 10}
    settings = {
        "bounded": Setting(False, bool, "respect the model's bounds (TRF) instead of unbounded LM"),
        "jacobian": Setting("model", str, "'model' (exact where the model gives it) or finite differences",
                            choices=("model", "2-point", "3-point")),
        "ftol": Setting(1e-12, float, "relative tolerance on the cost", minimum=0.0),
        "xtol": Setting(1e-12, float, "relative tolerance on the parameters", minimum=0.0),
        "gtol": Setting(1e-12, float, "tolerance on the gradient", minimum=0.0),
        "max_nfev": Setting(None, int, "evaluation budget (default: scipy's)", minimum=1),
        "absolute_sigma": Setting(True, bool, "errors are absolute; if false, scale covariance by chi2/dof"),
    }

    def fit(self, dataset, rng):
        from scipy.optimize import least_squares

        model = dataset.model
        x, y = dataset.x, dataset.y
        whiten = 1.0 / dataset.sigma if dataset.sigma is not None else np.ones_like(y)

        def residuals(theta):
            return (y - model(x, theta)) * whiten

        jac = "2-point"
        if self.values["jacobian"] != "model":
            jac = self.values["jacobian"]
        elif model.design is not None or model.jacobian is not None:
            def jac(theta):
                return -model.jacobian_at(x, theta) * whiten[:, None]

        bounded = self.values["bounded"] and model.is_bounded
        p0 = np.clip(model.p0, *model.bounds) if bounded else model.p0
        with np.errstate(all="ignore"):
            solution = least_squares(
                residuals,
                p0,
                jac=jac,
                bounds=model.bounds if bounded else (-np.inf, np.inf),
                method="trf" if bounded else "lm",
                ftol=self.values["ftol"] or None,
                xtol=self.values["xtol"] or None,
                gtol=self.values["gtol"] or None,
                max_nfev=self.values["max_nfev"],
            )
        if solution.status <= 0 or not np.all(np.isfinite(solution.x)):
            return FitResult.failed(f"least_squares did not converge: {solution.message}")

        covariance, condition = _laplace_covariance(solution.jac)
        chi2 = float(2 * solution.cost)
        dof = y.size - solution.x.size
        warnings = []
        if dataset.sigma is None or not self.values["absolute_sigma"]:
            covariance = covariance * (chi2 / dof if dof > 0 else np.inf)
        if not np.all(np.isfinite(covariance)):
            warnings.append("covariance is not finite: the Jacobian is singular at the optimum")
        names = model.param_names
        return FitResult(
            params=dict(zip(names, solution.x)),
            stderr=dict(zip(names, np.sqrt(np.abs(np.diag(covariance))))),
            covariance=covariance,
            y_fit=model(x, solution.x),
            n_evaluations=int(solution.nfev),
            diagnostics={
                "algorithm": "trf" if bounded else "lm",
                "status": int(solution.status),
                "message": solution.message,
                "nfev": int(solution.nfev),
                "njev": None if solution.njev is None else int(solution.njev),
                "cost": float(solution.cost),
                "optimality": float(solution.optimality),
                "condition_number": condition,
                "correlation": correlation_matrix(covariance).tolist(),
            },
            warnings=warnings,
        )


def _laplace_covariance(jacobian):
    """``pinv(J^T J)`` via the SVD of ``J``, as scipy's curve_fit computes it."""
    from scipy import linalg

    _, s, vt = linalg.svd(jacobian, full_matrices=False)
    threshold = np.finfo(float).eps * max(jacobian.shape) * s[0]
    keep = s > threshold
    covariance = (vt[keep].T / s[keep] ** 2) @ vt[keep]
    if not keep.all():
        covariance = np.full_like(covariance, np.inf)
    condition = float(s[0] / s[-1]) if s[-1] > 0 else np.inf
    return covariance, condition
