"""Optimisation campaigns: rounds of proposals and evaluations, in any runner.

An optimiser plugin is a :class:`~fitflow.Method` with capability ``black_box``
that implements the ask/tell pair

* ``suggest(history, n, rng) -> (n, d) array``: the next ``n`` points to
  evaluate, given every evaluation so far and any pending points;
* ``recommend(history) -> Recommendation`` (optional): what to report as the
  answer. The default is the best value observed, right only without noise.

and has the settings ``budget`` and ``batch`` (``n_initial`` optional). A
campaign's shape is fixed before it starts: an initial round of ``n_initial``
points, then rounds of ``batch`` points until ``budget`` evaluations. That
shape is what lets the workflow lay a campaign out as a static DAG (each
evaluation its own job) and what makes the in-process loop here, the
workflow and ``fitflow suggest`` give the same points for the same seed: round
``k`` always draws from ``round_rng(seed, k)``.
"""

from dataclasses import dataclass, field
import math

import numpy as np

from ..inputs.constraints import parse_constraints
from ..inputs.objective import Objective, Observation, parse_observation
from ..inputs.space import SearchSpace

__all__ = [
    "History",
    "Recommendation",
    "CampaignResult",
    "round_sizes",
    "round_rng",
    "campaign_shape",
    "best_observed",
    "run_in_process",
    "minimise",
    "maximise",
    "no_answer",
]


@dataclass
class History:
    """Every evaluation of a campaign so far, in the minimising sign.

    ``x`` (m, d) in the space's units; ``y`` (m,) with NaN where the evaluation
    failed; ``error`` (m,) standard errors (NaN: not given); ``status`` (m,)
    ``ok``/``failed``/``infeasible``; ``pending`` (p, d) points proposed but not
    yet measured; ``noise_sd`` the known noise level (``None``: unknown,
    ``0``: deterministic); ``constraints`` the objective's output limits, ``goals``
    its several objectives (then ``y`` is NaN: there is no single value), and
    ``outputs`` (m, c + g) the constrained quantities and the objectives measured, in
    the user's sign (NaN: none).
    """

    space: SearchSpace
    x: np.ndarray = None
    y: np.ndarray = None
    error: np.ndarray = None
    status: np.ndarray = None
    pending: np.ndarray = None
    noise_sd: float = None
    reasons: list = field(default_factory=list)
    constraints: tuple = ()
    outputs: np.ndarray = None
    goals: tuple = ()

    def __post_init__(self):
        d = self.space.dim
        self.x = np.empty((0, d)) if self.x is None else np.asarray(self.x, dtype=float).reshape(-1, d)
        m = len(self.x)
        self.y = np.full(m, np.nan) if self.y is None else np.asarray(self.y, dtype=float).reshape(m)
        self.error = np.full(m, np.nan) if self.error is None else np.asarray(self.error, dtype=float).reshape(m)
        if self.status is None:
            self.status = np.where(np.isfinite(self.y), "ok", "failed")
        self.status = np.asarray(self.status, dtype=object).reshape(m)
        self.pending = (
            np.empty((0, d)) if self.pending is None else np.asarray(self.pending, dtype=float).reshape(-1, d)
        )
        if len(self.reasons) != m:
            self.reasons = list(self.reasons) + [""] * (m - len(self.reasons))
        self.constraints, self.goals = tuple(self.constraints), tuple(self.goals)
        c = len(self.output_names)
        self.outputs = (
            np.full((m, c), np.nan) if self.outputs is None else np.asarray(self.outputs, float).reshape(m, c)
        )

    def __len__(self):
        return len(self.x)

    @property
    def output_names(self):
        """The names of ``outputs``' columns: the constrained quantities, then the objectives."""
        return tuple(c.name for c in self.constraints) + tuple(g.name for g in self.goals)

    def goal_values(self):
        """``(m, g)`` the objectives of every evaluation in the minimising sign (NaN: none)."""
        signs = np.array([g.sign for g in self.goals], dtype=float)
        return self.outputs[:, len(self.constraints) :] * signs

    @property
    def ok(self):
        """Mask of the evaluations that gave a usable number."""
        return self.status == "ok"

    @property
    def feasible(self):
        """Mask of the evaluations that gave a number and kept every constraint (all the
        ``ok`` ones when there are none)."""
        inside = np.ones(len(self), dtype=bool)
        for j, constraint in enumerate(self.constraints):
            with np.errstate(invalid="ignore"):
                inside &= constraint.slack(self.outputs[:, j]) >= 0
        return self.ok & inside

    @property
    def n_failed(self):
        """Evaluations whose status is ``failed`` (the function raised, the program died)."""
        return int((self.status == "failed").sum())

    @property
    def n_infeasible(self):
        """Evaluations that gave no usable number (status ``infeasible``: NaN or infinite) or
        gave one that broke a constraint: with :attr:`n_failed`, every evaluation not feasible."""
        return int(((self.status == "infeasible") | (self.ok & ~self.feasible)).sum())

    def best_so_far(self):
        """The lowest feasible value after each evaluation (NaN until the first)."""
        return np.fmin.accumulate(np.where(self.feasible, self.y, np.nan))

    def add(self, x, observation):
        """Append one evaluation (an :class:`~fitflow.inputs.objective.Observation`)."""
        self.x = np.vstack([self.x, np.asarray(x, dtype=float)[None, :]])
        self.y = np.append(self.y, observation.value if observation.ok else np.nan)
        self.error = np.append(self.error, observation.error)
        self.status = np.append(self.status, np.array([observation.status], dtype=object))
        self.reasons.append(observation.reason)
        row = [observation.outputs.get(name, np.nan) for name in self.output_names]
        self.outputs = np.vstack([self.outputs, np.array(row, dtype=float).reshape(1, -1)])


@dataclass(frozen=True)
class Recommendation:
    """The point an optimiser stands behind: ``x``, the value it expects there
    (``mean``, minimising sign) and its standard deviation (0 when observed
    without noise), ``index``, the evaluation it is (``None`` if off-design), and under
    constraints the predicted ``outputs``."""

    x: np.ndarray
    mean: float
    sd: float
    index: int = None
    #: Under constraints, what the optimiser's surrogates predict there for each constrained
    #: output: ``{name: {"mean", "sd", "probability"}}`` (the output's units; ``probability``
    #: of keeping its limit); None where it has no surrogates.
    outputs: dict = None


def best_observed(history):
    """The best feasible value seen: the right recommendation only without noise. Its
    standard deviation is the known noise level (0 when exact, NaN when unknown)."""
    if not history.feasible.any():
        return None
    y = np.where(history.feasible, history.y, np.inf)
    best = int(np.argmin(y))
    sd = math.nan if history.noise_sd is None else float(history.noise_sd)
    if math.isfinite(history.error[best]):
        sd = float(history.error[best])
    return Recommendation(history.x[best], float(y[best]), sd, best)


def round_sizes(budget, n_initial, batch):
    """Points per round: ``n_initial`` first, then ``batch`` at a time up to ``budget``."""
    if budget < 1 or batch < 1:
        raise ValueError(f"budget and batch must be positive; got {budget}, {batch}")
    if batch > budget:
        raise ValueError(f"batch {batch} is larger than the budget {budget}")
    first = min(max(1, n_initial), budget)
    sizes, left = [first], budget - first
    while left > 0:
        sizes.append(min(batch, left))
        left -= sizes[-1]
    return sizes


def round_rng(seed, k):
    """The random stream of round ``k`` of a campaign seeded with ``seed``."""
    return np.random.default_rng(np.random.SeedSequence(int(seed), spawn_key=(int(k),)))


def campaign_shape(method, dim, noise_sd=0.0):
    """``(budget, n_initial, batch)`` of an optimiser plugin from its settings; the
    default initial size may depend on the dimension and on whether the objective is
    noisy (``noise_sd`` not 0)."""
    values = method.values
    budget, batch = int(values["budget"]), int(values.get("batch", 1) or 1)
    n_initial = values.get("n_initial")
    if n_initial is None:
        if hasattr(method, "default_initial_size"):
            n_initial = method.default_initial_size(dim, noisy=noise_sd != 0)
        else:
            n_initial = batch
    return budget, min(int(n_initial), budget), batch


def recommend(method, history):
    """The method's recommendation, or the best observation for methods without one; None
    with several objectives, whose answer is a front (:mod:`.pareto`)."""
    if history.goals:
        return None
    if hasattr(method, "recommend"):
        return method.recommend(history)
    return best_observed(history)


def run_in_process(method, objective, seed, stop=None):
    """Run a whole campaign of ``method`` on ``objective`` in this process.

    Returns ``(history, recommendation)``. Evaluations that fail are recorded
    and the campaign goes on. ``stop(history)``, if given, is asked after each
    round: true ends the campaign there (a target reached; the rounds before it
    are those of the whole campaign).
    """
    budget, n_initial, batch = campaign_shape(method, objective.dim, objective.noise_sd)
    history = History(
        objective.space, noise_sd=objective.noise_sd, constraints=objective.constraints, goals=objective.goals
    )
    for k, size in enumerate(round_sizes(budget, n_initial, batch)):
        points = np.asarray(method.suggest(history, size, round_rng(seed, k)), dtype=float).reshape(size, -1)
        for point in points:
            history.add(point, objective.observe(point))
        if stop is not None and stop(history):
            break
    return history, recommend(method, history)


@dataclass
class CampaignResult:
    """What :func:`minimise` returns: the recommended ``params`` and ``value``
    (in the caller's sign) with its standard deviation, and the whole history."""

    params: dict
    value: float
    sd: float
    history: History
    sign: float = 1.0
    #: How sure, and whether the campaign has settled, with the evidence
    #: (:func:`fitflow.campaigns.progress.assess`).
    assessment: list = field(default_factory=list)

    @property
    def n_failed(self):
        """Evaluations that failed (status ``failed``: the function raised, the program died)."""
        return self.history.n_failed

    @property
    def n_infeasible(self):
        """Evaluations that gave no usable number (status ``infeasible``) or broke a constraint."""
        return self.history.n_infeasible

    def table(self):
        """The evaluations as a pandas DataFrame (values in the caller's sign)."""
        import pandas as pd

        space = self.history.space
        frame = pd.DataFrame([space.as_dict(x) for x in self.history.x], columns=list(space.names))
        frame["value"] = in_callers_sign(self.sign, self.history.y)
        frame["status"] = self.history.status
        frame["reason"] = self.history.reasons
        return frame


def in_callers_sign(sign, value):
    """A minimised value (a number or an array) in the caller's sign; ``+ 0.0`` so that a
    maximised 0 reads 0, not the -0 that flipping 0.0 gives (tables and the report print it)."""
    return sign * np.asarray(value, dtype=float) + 0.0 if np.ndim(value) else sign * float(value) + 0.0


def minimise(
    function,
    parameters,
    budget=30,
    batch=1,
    method="bayesopt",
    noise_sd=None,
    maximise=False,
    seed=0,
    constraints=None,
    **settings,
):
    """Optimise a plain Python function of named parameters.

    ``function(**params)`` returns a number or ``(value, standard error)``, or with
    ``constraints`` (``{charge: ">= 50"}``) a dict of its value and those outputs
    (``{"value": v, "charge": q}``); ``parameters`` is ``{name: [lower, upper]}`` or
    ``{name: {bounds: [...], type: int}}``. ``noise_sd`` is the known noise level
    (``None``: learn it; ``0``: deterministic). Failed evaluations are recorded, not raised;
    the answer is the best feasible one.

    >>> result = minimise(lambda x: (x - 0.3) ** 2, {"x": [0, 1]}, budget=12, noise_sd=0)
    >>> round(result.params["x"], 1)
    0.3
    """
    from ..core.pipeline import make_method

    source = "maximise()" if maximise else "minimise()"
    space = SearchSpace.from_config(parameters, source=source)
    limits = parse_constraints(constraints, source=source)
    sign = -1.0 if maximise else 1.0

    def by_name(x):
        returned = function(**space.as_dict(x))
        if isinstance(returned, dict):
            return parse_observation(returned, sign, limits)
        if returned is None or isinstance(returned, (str, bytes)) or np.size(returned) not in (1, 2):
            raise ValueError(f"returned {returned!r:.80}; expected a number or (value, standard error)")
        if np.size(returned) == 1:  # a number, or an array of one
            return sign * float(np.reshape(returned, ()))
        value, error = np.ravel(returned)
        return sign * float(value), float(error)

    objective = Objective(
        by_name, space.names, (space.lower, space.upper), noise_sd=noise_sd, space=space, constraints=limits
    )
    optimiser = make_method(method, budget=budget, batch=batch, **settings)
    history, best = run_in_process(optimiser, objective, seed)
    if best is None:
        raise RuntimeError(no_answer(history))
    from .progress import assess

    last_two = sum(round_sizes(*campaign_shape(optimiser, space.dim, noise_sd)[:3])[-2:])
    return CampaignResult(
        space.as_dict(best.x), in_callers_sign(sign, best.mean), best.sd, history, sign, assess(history, best, last_two)
    )


def no_answer(history):
    """Why a campaign has no recommendation: every evaluation failed (the reasons), or none
    kept the constraints (how close each came)."""
    if not history.ok.any():
        return f"all {len(history)} evaluations failed: {'; '.join(sorted(set(history.reasons)))[:500]}"
    closest = [
        f"{c} (best reached {c.name} = {history.outputs[history.ok, j][np.nanargmax(c.slack(history.outputs[history.ok, j]))]:.4g})"
        for j, c in enumerate(history.constraints)
        if np.any(np.isfinite(history.outputs[history.ok, j]))
    ]
    return f"none of the {int(history.ok.sum())} evaluations that gave a number kept the constraints: " + "; ".join(
        closest
    )


def maximise(function, parameters, budget=30, **options):
    """:func:`minimise` with ``maximise=True``: the result's values are the function's own."""
    return minimise(function, parameters, budget=budget, maximise=True, **options)


def observation_from_record(record):
    """An :class:`Observation` from an evaluation artefact's JSON record (``objective``
    holds the minimised value; ``value`` is in the user's sign)."""
    value = record.get("objective")
    return Observation(
        math.nan if value is None else float(value),
        math.nan if record.get("error") is None else float(record["error"]),
        record.get("status", "failed"),
        record.get("reason", ""),
        {name: math.nan if v is None else float(v) for name, v in (record.get("outputs") or {}).items()},
    )
