"""Conformance checks for problem and method plugins, like scikit-learn's ``check_estimator``.

Every check is a plain function ``check_x(cls, ...)`` that raises
``AssertionError`` with a message saying how to fix the plugin. Run them all on
a plugin with :func:`check_plugin`, or in pytest, one test per check::

    from fitflow.testing import parametrize_with_checks
    from my_package import MyMethod

    @parametrize_with_checks([MyMethod])
    def test_conformance(check):
        check()

A method is exercised on a dataset from each registered problem it serves
(using the problem's ``fast_settings``), or on the problem instances you pass.
Known failures are declared as ``{check_name: reason}`` and are skipped with
that reason, never silenced.
"""

import copy
import functools
import json
import math
import tempfile

import numpy as np

from .core.artefacts import read_dataset, read_result, write_dataset, write_result
from .core.errors import SettingsError
from .core.plugin import Method, Problem
from .core.result import FitResult
from .core.settings import Setting
from .core.validation import dataset_problems, result_problems
from .evaluation.evaluate import evaluate

__all__ = [
    "plugin_checks",
    "check_plugin",
    "parametrize_with_checks",
    "check_metadata",
    "check_settings_roundtrip",
    "check_bad_settings_raise",
    "check_generate_deterministic",
    "check_dataset_fields",
    "check_dataset_roundtrip",
    "check_model_jacobian",
    "run_checks",
    "serving_problems",
    "check_fit_result_fields",
    "check_fit_deterministic",
    "check_result_roundtrip",
    "check_figures",
    "GivenModel",
]

_SEED = 12345


class GivenModel(Problem):
    """A problem that serves a given :class:`~fitflow.ParametricModel` and generates
    nothing: ``Dataset(problem=GivenModel(model), x=x, y=y)`` tests a method on a
    model and data of your own."""

    name = "given_model"
    capabilities = frozenset({"parametric"})

    def __init__(self, model):
        self._model = model

    def model(self, dataset):
        return self._model


# -- shared checks -------------------------------------------------------------


def check_metadata(cls):
    """The class declares a name, version, one-line description, settings, capabilities, resources."""
    label = cls.__name__
    assert isinstance(cls.name, str) and cls.name.isidentifier(), (
        f"{label}.name must be a Python identifier (it is used in configs and paths); got {cls.name!r}"
    )
    assert isinstance(cls.version, str) and cls.version.strip(), f"{label}.version must be a non-empty string"
    assert isinstance(cls.description, str) and cls.description.strip() and "\n" not in cls.description, (
        f"{label}.description must be one non-empty line; got {cls.description!r}"
    )
    assert isinstance(cls.settings, dict), f"{label}.settings must be a dict of name -> fitflow.Setting"
    for key, spec in cls.settings.items():
        assert key.isidentifier(), f"{label}.settings key {key!r} must be an identifier"
        assert isinstance(spec, Setting), f"{label}.settings[{key!r}] must be a fitflow.Setting; got {spec!r}"
        if not spec.required:
            spec.coerce(spec.default, plugin=label, key=key)  # the default must itself be valid
    caps = cls.capabilities
    assert isinstance(caps, (set, frozenset)) and caps and all(isinstance(c, str) for c in caps), (
        f"{label}.capabilities must be a non-empty set of kind names such as 'parametric'; got {caps!r}"
    )
    hints = cls.resource_hints()
    for key in ("threads", "mem_mb", "runtime"):
        value = hints[key]
        assert isinstance(value, int) and not isinstance(value, bool) and value >= 1, (
            f"{label}.resources[{key!r}] must be a whole number >= 1; got {value!r}"
        )
    unknown = set(cls.fast_settings) - set(cls.settings)
    assert not unknown, f"{label}.fast_settings names undeclared settings {sorted(unknown)}"
    assert isinstance(cls.requires_modules, (tuple, list)), f"{label}.requires_modules must be a tuple of module names"
    cls.import_requirements()


def check_settings_roundtrip(cls):
    """``cls(**p.get_settings())`` gives back the same settings, and they are JSON-able."""
    plugin = cls(**cls.fast_settings)
    settings = plugin.get_settings()
    assert set(settings) == set(cls.settings), "get_settings() must return every declared setting"
    again = cls(**settings).get_settings()
    assert again == settings, f"settings must round-trip through __init__: {settings} -> {again}"
    json.dumps(settings, allow_nan=False)


def check_bad_settings_raise(cls):
    """An unknown or ill-typed setting raises SettingsError naming the key."""
    try:
        cls(not_a_setting_of_this_plugin=1)
    except SettingsError as exc:
        assert "not_a_setting_of_this_plugin" in str(exc), f"the error must name the unknown key; got: {exc}"
    else:
        raise AssertionError(f"{cls.__name__}(not_a_setting_of_this_plugin=1) must raise fitflow.SettingsError")
    for key in cls.settings:
        bad = object()
        try:
            cls(**{**cls.fast_settings, key: bad})
        except SettingsError as exc:
            assert key in str(exc), f"the error for an ill-typed '{key}' must name it; got: {exc}"
        else:
            raise AssertionError(f"{cls.__name__}({key}=<object>) must raise fitflow.SettingsError")


# -- problem checks ------------------------------------------------------------


def _generate(cls, seed=_SEED):
    return cls(**cls.fast_settings).generate(np.random.default_rng(seed))


def _arrays_equal(a, b):
    return set(a) == set(b) and all(np.array_equal(a[k], b[k], equal_nan=True) for k in a)


def check_generate_deterministic(cls):
    """The same seed gives the same dataset; another seed gives other observations."""
    first, second = _generate(cls), _generate(cls)
    assert _arrays_equal(first.arrays(), second.arrays()), (
        "generate(rng) must draw all randomness from rng: two calls with equal seeds differ"
    )
    assert first.truth_params == second.truth_params
    if not cls.deterministic:
        other = _generate(cls, _SEED + 1)
        assert not np.array_equal(first.y, other.y), (
            "different seeds must give different observations (set deterministic = True if they never do)"
        )


def check_dataset_fields(cls):
    """The dataset has finite, consistently shaped fields that match the declared capabilities
    (a model for 'parametric', a design matrix for 'linear', an objective for 'black_box')."""
    problem = cls(**cls.fast_settings)
    data = problem.generate(np.random.default_rng(_SEED))
    found = dataset_problems(data, problem.capabilities)
    assert not found, f"{cls.__name__}.generate: " + "; ".join(found)
    if "black_box" in problem.capabilities:
        _check_objective(data)


def check_model_jacobian(cls):
    """A model's analytic Jacobian (or design matrix) agrees with central differences of its function."""
    problem = cls(**cls.fast_settings)
    data = problem.generate(np.random.default_rng(_SEED))
    model = data.model if problem.capabilities & {"parametric", "linear"} else None
    if model is None or (model.jacobian is None and model.design is None):
        return
    points = [model.p0] + ([np.array([data.truth_params[n] for n in model.param_names])] if data.truth_params else [])
    for theta in points:
        exact = model.jacobian_at(data.x, theta)
        assert exact.shape == (data.n_points, model.n_params), (
            f"jacobian(x, theta) must have shape ({data.n_points}, {model.n_params}); got {exact.shape}"
        )
        for j, name in enumerate(model.param_names):
            step = 1e-6 * max(1.0, abs(theta[j]))
            up, down = theta.copy(), theta.copy()
            up[j] += step
            down[j] -= step
            central = (model(data.x, up) - model(data.x, down)) / (2 * step)
            scale = max(np.max(np.abs(central)), np.max(np.abs(exact[:, j])), 1e-12)
            error = np.max(np.abs(exact[:, j] - central)) / scale
            assert error < 1e-4, (
                f"the Jacobian column of {name!r} differs from central differences by {error:.2g} (relative) "
                f"at theta={theta.tolist()}: fix jacobian (or design) so it is d function / d {name}"
            )


def _check_objective(data):
    objective = data.objective
    assert objective is not None, "a 'black_box' problem must return an Objective from objective(dataset)"
    lower, upper = objective.bounds
    assert math.isfinite(objective((lower + upper) / 2)), "the objective must be finite inside its box"
    assert objective.n_evaluations == 1, "the objective must count its evaluations"
    assert data.objective.n_evaluations == 0, "objective(dataset) must return a fresh objective each call"
    if objective.optimum_value is not None and objective.optimum_locations is not None:
        for where in objective.optimum_locations:
            assert np.all(where >= lower) and np.all(where <= upper), "optimum locations must lie in the box"
            value = objective(where)
            assert math.isclose(value, objective.optimum_value, rel_tol=1e-6, abs_tol=1e-6), (
                f"objective at the declared optimum {where} is {value}, not {objective.optimum_value}"
            )


class _OneClassRegistry:
    """Stands in for the registry so unregistered plugins can be round-tripped."""

    def __init__(self, cls):
        self.cls = cls

    def get(self, name):
        assert name == self.cls.name
        return self.cls


def check_dataset_roundtrip(cls):
    """Writing and reading a dataset gives back the same arrays, truth and model."""
    data = _generate(cls)
    with tempfile.TemporaryDirectory() as folder:
        write_dataset(data, folder)
        again = read_dataset(folder, registry=_OneClassRegistry(cls))
    assert _arrays_equal(data.arrays(), again.arrays()), "dataset arrays changed on a write/read round trip"
    assert data.truth_params == again.truth_params
    if data.model is not None:
        assert np.array_equal(data.model.p0, again.model.p0), "model(dataset) must depend only on stored data"


# -- method checks -------------------------------------------------------------


def serving_problems(cls, names=None):
    """Instances (fast settings) of the registered problems ``cls`` serves and can fit,
    and ``{problem name: reason}`` for those it serves but cannot fit (its requirements)."""
    from .core.registry import problems

    registry = problems()
    found, cannot = [], {}
    for name in names or registry.names():
        try:
            problem = registry.get(name)(**registry.get(name).fast_settings)
            if not cls.serves(problem.capabilities):
                continue
            reason = cls(**cls.fast_settings).can_fit(problem.generate(np.random.default_rng(_SEED)))
        except Exception:  # a broken problem is reported by its own checks
            if names:
                raise
            continue
        if reason:
            cannot[name] = reason
        else:
            found.append(problem)
    return found, cannot


#: The last fit the method checks made, kept as a pristine copy: the four checks of one
#: (method, problem) pair run one after another, and each gets its own copy of one fit rather
#: than fitting again (the determinism check still makes a second, fresh fit). On the built-in
#: plugins this halves the time of the checks (nuts on the closure problem: 110 s of 256).
_LAST_FIT = {}


def _fit(cls, problem, seed=_SEED, fresh=False):
    """``(dataset, result)`` of ``cls`` at its fast settings on ``problem``'s data; ``fresh``:
    fit again even where the last fit was of the same method, problem and seed."""
    data = problem.generate(np.random.default_rng(seed))
    data.problem = _WithoutConvergenceCheck(data.problem)
    key = (cls, id(problem), seed)
    if not fresh and _LAST_FIT.get("key") == key:
        return data, copy.deepcopy(_LAST_FIT["result"])
    result = cls(**cls.fast_settings).fit(data, np.random.default_rng(seed))
    _LAST_FIT.clear()
    try:
        # the problem is kept so that its id cannot be reused by another while this is cached
        _LAST_FIT.update(key=key, result=copy.deepcopy(result), problem=problem)
    except Exception:  # a result that cannot be copied is fitted afresh by each check
        _LAST_FIT.clear()
    return data, result


class _WithoutConvergenceCheck:
    """A problem whose objectives carry no convergence check. The checks test a plugin's
    contract (names, shapes, determinism, round trips) at its fast settings, whose few
    evaluations never reach a chi-square's minimum: in a real run that is rightly a
    failed fit (:func:`fitflow.inputs.objective.chi_square_gap`), here it would hide the result
    being checked."""

    def __init__(self, problem):
        self._problem = problem

    def __getattr__(self, name):
        return getattr(self._problem, name)

    def objective(self, dataset):
        objective = self._problem.objective(dataset)
        if objective is not None:
            objective.convergence_check = None
        return objective


def check_fit_result_fields(cls, problem):
    """The fit succeeds and its result is consistent with the dataset (names, shapes, finite values)."""
    data, result = _fit(cls, problem)
    assert isinstance(result, FitResult), f"fit must return a fitflow.FitResult; got {type(result).__name__}"
    assert result.ok, f"fit failed on {problem!r}: {result.message}"
    found = result_problems(result, data)
    assert not found, f"{cls.__name__}.fit returned an invalid result: " + "; ".join(found)
    metrics = evaluate(data, result)
    assert metrics["status"] == "ok"


def check_fit_deterministic(cls, problem):
    """The same seed gives the same fit."""
    (_, first), (_, second) = _fit(cls, problem), _fit(cls, problem, fresh=True)
    assert first.params == second.params, "fit(dataset, rng) must draw all randomness from rng"
    assert _arrays_equal(first.array_fields(), second.array_fields()), "fit arrays differ between equal seeds"


def check_result_roundtrip(cls, problem):
    """Writing and reading a result gives back the same estimates and arrays."""
    _, result = _fit(cls, problem)
    with tempfile.TemporaryDirectory() as folder:
        write_result(result, folder)
        again = read_result(folder)
    assert again.status == result.status and again.params == result.params
    assert list(again.params or ()) == list(result.params or ()), (
        "parameter order changed on a round trip; covariance and samples follow that order"
    )
    assert _arrays_equal(result.array_fields(), again.array_fields()), "result arrays changed on a round trip"


def check_figures(cls, problem):
    """``figures(dataset, result)`` returns ``{name: matplotlib Figure}`` without raising."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    from matplotlib.figure import Figure
    import matplotlib.pyplot as plt

    data, result = _fit(cls, problem)
    if not result.ok:
        return  # check_fit_result_fields reports that
    figures = cls(**cls.fast_settings).figures(data, result)
    try:
        assert isinstance(figures, dict), f"figures must return a dict of name -> Figure; got {type(figures).__name__}"
        for name, figure in figures.items():
            assert isinstance(name, str) and name.isidentifier(), f"figure name {name!r} must be an identifier"
            assert isinstance(figure, Figure), f"figures[{name!r}] must be a matplotlib Figure; got {figure!r}"
    finally:
        plt.close("all")


# -- running the checks -------------------------------------------------------

_SHARED = (check_metadata, check_settings_roundtrip, check_bad_settings_raise)
_PROBLEM = (check_generate_deterministic, check_dataset_fields, check_dataset_roundtrip, check_model_jacobian)
_METHOD = (check_fit_result_fields, check_fit_deterministic, check_result_roundtrip, check_figures)


def _named(check, *args, suffix=""):
    bound = functools.partial(check, *args)
    bound.__name__ = check.__name__ + suffix
    bound.__doc__ = check.__doc__
    return bound


def plugin_checks(cls, problems=None):
    """Every applicable check for ``cls``, each a no-argument callable with a ``__name__``.

    For a method, ``problems`` are the problem instances to fit (default: every
    registered problem the method serves, with its ``fast_settings``).
    """
    checks = [_named(check, cls) for check in _SHARED]
    if issubclass(cls, Problem):
        checks += [_named(check, cls) for check in _PROBLEM]
    elif issubclass(cls, Method):
        targets = serving_problems(cls)[0] if problems is None else list(problems)
        if not targets:
            raise AssertionError(
                f"no problem to test {cls.__name__} on: no registered problem has any of its "
                f"capabilities {sorted(cls.capabilities)}; pass problems=[...]"
            )
        for problem in targets:
            checks += [_named(check, cls, problem, suffix=f"[{problem.name}]") for check in _METHOD]
    else:
        raise TypeError(f"{cls!r} is neither a fitflow.Problem nor a fitflow.Method subclass")
    return checks


def run_checks(cls, problems=None, expected_failures=None, seconds=None):
    """Run every check on ``cls``, each on its own; return ``[(name, outcome, detail)]``.

    ``outcome`` is ``PASS``, ``FAIL`` (an assertion, any exception, or a check
    running past ``seconds``: the detail names it), ``XFAIL`` (an expected
    failure, with its reason) or ``XPASS``. Expected failures come from
    ``expected_failures`` and the plugin's own ``expected_failures`` attribute,
    keyed by check name (``check_x`` or ``check_x[problem]``). ``seconds``
    defaults to the plugin's runtime hint.
    """
    from .core.timelimit import TimedOut, time_limit

    seconds = 60 * cls.resource_hints()["runtime"] if seconds is None else seconds
    expected = {**dict(getattr(cls, "expected_failures", {}) or {}), **dict(expected_failures or {})}
    outcomes = []
    try:
        checks = plugin_checks(cls, problems)
    except Exception as exc:
        return [("plugin_checks", "FAIL", f"{type(exc).__name__}: {exc}")]
    for check in checks:
        name = check.__name__
        reason = expected.get(name) or expected.get(name.split("[")[0])
        try:
            with time_limit(seconds):
                check()
        except (Exception, TimedOut) as exc:
            detail = str(exc) if isinstance(exc, (AssertionError, TimedOut)) else f"{type(exc).__name__}: {exc}"
            outcomes.append((name, "XFAIL" if reason else "FAIL", reason or detail))
        else:
            outcomes.append((name, "XPASS" if reason else "PASS", reason or ""))
    return outcomes


def check_plugin(cls, problems=None, expected_failures=None):
    """Run every check on ``cls``; raise AssertionError listing every unexpected failure."""
    failures = [(n, d) for n, outcome, d in run_checks(cls, problems, expected_failures) if outcome == "FAIL"]
    if failures:
        raise AssertionError("; ".join(f"{n}: {d}" for n, d in failures))


def parametrize_with_checks(classes, problems=None, expected_failures=None):
    """A pytest decorator giving one test per (plugin, check)."""
    import pytest

    expected_failures = expected_failures or {}
    params = []
    for cls in classes:
        own = dict(getattr(cls, "expected_failures", {}) or {})
        for check in plugin_checks(cls, problems):
            marks = []
            reason = (
                expected_failures.get((cls.name, check.__name__))
                or expected_failures.get(check.__name__)
                or own.get(check.__name__)
                or own.get(check.__name__.split("[")[0])
            )
            if reason:
                marks.append(pytest.mark.xfail(reason=reason, strict=True))
            params.append(pytest.param(check, id=f"{cls.name}-{check.__name__}", marks=marks))
    return pytest.mark.parametrize("check", params)
