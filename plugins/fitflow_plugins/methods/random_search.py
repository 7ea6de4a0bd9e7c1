"""Random search: the baseline every optimiser must beat.

Evaluates the objective at ``budget`` points drawn uniformly in its box.
"""

from fitflow import Method, Setting

from .optimisation import best_so_far_figure, history_result

__all__ = ["RandomSearch"]


class RandomSearch(Method):
    name = "random_search"
    version = "1.0"
    description = "Uniform random search in the objective's box (the baseline for optimisers)"
    capabilities = frozenset({"black_box"})
    requirements = frozenset({"finite_bounds"})
    resources = {"threads": 1, "mem_mb": 500, "runtime": 5}
    settings = {"budget": Setting(30, int, "objective evaluations", minimum=1, maximum=1_000_000)}
    fast_settings = {"budget": 10}

    def fit(self, dataset, rng):
        objective = dataset.objective
        lower, upper = objective.bounds
        xs = rng.uniform(lower, upper, size=(self.values["budget"], objective.dim))
        return history_result(objective, xs, [objective(x) for x in xs])

    def figures(self, dataset, result):
        return best_so_far_figure(dataset, result, "random search")
