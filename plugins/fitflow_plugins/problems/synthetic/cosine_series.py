"""Least-squares spectral analysis: a cosine series sampled at uneven times.

The lecture's linear example: ``y(t) = sum_j theta_j cos(pi j t / T)`` observed
at random, unevenly spaced times with known, unequal Gaussian errors. Linear in
``theta``, so OLS is exact and every parametric method can be checked against
the analytic answer.
"""

import numpy as np

from fitflow.plugin import Dataset, ParametricModel, Problem, Setting, chi_square_objective

__all__ = ["CosineSeries"]


def true_coefficients(n_modes):
    """The fixed truth: ``theta_j = (-1)**j / (1 + j)``, a slowly decaying spectrum."""
    j = np.arange(n_modes)
    return (-1.0) ** j / (1.0 + j)


class CosineSeries(Problem):
    name = "cosine_series"
    version = "1.0"
    description = "Cosine series sum_j theta_j cos(pi j t/T) at uneven times, known per-point errors"
    capabilities = frozenset({"linear", "parametric", "regression", "black_box"})
    settings = {
        "n_samples": Setting(60, int, "number of observations", minimum=2, maximum=1_000_000),
        "n_modes": Setting(6, int, "number of cosine modes (parameters theta_0..)", minimum=1, maximum=1_000),
        "noise": Setting(0.1, float, "typical per-point standard error", minimum=1e-12),
        "heteroscedastic": Setting(True, bool, "draw each point's error from noise*U(0.5, 1.5)"),
        "period": Setting(1.0, float, "T: the samples lie in [0, T]", minimum=1e-12),
        "grid_points": Setting(400, int, "points of the dense truth grid", minimum=2, maximum=100_000),
        "coefficient_bound": Setting(3.0, float, "|theta_j| <= this: prior support and optimiser box", minimum=1e-12),
    }
    fast_settings = {"n_samples": 30, "n_modes": 3}

    def design(self, t):
        modes = np.arange(self.values["n_modes"])
        return np.cos(np.pi * np.outer(np.asarray(t, dtype=float), modes) / self.values["period"])

    def generate(self, rng):
        v = self.values
        theta = true_coefficients(v["n_modes"])
        t = np.sort(rng.uniform(0.0, v["period"], v["n_samples"]))
        if v["heteroscedastic"]:
            sigma = v["noise"] * rng.uniform(0.5, 1.5, v["n_samples"])
        else:
            sigma = np.full(v["n_samples"], v["noise"])
        y = self.design(t) @ theta + sigma * rng.standard_normal(v["n_samples"])
        grid = np.linspace(0.0, v["period"], v["grid_points"])
        return Dataset(
            problem=self,
            x=t,
            y=y,
            sigma=sigma,
            truth_params=dict(zip(self.param_names(), theta)),
            grid_x=grid,
            grid_y=self.design(grid) @ theta,
        )

    def param_names(self):
        return tuple(f"theta{j}" for j in range(self.values["n_modes"]))

    def model(self, dataset):
        return ParametricModel(
            function=lambda t, theta: self.design(t) @ theta,
            param_names=self.param_names(),
            p0=np.zeros(self.values["n_modes"]),
            bounds=(
                np.full(self.values["n_modes"], -self.values["coefficient_bound"]),
                np.full(self.values["n_modes"], self.values["coefficient_bound"]),
            ),
            design=self.design,
        )

    def objective(self, dataset):
        return chi_square_objective(dataset)
