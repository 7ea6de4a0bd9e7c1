"""Tikhonov-regularised deconvolution with automatic choice of the regularisation.

Minimises ``||W^(1/2) (y - R f)||^2 + lam ||D f||^2`` with ``D`` the identity
(order 0: small signals), or the first- or second-difference operator (order 1:
flat, 2: straight). Each ``lam`` is solved as the augmented
least-squares system ``[W^(1/2) R; sqrt(lam) D] f = [W^(1/2) y; 0]`` by a QR
factorisation (LAPACK through SciPy): no normal equations, no inverse. The QR
also gives, for free, the trace of the influence matrix (the squared norm of
the top block of Q), hence the effective degrees of freedom and the
generalised cross-validation score

    GCV(lam) = n ||W^(1/2)(y - R f_lam)||^2 / (n - edf(lam))^2,

and the posterior covariance ``(R^T W R + lam D^T D)^-1 = T^-1 T^-T`` (T the
triangular factor), whose diagonal gives the band.

Scanning the grid of ``lam`` needs only the curve (residual, penalty, edf, GCV), so it
is done once in standard form (Elden 1982; Hansen, *Rank-Deficient and Discrete
Ill-Posed Problems*, 1998, section 2.3): with ``f = D^+ h + N z`` (``N`` the null space
of ``D``) and ``z`` eliminated, the problem becomes ``||b' - A' h||^2 + lam ||h||^2``,
and one SVD of ``A'`` gives every point of the curve in O(p) flops. The chosen
``lam`` is then solved by the QR above, so the solution and its covariance are the
exact path's. (Each QR of the stacked ``(n + p) x p`` system costs about one SVD, so
a grid of many ``lam`` is an order of magnitude cheaper this way.) ``lam`` is the GCV minimum
over a log grid (default), the corner of the L-curve (maximum curvature of
``(log ||residual||, log ||D f||)``), the discrepancy principle (with known
errors: the largest ``lam`` whose chi-square does not exceed the number of
measurements, Morozov's choice), or fixed.

With ``nonnegative`` the solution at the chosen ``lam`` is the same augmented
least-squares problem under ``f >= 0`` (``scipy.optimize.lsq_linear``, BVLS), as
many measured spectra require; its band is the unconstrained posterior's, an
approximation where the constraint is active (stated in the fit's warnings).
"""

import numpy as np

from fitflow.plugin import BAND, FitResult, Method, Setting, needs_gaussian

__all__ = ["Tikhonov", "difference_operator"]


def difference_operator(n, order):
    """``(n - order, n)`` matrix of differences of ``order`` (0: the identity)."""
    return np.diff(np.eye(n), n=order, axis=0)


class Tikhonov(Method):
    name = "tikhonov"
    version = "2.1"
    description = (
        "Tikhonov deconvolution, lam by GCV / L-curve / discrepancy / fixed (scanned in standard form), "
        "optional f >= 0, solved by QR"
    )
    capabilities = frozenset({"deconvolution"})
    requires_modules = ("scipy.linalg",)
    resources = {"threads": 1, "mem_mb": 1000, "runtime": 10}
    settings = {
        "order": Setting(1, int, "difference order of D: 0 (size), 1 (gradients) or 2 (curvature)", choices=(0, 1, 2)),
        "choice": Setting(
            "gcv",
            str,
            "how lam is chosen (discrepancy needs known errors)",
            choices=("gcv", "lcurve", "discrepancy", "fixed"),
        ),
        "nonnegative": Setting(False, bool, "constrain the signal to f >= 0 (BVLS at the chosen lam)"),
        "lam": Setting(None, float, "the regularisation weight when choice is 'fixed'", minimum=0.0),
        "n_lambda": Setting(30, int, "points of the log-spaced lam grid", minimum=3, maximum=1_000),
        "lambda_min": Setting(1e-8, float, "smallest lam, relative to ||W^1/2 R||^2 / ||D||^2", minimum=0.0),
        "lambda_max": Setting(1e2, float, "largest lam, same scale", minimum=0.0),
    }
    fast_settings = {"n_lambda": 8}

    def check_settings(self):
        from fitflow.plugin import SettingsError

        v = self.values
        if v["choice"] == "fixed" and v["lam"] is None:
            raise SettingsError(f"{self.label()} needs 'lam' when choice is 'fixed'", plugin=self.name, key="lam")
        if not v["lambda_min"] < v["lambda_max"]:
            raise SettingsError(
                f"{self.label()} needs lambda_min < lambda_max; got {v['lambda_min']}, {v['lambda_max']}",
                plugin=self.name,
                key="lambda_max",
                value=v["lambda_max"],
            )

    def can_fit(self, dataset):
        reason = needs_gaussian(self, dataset)
        if reason:
            return reason
        if self.values["choice"] == "discrepancy" and dataset.sigma is None:
            return "chooses lam by the discrepancy principle, which needs known per-point errors (a 'sigma' column)"
        return super().can_fit(dataset)

    def _choose(self, grid, points, n):
        """Index of the chosen lam on the grid, and a warning or None."""
        residual_norm = np.array([pt[0] for pt in points])
        if self.values["choice"] == "lcurve":
            return _lcurve_corner(residual_norm, np.array([pt[1] for pt in points])), None
        if self.values["choice"] == "discrepancy":
            return _discrepancy(residual_norm**2, n)
        return int(np.argmin([pt[3] for pt in points])), None

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

        curve = _StandardFormCurve(a, b, d)

        def curve_point(lam):
            residual, penalty, edf = curve(lam) if curve.ok else _qr_curve(solve(lam), d)
            gcv = n * residual / (n - edf) ** 2 if edf < n else np.inf
            return np.sqrt(residual), penalty, edf, gcv

        if v["choice"] == "fixed":
            grid = np.array([v["lam"]])
        else:
            grid = scale * np.logspace(np.log10(v["lambda_min"]), np.log10(v["lambda_max"]), v["n_lambda"])
        points = [curve_point(lam) for lam in grid]
        warnings = []
        index, note = self._choose(grid, points, n)
        # Documented fallback: a choice at an end of the grid says the optimum lies beyond it,
        # so the grid grows by a decade that way (six at most) and the choice is made again.
        step = np.log10(grid[1] / grid[0]) if grid.size > 1 else 1.0
        for _ in range(6 * max(1, int(round(1 / step))) if v["choice"] != "fixed" else 0):
            if index not in (0, grid.size - 1):
                break
            new = grid[0] / 10**step if index == 0 else grid[-1] * 10**step
            point = curve_point(new)
            grid = np.insert(grid, 0, new) if index == 0 else np.append(grid, new)
            points.insert(0, point) if index == 0 else points.append(point)
            index, note = self._choose(grid, points, n)
        curves = {
            "lam": grid,
            **{
                k: np.array([pt[i] for pt in points], dtype=float)
                for i, k in enumerate(("residual_norm", "penalty_norm", "edf", "gcv"))
            },
        }
        if note:
            warnings.append(note)
        if v["choice"] != "fixed" and index in (0, grid.size - 1):
            return FitResult.failed(
                f"the {v['choice']} choice of lam stays at the end of the grid ({grid[index]:.3g}) "
                f"even after widening it by six decades: no regularisation weight in range is "
                f"supported by these data"
            )
        lam = float(grid[index])
        f, t, edf, residual = solve(lam)
        t_inv = linalg.solve_triangular(t, np.eye(p))
        covariance = t_inv @ t_inv.T
        if v["nonnegative"]:
            f, active = _nonnegative(a, b, np.sqrt(lam) * d)
            if active:
                warnings.append(
                    f"non-negativity is active at {active} of {p} points: the band there is the "
                    f"unconstrained posterior's (an approximation)"
                )
        return FitResult(
            params=dict(zip(dataset.model.param_names, f)),
            covariance=covariance,
            grid_mean=f,
            grid_std=np.sqrt(np.diag(covariance)),
            y_fit=design @ f,
            n_effective_params=edf,
            n_evaluations=len(grid) + 1,
            diagnostics={
                "lam": lam,
                BAND: "mean",
                "choice": v["choice"],
                "edf": edf,
                "order": v["order"],
                "gcv_index": index,
                "nonnegative": v["nonnegative"],
            },
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
        from fitflow.plugin import log_scale_if_wide

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
        right.plot(
            np.log10(c["residual_norm"][i]),
            np.log10(c["penalty_norm"][i]),
            "o",
            color="#D55E00",
            ms=8,
            label="chosen lam",
        )
        right.set_xlabel("log10 ||W^1/2 (y - R f)||")
        right.set_ylabel("log10 ||D f||")
        right.set_title("L-curve", fontsize=10)
        right.legend(fontsize=8)
        return {"regularisation": fig}


def _qr_curve(solution, d):
    """``(squared residual, ||D f||, edf)`` of one exact QR solution."""
    f, _, edf, residual = solution
    return residual, float(np.linalg.norm(d @ f)), edf


class _StandardFormCurve:
    """The L-curve and influence trace of ``||b - A f||^2 + lam ||D f||^2`` for any ``lam``,
    from one SVD of the problem in standard form (see the module docstring).

    ``D`` has full row rank (a difference operator), so ``D^+ = Q R^-T`` from the QR of
    ``D^T`` is a right inverse and the trailing columns of that QR span its null space
    ``N``. The null-space part is fitted without penalty, so it is projected out:
    ``A' = P A D^+`` and ``b' = P b`` with ``P`` the projector off ``range(A N)``.
    ``ok`` is False where ``A N`` is (numerically) rank-deficient; the caller then solves
    each ``lam`` by QR instead.
    """

    def __init__(self, a, b, d):
        from scipy import linalg

        n, p = a.shape
        rows = d.shape[0]
        q, r = linalg.qr(d.T)  # full: the last p - rows columns span null(D)
        right_inverse = linalg.solve_triangular(r[:rows], q[:, :rows].T).T  # D^+ = Q1 R1^-T
        a_null = a @ q[:, rows:]
        q_null, r_null = linalg.qr(a_null, mode="economic")
        diagonal = np.abs(np.diag(r_null))
        self.ok = diagonal.size == 0 or diagonal.min() > 1e-10 * linalg.norm(a)  # Frobenius: cheap, >= ||A||_2
        self.k = p - rows

        def project(m):
            return m - q_null @ (q_null.T @ m)

        u, self.s, _ = linalg.svd(project(a @ right_inverse), full_matrices=False)
        projected = project(b)
        self.beta = u.T @ projected
        # What no h can reach: the part of b' outside range(A'), computed directly, not by subtraction.
        self.unreachable = float(np.sum((projected - u @ self.beta) ** 2))

    def __call__(self, lam):
        """``(squared residual, ||D f||, edf)`` at ``lam``."""
        s2 = self.s**2
        filtered = s2 / (s2 + lam)
        residual = float(np.sum(((1.0 - filtered) * self.beta) ** 2)) + self.unreachable
        penalty = float(np.linalg.norm(self.s * self.beta / (s2 + lam)))
        return residual, penalty, self.k + float(np.sum(filtered))


def _discrepancy(chi2, n):
    """Morozov's discrepancy principle on the grid: the largest lam whose whitened chi-square
    stays within the n measurements' expectation; ``(index, warning or None)``."""
    within = np.flatnonzero(chi2 <= n)
    if within.size == 0:
        return 0, (f"no lam brings chi2 down to n = {n} (smallest {chi2.min():.3g}): the errors may be underestimated")
    return int(within[-1]), None


def _nonnegative(a, b, penalty):
    """The regularised least-squares solution under f >= 0; ``(f, number of active bounds)``."""
    from scipy.optimize import lsq_linear

    augmented = np.vstack([a, penalty])
    target = np.concatenate([b, np.zeros(penalty.shape[0])])
    solution = lsq_linear(augmented, target, bounds=(0.0, np.inf), method="bvls", tol=1e-12)
    f = solution.x
    return f, int(np.sum(f <= 0.0))


def _lcurve_corner(residual_norm, penalty_norm):
    """Index of maximum curvature of the L-curve in log-log coordinates, among the points where
    the curve moves (at least a tenth of its median speed along the grid)."""
    x, y = np.log(residual_norm), np.log(penalty_norm)
    t = np.arange(x.size, dtype=float)
    dx, dy = np.gradient(x, t), np.gradient(y, t)
    ddx, ddy = np.gradient(dx, t), np.gradient(dy, t)
    speed = np.hypot(dx, dy)
    curvature = (dx * ddy - dy * ddx) / speed**3
    curvature[~np.isfinite(curvature)] = -np.inf
    # Where the curve barely moves (lam so small that the fit interpolates, or so large that
    # nothing changes), rounding makes huge spurious curvature: only a corner where it moves counts.
    curvature[speed < 0.1 * np.median(speed)] = -np.inf
    if curvature.size > 4:  # one-sided differences at the ends make spurious corners there
        curvature[[0, -1]] = -np.inf
    return int(np.argmax(curvature))
