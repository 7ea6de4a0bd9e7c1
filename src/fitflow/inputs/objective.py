"""Black-box objectives: what an optimisation problem hands to an optimiser.

An :class:`Objective` is a scalar function to *minimise* over a box, with named
coordinates, a counter of evaluations (an optimiser's real cost) and, where the
problem knows it, the optimum value and location(s) for computing regret.
Parametric problems expose their chi-square as an objective over the model's
parameters, so an optimiser's best point can be compared with NLLS on the same
fit.
"""

from dataclasses import dataclass, field
import math

import numpy as np

from .space import SearchSpace

__all__ = ["Objective", "Observation", "chi_square_objective", "chi_square_gap", "parse_observation"]


@dataclass(frozen=True)
class Observation:
    """One evaluation: ``value`` (to minimise), its standard ``error`` (NaN: not given),
    and ``status``: ``ok``, ``failed`` (it raised, or gave no number) or ``infeasible``
    (it gave inf or NaN). Failed and infeasible points are kept out of the surrogate.
    ``outputs`` holds the constrained quantities by name (:mod:`.constraints`)."""

    value: float
    error: float = math.nan
    status: str = "ok"
    reason: str = ""
    outputs: dict = field(default_factory=dict)

    @property
    def ok(self):
        return self.status == "ok"


def parse_observation(returned, sign=1.0, constraints=(), goals=()):
    """An :class:`Observation` from what a user's function returned: a number, or
    ``(value, standard error)``, or ``{value, error, <constrained output>...}``; with several
    objectives (``goals``, :mod:`.goals`), ``{<objective>..., <constrained output>...}`` and
    no single value. ``sign`` -1 turns a maximisation into a minimisation. A result that lacks
    a constrained output or an objective, or names an output nobody asked for, is a failed
    observation saying which."""
    if goals:
        return _observation_of_goals(returned, constraints, goals)
    if isinstance(returned, dict):
        return _observation_from_mapping(returned, sign, constraints)
    if constraints:
        names = ", ".join(c.name for c in constraints)
        return Observation(
            math.nan,
            status="failed",
            reason=f"the constraints need the outputs {names}: return {{value: ..., {names}}}",
        )
    if isinstance(returned, (tuple, list, np.ndarray)) and np.ndim(returned) == 1 and len(returned) == 2:
        value, error = returned
    elif np.ndim(returned) == 0:
        value, error = returned, math.nan
    else:
        return Observation(
            math.nan, status="failed", reason=f"expected a number or (value, standard error); got {returned!r:.80}"
        )
    try:
        value, error = float(value), float(error)
    except (TypeError, ValueError):
        return Observation(math.nan, status="failed", reason=f"not a number: {returned!r:.80}")
    if not math.isfinite(value):
        return Observation(math.nan, status="infeasible", reason=f"the objective returned {value}")
    if not (math.isnan(error) or (math.isfinite(error) and error >= 0)):
        return Observation(
            math.nan, status="failed", reason=f"standard error {error} is not a finite non-negative number"
        )
    return Observation(sign * value, error)


def _observation_of_goals(returned, constraints, goals):
    """Several objectives: every goal and constrained output by name, each a finite number
    (the outputs are kept in the user's sign; the value is NaN: there is no single one)."""
    wanted = [g.name for g in goals] + [c.name for c in constraints]
    if not isinstance(returned, dict):
        return Observation(
            math.nan,
            status="failed",
            reason=f"several objectives: return {{{', '.join(wanted)}}}; got {returned!r:.80}",
        )
    outputs, failure = _named_numbers(returned, wanted, wanted)
    if failure is not None:
        return failure
    for name, number in outputs.items():
        if not math.isfinite(number):
            return Observation(math.nan, status="infeasible", reason=f"output {name} is {number}", outputs=outputs)
    return Observation(math.nan, outputs=outputs)


def _observation_from_mapping(returned, sign, constraints):
    wanted = [c.name for c in constraints]
    outputs, failure = _named_numbers(returned, ["value", *wanted], wanted)
    if failure is not None:
        return failure
    plain = returned["value"] if "error" not in returned else (returned["value"], returned["error"])
    observation = parse_observation(plain, sign)
    return Observation(observation.value, observation.error, observation.status, observation.reason, outputs)


def _named_numbers(returned, required, numeric):
    """``(numbers, None)``: the ``numeric`` keys of the mapping ``returned`` as floats, or
    ``(None, failed Observation)`` saying what it lacks of ``required``, what it has that
    nobody asked for (``error`` is always allowed), or which is not a number."""
    missing = [name for name in required if name not in returned]
    unknown = sorted(set(returned) - {*required, "error"})
    if missing or unknown:
        words = [f"lacks {', '.join(missing)}" if missing else "", f"has {', '.join(unknown)}" if unknown else ""]
        return None, Observation(
            math.nan,
            status="failed",
            reason=f"the result {' and '.join(w for w in words if w)} "
            f"(expected the keys {', '.join([*required, 'error'])}; got {sorted(returned)})",
        )
    numbers = {}
    for name in numeric:
        try:
            numbers[name] = float(returned[name])
        except (TypeError, ValueError):
            return None, Observation(
                math.nan, status="failed", reason=f"output {name} is not a number: {returned[name]!r:.80}"
            )
    return numbers, None


@dataclass(eq=False)
class Objective:
    """``function(x) -> float`` to minimise over ``bounds``.

    Parameters
    ----------
    function
        Takes a 1-D array ordered as ``names``; returns a float.
    names
        Coordinate names (for a parametric problem: the model's parameter names).
    bounds
        ``(lower, upper)`` finite arrays: the search box.
    optimum_value
        The global minimum, where known (else ``None``).
    optimum_locations
        ``(k, d)`` array of the global minimisers, where known.
    noise_sd
        The standard deviation of evaluation noise: ``0`` deterministic,
        ``None`` unknown (a surrogate should learn it).
    true_function
        For a noisy stand-in, the noise-free function: the regret of what an
        optimiser recommends is measured on it, never on a lucky noisy sample.
    space
        A :class:`~fitflow.inputs.space.SearchSpace` (integer parameters); by default
        the continuous box of ``names`` and ``bounds``.
    sign
        ``+1`` when the user minimises, ``-1`` when they maximise: the value
        they see is ``sign`` times the one minimised here.
    convergence_check
        Where the problem can tell cheaply whether a point is a minimum (a
        chi-square: one least-squares solve), ``check(x) -> reason or None``: the
        reason an optimiser's recommendation ``x`` cannot be trusted as the answer.
    constraints
        :class:`~fitflow.inputs.constraints.Constraint` limits on named outputs the
        function returns beside its value (``{value: ..., charge: ...}``).
    goals
        Several objectives (:class:`~fitflow.inputs.goals.Goal`), returned by name in place
        of a single value (``{charge: ..., spread: ...}``).
    """

    function: object
    names: tuple
    bounds: tuple
    optimum_value: float = None
    optimum_locations: np.ndarray = None
    noise_sd: float = 0.0
    true_function: object = None
    space: SearchSpace = None
    sign: float = 1.0
    convergence_check: object = None
    constraints: tuple = ()
    goals: tuple = ()
    n_evaluations: int = field(default=0, init=False)

    def __post_init__(self):
        self.names = tuple(self.names)
        lower = np.asarray(self.bounds[0], dtype=float).reshape(len(self.names))
        upper = np.asarray(self.bounds[1], dtype=float).reshape(len(self.names))
        if not (np.all(np.isfinite(lower)) and np.all(np.isfinite(upper)) and np.all(lower < upper)):
            raise ValueError(f"an objective needs a finite box with lower < upper; got {lower}, {upper}")
        self.bounds = (lower, upper)
        if self.space is None:
            self.space = SearchSpace.box(self.names, lower, upper)
        if self.optimum_locations is not None:
            self.optimum_locations = np.atleast_2d(np.asarray(self.optimum_locations, dtype=float))

    @property
    def dim(self):
        return len(self.names)

    def __call__(self, x):
        """The value at ``x`` (NaN where the evaluation failed), counted as an evaluation."""
        return self.observe(x).value

    def observe(self, x):
        """Evaluate at ``x`` as an :class:`Observation`; an exception is a failed
        observation, never the end of the optimisation."""
        self.n_evaluations += 1
        try:
            returned = self.function(np.asarray(x, dtype=float))
        except Exception as exc:  # the user's function: record, go on
            return Observation(math.nan, status="failed", reason=f"{type(exc).__name__}: {exc}")
        if isinstance(returned, Observation):
            return returned
        return parse_observation(returned, constraints=self.constraints, goals=self.goals)

    def true_value(self, x):
        """The noise-free value at ``x`` from ``true_function`` (``None`` without one:
        never a fresh, possibly expensive, evaluation of the objective)."""
        if self.true_function is None:
            return None
        return float(self.true_function(np.asarray(x, dtype=float)))

    def distance_to_optimum(self, x):
        """Euclidean distance from ``x`` to the nearest known minimiser (None if unknown)."""
        if self.optimum_locations is None:
            return None
        return float(np.min(np.linalg.norm(self.optimum_locations - np.asarray(x, dtype=float), axis=1)))


def chi_square_objective(dataset):
    """The chi-square of ``dataset``'s parametric model as an objective over its bounds,
    with :func:`chi_square_gap` as its convergence check."""
    model = dataset.model
    x, y = dataset.x, dataset.y
    whiten = 1.0 / dataset.sigma if dataset.sigma is not None else np.ones_like(y)

    def residuals(theta):
        return (y - model(x, theta)) * whiten

    def jacobian(theta):
        return -model.jacobian_at(x, theta) * whiten[:, None]

    def chi_square(theta):
        r = residuals(theta)
        return float(r @ r)

    def check(theta):
        return chi_square_gap(
            residuals, jacobian, theta, model.bounds, sigma_known=dataset.sigma is not None, p0=model.p0
        )

    return Objective(chi_square, model.param_names, model.bounds, convergence_check=check)


def chi_square_gap(residuals, jacobian, theta, bounds, sigma_known=True, p0=None):
    """Why ``theta`` is not the minimum of the chi-square ``sum(residuals(theta)**2)``, or
    None when it is, to within the data's precision.

    Least-squares solves (scipy's trust-region reflective, within ``bounds``) from
    ``theta`` and from the model's starting point ``p0`` find the nearest minimum and the
    one a least-squares fit would report. ``theta`` fails when either lies more than one
    unit of ``s**2`` lower: ``theta`` is then beyond the contour delta chi-square = 1
    around that minimum (whose shadow on each axis is a parameter's 68% interval), so its
    numbers are not a fit's answer. The second solve catches a point stranded on a plateau
    or in a poor local minimum, where the first cannot move. ``s**2`` is the minimum's
    reduced chi-square where the errors are unknown, else 1, or that reduced chi-square
    where it is larger (a model that misses the data widens every interval, as in the
    Birge ratio)."""
    from scipy.optimize import least_squares

    theta = np.asarray(theta, dtype=float)
    start = residuals(theta)
    at_theta = float(start @ start)
    lower, upper = (np.asarray(b, dtype=float) for b in bounds)
    starts = {"them": theta}
    if p0 is not None:
        starts["the model's starting point"] = np.asarray(p0, dtype=float)
    reached = {}
    for name, x0 in starts.items():
        try:
            solved = least_squares(
                residuals, np.clip(x0, lower, upper), jac=jacobian, bounds=(lower, upper), method="trf", x_scale="jac"
            )
        except (ValueError, np.linalg.LinAlgError) as exc:
            return f"its chi-square could not be checked for a minimum ({type(exc).__name__}: {exc})"
        if np.isfinite(solved.cost):
            reached[name] = float(solved.fun @ solved.fun)
    if not reached:
        return "its chi-square could not be checked for a minimum (no least-squares solve gave a finite value)"
    source, at_minimum = min(reached.items(), key=lambda item: item[1])
    dof = max(start.size - theta.size, 1)
    scale = max(1.0, at_minimum / dof) if sigma_known else at_minimum / dof
    # Data fitted exactly (unknown errors, no noise) leave no scale but rounding.
    scale = max(scale, np.finfo(float).eps * at_theta)
    if at_theta - at_minimum <= scale:
        return None
    return (
        f"not converged: chi-square {at_theta:.4g} at the recommended parameters, {at_minimum:.4g} after a "
        f"least-squares solve from {source} (delta chi-square / s^2 = {(at_theta - at_minimum) / scale:.3g} "
        f"> 1: beyond the fit's one-standard-error contour)"
    )
