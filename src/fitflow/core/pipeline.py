"""One dataset, one fit: plugin instances, generate, fit and the guards around a fit.

What the workflow's jobs, cross-validation, comparisons and campaigns all call;
the public names are re-exported by :mod:`fitflow.api`.
"""

import time
import traceback

import numpy as np

from .compiled import compile_clock
from .errors import FitflowError
from .goodness import ACCEPTED, goodness_of_fit, goodness_warning
from .registry import get_method, get_problem
from .result import FitResult
from .timelimit import TimedOut, time_limit
from .validation import (
    autocorrelation_warning,
    dataset_problems,
    dropped_rows_warning,
    extrapolation_warning,
    heteroscedasticity_warning,
    plugin_origin,
    result_problems,
    undetermined_warning,
    validated_result,
)

__all__ = [
    "make_problem",
    "make_method",
    "generate",
    "measurement",
    "fit",
    "safe_fit",
    "as_rng",
    "checked_optimum",
    "checked_goodness",
]


def as_rng(seed):
    """A ``numpy.random.Generator`` from an int, a SeedSequence or a Generator."""
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(seed)


def make_problem(name, **settings):
    """An instance of the problem plugin ``name`` with ``settings`` validated."""
    return get_problem(name)(**settings)


def make_method(name, **settings):
    """An instance of the method plugin ``name`` with ``settings`` validated."""
    return get_method(name)(**settings)


def generate(problem, seed=0, **settings):
    """Generate one dataset from ``problem`` (a plugin instance, or a name plus settings)."""
    if isinstance(problem, str):
        problem = make_problem(problem, **settings)
    elif settings:
        raise TypeError("pass settings with a problem name, not with a problem instance")
    return validated_dataset(problem, problem.generate(as_rng(seed)))


def validated_dataset(problem, dataset):
    """``dataset`` when it matches ``problem``'s declared capabilities, else a FitflowError."""
    found = dataset_problems(dataset, problem.capabilities)
    if found:
        raise FitflowError(f"{plugin_origin(problem)} generated an invalid dataset: {'; '.join(found)}")
    return dataset


def measurement(x, y, sigma=None, *, columns=None, **settings):
    """A dataset of your own measurement from arrays, fitted by every method as the
    ``table`` problem's file would be: ``x`` (n,) or (n, k), ``y`` (n,), optional per-point
    ``sigma``. ``columns`` names x's columns for a model (default ``x``, or ``x1 .. xk``);
    ``settings`` are the table's (``model``, ``params``, ``p0``, ``lower``, ``upper``,
    ``constants``, ``cv_folds``).

    >>> import numpy as np
    >>> t = np.linspace(0, 4, 9)
    >>> data = measurement(t, 2.5 * (1 - np.exp(-0.5 * t)), model="b1*(1 - exp(-b2*x))", p0=[1, 1])
    >>> {k: round(v, 3) for k, v in fit("nlls", data).params.items()}
    {'b1': 2.5, 'b2': 0.5}
    """
    if columns is None:
        k = np.shape(x)[1] if np.ndim(x) == 2 else 1
        columns = ["x"] if k == 1 else [f"x{j + 1}" for j in range(k)]
    return generate(get_problem("table").from_arrays(x, y, sigma, x=list(columns), **settings))


def fit(method, dataset, seed=0, **settings):
    """Fit ``dataset`` with ``method`` (a plugin instance, or a name plus settings).

    Errors propagate, as a notebook user expects; the workflow uses
    :func:`safe_fit`, which records them as a failed fit instead.
    """
    return _checked_fit(method, dataset, seed, **settings)[0]


def _checked_fit(method, dataset, seed=0, **settings):
    """``(result, problems)``: :func:`fit`'s result, with the checks every fit gets, and what
    :func:`~fitflow.core.validation.result_problems` finds wrong with it (computed once here:
    the residual checks need a sound result, and :func:`safe_fit` fails an unsound one)."""
    if isinstance(method, str):
        method = make_method(method, **settings)
    elif settings:
        raise TypeError("pass settings with a method name, not with a method instance")
    if not method.serves(dataset.capabilities):
        raise FitflowError(
            f"{method.label()} serves {sorted(method.capabilities)} problems; "
            f"this dataset is {sorted(dataset.capabilities)}"
        )
    reason = method.can_fit(dataset)
    if reason:
        raise FitflowError(f"{method.label()} cannot fit this dataset: {reason}")
    result = method.fit(dataset, as_rng(seed))
    if not isinstance(result, FitResult):
        raise TypeError(f"{method.label()}.fit must return a fitflow.FitResult; got {type(result).__name__}")
    result = checked_optimum(method, dataset, result)
    meta = dataset.meta or {}
    if result.ok and meta.get("assumptions"):  # what the user left to fitflow, in the result
        result.diagnostics.setdefault("assumptions", list(meta["assumptions"]))
    for warning in meta.get("model_warnings") or ():  # what the model's output shows, in every result
        if result.ok:
            result.warnings.append(warning)
        else:
            result.message = f"{result.message}; {warning}"
    result = checked_goodness(method, dataset, result)
    found = result_problems(result, dataset)
    if result.ok:
        notes = (dropped_rows_warning(dataset), extrapolation_warning(dataset))
        checks = (autocorrelation_warning, heteroscedasticity_warning, undetermined_warning)
        if not found:  # the checks read y_fit: only a sound one
            notes += tuple(check(dataset, result) for check in checks)
        result.warnings += [note for note in notes if note]
    return result, found


def checked_goodness(method, dataset, result):
    """``result`` with its χ² p-value against the data's stated errors (``chi2_p_value``) and a
    warning where it lies outside :data:`fitflow.core.goodness.ACCEPTED`; an optimiser's answer
    that those errors reject (χ² too large) is a failed fit: its search has not found the
    least-squares minimum, or the model cannot fit the data, and either way it is not to be
    trusted. See :mod:`fitflow.core.goodness`."""
    try:
        gof = goodness_of_fit(dataset, result)
    except Exception:  # an unusable result is the validator's to name
        return result
    if gof is None:
        return result
    result.diagnostics["chi2_p_value"] = gof["p_value"]
    optimiser = method.capabilities & dataset.capabilities == {"black_box"}
    if optimiser and gof["p_value"] < ACCEPTED[0]:
        spent = f" after {result.n_evaluations} evaluations" if result.n_evaluations else ""
        return FitResult.failed(
            f"the data's errors reject its answer{spent}: χ²/dof = {gof['chi2_dof']:.3g} for {gof['dof']:g} "
            f"degrees of freedom (p = {gof['p_value']:.2g}); the search has not reached the least-squares "
            f"minimum, or the model cannot fit these data (a least-squares method on the same data tells which)"
        )
    warning = goodness_warning(gof, scaled=bool(result.diagnostics.get("covariance_scaled")))
    if warning:
        result.warnings.append(warning)
    return result


def checked_optimum(method, dataset, result):
    """``result``, or a failed one saying why, for an optimiser that served ``dataset`` as a
    black box whose objective can check an answer (a chi-square: see
    :func:`fitflow.inputs.objective.chi_square_gap`). Done here, not in each plugin, so that every
    optimiser, a pip-installed one too, is held to it."""
    if not (result.ok and result.params) or method.capabilities & dataset.capabilities != {"black_box"}:
        return result
    objective = dataset.objective
    if objective is None or objective.convergence_check is None or set(result.params) != set(objective.names):
        return result
    reason = objective.convergence_check(np.array([result.params[name] for name in objective.names], dtype=float))
    if not reason:
        return result
    spent = f" after {result.n_evaluations} evaluations" if result.n_evaluations else ""
    return FitResult.failed(f"{reason}{spent}")


def safe_fit(method, dataset, rng, key=None, seconds=None, compiling_within=None):
    """Fit, turning any exception, invalid result or time-out into a failed result.

    Returns ``(result, timing, log)``: ``timing`` holds the wall and CPU seconds
    spent in the method's ``fit``, and ``compile_s``, the part of the wall time JAX spent
    tracing and compiling (0 without JAX); ``log`` is the text for the fit's log file
    (warnings, or the traceback). ``key`` is the method's config key, named in
    every message; ``seconds`` is the wall-clock limit of the fit (``None``: none). With
    ``compiling_within``, compiling does not count towards ``seconds``, so long as the
    whole fit stays within ``compiling_within`` seconds.
    """
    wall, cpu = time.perf_counter(), time.process_time()
    with compile_clock() as clock:
        not_counting = (lambda: clock.read().seconds) if compiling_within is not None else None
        try:
            with time_limit(seconds, not_counting=not_counting, at_most=compiling_within):
                result, found = _checked_fit(method, dataset, rng)
            result = validated_result(result, dataset, method, key, found)
            log = "".join(f"warning: {w}\n" for w in result.warnings)
            if not result.ok:
                log += f"failed: {result.message}\n"
        except TimedOut as exc:
            result = FitResult.failed(
                f"{plugin_origin(method, key)}: {exc}; raise the limit with fit_timeout_s in the config"
            )
            log = f"failed: {result.message}\n"
        except Exception as exc:  # a plugin bug must not stop the experiment
            result = FitResult.failed(f"{plugin_origin(method, key)} raised {type(exc).__name__} in fit: {exc}")
            log = f"failed: {result.message}\n" + traceback.format_exc()
    timing = {
        "wall_time_s": time.perf_counter() - wall,
        "cpu_time_s": time.process_time() - cpu,
        "compile_s": clock.seconds,
    }
    return result, timing, log
