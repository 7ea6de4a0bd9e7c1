"""Smoothing splines: the lecture's "flexible functions with local extent", beside the GP.

The cubic smoothing spline minimises ``sum w_i (y_i - f(x_i))^2 + lam int f''(x)^2 dx``
(``scipy.interpolate.make_smoothing_spline``, with ``w = 1/sigma^2`` where errors
are known). For a fixed ``lam`` the fit is linear in the data, ``f(grid) = H y``,
and scipy fits many right-hand sides at once, so one call with the identity as
data gives ``H`` exactly. That yields

* ``lam`` by generalised cross-validation, ``GCV = n RSS_w / (n - tr S)^2`` with
  ``S`` the smoother matrix at the data, minimised over a log grid and refined
  (a choice at the grid's end widens the grid, as Tikhonov's does). GCV at each
  ``lam`` costs O(n), from the Reinsch form of the same spline (:class:`_GCV`); the
  exact ``H`` is built once, at the chosen ``lam`` (building it at every ``lam``
  would cost O(n^2) each). Near
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

from fitflow.plugin import BAND, BAND_NOTE, FitResult, Method, Setting

__all__ = ["SmoothingSpline"]


class SmoothingSpline(Method):
    name = "spline"
    version = "1.4"
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

        criterion = _GCV(u, y, unit_weights)

        def gcv(log_lam_u):
            rss, edf = criterion(10.0**log_lam_u)
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
        at_data, at_grid = basis(u), _natural(basis, (np.asarray(dataset.grid_x, dtype=float) - x[0]) / span)
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
                BAND: "mean",
                BAND_NOTE: "sampling variance of the smoother; smoothing bias not included",
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


def _natural(basis, points):
    """``basis`` at ``points`` (unit span), continued as straight lines beyond the data.

    The smoothing spline is a natural cubic spline: its second derivative vanishes at the end
    knots and it is linear beyond them (Green and Silverman 1994, section 2.1). scipy's BSpline
    instead continues the end cubic pieces, which a held-out end block in cross-validation
    exposed: on the weekly CO2 record the spline's cross-validated error was 1.2e5 ppm."""
    rows = basis(np.clip(points, 0.0, 1.0))
    beyond = (points < 0.0) | (points > 1.0)
    if np.any(beyond):
        edge = np.where(points[beyond] < 0.0, 0.0, 1.0)
        rows[beyond] += (points[beyond] - edge)[:, None] * basis.derivative()(edge)
    return rows


class _GCV:
    """``(RSS_w, tr S)`` of the cubic smoothing spline through ``(u, y)`` with weights ``w`` at
    any ``lam``, in O(n): the GCV criterion's two terms without the n x n smoother.

    The Reinsch form of the spline scipy fits (Green and Silverman 1994, section 2.3): with
    ``h`` the gaps of ``u``, ``Q`` (n x n-2, three bands) and ``R`` (n-2 square, tridiagonal),
    ``B = R + lam Q^T W^-1 Q`` is a banded positive definite matrix, the residuals are
    ``lam W^-1 Q B^-1 Q^T y`` and ``n - tr S = lam tr(W^-1 Q B^-1 Q^T)``, which needs only
    the central five bands of ``B^-1``: Hutchinson and de Hoog's (1985) recursion on the
    banded Cholesky factor. Agrees with the exact smoother (the identity as data) to
    1e-6 in ``RSS_w`` and 1e-4 in ``tr S`` for ``lam`` from 1e-10 to 1 on the unit span
    (tests/methods/test_spline.py)."""

    def __init__(self, u, y, w):
        from scipy.linalg import cho_solve_banded, cholesky_banded

        self._cholesky, self._solve = cholesky_banded, cho_solve_banded
        h = np.diff(u)
        self.w = np.ones_like(y) if w is None else np.asarray(w, dtype=float)
        w_inv = 1.0 / self.w
        # column j of Q holds q0[j], q1[j], q2[j] in rows j, j+1, j+2
        self.q = q0, q1, q2 = 1.0 / h[:-1], -1.0 / h[:-1] - 1.0 / h[1:], 1.0 / h[1:]
        m = u.size - 2
        # R and Q^T W^-1 Q in LAPACK's upper banded storage (row 2 the diagonal)
        self.r = np.zeros((3, m))
        self.r[2] = (h[:-1] + h[1:]) / 3.0
        self.r[1, 1:] = h[1:-1] / 6.0
        self.t = np.zeros((3, m))
        self.t[2] = q0**2 * w_inv[:-2] + q1**2 * w_inv[1:-1] + q2**2 * w_inv[2:]
        self.t[1, 1:] = q1[:-1] * q0[1:] * w_inv[1:-2] + q2[:-1] * q1[1:] * w_inv[2:-1]
        self.t[0, 2:] = q2[:-2] * q0[2:] * w_inv[2:-2]
        self.qty = q0 * y[:-2] + q1 * y[1:-1] + q2 * y[2:]

    def __call__(self, lam):
        try:
            upper = self._cholesky(self.r + lam * self.t)
        except np.linalg.LinAlgError:
            return np.inf, np.nan
        q0, q1, q2 = self.q
        gamma = self._solve((upper, False), self.qty)
        q_gamma = np.zeros(gamma.size + 2)
        q_gamma[:-2] += q0 * gamma
        q_gamma[1:-1] += q1 * gamma
        q_gamma[2:] += q2 * gamma
        rss = float(lam**2 * np.sum(q_gamma**2 / self.w))
        s0, s1, s2 = _inverse_bands(upper)
        # row k of Q: q2[k-2], q1[k-1], q0[k] in columns k-2, k-1, k (zero off the ends)
        n, m = gamma.size + 2, gamma.size
        a, b, c = np.zeros(n), np.zeros(n), np.zeros(n)
        a[2:], b[1:-1], c[:-2] = q2, q1, q0

        def at(values, shift):
            padded = np.zeros(n)
            padded[shift : shift + m] = values
            return padded

        diagonal = (
            a * a * at(s0, 2)
            + b * b * at(s0, 1)
            + c * c * at(s0, 0)
            + 2 * a * b * at(s1, 2)
            + 2 * a * c * at(s2, 2)
            + 2 * b * c * at(s1, 1)
        )
        return rss, n - lam * float(np.sum(diagonal / self.w))


def _inverse_bands(upper):
    """The diagonal and first two superdiagonals of ``(U^T U)^-1`` for ``U`` upper triangular
    with two superdiagonals (LAPACK banded storage): ``U Sigma = U^-T`` is lower triangular with
    diagonal ``1/U_ii``, which gives each row of the band from the two below it. A Python loop
    over plain floats: a few milliseconds for 2,000 points."""
    d, e, f = (row.tolist() for row in (upper[2], upper[1], upper[0]))
    m = len(d)
    s0, s1, s2 = [0.0] * (m + 2), [0.0] * (m + 2), [0.0] * (m + 2)
    for i in range(m - 1, -1, -1):
        u1 = e[i + 1] if i + 1 < m else 0.0
        u2 = f[i + 2] if i + 2 < m else 0.0
        s1[i] = -(u1 * s0[i + 1] + u2 * s1[i + 1]) / d[i]
        s2[i] = -(u1 * s1[i + 1] + u2 * s0[i + 2]) / d[i]
        s0[i] = (1.0 / d[i] - u1 * s1[i] - u2 * s2[i]) / d[i]
    return np.array(s0[:m]), np.array(s1[:m]), np.array(s2[:m])
