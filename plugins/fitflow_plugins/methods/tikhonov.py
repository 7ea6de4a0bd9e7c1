"""Tikhonov-regularised deconvolution with automatic choice of the regularisation.

Minimises ``||W^(1/2) (y - R f)||^2 + lam ||D f||^2`` with ``D`` the first- or
second-difference operator. Each ``lam`` is solved as the augmented
least-squares system ``[W^(1/2) R; sqrt(lam) D] f = [W^(1/2) y; 0]`` by a QR
factorisation (LAPACK through SciPy): no normal equations, no inverse. The QR
also gives, for free, the trace of the influence matrix (the squared norm of
the top block of Q), hence the effective degrees of freedom and the
generalised cross-validation score

    GCV(lam) = n ||W^(1/2)(y - R f_lam)||^2 / (n - edf(lam))^2,

and the posterior covariance ``(R^T W R + lam D^T D)^-1 = T^-1 T^-T`` (T the
triangular factor), whose diagonal gives the band. ``lam`` is the GCV minimum
over a log grid (default), the corner of the L-curve (maximum curvature of
``(log ||residual||, log ||D f||)``), or fixed.
"""

import numpy as np

from fitflow import FitResult, Method, Setting

__all__ = ["Tikhonov", "difference_operator"]


def difference_operator(n, order):
    """``(n - order, n)`` matrix of first or second differences."""
    return np.diff(np.eye(n), n=order, axis=0)


class Tikhonov(Method):
    name = "tikhonov"
    version = "1.0"
    description = "Tikhonov deconvolution, lam by GCV / L-curve / fixed, solved by QR"
    capabilities = frozenset({"deconvolution"})
    requires_modules = ("scipy.linalg",)
    resources = {"threads": 1, "mem_mb": 1000, "runtime": 10}
    settings = {
        "order": Setting(1, int, "difference order of D: 1 (gradients) or 2 (curvature)", choices=(1, 2)),
        "choice": Setting("gcv", str, "how lam is chosen", choices=("gcv", "lcurve", "fixed")),
        "lam": Setting(None, float, "the regularisation weight when choice is 'fixed'", minimum=0.0),
        "n_lambda": Setting(30, int, "points of the log-spaced lam grid", minimum=3, maximum=1_000),
        "lambda_min": Setting(1e-8, float, "smallest lam, relative to ||W^1/2 R||^2 / ||D||^2", minimum=0.0),
        "lambda_max": Setting(1e2, float, "largest lam, same scale", minimum=0.0),
    }
    fast_settings = {"n_lambda": 8}

    def check_settings(self):
        from fitflow import SettingsError

        v = self.values
        if v["choice"] == "fixed" and v["lam"] is None:
            raise SettingsError(f"{self.label()} needs 'lam' when choice is 'fixed'", plugin=self.name, key="lam")
        if not v["lambda_min"] < v["lambda_max"]:
            raise SettingsError(
                f"{self.label()} needs lambda_min < lambda_max; got {v['lambda_min']}, {v['lambda_max']}",
                plugin=self.name, key="lambda_max", value=v["lambda_max"],
            )

    def fit(self, dataset, rng):
        from scipy import linalg

        v = self.values
        design = dataset.model.design(dataset.x)
        whiten = 1.0 / dataset.sigma if dataset.sigma is not None else np.ones(dataset.n_points)
        a = design * whiten[:, None]
        b = dataset.y * whiten
        n, p = a.shape
        d = difference_operator(p, v["order"])
        scale = linalg.norm(a, 2) ** 2 / linalg.norm(d, 2) ** 2

        def solve(lam):
            q, t = linalg.qr(np.vstack([a, np.sqrt(lam) * d]), mode="economic")
            f = linalg.solve_triangular(t, q[:n].T @ b)
            edf = float(np.sum(q[:n] ** 2))
            residual = float(np.sum((b - a @ f) ** 2))
            return f, t, edf, residual

        if v["choice"] == "fixed":
            grid = np.array([v["lam"]])
        else:
            grid = scale * np.logspace(np.log10(v["lambda_min"]), np.log10(v["lambda_max"]), v["n_lambda"])
        curves = {"lam": grid, "residual_norm": [], "penalty_norm": [], "edf": [], "gcv": []}
        for lam in grid:
            f, _, edf, residual = solve(lam)
            curves["residual_norm"].append(np.sqrt(residual))
            curves["penalty_norm"].append(linalg.norm(d @ f))
            curves["edf"].append(edf)
            curves["gcv"].append(n * residual / (n - edf) ** 2 if edf < n else np.inf)
        curves = {k: np.asarray(val, dtype=float) for k, val in curves.items()}
        if v["choice"] == "lcurve":
            index = _lcurve_corner(curves["residual_norm"], curves["penalty_norm"])
        else:
            index = int(np.argmin(curves["gcv"]))
        lam = float(grid[index])
        f, t, edf, residual = solve(lam)
        t_inv = linalg.solve_triangular(t, np.eye(p))
        covariance = t_inv @ t_inv.T
        warnings = []
        if v["choice"] != "fixed" and index in (0, len(grid) - 1):
            warnings.append(f"chosen lam {lam:.3g} is at the end of the grid: widen lambda_min/lambda_max")
        return FitResult(
            params=dict(zip(dataset.model.param_names, f)),
            covariance=covariance,
            grid_mean=f,
            grid_std=np.sqrt(np.diag(covariance)),
            y_fit=design @ f,
            n_effective_params=edf,
            n_evaluations=len(grid) + 1,
            diagnostics={"lam": lam, "choice": v["choice"], "edf": edf, "order": v["order"], "gcv_index": index},
            arrays=curves,
            warnings=warnings,
        )

    def figures(self, dataset, result):
        import matplotlib.pyplot as plt

        c = result.arrays
        if len(c["lam"]) < 2:
            return {}
        fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.6), dpi=100)
        fig.subplots_adjust(left=0.09, right=0.98, bottom=0.16, top=0.88, wspace=0.3)
        from fitflow.plots import log_scale_if_wide

        left.semilogx(c["lam"], c["gcv"], "o-", ms=3)
        log_scale_if_wide(left, "y", c["gcv"])
        left.axvline(result.diagnostics["lam"], color="#D55E00", ls="--", label="chosen lam")
        left.set_xlabel("lam")
        left.set_ylabel("GCV score")
        left.set_title("generalised cross-validation", fontsize=10)
        left.legend(fontsize=8)
        # Log10 coordinates on linear axes: labels stay legible over any range.
        right.plot(np.log10(c["residual_norm"]), np.log10(c["penalty_norm"]), "o-", ms=3)
        i = result.diagnostics["gcv_index"]
        right.plot(np.log10(c["residual_norm"][i]), np.log10(c["penalty_norm"][i]), "o", color="#D55E00", ms=8,
                   label="chosen lam")
        right.set_xlabel("log10 ||W^1/2 (y - R f)||")
        right.set_ylabel("log10 ||D f||")
        right.set_title("L-curve", fontsize=10)
        right.legend(fontsize=8)
        return {"regularisation": fig}


def _lcurve_corner(residual_norm, penalty_norm):
    """Index of maximum curvature of the L-curve in log-log coordinates."""
    x, y = np.log(residual_norm), np.log(penalty_norm)
    t = np.arange(x.size, dtype=float)
    dx, dy = np.gradient(x, t), np.gradient(y, t)
    ddx, ddy = np.gradient(dx, t), np.gradient(dy, t)
    curvature = (dx * ddy - dy * ddx) / np.power(dx**2 + dy**2, 1.5)
    curvature[~np.isfinite(curvature)] = -np.inf
    return int(np.argmax(curvature))
