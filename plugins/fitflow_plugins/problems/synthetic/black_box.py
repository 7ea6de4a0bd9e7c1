"""Black-box optimisation benchmarks with known optima.

* ``forrester``: the lecture's 1-D ``(6x - 2)**2 sin(12x - 4)`` on ``[0, 1]``;
* ``branin``: 2-D, three global minima, ``f* = 0.397887``;
* ``hartmann6``: 6-D, ``f* = -3.32237``.

The "dataset" holds no observations: the optimiser evaluates the objective
itself, and each evaluation is counted. The truth is the optimum value and
location(s), from which regret is computed.

``noise_sd > 0`` makes a noisy variant: each evaluation adds Gaussian noise of
that standard deviation (seeded by the dataset's replicate and the point), like shot-to-shot
scatter in an experiment; regret is still measured on the noise-free function
at the point the optimiser recommends.
"""

import numpy as np

from fitflow.plugin import Dataset, Objective, Problem, Setting

__all__ = ["BlackBox", "forrester", "forrester_by_name", "branin", "hartmann6", "BENCHMARKS"]


def forrester(x):
    return (6 * x[0] - 2) ** 2 * np.sin(12 * x[0] - 4)


def branin(x):
    x1, x2 = x
    b, c, r, s, t = 5.1 / (4 * np.pi**2), 5 / np.pi, 6.0, 10.0, 1 / (8 * np.pi)
    return (x2 - b * x1**2 + c * x1 - r) ** 2 + s * (1 - t) * np.cos(x1) + s


def forrester_by_name(x):
    """Forrester with its coordinate by name: the example callable of the ``objective`` problem."""
    return forrester([x])


_H6_ALPHA = np.array([1.0, 1.2, 3.0, 3.2])
_H6_A = np.array(
    [
        [10, 3, 17, 3.5, 1.7, 8],
        [0.05, 10, 17, 0.1, 8, 14],
        [3, 3.5, 1.7, 10, 17, 8],
        [17, 8, 0.05, 10, 0.1, 14],
    ]
)
_H6_P = 1e-4 * np.array(
    [
        [1312, 1696, 5569, 124, 8283, 5886],
        [2329, 4135, 8307, 3736, 1004, 9991],
        [2348, 1451, 3522, 2883, 3047, 6650],
        [4047, 8828, 8732, 5743, 1091, 381],
    ]
)


def hartmann6(x):
    return -float(_H6_ALPHA @ np.exp(-np.sum(_H6_A * (x - _H6_P) ** 2, axis=1)))


#: name -> (function, lower, upper, optimum value, optimum locations)
BENCHMARKS = {
    "forrester": (forrester, [0.0], [1.0], -6.020740055767083, [[0.7572487144081974]]),
    "branin": (
        branin,
        [-5.0, 0.0],
        [10.0, 15.0],
        0.39788735772973816,
        [[-np.pi, 12.275], [np.pi, 2.275], [9.42477796076938, 2.475]],
    ),
    "hartmann6": (
        hartmann6,
        [0.0] * 6,
        [1.0] * 6,
        -3.3223680114155147,
        [[0.20168952, 0.15001069, 0.47687398, 0.27533243, 0.31165162, 0.65730054]],
    ),
}


class BlackBox(Problem):
    name = "black_box"
    version = "1.0"
    description = "Expensive-objective stand-ins with known optima: Forrester, Branin, Hartmann-6"
    capabilities = frozenset({"black_box"})
    deterministic = True
    settings = {
        "function": Setting("forrester", str, "benchmark function", choices=tuple(BENCHMARKS)),
        "noise_sd": Setting(0.0, float, "standard deviation of Gaussian noise added to each evaluation", minimum=0.0),
    }

    def generate(self, rng):
        function, lower, upper, best, where = BENCHMARKS[self.values["function"]]
        dim = len(lower)
        return Dataset(
            problem=self,
            x=np.empty((0, dim)),
            y=np.empty(0),
            meta={
                "function": self.values["function"],
                "optimum_value": best,
                "optimum_locations": where,
                "noise_sd": self.values["noise_sd"],
                "noise_seed": int(rng.integers(2**31)),
            },
        )

    def objective(self, dataset):
        function, lower, upper, best, where = BENCHMARKS[self.values["function"]]
        names = tuple(f"x{i + 1}" for i in range(len(lower)))
        noise_sd = self.values["noise_sd"]
        if noise_sd == 0:
            return Objective(function, names, (lower, upper), optimum_value=best, optimum_locations=where)
        seed = dataset.meta["noise_seed"]

        def noisy(x):
            # The noise of a point depends on the point and the seed only, so an evaluation gives
            # the same number whichever process runs it and in whatever order (campaign jobs).
            words = np.ascontiguousarray(np.asarray(x, dtype=float)).view(np.uint32)
            return function(x) + noise_sd * np.random.default_rng([seed, *words.tolist()]).standard_normal()

        return Objective(
            noisy,
            names,
            (lower, upper),
            optimum_value=best,
            optimum_locations=where,
            noise_sd=None,
            true_function=function,
        )
