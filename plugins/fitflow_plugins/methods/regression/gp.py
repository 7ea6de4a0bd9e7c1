"""Gaussian-process regression with scikit-learn's GaussianProcessRegressor.

Inputs are standardised (StandardScaler) and outputs normalised by the
regressor itself. The default kernel is constant x RBF; with known per-point
errors they enter as the fixed noise ``alpha = (sigma / std(y))**2``, otherwise
a WhiteKernel learns the noise. Hyperparameters maximise the log marginal
likelihood with several random restarts drawn from the fit's generator.

Several outputs get one regressor each: a simulation's results usually vary on
different length scales (a line's width with density, its shift with velocity),
which one shared kernel cannot express, and independent fits keep each
output's predictive variance its own. Exact GP regression costs O(n^3) time
and O(n^2) memory, so training sets above ``max_points`` are refused with that
reason (the lecture's "scales poorly", made explicit).
"""

import numpy as np

from fitflow.plugin import BAND, BAND_NOTE, FitResult, Method, Setting

__all__ = ["GaussianProcess", "fit_on_subset", "hyperparameters_at_bounds", "learning_subset"]


class GaussianProcess(Method):
    name = "gp"
    version = "1.1"
    description = "scikit-learn GaussianProcessRegressor, constant x RBF/Matern, ML-II with restarts"
    capabilities = frozenset({"regression"})
    requires_modules = ("sklearn.gaussian_process", "sklearn.preprocessing")
    resources = {"threads": 1, "mem_mb": 1000, "runtime": 10}
    settings = {
        "kernel": Setting("rbf", str, "covariance shape", choices=("rbf", "matern32", "matern52")),
        "noise": Setting(
            "auto",
            str,
            "'auto': known errors as alpha, else a WhiteKernel; or force one",
            choices=("auto", "known", "white"),
        ),
        "n_restarts": Setting(5, int, "random restarts of the marginal-likelihood optimiser", minimum=0, maximum=100),
        "max_points": Setting(
            3000, int, "largest training set attempted (exact GPs cost n^3)", minimum=2, maximum=100_000
        ),
        "hyperparameter_points": Setting(
            500,
            int,
            "points the marginal likelihood is maximised on; above it, a seeded subset learns the "
            "hyperparameters and every point conditions the fit",
            minimum=10,
        ),
    }

    def can_fit(self, dataset):
        if dataset.n_points > self.values["max_points"]:
            return (
                f"exact GP regression costs O(n^3): {dataset.n_points} training points exceed max_points = "
                f"{self.values['max_points']} (raise it to try)"
            )
        return super().can_fit(dataset)

    fast_settings = {"n_restarts": 1}

    def _kernel(self, learn_noise):
        from sklearn.gaussian_process import kernels

        if self.values["kernel"] == "rbf":
            shape = kernels.RBF(length_scale=1.0, length_scale_bounds=(1e-3, 1e3))
        else:
            nu = 1.5 if self.values["kernel"] == "matern32" else 2.5
            shape = kernels.Matern(length_scale=1.0, length_scale_bounds=(1e-3, 1e3), nu=nu)
        kernel = kernels.ConstantKernel(1.0, (1e-3, 1e3)) * shape
        if learn_noise:
            kernel += kernels.WhiteKernel(0.1, (1e-8, 10.0))
        return kernel

    def fit(self, dataset, rng):
        import warnings as python_warnings

        from sklearn.exceptions import ConvergenceWarning
        from sklearn.gaussian_process import GaussianProcessRegressor
        from sklearn.preprocessing import StandardScaler

        x = dataset.x.reshape(dataset.n_points, -1)
        grid = dataset.grid_x.reshape(len(dataset.grid_x), -1)
        known = dataset.sigma is not None and self.values["noise"] != "white"
        if self.values["noise"] == "known" and dataset.sigma is None:
            return FitResult.failed("noise='known' but the dataset has no per-point errors")
        scaler = StandardScaler().fit(x)
        targets = dataset.y.reshape(dataset.n_points, -1)
        sigmas = None if dataset.sigma is None else dataset.sigma.reshape(dataset.n_points, -1)
        means, stds, fitted, kernels, evidence, edf, warnings = [], [], [], [], [], [], []
        subset = learning_subset(dataset.n_points, self.values["hyperparameter_points"], rng)
        for j in range(targets.shape[1]):
            y = targets[:, j]
            y_scale = float(np.std(y)) or 1.0
            alpha = (sigmas[:, j] / y_scale) ** 2 if known else 1e-10
            regressor = GaussianProcessRegressor(
                kernel=self._kernel(learn_noise=not known),
                alpha=alpha,
                normalize_y=True,
                n_restarts_optimizer=self.values["n_restarts"],
                random_state=int(rng.integers(2**31)),
            )
            with python_warnings.catch_warnings():  # sklearn's bound warnings: reported below, in words
                python_warnings.simplefilter("ignore", ConvergenceWarning)
                regressor = fit_on_subset(regressor, scaler.transform(x), y, subset)
            output = "" if dataset.y.ndim == 1 else f"output {dataset.output_names[j]}: "
            warnings.extend(output + w for w in hyperparameters_at_bounds(regressor.kernel_))
            mean, std = regressor.predict(scaler.transform(grid), return_std=True)
            means.append(mean)
            stds.append(std)
            fitted.append(regressor.predict(scaler.transform(x)))
            kernels.append(str(regressor.kernel_))
            evidence.append(float(regressor.log_marginal_likelihood_value_))
            edf.append(float(np.trace(_influence(regressor, scaler.transform(x)))))
        single = dataset.y.ndim == 1
        stack = (lambda arrays: arrays[0]) if single else (lambda arrays: np.column_stack(arrays))
        return FitResult(
            grid_mean=stack(means),
            grid_std=stack(stds),
            y_fit=stack(fitted),
            n_effective_params=float(np.sum(edf)),
            diagnostics={
                "kernel": kernels[0] if single else kernels,
                "log_marginal_likelihood": evidence[0] if single else evidence,
                **({"hyperparameters_learned_on": len(subset)} if subset is not None else {}),
                # sklearn's std includes a WhiteKernel's noise, not alpha's known errors
                BAND: "mean" if known else "predictive",
                BAND_NOTE: "the known errors not included" if known else "with the noise the WhiteKernel learned",
            },
            warnings=warnings,
        )


def learning_subset(n_points, limit, rng):
    """The sorted indices of the seeded ``limit`` points that learn the hyperparameters, or None
    where there are no more than ``limit`` points (all of them learn)."""
    return np.sort(rng.choice(n_points, limit, replace=False)) if n_points > limit else None


def fit_on_subset(regressor, x, y, subset):
    """``regressor`` fitted to every point; with a ``subset``, its hyperparameters are the ones
    that maximise the marginal likelihood of that subset (restarts included), and every point
    then conditions the fit at those values. Learning them costs O(n^3) per likelihood
    evaluation, hundreds of times: on 2,000 points that took minutes, on 500 a second; the
    subset-of-data estimate is close to the full one where the subset samples every length
    scale the data show (Rasmussen & Williams 2006, sec. 8.3.2)."""
    from sklearn.base import clone

    if subset is None:
        return regressor.fit(x, y)
    alpha = regressor.alpha
    learner = clone(regressor).set_params(alpha=alpha[subset] if np.ndim(alpha) else alpha)
    learner.fit(x[subset], y[subset])
    return clone(regressor).set_params(kernel=learner.kernel_, optimizer=None).fit(x, y)


def _influence(regressor, x):
    """The smoother matrix K (K + alpha I)^-1 of the fitted GP (for effective degrees of freedom)."""
    k = regressor.kernel_(x)
    noise = np.broadcast_to(regressor.alpha, (len(x),))
    return k @ np.linalg.solve(k + np.diag(noise), np.eye(len(x)))


#: What a hyperparameter pinned at a bound means for the fit, by (name suffix, bound).
_AT_BOUND = {
    ("length_scale", "lower"): "the data show no correlation between neighbouring points, so away from them "
    "the mean falls back to the data's average",
    ("length_scale", "upper"): "the data do not constrain how fast the function varies; the GP is close to "
    "a constant or linear trend",
    ("constant_value", "lower"): "the signal is below what the data resolve",
    ("constant_value", "upper"): "the signal's amplitude is not constrained by the data",
    ("noise_level", "upper"): "the learned noise explains (almost) all of the data's variation",
}


def hyperparameters_at_bounds(kernel):
    """Warnings for the fitted kernel's hyperparameters that ended at a bound of their
    range: the marginal likelihood then did not settle inside it, so the bound, not the data,
    set that part of the surrogate. The noise at its lower bound is not one: that is how
    noise-free data look."""
    found = []
    free = [h for h in kernel.hyperparameters if not h.fixed for _ in range(h.n_elements)]
    for hyper, log_value, log_bounds in zip(free, kernel.theta, kernel.bounds):
        for side, log_bound in zip(("lower", "upper"), log_bounds):
            if abs(log_value - log_bound) > 1e-3:
                continue
            meaning = next(
                (text for (suffix, where), text in _AT_BOUND.items() if hyper.name.endswith(suffix) and where == side),
                None,
            )
            if meaning:
                found.append(
                    f"kernel {hyper.name.split('__')[-1]} = {np.exp(log_value):.3g} is at its {side} bound "
                    f"(inputs standardised, outputs normalised): {meaning}"
                )
    return found
