"""Smoothing splines: the lecture's "flexible functions with local extent", beside the GP.

The cubic smoothing spline minimises ``sum w_i (y_i - f(x_i))^2 + lam int f''(x)^2 dx``
(``scipy.interpolate.make_smoothing_spline``, with ``w = 1/sigma^2`` where errors
are known). For a fixed ``lam`` the fit is linear in the data, ``f(grid) = H y``,
and scipy fits many right-hand sides at once, so one call with the identity as
data gives ``H`` exactly. That yields

* ``lam`` by generalised cross-validation, ``GCV = n RSS_w / (n - tr S)^2`` with
  ``S`` the smoother matrix at the data, minimised over a log grid and refined
  (a choice at the grid's end widens the grid, as Tikhonov's does). Near
  interpolation GCV tends to a finite 0/0 limit that can undercut its real
  minimum on small samples, so ``tr S`` must leave a tenth of the points (at
  least 2) as residual degrees of freedom;
* the band ``Var f(g) = sum_j H_gj^2 sigma_j^2`` (known errors) or with
  ``sigma^2 = RSS / (n - tr S)`` (unknown): the spline's own sampling variance,
  which ignores its smoothing bias, as stated in the diagnostics;
* ``tr S``, the effective number of parameters, for chi2/dof.

One predictor with distinct values only (the requirement is declared, so the
plan skips other data with the reason).
"""

import numpy as np

from fitflow import FitResult, Method, Setting

__all__ = ["SmoothingSpline"]


class SmoothingSpline(Method):
    name = "spline"
    version = "1.2"
    description = "cubic smoothing spline (scipy make_smoothing_spline), lam by GCV, band from the smoother"
    capabilities = frozenset({"regression"})
    requirements = frozenset({"distinct_x"})
    requires_modules = ("scipy.interpolate", "scipy.optimize")
    resources = {"threads": 1, "mem_mb": 500, "runtime": 5}
    settings = {
        "lam": Setting(None, float, "fixed smoothing weight (default: chosen by GCV)", minimum=0.0),
        "n_lambda": Setting(
            25, int, "points of the log grid GCV is scanned on before refining", minimum=5, maximum=1000
        ),
    }
    fast_settings = {"n_lambda": 12}

    def can_fit(self, dataset):
        if dataset.x.ndim != 1:
            return "fits one predictor only; these data have several x columns"
        if dataset.y.ndim != 1:
            return "fits one response only; these data have several outputs"
        if dataset.n_points < 5:
            return f"needs at least 5 points; these data have {dataset.n_points}"
        return super().can_fit(dataset)

    def fit(self, dataset, rng):
        from scipy.interpolate import make_smoothing_spline

        order = np.argsort(dataset.x)
        x, y = dataset.x[order], dataset.y[order]
        sigma = None if dataset.sigma is None else dataset.sigma[order]
        weights = None if sigma is None else 1.0 / sigma**2
        n = x.size
        identity = np.eye(n)
        # scipy's banded solve loses every digit when x or the weights are far from 1
        # (nanoseconds, 1/sigma^2 of 1e-34): fit on u = (x - x0) / span with weights of mean 1.
        # The curve is the same; lam in x's units is lam_u * mean(w) * span^3.
        span = float(x[-1] - x[0]) or 1.0
        weight_scale = 1.0 if weights is None else float(np.mean(weights))
        lam_scale = weight_scale * span**3
        u = (x - x[0]) / span
        unit_weights = None if weights is None else weights / weight_scale

        def smoother(lam_u):
            """S (n x n) at the data: S @ y are the fitted values."""
            return make_smoothing_spline(u, identity, w=unit_weights, lam=lam_u)(u)

        def gcv(log_lam_u):
            s = smoother(10.0**log_lam_u)
            residual = y - s @ y
            rss = float(residual @ (residual * (unit_weights if unit_weights is not None else 1.0)))
            edf = float(np.trace(s))
            # Near interpolation GCV tends to a finite 0/0 limit that can undercut its real
            # minimum on small samples: keep a tenth of the points (at least 2) as residual dof.
            return n * rss / (n - edf) ** 2 if edf <= n - max(2.0, 0.1 * n) else np.inf

        if self.values["lam"] is not None:
            lam_u, note = self.values["lam"] / lam_scale, "fixed"
        else:
            lam_u, note = self._choose(gcv, n)
            if lam_u is None:
                return FitResult.failed(note)
        basis = make_smoothing_spline(u, identity, w=unit_weights, lam=lam_u)
        at_data, at_grid = basis(u), basis((np.asarray(dataset.grid_x, dtype=float) - x[0]) / span)
        # A cubic smoothing spline reproduces straight lines exactly; a smoother that does not
        # has lost its digits, and its curve is not to be trusted.
        line_error = float(np.max(np.abs(at_data @ u - u)))
        if not np.isfinite(line_error) or line_error > 1e-6:
            return FitResult.failed(
                f"the smoother is numerically broken at lam {lam_u * lam_scale:.3g}: it misses a "
                f"straight line by {line_error:.2g} of the x span"
            )
        lam = lam_u * lam_scale
        edf = float(np.trace(at_data))
        fitted = at_data @ y
        residual = y - fitted
        if sigma is None:
            dof = n - edf
            if dof <= 0.5:
                return FitResult.failed(
                    f"the spline interpolates (effective parameters {edf:.1f} of {n} points): "
                    f"no scatter is left to estimate the errors from"
                )
            variance = np.full(n, float(residual @ residual) / dof)
        else:
            variance = sigma**2
        grid_std = np.sqrt(at_grid**2 @ variance)
        y_fit = np.empty(n)
        y_fit[order] = fitted
        return FitResult(
            grid_mean=at_grid @ y,
            grid_std=grid_std,
            y_fit=y_fit,
            n_effective_params=edf,
            n_evaluations=1,
            diagnostics={
                "lam": float(lam),
                "choice": note,
                "edf": edf,
                "band": "sampling variance of the smoother (smoothing bias not included)",
            },
        )

    def _choose(self, gcv, n):
        """GCV's minimum over lam on the unit x span: a log grid around lam ~ 1 / n, widened
        while the minimum sits at an end (six decades at most), then refined; ``(lam, note)``
        or ``(None, reason)``."""
        from scipy.optimize import minimize_scalar

        centre = -np.log10(n)  # lam_u ~ 1 / n balances the two terms
        grid = list(np.linspace(centre - 8, centre + 4, self.values["n_lambda"]))
        scores = [gcv(g) for g in grid]
        step = grid[1] - grid[0]
        for _ in range(int(np.ceil(6 / step))):
            best = int(np.argmin(scores))
            if 0 < best < len(grid) - 1:
                break
            new = grid[0] - step if best == 0 else grid[-1] + step
            (grid.insert(0, new), scores.insert(0, gcv(new))) if best == 0 else (
                grid.append(new),
                scores.append(gcv(new)),
            )
        best = int(np.argmin(scores))
        if not np.isfinite(scores[best]) or best == 0:
            return None, (
                "GCV keeps falling as the spline approaches interpolation: no smoothing is supported by "
                "these data (too few points for their wiggles?)"
            )
        if best == len(grid) - 1:  # the straight-line limit of the spline: a legitimate answer
            return 10.0 ** grid[best], "gcv (its minimum is the straight-line limit)"
        # Near interpolation GCV is inf (see gcv); Brent's parabolas need finite values there,
        # so the refinement sees a finite ceiling above every score on the grid instead.
        ceiling = 10.0 * max(abs(s) for s in scores if np.isfinite(s)) + 1.0
        refined = minimize_scalar(
            lambda g: min(gcv(g), ceiling),
            bounds=(grid[best - 1], grid[best + 1]),
            method="bounded",
            options={"xatol": 1e-3},
        )
        log_lam = refined.x if refined.fun <= scores[best] else grid[best]
        return 10.0**log_lam, "gcv"
