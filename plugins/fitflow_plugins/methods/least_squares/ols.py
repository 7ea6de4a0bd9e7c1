"""Weighted linear least squares for models linear in their parameters.

Solves ``min_theta || W^(1/2) (y - A theta) ||^2`` with :func:`fitflow.core.lstsq.solve_linear`:
columns scaled to unit norm, pivoted Householder QR refined against
extended-precision residuals, and, where the scaled condition number leaves
double precision too few digits and the model can evaluate its design exactly,
the whole solve in 34-digit arithmetic. The normal equations ``A^T W A`` are
never formed. Known per-point errors give weighted least squares with the
covariance ``(A^T W A)^-1``; unknown ones the covariance scaled by the residual
variance ``RSS / (n - p)``.

A fit is ``ok`` only when its numbers can be trusted: a rank-deficient design
(columns dependent to working precision, after scaling) is a failed fit naming
the parameters that are not separately determined, never a minimum-norm answer.
"""

import numpy as np

from fitflow.plugin import (
    FitResult,
    Method,
    RankDeficiency,
    Setting,
    covariance_settings,
    needs_gaussian,
    sandwich_covariance,
    series_order,
    solve_linear,
)

__all__ = ["OrdinaryLeastSquares"]


class OrdinaryLeastSquares(Method):
    name = "ols"
    version = "2.0"
    description = "Weighted linear least squares: scaled, refined QR (extended precision when ill-conditioned)"
    capabilities = frozenset({"linear"})
    resources = {"threads": 1, "mem_mb": 500, "runtime": 5}
    expected_failures = {
        "check_fit_result_fields[blurred_signal]": "a blurring response matrix is rank-deficient to working "
        "precision; ols reports that as a failed fit, which is what the "
        "comparison with tikhonov is meant to show",
    }
    settings = {
        "min_digits": Setting(
            4.0,
            float,
            "fail a fit whose estimated correct digits fall below this (-log10(eps x scaled condition number))",
            minimum=0.0,
            maximum=15.0,
        ),
        **covariance_settings(),
    }

    def can_fit(self, dataset):
        return needs_gaussian(self, dataset) or super().can_fit(dataset)

    def fit(self, dataset, rng):
        model = dataset.model
        names = model.param_names
        design = model.design(dataset.x)
        n, p = design.shape
        whiten = 1.0 / dataset.sigma if dataset.sigma is not None else np.ones(n)
        exact = None
        if model.exact_design is not None:

            def exact():
                import mpmath

                rows = model.exact_design(dataset.x)
                with mpmath.workdps(34):  # whiten without rounding back to double
                    return [[value * mpmath.mpf(float(w)) for value in row] for row, w in zip(rows, whiten)]

        try:
            solution = solve_linear(design * whiten[:, None], dataset.y * whiten, names, exact_design=exact)
        except RankDeficiency as exc:
            return FitResult.failed(f"the design matrix is {exc}")
        except FloatingPointError as exc:
            return FitResult.failed(str(exc))
        diagnostics = {
            "condition_number": solution.condition,
            "scaled_condition_number": solution.scaled_condition,
            "precision": solution.precision,
            "correct_digits": solution.correct_digits,
            "linearity": model.linearity or None,
        }
        if solution.correct_digits < self.values["min_digits"]:
            return FitResult.failed(
                f"too ill-conditioned to trust: scaled condition number {solution.scaled_condition:.3g} leaves "
                f"about {solution.correct_digits:.1f} correct digits in double precision (min_digits = "
                f"{self.values['min_digits']}); reparametrise (centre and scale x) or write the model as an "
                f"expression so it can be solved in extended precision"
            )
        covariance = solution.unscaled_covariance
        warnings = []
        kind = self.values["covariance"]
        if dataset.sigma is None or not self.values["absolute_sigma"]:
            dof = n - p
            if dof <= 0:
                return FitResult.failed(
                    f"{n} points and {p} parameters leave no degrees of freedom to estimate "
                    f"the {'unknown errors' if dataset.sigma is None else 'errors scale'} from the residuals"
                )
            covariance = covariance * float(solution.residuals @ solution.residuals) / dof
            diagnostics["covariance_scaled"] = dataset.sigma is not None
            if dataset.sigma is None and kind == "standard":
                warnings.append("no per-point errors: covariance scaled by the residual variance")
        if kind != "standard":
            weighted = design * whiten[:, None]
            covariance = sandwich_covariance(
                kind,
                solution.unscaled_covariance,
                weighted,
                solution.residuals,
                self.values["hac_lags"],
                series_order(dataset.x),
            )
            diagnostics["covariance"] = kind
        if solution.correct_digits < 10:
            warnings.append(
                f"ill-conditioned design: scaled condition number {solution.scaled_condition:.3g}, "
                f"about {solution.correct_digits:.0f} correct digits"
            )
        theta = solution.theta
        return FitResult(
            params=dict(zip(names, theta)),
            stderr=dict(zip(names, np.sqrt(np.diag(covariance)))),
            covariance=covariance,
            y_fit=design @ theta,
            n_evaluations=1,
            diagnostics=diagnostics,
            warnings=warnings,
        )
