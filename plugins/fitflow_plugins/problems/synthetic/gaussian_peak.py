"""A Gaussian peak on a flat background: the lecture's Laplace-method example.

``y = A exp(-(x - mu)**2 / (2 sigma**2)) + B`` on an even grid with known,
constant Gaussian errors. Non-linear in ``mu`` and ``sigma``; with the default
noise the likelihood is nearly Gaussian, so Laplace intervals should be
calibrated — which the replicates let one check. Its chi-square is also a
black-box objective, so optimisers can be compared with NLLS on the same fit.
"""

import numpy as np

from fitflow.plugin import Dataset, ParametricModel, Problem, Setting, chi_square_objective, require_increasing

__all__ = ["GaussianPeak", "gaussian", "gaussian_jacobian"]

PARAM_NAMES = ("A", "mu", "sigma", "B")


def gaussian(x, theta):
    amplitude, mu, sigma, offset = theta
    return amplitude * np.exp(-0.5 * ((x - mu) / sigma) ** 2) + offset


def gaussian_jacobian(x, theta):
    """Exact ``d y / d (A, mu, sigma, B)``, shape ``(n, 4)``."""
    amplitude, mu, sigma, _ = theta
    z = (x - mu) / sigma
    bump = np.exp(-0.5 * z**2)
    return np.column_stack([bump, amplitude * bump * z / sigma, amplitude * bump * z**2 / sigma, np.ones_like(x)])


def starting_guess(x, y):
    """Moments of the data above a low baseline: a start that never uses the truth."""
    offset = np.percentile(y, 10)
    weight = np.clip(y - offset, 0.0, None)
    if weight.sum() <= 0:
        return np.array([np.ptp(y), np.mean(x), np.ptp(x) / 4, offset])
    mu = np.sum(weight * x) / weight.sum()
    width = np.sqrt(np.sum(weight * (x - mu) ** 2) / weight.sum())
    return np.array([np.max(y) - offset, mu, max(width, 1e-3 * np.ptp(x)), offset])


class GaussianPeak(Problem):
    name = "gaussian_peak"
    version = "1.0"
    description = "Gaussian peak A exp(-(x-mu)^2/(2 sigma^2)) + B with known constant errors"
    capabilities = frozenset({"parametric", "regression", "black_box"})
    settings = {
        "amplitude": Setting(1.0, float, "true A"),
        "center": Setting(0.25, float, "true mu"),
        "width": Setting(0.5, float, "true sigma", minimum=1e-12),
        "offset": Setting(0.0, float, "true B"),
        "noise": Setting(0.05, float, "standard error of every point", minimum=1e-12),
        "n_points": Setting(100, int, "number of evenly spaced observations", minimum=5, maximum=1_000_000),
        "x_min": Setting(-2.0, float, "left end of the observed range"),
        "x_max": Setting(2.0, float, "right end of the observed range"),
        "grid_points": Setting(400, int, "points of the dense truth grid", minimum=2, maximum=100_000),
    }
    fast_settings = {"n_points": 40}

    def truth(self):
        v = self.values
        return np.array([v["amplitude"], v["center"], v["width"], v["offset"]])

    def check_settings(self):
        require_increasing(self, self.values, "x_min", "x_max")

    def generate(self, rng):
        v = self.values
        x = np.linspace(v["x_min"], v["x_max"], v["n_points"])
        sigma = np.full(x.size, v["noise"])
        theta = self.truth()
        y = gaussian(x, theta) + sigma * rng.standard_normal(x.size)
        grid = np.linspace(v["x_min"], v["x_max"], v["grid_points"])
        return Dataset(
            problem=self,
            x=x,
            y=y,
            sigma=sigma,
            truth_params=dict(zip(PARAM_NAMES, theta)),
            grid_x=grid,
            grid_y=gaussian(grid, theta),
        )

    def model(self, dataset):
        v = self.values
        span = v["x_max"] - v["x_min"]
        height = float(np.ptp(dataset.y))
        return ParametricModel(
            function=gaussian,
            param_names=PARAM_NAMES,
            p0=starting_guess(dataset.x, dataset.y),
            # Broad, data-scaled box: the support of emcee's uniform prior and the
            # search box of optimisers (the peak lies in the window, is no wider than
            # half of it and no taller than twice the data's range).
            bounds=(
                [0.0, v["x_min"], span / 200, -height],
                [2 * height, v["x_max"], span / 2, height],
            ),
            jacobian=gaussian_jacobian,
        )

    def objective(self, dataset):
        return chi_square_objective(dataset)
