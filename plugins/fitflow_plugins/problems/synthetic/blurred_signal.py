"""Deconvolution: a signal seen through a blurring instrument, plus noise.

``y = R f + noise`` on a grid, with ``R`` a Gaussian or boxcar response whose
rows are normalised. ``R`` is band-limited, so inverting it amplifies noise
without bound: the lecture's example of an ill-posed problem that
regularisation fixes. The truth is ``f`` on the grid.
"""

import numpy as np

from fitflow.plugin import Dataset, ParametricModel, Problem, Setting, require_increasing

__all__ = ["BlurredSignal", "true_signal", "response_matrix"]


def true_signal(kind, x):
    """The lecture's ``exp(-x**2)``, or a harder piecewise signal with jumps and kinks."""
    if kind == "gaussian":
        return np.exp(-(x**2))
    box = ((x > -2.5) & (x < -1.0)).astype(float)
    triangle = 0.8 * np.clip(1.0 - np.abs(x - 1.5), 0.0, None)
    return box + triangle


def response_matrix(x, grid, kernel, width):
    """``R[i, j]``: response at ``x[i]`` to a unit signal at ``grid[j]``; rows sum to one."""
    distance = np.subtract.outer(np.asarray(x, dtype=float), grid)
    if kernel == "gaussian":
        weights = np.exp(-0.5 * (distance / width) ** 2)
    else:
        weights = (np.abs(distance) <= width / 2).astype(float)
    return weights / weights.sum(axis=1, keepdims=True)


class BlurredSignal(Problem):
    name = "blurred_signal"
    version = "1.0"
    description = "Deconvolution: y = R f + noise with a Gaussian or boxcar response R"
    capabilities = frozenset({"deconvolution", "linear"})
    settings = {
        "n_points": Setting(500, int, "grid points (unknowns and observations)", minimum=10, maximum=5_000),
        "x_min": Setting(-4.0, float, "left end of the grid"),
        "x_max": Setting(4.0, float, "right end of the grid"),
        "signal": Setting("gaussian", str, "true signal", choices=("gaussian", "piecewise")),
        "kernel": Setting("gaussian", str, "response shape", choices=("gaussian", "boxcar")),
        "kernel_width": Setting(0.3, float, "Gaussian sigma, or boxcar full width, in x units", minimum=1e-9),
        "noise": Setting(0.01, float, "standard error of every observation", minimum=1e-12),
    }
    fast_settings = {"n_points": 120}
    resources = {"threads": 1, "mem_mb": 1000, "runtime": 10}

    def check_settings(self):
        require_increasing(self, self.values, "x_min", "x_max")

    def grid(self):
        v = self.values
        return np.linspace(v["x_min"], v["x_max"], v["n_points"])

    def response(self, x):
        return response_matrix(x, self.grid(), self.values["kernel"], self.values["kernel_width"])

    def generate(self, rng):
        grid = self.grid()
        f = true_signal(self.values["signal"], grid)
        sigma = np.full(grid.size, self.values["noise"])
        y = self.response(grid) @ f + sigma * rng.standard_normal(grid.size)
        return Dataset(problem=self, x=grid, y=y, sigma=sigma, grid_x=grid, grid_y=f)

    def model(self, dataset):
        n = self.values["n_points"]
        return ParametricModel(
            function=lambda x, f: self.response(x) @ f,
            param_names=tuple(f"f{j}" for j in range(n)),
            p0=np.zeros(n),
            design=self.response,
            signal=lambda grid, f: f,
            signal_design=lambda grid: np.eye(n),
        )
