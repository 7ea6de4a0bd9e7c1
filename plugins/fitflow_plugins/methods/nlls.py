"""Non-linear least squares with Laplace (Gauss-Newton) uncertainties.

Unbounded fits use Levenberg-Marquardt from MINPACK (``lmder``/``lmdif``) through
``scipy.optimize.leastsq``, the routine ``least_squares(method="lm")`` and
``curve_fit`` also call; going through ``leastsq`` skips ``least_squares``'s
Python wrapper, which alone costs 1.3x a ``curve_fit`` call on small problems
(benchmarks/bench_core.py). Bounded fits use ``least_squares``'s trust-region
reflective method.

The covariance is the Laplace approximation ``(J^T W J)^-1`` at the optimum,
as MINPACK already computes it from its QR factor of the Jacobian (LM, the
value ``curve_fit`` reports), or from the SVD of the Jacobian at the optimum
with ``curve_fit``'s small-singular-value cut-off (TRF: the model's exact
Jacobian where it gives one, else central differences). A fit that stops without converging is reported as
failed with the optimiser's own reason.
"""

import numpy as np

from fitflow import FitResult, Method, Setting

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
        "ftol": Setting(1e-15, float, "relative tolerance on the cost", minimum=0.0),
        "xtol": Setting(1e-15, float, "relative tolerance on the parameters", minimum=0.0),
        "gtol": Setting(1e-15, float, "tolerance on the gradient", minimum=0.0),
        "max_nfev": Setting(None, int, "evaluation budget per solver run (default: 1000 x (parameters + 1))",
                            minimum=1),
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
        solver_jacobian = jacobian if exact else None
        with np.errstate(all="ignore"):
            if bounded:
                fitted = self._trust_region(residuals, solver_jacobian, jacobian, model.p0, model.bounds)
                algorithm = "trf"
            else:
                fitted = self._levenberg_marquardt(residuals, solver_jacobian, model.p0)
                algorithm = "lm"
                if not _converged(fitted):
                    fitted, algorithm = self._rescue(residuals, solver_jacobian, jacobian, model.p0, fitted)
        theta, fvec, nfev, message, ok, covariance, condition, gradient = fitted
        if not _converged(fitted):
            return FitResult.failed(f"{'least_squares' if bounded else 'leastsq'} did not converge: {message}")

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
                "algorithm": algorithm,
                "message": message,
                "nfev": nfev,
                "cost": 0.5 * chi2,
                "optimality": float(np.max(np.abs(gradient))),
                "condition_number": condition,
            },
            warnings=warnings,
        )

    def _budget(self, n_params):
        """Evaluations allowed per solver run. MINPACK's own default, 100 (n + 1), stops
        slow but steady descents (NIST MGH17 from start 1 needs about 600)."""
        return self.values["max_nfev"] or 1000 * (n_params + 1)

    def _rescue(self, residuals, solver_jacobian, jacobian, start, failed):
        """Where LM stops without converging (it can wander off from a poor start, or run
        out of evaluations), rerun from the same start with TRF scaled by the Jacobian's
        column norms (``x_scale="jac"``), then polish with LM from where TRF ended.
        The evaluations of all attempts are counted; the first failure is reported if
        the rescue fails too."""
        unbounded = (np.full(start.size, -np.inf), np.full(start.size, np.inf))
        trust = self._trust_region(residuals, solver_jacobian, jacobian, start, unbounded, x_scale="jac")
        if not _converged(trust):
            return failed, "lm"
        polished = self._levenberg_marquardt(residuals, solver_jacobian, trust[0])
        chosen, algorithm = (polished, "lm after trf(x_scale=jac)") if _converged(polished) else (trust, "trf(x_scale=jac)")
        total_nfev = failed[2] + trust[2] + (polished[2] if chosen is polished else 0)
        return (chosen[0], chosen[1], total_nfev, *chosen[3:]), algorithm

    def _levenberg_marquardt(self, residuals, jacobian, start):
        """MINPACK LM. Its pivoted QR of the whitened Jacobian at the optimum, J P = Q R,
        already gives the covariance ``cov_x = P (R^T R)^-1 P^T`` (what curve_fit reports),
        the singular values of J (those of R) and the gradient J^T r = P R^T Q^T r, so J
        is neither evaluated nor decomposed again."""
        from scipy.optimize import leastsq

        v = self.values
        theta, covariance, info, message, ier = leastsq(
            residuals, start, Dfun=jacobian, full_output=True,
            ftol=v["ftol"], xtol=v["xtol"], gtol=v["gtol"], maxfev=self._budget(start.size),
        )
        n = theta.size
        perm = info["ipvt"] - info["ipvt"].min()  # 1-based before SciPy 1.15, 0-based since
        r = np.triu(np.transpose(info["fjac"])[:n, :])
        if not (np.all(np.isfinite(r)) and np.all(np.isfinite(info["fvec"]))):
            nan = np.full(n, np.nan)
            return (theta, info["fvec"], int(info["nfev"]), f"{message} (the model overflowed: non-finite values)",
                    False, np.full((n, n), np.inf), np.inf, nan)
        singular_values = np.linalg.svd(r, compute_uv=False)
        condition = float(singular_values[0] / singular_values[-1]) if singular_values[-1] > 0 else np.inf
        if covariance is None or condition > 1 / (np.finfo(float).eps * max(info["fvec"].size, n)):
            covariance = np.full((n, n), np.inf)  # singular Jacobian: as curve_fit reports it
        gradient = np.empty(n)
        gradient[perm] = r.T @ info["qtf"][:n]
        return (theta, info["fvec"], int(info["nfev"]), message, ier in _LEASTSQ_SUCCESS,
                covariance, condition, gradient)

    def _trust_region(self, residuals, solver_jacobian, jacobian, start, bounds, x_scale=1.0):
        from scipy.optimize import least_squares

        v = self.values
        solution = least_squares(
            residuals, np.clip(start, *bounds), jac=solver_jacobian or "2-point", bounds=bounds, method="trf",
            x_scale=x_scale, ftol=v["ftol"] or None, xtol=v["xtol"] or None, gtol=v["gtol"] or None,
            max_nfev=self._budget(start.size),
        )
        jac = jacobian(solution.x)  # exact (or central-difference) Jacobian at the optimum
        covariance, condition = _laplace_covariance(jac)
        return (solution.x, solution.fun, int(solution.nfev), solution.message, solution.status > 0,
                covariance, condition, jac.T @ solution.fun)


def _converged(fitted):
    """True when a solver's ``(theta, fvec, ...)`` tuple reports success with finite values."""
    theta, fvec, ok = fitted[0], fitted[1], fitted[4]
    return bool(ok and np.all(np.isfinite(theta)) and np.all(np.isfinite(fvec)))


def _laplace_covariance(jacobian):
    """``pinv(J^T J)`` via the SVD of ``J``, with curve_fit's cut-off; and ``cond(J)``."""
    _, s, vt = np.linalg.svd(jacobian, full_matrices=False)
    keep = s > np.finfo(float).eps * max(jacobian.shape) * s[0]
    covariance = (vt[keep].T / s[keep] ** 2) @ vt[keep]
    if not keep.all():
        covariance = np.full_like(covariance, np.inf)
    condition = float(s[0] / s[-1]) if s[-1] > 0 else np.inf
    return covariance, condition
