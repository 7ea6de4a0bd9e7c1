"""Bayesian optimisation: a Gaussian-process surrogate and an acquisition function.

1. Evaluate an initial space-filling design (scipy.stats.qmc: Sobol or Latin
   hypercube) in the unit cube mapped onto the objective's box.
2. Fit a scikit-learn GaussianProcessRegressor (constant x Matern-5/2 with one
   length scale per dimension, normalised outputs) to all evaluations so far.
3. Maximise expected improvement (or minimise the lower confidence bound) with
   multi-start L-BFGS-B inside the box, each gradient by central differences from
   one batched surrogate prediction; evaluate the objective there.
4. Repeat until the evaluation budget is spent.
"""

import numpy as np

from fitflow import Method, Setting

from .optimisation import best_so_far_figure, history_result

__all__ = ["BayesianOptimisation", "expected_improvement"]


def expected_improvement(mean, std, best, xi):
    """EI for minimisation: E[max(best - xi - f, 0)] under f ~ N(mean, std^2)."""
    from scipy.stats import norm

    std = np.maximum(std, 1e-12)
    improvement = best - xi - mean
    z = improvement / std
    return improvement * norm.cdf(z) + std * norm.pdf(z)


class BayesianOptimisation(Method):
    name = "bayesopt"
    version = "1.0"
    description = "GP surrogate (scikit-learn) + expected improvement / LCB, qmc initial design, L-BFGS-B"
    capabilities = frozenset({"black_box"})
    requirements = frozenset({"finite_bounds"})
    requires_modules = ("sklearn.gaussian_process", "scipy.optimize", "scipy.stats")
    resources = {"threads": 1, "mem_mb": 1000, "runtime": 20}
    settings = {
        "budget": Setting(30, int, "objective evaluations, initial design included", minimum=2, maximum=5_000),
        "n_initial": Setting(None, int, "initial design size (default: max(5, 2 d + 1), at most budget - 1)", minimum=1, maximum=5_000),
        "initial_design": Setting("sobol", str, "space-filling initial design", choices=("sobol", "lhs")),
        "acquisition": Setting("ei", str, "expected improvement or lower confidence bound", choices=("ei", "lcb")),
        "xi": Setting(0.0, float, "EI exploration margin, in units of the observed spread (0: plain EI)", minimum=0.0),
        "kappa": Setting(2.0, float, "LCB exploration weight", minimum=0.0),
        "n_starts": Setting(5, int, "L-BFGS-B starts for the acquisition", minimum=1, maximum=1_000),
        "gp_restarts": Setting(2, int, "restarts of the surrogate's marginal-likelihood optimiser", minimum=0, maximum=100),
    }
    fast_settings = {"budget": 8, "n_starts": 3}

    def fit(self, dataset, rng):
        from scipy.stats import qmc

        v = self.values
        objective = dataset.objective
        lower, upper = objective.bounds
        dim = objective.dim
        n_initial = v["n_initial"] or max(5, 2 * dim + 1)
        n_initial = min(n_initial, v["budget"] - 1)
        seed = int(rng.integers(2**31))
        if v["initial_design"] == "sobol":
            # Sobol' points balance best at powers of two; drawing base-2 blocks and keeping the
            # first n_initial points is scipy's own recipe for other sizes.
            m = int(np.ceil(np.log2(n_initial)))
            unit = qmc.Sobol(dim, scramble=True, seed=seed).random_base2(m)[:n_initial]
        else:
            unit = qmc.LatinHypercube(dim, seed=seed).random(n_initial)
        ys = [objective(lower + u * (upper - lower)) for u in unit]
        unit = list(unit)
        warnings = []
        while len(ys) < v["budget"]:
            surrogate = self._surrogate(np.array(unit), np.array(ys), rng)
            proposal = self._maximise_acquisition(surrogate, np.array(ys), dim, rng)
            if np.min(np.linalg.norm(np.array(unit) - proposal, axis=1)) < 1e-9:
                proposal = rng.uniform(size=dim)  # the surrogate asks for a known point: explore instead
                warnings.append(f"evaluation {len(ys) + 1}: acquisition repeated a point; sampled at random")
            unit.append(proposal)
            ys.append(objective(lower + proposal * (upper - lower)))
        xs = lower + np.array(unit) * (upper - lower)
        return history_result(objective, xs, ys, {"n_initial": n_initial}, warnings)

    def _surrogate(self, unit, ys, rng):
        import warnings

        from sklearn.exceptions import ConvergenceWarning
        from sklearn.gaussian_process import GaussianProcessRegressor, kernels

        dim = unit.shape[1]
        kernel = kernels.ConstantKernel(1.0, (1e-3, 1e5)) * kernels.Matern(
            length_scale=np.full(dim, 0.2), length_scale_bounds=(1e-2, 1e2), nu=2.5
        )
        regressor = GaussianProcessRegressor(
            kernel=kernel, alpha=1e-8, normalize_y=True, n_restarts_optimizer=self.values["gp_restarts"],
            random_state=int(rng.integers(2**31)),
        )
        # Hyperparameters at a bound are routine with a handful of points; they are not news.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            return regressor.fit(unit, ys)

    def _maximise_acquisition(self, surrogate, ys, dim, rng):
        from scipy.optimize import minimize

        v = self.values
        best, spread = float(np.min(ys)), float(np.std(ys)) or 1.0

        def losses(u):
            mean, std = surrogate.predict(np.atleast_2d(u), return_std=True)
            if v["acquisition"] == "ei":
                return -expected_improvement(mean, std, best, v["xi"] * spread)
            return mean - v["kappa"] * std

        steps = 1e-6 * np.eye(dim)

        def loss_and_gradient(u):
            """The loss and its central-difference gradient from one batched prediction
            (scipy's own finite differences would call the surrogate once per coordinate)."""
            values = losses(np.vstack([u, u + steps, u - steps]))
            return float(values[0]), (values[1:dim + 1] - values[dim + 1:]) / 2e-6

        # Starts: the best of many random candidates, scored in one vectorised call.
        candidates = rng.uniform(size=(max(500, 100 * dim), dim))
        starts = candidates[np.argsort(losses(candidates))[: v["n_starts"]]]
        box = [(0.0, 1.0)] * dim
        results = [minimize(loss_and_gradient, start, jac=True, method="L-BFGS-B", bounds=box) for start in starts]
        winner = min(results, key=lambda r: r.fun)
        return np.clip(winner.x, 0.0, 1.0)

    def figures(self, dataset, result):
        return best_so_far_figure(dataset, result, "Bayesian optimisation")
