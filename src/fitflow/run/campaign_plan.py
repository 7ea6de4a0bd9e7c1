"""The ``campaigns:`` section of a config: optimisation campaigns, each evaluation a job.

::

    campaigns:
      laser:                          # a label
        problem: objective            # any black-box problem plugin (default: objective)
        settings: {parameters: ..., command: ..., direction: maximise}
        methods:                      # optimisers: label -> {plugin, settings}
          bayesopt: {settings: {budget: 24, batch: 4}}
          random_search: {settings: {budget: 24, batch: 4}}
        seed: 7                       # default: the experiment's seed
        resources: {runtime: 30}      # of each evaluation job (threads, mem_mb, runtime)

A campaign's shape (an initial round, then rounds of ``batch`` points up to
``budget``) is fixed here, so the workflow can lay it out as a static DAG.
Raising ``budget`` appends rounds and keeps every earlier one.
"""

from dataclasses import dataclass, field

from ..campaigns.campaign import campaign_shape, round_sizes
from ..core.errors import ConfigError, FitflowError
from .cases import expand_entry

__all__ = ["CampaignRun", "plan_campaigns"]

RESOURCE_KEYS = ("threads", "mem_mb", "runtime")
EVALUATION_RESOURCES = {"threads": 1, "mem_mb": 1000, "runtime": 60}


@dataclass(frozen=True)
class CampaignRun:
    """One optimiser on one campaign's objective: its rounds and its seed."""

    campaign: str
    problem: object  # experiment.Case
    method: object  # experiment.Case
    seed: int
    rounds: tuple
    resources: dict = field(hash=False, default_factory=dict)

    @property
    def key(self):
        return (self.campaign, self.method.label)

    @property
    def n_evaluations(self):
        return sum(self.rounds)

    def evaluations(self):
        """``(round, index)`` of every evaluation, in order."""
        return [(k, i) for k, size in enumerate(self.rounds) for i in range(size)]


def plan_campaigns(config, source, problems_reg, methods_reg, experiment_seed):
    """The :class:`CampaignRun` list of ``config['campaigns']`` (empty without one)."""
    entries = config.get("campaigns") or {}
    if not isinstance(entries, dict):
        raise ConfigError("must be a mapping of campaign label to entry", source=source, key="campaigns", value=entries)
    runs = []
    for label, entry in entries.items():
        where = f"campaigns.{label}"
        if not isinstance(entry, dict):
            raise ConfigError("must be a mapping", source=source, key=where, value=entry)
        problem_entry = {"plugin": entry.get("problem", "objective"), "settings": entry.get("settings")}
        (problem_case,) = expand_entry("campaigns", label, problem_entry, problems_reg, source)
        problem = problem_case.instance(problems_reg)
        if "black_box" not in problem.capabilities:
            raise ConfigError(
                f"{type(problem).label()} is not an objective to optimise (it is {sorted(problem.capabilities)})",
                source=source,
                key=f"{where}.problem",
            )
        dim, noise_sd = _dimension(problem, where, source)
        seed = entry.get("seed", experiment_seed)
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            raise ConfigError("must be a whole number >= 0", source=source, key=f"{where}.seed", value=seed)
        resources = {**EVALUATION_RESOURCES, **(entry.get("resources") or {})}
        methods = entry.get("methods")
        if not isinstance(methods, dict) or not methods:
            raise ConfigError(
                "list the optimisers as a mapping label: {plugin, settings}",
                source=source,
                key=f"{where}.methods",
                value=methods,
            )
        for method_label, method_entry in methods.items():
            (method_case,) = expand_entry(f"{where}.methods", method_label, method_entry, methods_reg, source)
            method = method_case.instance(methods_reg)
            key = f"{where}.methods.{method_label}"
            if not hasattr(method, "suggest"):
                raise ConfigError(
                    f"{type(method).label()} cannot run a campaign: it has no suggest(history, n, rng)",
                    source=source,
                    key=key,
                )
            try:
                rounds = tuple(round_sizes(*campaign_shape(method, dim, noise_sd)))
            except ValueError as exc:
                raise ConfigError(str(exc), source=source, key=f"{key}.settings") from None
            runs.append(CampaignRun(label, problem_case, method_case, seed, rounds, resources))
    return runs


def _dimension(problem, where, source):
    """The number of parameters of a campaign's objective and its noise level (from one
    probe dataset), which fix the campaign's shape."""
    import numpy as np

    try:
        objective = problem.objective(problem.generate(np.random.default_rng(0)))
        return objective.dim, objective.noise_sd
    except FitflowError:
        raise
    except Exception as exc:
        raise ConfigError(
            f"cannot build its objective: {type(exc).__name__}: {exc}", source=source, key=where
        ) from None
