"""Weighted ordinary least squares for models linear in their parameters.

Solves ``min_theta || W^(1/2) (y - A theta) ||^2`` through the singular value
decomposition of the whitened design matrix ``W^(1/2) A`` (LAPACK via NumPy):
the normal equations ``A^T W A`` are never formed, so their squared condition
number never costs accuracy. The same SVD gives the covariance
``(A^T W A)^-1 = V S^-2 V^T`` and the condition number.
"""

import numpy as np

from fitflow import FitResult, Method, Setting

__all__ = ["OrdinaryLeastSquares"]


class OrdinaryLeastSquares(Method):
    name = "ols"
    version = "1.0"
    description = "Weighted linear least squares by SVD, covariance (A^T W A)^-1"
    capabilities = frozenset({"linear"})
    resources = {"threads": 1, "mem_mb": 500, "runtime": 5}
    settings = {
        "cond_warn": Setting(1e10, float, "warn when the condition number exceeds this", minimum=1.0),
        "rcond": Setting(None, float, "relative cut-off for small singular values (default: machine precision x size)"),
    }

    def fit(self, dataset, rng):
        design = dataset.model.design(dataset.x)
        n, p = design.shape
        whiten = 1.0 / dataset.sigma if dataset.sigma is not None else np.ones(n)
        u, s, vt = np.linalg.svd(design * whiten[:, None], full_matrices=False)
        rcond = self.values["rcond"] or np.finfo(float).eps * max(n, p)
        keep = s > rcond * s[0]
        inv_s = np.where(keep, 1.0 / np.where(keep, s, 1.0), 0.0)
        theta = vt.T @ (inv_s * (u.T @ (dataset.y * whiten)))
        covariance = (vt.T * inv_s**2) @ vt
        y_fit = design @ theta
        warnings = []
        if dataset.sigma is None:
            dof = n - int(keep.sum())
            scale = np.sum((dataset.y - y_fit) ** 2) / dof if dof > 0 else np.nan
            covariance = covariance * scale
            warnings.append("no per-point errors: covariance scaled by the residual variance")
        condition = float(s[0] / s[-1]) if s[-1] > 0 else np.inf
        if condition > self.values["cond_warn"]:
            warnings.append(f"ill-conditioned design: condition number {condition:.3g}")
        rank = int(keep.sum())
        if rank < p:
            warnings.append(f"rank-deficient design: rank {rank} < {p} parameters")
        names = dataset.model.param_names
        return FitResult(
            params=dict(zip(names, theta)),
            stderr=dict(zip(names, np.sqrt(np.diag(covariance)))),
            covariance=covariance,
            y_fit=y_fit,
            n_evaluations=1,
            diagnostics={
                "condition_number": condition,
                "rank": rank,
                "singular_values": s.tolist() if s.size <= 50 else None,
            },
            warnings=warnings,
        )
