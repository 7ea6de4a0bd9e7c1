"""Several objectives at once: the Pareto front of a campaign and its hypervolume.

Where no setting is best on every objective, the answer is the front: the feasible
evaluations that no other evaluation beats on every objective at once. How much of the
objective space the front covers, up to a reference point worse than every point of
interest, is its hypervolume; it grows as a campaign finds better trade-offs, which makes
it the score that compares optimisers (and the curve the report draws against evaluations).
"""

from dataclasses import dataclass

import numpy as np

from ..inputs.constraints import parse_constraints
from ..inputs.goals import parse_goals
from ..inputs.objective import Objective
from ..inputs.space import SearchSpace
from .campaign import History, no_answer, run_in_process

__all__ = ["non_dominated", "hypervolume", "reference_point", "ParetoResult", "pareto"]


def non_dominated(values):
    """Mask of the rows of ``values`` (n, k), all minimised, that no other row dominates (is
    no worse in every column and better in one). Rows with a NaN are never on the front."""
    values = np.asarray(values, dtype=float)
    finite = np.all(np.isfinite(values), axis=1)
    mask = finite.copy()
    if values.shape[1] == 2:  # by a sort: O(n log n)
        rows = np.flatnonzero(finite)
        rows = rows[np.lexsort((values[rows, 1], values[rows, 0]))]
        best, last = np.inf, None
        for i in rows:  # by the first objective, then the second: kept while the second falls
            mask[i] = values[i, 1] < best or (last is not None and np.array_equal(values[i], values[last]))
            if values[i, 1] < best:
                best, last = values[i, 1], i
        return mask
    for i in np.flatnonzero(finite):
        others = values[finite]
        dominated = np.all(others <= values[i], axis=1) & np.any(others < values[i], axis=1)
        mask[i] = not dominated.any()
    return mask


def hypervolume(values, reference):
    """The volume that the rows of ``values`` (n, k), all minimised, dominate below
    ``reference`` (k,): exact, by slicing along the last objective (two objectives: a sum
    of rectangles). Rows not strictly better than the reference in every column add nothing."""
    values = np.asarray(values, dtype=float).reshape(-1, len(reference))
    reference = np.asarray(reference, dtype=float)
    inside = values[np.all(np.isfinite(values), axis=1) & np.all(values < reference, axis=1)]
    if not len(inside):
        return 0.0
    front = inside[non_dominated(inside)]
    if front.shape[1] == 1:
        return float(reference[0] - front[:, 0].min())
    if front.shape[1] == 2:
        front = front[np.argsort(front[:, 0], kind="stable")]  # then the second falls
        widths = np.diff(np.append(front[:, 0], reference[0]))
        return float(np.sum(widths * (reference[1] - front[:, 1])))
    front = front[np.argsort(front[:, -1], kind="stable")]
    tops = np.append(front[1:, -1], reference[-1])
    return float(
        sum(
            (top - row[-1]) * hypervolume(front[: i + 1, :-1], reference[:-1])
            for i, (row, top) in enumerate(zip(front, tops))
        )
    )


def reference_point(values, margin=0.1):
    """A reference point for ``values`` (n, k), minimised: the worst of each column plus
    ``margin`` of its range (so that the points at the ends of the front count too)."""
    values = np.asarray(values, dtype=float)
    values = values[np.all(np.isfinite(values), axis=1)]
    worst, best = values.max(axis=0), values.min(axis=0)
    return worst + margin * np.where(worst > best, worst - best, np.abs(worst) + 1.0)


@dataclass
class ParetoResult:
    """What :func:`pareto` returns: every evaluation (``history``), the front and the
    hypervolume after each evaluation against a reference point (``minimised_reference``, the
    minimising sign; :attr:`reference`, the user's). ``reference_given``: the caller fixed it
    (runs are then comparable), rather than fitflow choosing it from the values seen."""

    history: History
    minimised_reference: np.ndarray
    reference_given: bool = False

    @property
    def reference(self):
        """The reference point, ``{objective: value}`` in the user's sign."""
        return {g.name: g.sign * float(v) + 0.0 for g, v in zip(self.history.goals, self.minimised_reference)}

    @property
    def reference_note(self):
        """Which reference the hypervolume is measured against, and whether runs can be compared on it."""
        point = ", ".join(f"{k} = {v:.4g}" for k, v in self.reference.items())
        if self.reference_given:
            return f"hypervolume against the reference you gave ({point})"
        return (
            f"hypervolume against the reference fitflow chose from this run's values ({point}: the worst of each "
            "objective plus a tenth of its range); give reference={...} to compare runs on one scale"
        )

    def _minimised(self):
        return np.where(self.history.feasible[:, None], self.history.goal_values(), np.nan)

    @property
    def on_front(self):
        """Mask of the evaluations on the Pareto front (feasible, not dominated)."""
        return non_dominated(self._minimised())

    @property
    def front(self):
        """The front as a pandas DataFrame: each point's parameters and objectives (in the
        user's sign), by the first objective, best first."""
        table = self.table()
        front = table[self.on_front]
        goal = self.history.goals[0]
        return front.sort_values(goal.name, ascending=goal.sign > 0, kind="stable").reset_index(drop=True)

    def hypervolume(self):
        """The front's hypervolume after each evaluation, against ``reference``."""
        values = self._minimised()
        return np.array([hypervolume(values[: i + 1], self.minimised_reference) for i in range(len(values))])

    def table(self):
        """Every evaluation as a pandas DataFrame: parameters, outputs (the user's sign),
        status and reason."""
        import pandas as pd

        history = self.history
        frame = pd.DataFrame([history.space.as_dict(x) for x in history.x], columns=list(history.space.names))
        for j, name in enumerate(history.output_names):
            frame[name] = history.outputs[:, j]
        frame["feasible"] = history.feasible
        frame["status"] = history.status
        frame["reason"] = history.reasons
        return frame


def pareto(
    function,
    parameters,
    objectives,
    budget=40,
    batch=1,
    method="bayesopt",
    noise_sd=None,
    seed=0,
    constraints=None,
    reference=None,
    **settings,
):
    """Optimise several objectives of a plain Python function at once: its Pareto front.

    ``function(**params)`` returns a dict of every objective and constrained output by
    name; ``objectives`` is ``{name: "maximise" | "minimise"}``, ``constraints`` as in
    :func:`~fitflow.campaigns.campaign.minimise`. ``bayesopt`` proposes by expected hypervolume
    improvement for two objectives, by ParEGO (a random weighting of the normalised
    objectives for each point) for more. ``reference`` is
    ``{name: value}`` in the user's units, worse than any trade-off of interest; by default
    the worst value seen of each, plus a tenth of its range (which differs between runs: fix it
    to compare them; ``result.reference`` and ``result.reference_note`` say which was used).
    Failed evaluations are recorded, not raised; a campaign with no feasible evaluation raises
    RuntimeError saying why, as :func:`~fitflow.campaigns.campaign.minimise` does.

    >>> result = pareto(lambda x: {"a": x, "b": (1 - x) ** 2}, {"x": [0, 1]},
    ...                 {"a": "minimise", "b": "minimise"}, budget=12, noise_sd=0)
    >>> len(result.front) >= 5
    True
    """
    from ..core.pipeline import make_method

    source = "pareto()"
    space = SearchSpace.from_config(parameters, source=source)
    goals = parse_goals(objectives, source=source)
    limits = parse_constraints(constraints, source=source)
    objective = Objective(
        lambda x: function(**space.as_dict(x)),
        space.names,
        (space.lower, space.upper),
        noise_sd=noise_sd,
        space=space,
        constraints=limits,
        goals=goals,
    )
    history, _ = run_in_process(make_method(method, budget=budget, batch=batch, **settings), objective, seed)
    feasible = history.goal_values()[history.feasible]
    if not len(feasible):
        raise RuntimeError(no_answer(history))
    if reference is None:
        return ParetoResult(history, reference_point(feasible))
    return ParetoResult(history, np.array([g.sign * float(reference[g.name]) for g in goals]), reference_given=True)
