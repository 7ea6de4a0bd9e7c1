"""Ridge regression as a fitflow method: the complete example of docs/plugins.md.

Minimises ``||W^(1/2)(y - A theta)||^2 + alpha ||theta||^2``, which is the
posterior mode of a linear-Gaussian model with prior ``theta ~ N(0, I/alpha)``;
the posterior covariance ``(A^T W A + alpha I)^-1`` is its uncertainty.
"""

import numpy as np

from fitflow import FitResult, Method, Setting


class Ridge(Method):
    name = "ridge"
    version = "0.1.0"
    description = "Ridge regression: Gaussian-prior linear least squares"
    capabilities = frozenset({"linear"})
    resources = {"threads": 1, "mem_mb": 200, "runtime": 2}
    settings = {"alpha": Setting(1e-3, float, "prior precision of each parameter", minimum=0.0)}

    def fit(self, dataset, rng):
        from scipy import linalg

        model = dataset.model
        design = model.design(dataset.x)
        whiten = 1.0 / dataset.sigma if dataset.sigma is not None else np.ones(dataset.n_points)
        p = design.shape[1]
        # Augmented least squares: [W^1/2 A; sqrt(alpha) I] theta ~ [W^1/2 y; 0].
        stacked = np.vstack([design * whiten[:, None], np.sqrt(self.values["alpha"]) * np.eye(p)])
        target = np.concatenate([dataset.y * whiten, np.zeros(p)])
        theta, *_ = linalg.lstsq(stacked, target)
        covariance = linalg.pinvh(stacked.T @ stacked)
        return FitResult(
            params=dict(zip(model.param_names, theta)),
            stderr=dict(zip(model.param_names, np.sqrt(np.diag(covariance)))),
            covariance=covariance,
            n_evaluations=1,
            diagnostics={"alpha": self.values["alpha"]},
        )
