"""Random search: the baseline every optimiser must beat.

Evaluates the objective at ``budget`` points drawn uniformly in its box
(integer parameters rounded), ``batch`` at a time in a campaign.
"""

from fitflow.plugin import Method, Setting, run_in_process

from .campaign_result import best_so_far_figure, history_result

__all__ = ["RandomSearch"]


class RandomSearch(Method):
    name = "random_search"
    version = "2.0"
    description = "Uniform random search in the objective's box (the baseline for optimisers)"
    capabilities = frozenset({"black_box"})
    requirements = frozenset({"finite_bounds"})
    resources = {"threads": 1, "mem_mb": 500, "runtime": 5}
    settings = {
        "budget": Setting(30, int, "objective evaluations", minimum=1, maximum=1_000_000),
        "batch": Setting(1, int, "points proposed per round", minimum=1, maximum=1_000_000),
    }
    fast_settings = {"budget": 10}

    def fit(self, dataset, rng):
        objective = dataset.objective
        history, best = run_in_process(self, objective, int(rng.integers(2**31)))
        return history_result(objective, history, best)

    def suggest(self, history, n, rng):
        return history.space.from_unit(rng.uniform(size=(n, history.space.dim)))

    def figures(self, dataset, result):
        return best_so_far_figure(dataset, result, "random search")
