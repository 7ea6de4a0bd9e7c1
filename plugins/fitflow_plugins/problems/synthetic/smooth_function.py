"""Non-parametric regression: noisy samples of a smooth function, with an optional gap.

Default: the lecture's Gaussian-process example ``f(x) = cos(20 x) exp(-2 x)``
on ``[0, 1]``, sampled at random points with known Gaussian errors. A gap with
no samples shows how each method's uncertainty grows where it has no data.
"""

import numpy as np

from fitflow.plugin import Dataset, Problem, Setting, SettingsError, require_increasing

__all__ = ["SmoothFunction", "FUNCTIONS"]

FUNCTIONS = {
    "damped_cosine": lambda x: np.cos(20 * x) * np.exp(-2 * x),
    "sine": lambda x: np.sin(2 * np.pi * x),
    "bumps": lambda x: np.exp(-(((x - 0.3) / 0.05) ** 2)) + 0.5 * np.exp(-(((x - 0.7) / 0.1) ** 2)),
}


class SmoothFunction(Problem):
    name = "smooth_function"
    version = "1.0"
    description = "Noisy random samples of a smooth function (default cos(20x) exp(-2x)), optional gap"
    capabilities = frozenset({"regression"})
    settings = {
        "function": Setting("damped_cosine", str, "the true function", choices=tuple(FUNCTIONS)),
        "n_samples": Setting(50, int, "number of observations", minimum=3, maximum=1_000_000),
        "noise": Setting(0.1, float, "standard error of every observation", minimum=1e-12),
        "x_min": Setting(0.0, float, "left end of the domain"),
        "x_max": Setting(1.0, float, "right end of the domain"),
        "gap_start": Setting(None, float, "start of an interval left without samples"),
        "gap_end": Setting(None, float, "end of that interval"),
        "grid_points": Setting(400, int, "points of the dense truth grid", minimum=2, maximum=100_000),
    }
    fast_settings = {"n_samples": 30}

    def check_settings(self):
        v = self.values
        require_increasing(self, v, "x_min", "x_max")
        if (v["gap_start"] is None) != (v["gap_end"] is None):
            raise SettingsError(
                f"{self.label()} needs both gap_start and gap_end, or neither",
                plugin=self.name,
                key="gap_end",
                value=v["gap_end"],
            )
        if v["gap_start"] is not None and not v["x_min"] <= v["gap_start"] < v["gap_end"] <= v["x_max"]:
            raise SettingsError(
                f"{self.label()} needs x_min <= gap_start < gap_end <= x_max; "
                f"got gap_start={v['gap_start']}, gap_end={v['gap_end']}",
                plugin=self.name,
                key="gap_start",
                value=v["gap_start"],
            )

    def in_gap(self, x):
        v = self.values
        if v["gap_start"] is None:
            return np.zeros_like(x, dtype=bool)
        return (x >= v["gap_start"]) & (x <= v["gap_end"])

    def generate(self, rng):
        v = self.values
        f = FUNCTIONS[v["function"]]
        width = v["x_max"] - v["x_min"]
        gap = 0.0 if v["gap_start"] is None else v["gap_end"] - v["gap_start"]
        # Draw uniformly on the domain with the gap cut out, by drawing on a shorter
        # interval and shifting the part beyond the gap's start across it.
        u = rng.uniform(0.0, width - gap, v["n_samples"]) + v["x_min"]
        if gap:
            u = np.where(u >= v["gap_start"], u + gap, u)
        x = np.sort(u)
        sigma = np.full(x.size, v["noise"])
        y = f(x) + sigma * rng.standard_normal(x.size)
        grid = np.linspace(v["x_min"], v["x_max"], v["grid_points"])
        return Dataset(problem=self, x=x, y=y, sigma=sigma, grid_x=grid, grid_y=f(grid))
