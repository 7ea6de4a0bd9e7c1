"""Non-linear least squares with Laplace (Gauss-Newton) uncertainties.

Unbounded fits use Levenberg-Marquardt from MINPACK (``lmder``/``lmdif``) through
``scipy.optimize.leastsq``, the routine ``least_squares(method="lm")`` and
``curve_fit`` also call; going through ``leastsq`` skips ``least_squares``'s
Python wrapper, which dominates the cost of small problems (docs/benchmarks.md).
Bounded fits use ``least_squares``'s trust-region reflective method.

The covariance is the Laplace approximation ``(J^T W J)^-1`` at the optimum,
computed by :func:`fitflow.core.lstsq.laplace_covariance` from the column-scaled
Jacobian (for LM from MINPACK's own triangular factor, so J is neither evaluated
nor decomposed again), so a well-determined but badly scaled model (a
polynomial in raw powers of x) keeps finite standard errors.

A fit is ``ok`` only when its answer can be trusted:

1. the solver converged, to finite values;
2. the Jacobian at the optimum has full rank after column scaling;
3. no parameter sits on a plateau where it no longer affects the model (its
   column of the Jacobian times its value is below 1e-10 of the model's size:
   a saturating exponential whose rate ran off to a huge value, say). Scaling
   alone would hide such a plateau, MINPACK's unscaled test would call it singular.
   A parameter held at a bound of a bounded fit is constrained, not flat: it is
   exempt, and the fit warns that its standard error ignores the bound.

Where the first attempt fails one of these, the documented fallbacks run in
order until one passes: (a) TRF from the same start with ``x_scale="jac"``,
polished by LM; (b) LM from the start scaled by 0.1, then by 10 (for a bounded
fit, TRF from those starts clipped into the box). The fit records the path it
took in ``diagnostics["algorithm"]``. If none passes, the fit is failed with the
first attempt's reason, never ``ok`` with a warning.

Bounds are constraints: a scientist who writes ``lower: 0`` for a background
means it cannot be negative. By default (``bounded`` unset) the fit is the
unbounded LM one while its optimum lies inside the model's bounds; where it lies
outside them, or LM fails, the fit is redone inside them by TRF, with a warning
that says which parameter crossed which bound.
"""

import copy
from dataclasses import dataclass, replace

import numpy as np

from fitflow.plugin import (
    INSTALL_JAX,
    FitResult,
    Method,
    RankDeficiency,
    Setting,
    SettingsError,
    covariance_settings,
    laplace_covariance,
    likelihood_of,
    poisson_scale,
    sandwich_covariance,
    series_order,
)

__all__ = ["NonLinearLeastSquares"]

_LEASTSQ_SUCCESS = (1, 2, 3, 4)
#: Rounds of reweighted least squares a Poisson fit may take (a log-linear one settles in 5 to 10).
IRLS_ROUNDS = 100
#: A Poisson fit has settled when no parameter moves by more than this fraction of its standard error.
IRLS_TOLERANCE = 1e-8
#: A parameter whose whole value moves the model by less than this fraction of the
#: model's size has no effect there: the fit is on a degenerate plateau.
NO_EFFECT = 1e-10
#: Scalings of the start tried as fallbacks.
START_SCALES = (0.1, 10.0)


@dataclass
class _Attempt:
    """One solver run: its optimum and a factor M with ``M^T M = J^T W J`` there."""

    theta: np.ndarray
    fvec: np.ndarray
    nfev: int
    message: str
    converged: bool
    factor: np.ndarray
    gradient: np.ndarray

    @property
    def cost(self):
        return float(self.fvec @ self.fvec) if np.all(np.isfinite(self.fvec)) else np.inf


class NonLinearLeastSquares(Method):
    name = "nlls"
    version = "2.2"
    description = "Levenberg-Marquardt (MINPACK) / TRF with Laplace covariance (J^T W J)^-1 and checked fallbacks"
    capabilities = frozenset({"parametric"})
    resources = {"threads": 1, "mem_mb": 500, "runtime": 10}
    requires_modules = ("scipy.optimize",)
    settings = {
        "bounded": Setting(
            None,
            bool,
            "true: fit inside the model's bounds (least_squares TRF); false: unbounded LM; "
            "default: LM, refitted inside the bounds where its optimum lies outside them "
            "or it fails",
        ),
        "jacobian": Setting(
            "model",
            str,
            "'model': exact where the model gives it; 'finite-difference': the solver's own",
            choices=("model", "finite-difference"),
        ),
        "ftol": Setting(1e-15, float, "relative tolerance on the cost", minimum=0.0),
        "xtol": Setting(1e-15, float, "relative tolerance on the parameters", minimum=0.0),
        "gtol": Setting(1e-15, float, "tolerance on the gradient", minimum=0.0),
        "max_nfev": Setting(
            None, int, "evaluation budget per solver run (default: 1000 x (parameters + 1))", minimum=1
        ),
        "fallbacks": Setting(True, bool, "where the first fit cannot be trusted, try TRF and rescaled starts"),
        **covariance_settings(),
        "curvature": Setting(
            "gauss-newton",
            str,
            "the curvature Laplace inverts: gauss-newton, J^T W J; hessian, the exact Hessian of the "
            "negative log-likelihood (by JAX: an expression, or a function with backend: jax). A model "
            "differentiated by JAX gets both, and a warning where they disagree",
            choices=("gauss-newton", "hessian"),
        ),
    }

    def check_settings(self):
        if self.values["curvature"] == "hessian" and self.values["covariance"] != "standard":
            raise SettingsError(
                f"{self.label()}: curvature: hessian and covariance: {self.values['covariance']} exclude each "
                "other (a robust sandwich is built on the Gauss-Newton curvature)",
                plugin=self.name,
                key="curvature",
                value="hessian",
            )

    def fit(self, dataset, rng):
        model = dataset.model
        # Checked here, not in can_fit: a can_fit makes the plan generate a probe dataset of
        # every problem nlls is paired with, inside Snakemake's own process, for a setting
        # few use.
        if self.values["curvature"] == "hessian" and not model.differentiable:
            return FitResult.failed(
                "curvature: hessian needs a model JAX can differentiate (an expression, or a function with "
                f"backend: jax; JAX comes with {INSTALL_JAX})"
            )
        if likelihood_of(dataset) == "poisson":
            return self._poisson(dataset)
        return self._within_bounds(dataset)

    def _within_bounds(self, dataset):
        """The Gaussian fit, unbounded or inside the model's bounds as the setting ``bounded`` says."""
        mode, model = self.values["bounded"], dataset.model
        if mode is not None or not model.is_bounded:
            return self._fit(dataset, bool(mode))
        free = self._fit(dataset, False)
        if free.ok:
            outside = _outside(free.estimate_vector(), model.bounds, model.param_names)
            if not outside:
                return free
            why = f"the unbounded optimum lies outside the bounds ({'; '.join(outside)}): refitted inside them"
        else:
            why = f"the unbounded fit failed ({free.message}): refitted inside the bounds"
        constrained = self._fit(dataset, True)
        if not constrained.ok:
            return free if not free.ok else FitResult.failed(f"{why}, which failed too: {constrained.message}")
        constrained.warnings.insert(0, why)
        constrained.n_evaluations += free.n_evaluations or 0
        constrained.diagnostics["algorithm"] = f"{constrained.diagnostics['algorithm']} (after unbounded lm)"
        return constrained

    def _poisson(self, dataset):
        """Maximum likelihood for counts by iteratively reweighted least squares: each round is
        the weighted fit with errors ``sqrt(f)`` at the previous round's fit, started there,
        until no parameter moves by :data:`IRLS_TOLERANCE` of its standard error. At the fixed
        point the Poisson score equations hold and the covariance is the inverse Fisher
        information (see :mod:`fitflow.core.likelihoods`)."""
        model = dataset.model
        x, y = dataset.x, dataset.y
        sigma = poisson_scale(np.maximum(y, 1.0))  # the first round weighs each count by itself
        theta, total = model.p0, 0
        for round_ in range(1, IRLS_ROUNDS + 1):
            weighted = copy.copy(dataset)
            weighted.sigma = sigma
            weighted._model = replace(model, p0=np.asarray(theta, dtype=float))
            result = self._within_bounds(weighted)
            total += result.n_evaluations or 0
            if not result.ok:
                return FitResult.failed(
                    f"round {round_} of the Poisson fit (reweighted least squares): {result.message}"
                )
            new = result.estimate_vector()
            with np.errstate(all="ignore"):
                mean = model(x, new)
            bad = np.flatnonzero(~(mean > 0) & ((y > 0) | ~(mean >= 0)))
            if bad.size:
                return FitResult.failed(
                    f"the model's mean is {mean[bad[0]]:.4g} at data row {bad[0] + 1}, under a count of "
                    f"{y[bad[0]]:g}: a Poisson mean must be positive there (bound the parameters)"
                )
            moved = np.abs(new - theta) <= IRLS_TOLERANCE * np.maximum(result.stderr_vector(), 1e-300)
            theta, sigma = new, poisson_scale(mean)
            if moved.all():
                result.n_evaluations = total
                result.diagnostics.update(likelihood="poisson", irls_rounds=round_)
                return result
        return FitResult.failed(
            f"the Poisson fit (reweighted least squares) did not settle in {IRLS_ROUNDS} rounds: the parameters "
            f"still moved by more than {IRLS_TOLERANCE:g} of their standard errors"
        )

    def _fit(self, dataset, bounded):
        model = dataset.model
        x, y = dataset.x, dataset.y
        whiten = 1.0 / dataset.sigma if dataset.sigma is not None else np.ones_like(y)
        names = model.param_names

        def residuals(theta):
            return (y - model(x, theta)) * whiten

        def jacobian(theta):
            return -model.jacobian_at(x, theta) * whiten[:, None]

        exact = self.values["jacobian"] == "model" and (model.design is not None or model.jacobian is not None)
        solver_jacobian = jacobian if exact else None
        bounds = model.bounds if bounded and model.is_bounded else None

        def run(label, start):
            if bounds is not None:
                return label, self._trust_region(residuals, solver_jacobian, jacobian, start, bounds)
            if label.startswith("trf"):
                unbounded = (np.full(start.size, -np.inf), np.full(start.size, np.inf))
                trust = self._trust_region(residuals, solver_jacobian, jacobian, start, unbounded, x_scale="jac")
                if not trust.converged:
                    return label, trust
                polished = self._levenberg_marquardt(residuals, solver_jacobian, trust.theta)
                if polished.converged and polished.cost <= trust.cost * (1 + 1e-12):
                    polished.nfev += trust.nfev
                    return f"lm after {label}", polished
                return label, trust
            return label, self._levenberg_marquardt(residuals, solver_jacobian, start)

        first = "trf" if bounds is not None else "lm"

        def plan():
            """The first attempt, then (lazily: most fits never need them) the fallbacks."""
            yield first, model.p0
            if self.values["fallbacks"]:
                if bounds is None:
                    yield "trf(x_scale=jac)", model.p0
                for scale in START_SCALES:
                    yield f"{first} from {scale:g} x start", _clip(model.p0 * scale, bounds)

        total_nfev, first_reason, tried = 0, None, []
        with np.errstate(all="ignore"):
            for label, start in plan():
                algorithm, attempt = run(label, start)
                total_nfev += attempt.nfev
                tried.append(algorithm)
                reason, laplace = self._assess(
                    attempt, y * whiten - attempt.fvec, names, bounds, "exact" if exact else "finite differences"
                )
                if reason is None:
                    break
                first_reason = first_reason or reason
            else:
                note = f" (fallbacks tried: {', '.join(tried[1:])})" if len(tried) > 1 else ""
                return FitResult.failed(f"{first_reason}{note}")
        covariance, condition, scaled_condition = laplace
        chi2 = attempt.cost
        dof = y.size - attempt.theta.size
        scale = 1.0
        if dataset.sigma is None or not self.values["absolute_sigma"]:
            if dof <= 0:
                return FitResult.failed(
                    f"{y.size} points and {attempt.theta.size} parameters leave no degrees "
                    f"of freedom to estimate the unknown errors"
                )
            scale = chi2 / dof
            covariance = covariance * scale
        robust = self.values["covariance"] != "standard"
        if robust:  # per-point scores: the whitened Jacobian's rows at the optimum
            covariance = sandwich_covariance(
                self.values["covariance"],
                laplace[0],
                jacobian(attempt.theta),
                attempt.fvec,
                self.values["hac_lags"],
                series_order(x),
            )
        warnings = (
            []
            if len(tried) == 1
            else [f"first attempt untrustworthy ({first_reason}); answer from fallback {algorithm}"]
        )
        curvature = {}
        wanted = self.values["curvature"] == "hessian"
        if not robust and (wanted or getattr(model.jacobian, "automatic", False)):
            exact, curvature, problem = _exact_curvature(model, x, y, whiten, attempt.theta, covariance, scale)
            if problem and wanted:
                return FitResult.failed(problem)
            warnings += [problem] if problem else curvature.pop("warnings")
            if wanted:
                covariance = exact
        warnings += [
            f"{name} sits at its {side} bound {bound:g}: the optimum is constrained there, and its standard "
            f"error describes the curvature as if the bound were not there"
            for name, side, bound in _at_bounds(attempt.theta, bounds, names)
        ]
        return FitResult(
            params=dict(zip(names, attempt.theta)),
            stderr=dict(zip(names, np.sqrt(np.diag(covariance)))),
            covariance=covariance,
            y_fit=y - attempt.fvec / whiten,
            n_evaluations=total_nfev,
            diagnostics={
                "algorithm": algorithm,
                "attempts": tried,
                "message": attempt.message,
                "nfev": total_nfev,
                "cost": 0.5 * chi2,
                "optimality": float(np.max(np.abs(attempt.gradient))),
                "condition_number": condition,
                "scaled_condition_number": scaled_condition,
                "covariance": self.values["covariance"],
                "covariance_scaled": dataset.sigma is not None and scale != 1.0,
                **curvature,
            },
            warnings=warnings,
        )

    @staticmethod
    def _assess(attempt, model_values, names, bounds=None, derivatives="exact"):
        """``(None, laplace)`` for a trustworthy optimum, else ``(reason, None)``; ``derivatives``:
        how the solver's Jacobian was computed, which sets the rank test's tolerance."""
        if not attempt.converged:
            return f"did not converge: {attempt.message}", None
        column_norms = np.sqrt(np.einsum("ij,ij->j", attempt.factor, attempt.factor))
        size = float(np.linalg.norm(model_values))
        effect = column_norms * np.abs(attempt.theta)
        # a parameter held at a bound (a background at 0, say) is constrained, not flat: its
        # value there is no measure of its effect
        held = {name for name, _, _ in _at_bounds(attempt.theta, bounds, names)}
        flat = [
            n
            for n, e, t, c in zip(names, effect, attempt.theta, column_norms)
            if c == 0 or (t != 0 and e <= NO_EFFECT * size and n not in held)
        ]
        if flat:
            return (
                f"degenerate plateau: {', '.join(flat)} no longer change the model at the optimum "
                f"{dict(zip(names, attempt.theta.round(6).tolist()))}"
            ), None
        try:
            laplace = laplace_covariance(attempt.factor, names, derivatives)
        except RankDeficiency as exc:
            return f"the Jacobian at the optimum is {exc}", None
        except FloatingPointError as exc:
            return str(exc), None
        if not np.all(np.isfinite(laplace[0])):
            return "the covariance is not finite at the optimum", None
        return None, laplace

    def _budget(self, n_params):
        """Evaluations allowed per solver run. MINPACK's own default, 100 (n + 1), stops
        slow but steady descents (NIST MGH17 from start 1 needs about 600)."""
        return self.values["max_nfev"] or 1000 * (n_params + 1)

    def _levenberg_marquardt(self, residuals, jacobian, start):
        """MINPACK LM. Its pivoted QR of the whitened Jacobian at the optimum, J P = Q R,
        gives the factor R P^T (``(R P^T)^T R P^T = J^T J``) and the gradient
        J^T r = P R^T Q^T r, so J is neither evaluated nor decomposed again."""
        from scipy.optimize import leastsq

        v = self.values
        theta, _, info, message, ier = leastsq(
            residuals,
            start,
            Dfun=jacobian,
            full_output=True,
            ftol=v["ftol"],
            xtol=v["xtol"],
            gtol=v["gtol"],
            maxfev=self._budget(start.size),
        )
        n = theta.size
        perm = info["ipvt"] - info["ipvt"].min()  # 1-based before SciPy 1.15, 0-based since
        r = np.triu(np.transpose(info["fjac"])[:n, :])
        factor = np.empty_like(r)
        factor[:, perm] = r
        finite = bool(np.all(np.isfinite(r)) and np.all(np.isfinite(info["fvec"])))
        if not finite:
            message = f"{message} (the model overflowed: non-finite values)"
        gradient = np.full(n, np.nan)
        if finite:
            gradient[perm] = r.T @ info["qtf"][:n]
        converged = finite and ier in _LEASTSQ_SUCCESS and bool(np.all(np.isfinite(theta)))
        return _Attempt(theta, info["fvec"], int(info["nfev"]), message, converged, factor, gradient)

    def _trust_region(self, residuals, solver_jacobian, jacobian, start, bounds, x_scale=1.0):
        from scipy.optimize import least_squares

        v = self.values
        try:
            solution = least_squares(
                residuals,
                np.clip(start, *bounds),
                jac=solver_jacobian or "2-point",
                bounds=bounds,
                method="trf",
                x_scale=x_scale,
                ftol=v["ftol"] or None,
                xtol=v["xtol"] or None,
                gtol=v["gtol"] or None,
                max_nfev=self._budget(start.size),
            )
        except ValueError as exc:  # non-finite residuals at the start
            nan = np.full(start.size, np.nan)
            return _Attempt(
                nan,
                np.full(1, np.nan),
                0,
                f"least_squares refused: {exc}",
                False,
                np.full((1, start.size), np.nan),
                nan,
            )
        jac = jacobian(solution.x)  # exact (or central-difference) Jacobian at the optimum
        converged = bool(solution.status > 0 and np.all(np.isfinite(solution.x)) and np.all(np.isfinite(solution.fun)))
        return _Attempt(
            solution.x, solution.fun, int(solution.nfev), solution.message, converged, jac, jac.T @ solution.fun
        )


#: Standard errors from the exact Hessian and from Gauss-Newton differing by more than this
#: fraction are reported: the Gauss-Newton approximation is off there.
CURVATURE_DISAGREEMENT = 0.10


def _exact_curvature(model, x, y, whiten, theta, gauss_newton, scale):
    """``(covariance, diagnostics, problem)``: the Laplace covariance from the exact Hessian
    of the negative log-likelihood at ``theta`` (times ``scale``, the chi2/dof of unknown
    errors, as ``gauss_newton`` carries it) and how its standard errors compare with those
    of ``gauss_newton``. ``problem`` says why the exact Hessian cannot serve: not positive
    definite, a saddle or ridge that the Gauss-Newton matrix, positive by construction,
    cannot show."""
    from fitflow.plugin import HessianUnavailable

    names = model.param_names
    try:
        hessian = model.exact().chi_square_hessian(x, y, whiten, theta)
    except HessianUnavailable as exc:
        return None, {}, f"no exact curvature: {exc}"
    try:
        np.linalg.cholesky(hessian)
        covariance = np.linalg.inv(hessian) * scale
    except np.linalg.LinAlgError:
        return (
            None,
            {},
            (
                "the exact Hessian of the negative log-likelihood is not positive definite at the optimum "
                "(a saddle or a ridge in the exact curvature): its Laplace covariance does not exist"
            ),
        )
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.sqrt(np.diag(covariance) / np.diag(gauss_newton))
    if not np.all(np.isfinite(ratio) & (ratio > 0)):  # Gauss-Newton's own covariance is unusable: nothing to compare
        return covariance, {"warnings": []}, None
    warnings = []
    worst = int(np.argmax(np.abs(np.log(ratio))))
    if abs(ratio[worst] - 1) > CURVATURE_DISAGREEMENT:
        warnings.append(
            f"the exact Hessian and Gauss-Newton's J^T W J disagree: {names[worst]}'s standard error is "
            f"{np.sqrt(covariance[worst, worst]):.4g} from the exact Hessian, {np.sqrt(gauss_newton[worst, worst]):.4g} "
            f"from Gauss-Newton ({ratio[worst]:.2f}x); large residuals or strong curvature make Gauss-Newton an "
            "approximation here (curvature: hessian reports the exact one)"
        )
    return covariance, {"hessian_stderr_ratio": dict(zip(names, ratio.tolist())), "warnings": warnings}, None


def _outside(theta, bounds, names):
    """``"name = value < lower"`` (or ``> upper``) for each parameter outside ``bounds``."""
    lower, upper = bounds
    return [
        f"{n} = {t:.6g} {'<' if t < lo else '>'} {lo if t < lo else hi:g}"
        for n, t, lo, hi in zip(names, theta, lower, upper)
        if t < lo or t > hi
    ]


def _at_bounds(theta, bounds, names):
    """``(name, "lower" | "upper", bound)`` for each parameter within rounding of a bound
    (TRF stops a hair inside the box: 1e-8 of the box's width, or of the bound's size)."""
    if bounds is None:
        return []
    held = []
    for name, value, low, high in zip(names, theta, *bounds):
        width = (
            high - low
            if np.isfinite(high - low)
            else max(abs(low) if np.isfinite(low) else 0.0, abs(high) if np.isfinite(high) else 0.0, 1.0)
        )
        for side, bound in (("lower", low), ("upper", high)):
            if np.isfinite(bound) and abs(value - bound) <= 1e-8 * width:
                held.append((name, side, float(bound)))
    return held


def _clip(start, bounds):
    return start if bounds is None else np.clip(start, *bounds)
