"""A user's own parametric model, declared in the config.

The model is either an expression (``b1*(1 - exp(-b2*x))``, parsed safely by
:mod:`fitflow.expression` and differentiated exactly) or a Python callable named
``package.module:function`` and called as ``function(x, *params)``, the
convention of ``scipy.optimize.curve_fit``. The same settings serve the
``table`` problem (fit measurements) and the ``simulate`` problem (rehearse on
data drawn from the model), so they are declared once, here.
"""

from dataclasses import replace
import functools
import keyword
import re

import numpy as np

from ..core.autodiff import INSTALL_JAX, jax_available
from ..core.errors import ConfigError, ModelError, SettingsError
from ..core.model import ParametricModel
from ..core.settings import Setting
from .expression import (
    CONSTANTS,
    ExpressionError,
    check_ascii_name,
    compile_expression,
    expression_model,
    expression_names,
)

__all__ = [
    "MODEL_SETTINGS",
    "check_model_settings",
    "build_model",
    "check_model_output",
    "is_callable_spec",
    "model_assumptions",
    "model_capabilities",
]

MODEL_SETTINGS = {
    "model": Setting(
        None,
        str,
        "expression in the x columns and parameters, e.g. 'b1*(1 - exp(-b2*x))', "
        "or 'package.module:function' called as function(x, *params)",
    ),
    "params": Setting([], list, "parameter names, in order", item_type=str),
    "p0": Setting([], list, "starting values, one per parameter in order, or by name ({b1: 2, b2: 0.5})", by_name=True),
    "lower": Setting(
        None,
        list,
        "lower bounds, one per parameter, or by name (null or a name left out: none)",
        finite=False,
        by_name=True,
    ),
    "upper": Setting(
        None,
        list,
        "upper bounds, one per parameter, or by name (null or a name left out: none)",
        finite=False,
        by_name=True,
    ),
    "constants": Setting({}, dict, "fixed numbers named in the expression, e.g. {w0: 2.5}"),
    "likelihood": Setting(
        "gaussian",
        str,
        "how the data scatter about the model: gaussian (the stated errors, or one unknown error), or poisson "
        "(counts, whose variance is their mean: nlls maximises the Poisson likelihood, emcee, nuts and "
        "gradient_descent use it)",
        choices=("gaussian", "poisson"),
    ),
    "backend": Setting(
        "auto",
        str,
        "how the model is differentiated: jax (automatic differentiation of a function written with "
        "jax.numpy, or of the expression), numpy (an expression's sympy derivatives; a function's finite "
        "differences), or auto (jax for a function whose module uses jax, and for every expression where "
        "JAX is installed)",
        choices=("auto", "jax", "numpy"),
    ),
}

_CALLABLE = re.compile(r"^(?:[A-Za-z_][\w.]*|[^:\s]+\.py):[A-Za-z_]\w*$")


def is_callable_spec(text):
    """True when ``text`` names a callable (``package.module:function`` or
    ``path/to/file.py:function``) rather than an expression."""
    return bool(_CALLABLE.match(text.strip()))


def model_files(values):
    """The model's own file, when it is ``path/to/file.py:function``: an input of the jobs
    that fit it, so editing it reruns them."""
    spec = values.get("model")
    if spec and is_callable_spec(spec) and spec.strip().split(":")[0].endswith(".py"):
        return [spec.strip().split(":")[0]]
    return []


def check_model_settings(plugin, values, variables):
    """Check the model settings of ``plugin`` without data; raise SettingsError naming the key.

    Returns the settings completed: ``params``, when not given, read from the model (see
    :func:`_parameter_names`); ``p0``, when not given for an expression linear (or
    affine) in its parameters, all ones within the bounds (any start reaches the
    least-squares solution; ones are ``curve_fit``'s). A nonlinear model's start is the
    user's to give."""
    values = dict(values)

    def fail(key, message):
        raise SettingsError(f"{plugin.label()}: {message}", plugin=plugin.name, key=key, value=values[key])

    if values["model"] is None:
        for key in ("params", "p0", "lower", "upper"):
            if values[key]:
                fail(key, f"'{key}' is given but there is no 'model'")
        return values
    if not values["params"]:
        values["params"] = _parameter_names(values, variables, fail)
    params = values["params"]
    for name in params:
        problem = check_ascii_name(name)
        if problem or keyword.iskeyword(name):
            fail("params", f"parameter {problem or f'name {name!r} is a Python keyword'}")
    if len(set(params)) != len(params):
        fail("params", "parameter names must be unique")
    for key in ("p0", "lower", "upper"):
        if isinstance(values[key], dict):
            values[key] = in_parameter_order(values[key], params, key, fail, complete=key == "p0")
    start_later = not values["p0"] and not is_callable_spec(values["model"])  # once linearity is known
    for key in ("p0", "lower", "upper"):
        if key == "p0" and start_later:
            continue
        if values[key] is not None and (key == "p0" or values[key]) and len(values[key]) != len(params):
            fail(
                key,
                f"'{key}' needs one value per parameter ({len(params)}: {', '.join(params)}, in this order); "
                f"got {len(values[key])}",
            )
    lower, upper = _bounds(values)
    if np.any(lower >= upper):
        fail("upper", "every lower bound must be below its upper bound")
    p0 = np.asarray(values["p0"], dtype=float)
    if not start_later and (np.any(p0 < lower) or np.any(p0 > upper)):
        fail("p0", "starting values must lie within the bounds")
    if values.get("backend") == "jax" and not jax_available():
        fail("backend", f"backend: jax needs JAX, which is not installed: {INSTALL_JAX}")
    if is_callable_spec(values["model"]):
        if values["constants"]:
            fail("constants", "constants are for expressions; a callable model holds its own")
        try:
            _load_callable(values["model"])
        except ModelError as exc:
            fail("model", str(exc))
        return values
    if set(params) & set(variables):
        fail("params", f"parameters and data columns share names: {sorted(set(params) & set(variables))}")
    for name in variables:
        problem = check_ascii_name(name)
        if problem or keyword.iskeyword(name):
            fail(
                "model",
                f"column {name!r} cannot be named in an expression: {problem or 'it is a Python keyword'}; rename it",
            )
    for name in values["constants"]:
        if name in params or name in variables:
            fail("constants", f"constant {name!r} is also a parameter or a data column")
    try:
        compiled = compile_expression(values["model"], tuple(params), tuple(variables), _constants_key(values))
    except ExpressionError as exc:
        fail("model", str(exc))
    if start_later:
        if not compiled.curvature_free:
            fail(
                "p0",
                f"the model is {compiled.linearity.split(':')[0]}, so the fit needs starting values: "
                f"give 'p0' with one value for each of {', '.join(params)}, in this order",
            )
        values["p0"] = np.clip(1.0, lower, upper).tolist()
    return values


def model_assumptions(given, completed, variables):
    """What the model settings leave for fitflow to assume, one sentence each, so that the
    user reads it before trusting the fit: parameters read from the model (their order is
    that of first appearance), values of ``p0``, ``lower`` and ``upper`` given by position
    (``name = value``), a start chosen for a linear model, ``pi`` read as π.

    ``given``: the settings as written; ``completed``: as :func:`check_model_settings` returns
    them."""
    if completed.get("model") is None:
        return []
    params = list(completed["params"])
    said = []
    if not given.get("params"):
        said.append(f"parameters read from the model, in order of first appearance: {', '.join(params)}")
    for key in ("p0", "lower", "upper"):
        value = given.get(key)
        if isinstance(value, (list, tuple)) and len(value) == len(params) and len(params) > 1:
            pairs = ", ".join(f"{name} = {_shown(v)}" for name, v in zip(params, value))
            said.append(f"{key} given by position: {pairs}")
    if not given.get("p0") and completed.get("p0"):
        said.append(
            f"p0 not given: the model is linear in its parameters, so the fit starts from {_shown(completed['p0'])}"
        )
    spec = completed["model"]
    if not is_callable_spec(spec):
        taken = set(params) | set(variables) | set(completed.get("constants") or {})
        if "pi" not in taken and "pi" in expression_names(spec, keep_constants=True):
            said.append("pi is read as the number π = 3.14159...")
    return said


def _shown(value):
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_shown(v) for v in value) + "]"
    return "none" if value is None else f"{value:g}" if isinstance(value, (int, float)) else str(value)


def in_parameter_order(by_name, params, key, fail, complete=True):
    """The values of ``by_name`` (``{parameter: value}``) as a list in the order of ``params``;
    a name that is not a parameter fails, and so does a missing one when ``complete`` (else
    it is ``None``: for bounds, no bound)."""
    unknown = [name for name in by_name if name not in params]
    if unknown:
        fail(
            key,
            f"{', '.join(map(repr, unknown))} is not a parameter of the model (its parameters: {', '.join(params)})",
        )
    missing = [name for name in params if name not in by_name]
    if missing and complete:
        fail(key, f"'{key}' gives no value for {', '.join(missing)} (one per parameter: {', '.join(params)})")
    return [by_name.get(name) for name in params]


def _parameter_names(values, variables, fail):
    """The parameters of a model given without ``params``: an expression's names that are
    neither data columns nor constants, in the order they first appear; a callable's
    arguments after the first (``f(x, a, b)``), as ``scipy.optimize.curve_fit`` reads them."""
    spec = values["model"]
    if is_callable_spec(spec):
        import inspect

        try:
            signature = inspect.signature(_load_callable(spec))
        except ModelError as exc:
            fail("model", str(exc))
        except (TypeError, ValueError):
            fail("params", "give the parameter names in 'params': the callable's signature cannot be read")
        arguments = list(signature.parameters.values())[1:]
        if any(a.kind in (a.VAR_POSITIONAL, a.VAR_KEYWORD, a.KEYWORD_ONLY) for a in arguments) or not arguments:
            fail(
                "params",
                f"give the parameter names in 'params': {spec}{signature} does not list them as arguments after x",
            )
        return [a.name for a in arguments]
    try:
        read = expression_names(spec, keep_constants=True)
    except ExpressionError as exc:
        fail("model", str(exc))
    names = [name for name in read if name not in CONSTANTS]
    if "e" in read:
        # e is a common parameter name (an amplitude, a charge): read as Euler's number it would
        # silently change the model. Nobody names a parameter pi, and everyone writes 2*pi: pi is π.
        fail(
            "params",
            "the model's parameters must be listed in 'params' when it names 'e' (Euler's number, "
            "2.71828...): inferred, e would silently become that constant, not a parameter. "
            "List them (e.g. params: [a, b, ...]); a parameter cannot be called e, so rename it if it is one",
        )
    known = set(variables) | set(values.get("constants") or {})
    params = [name for name in names if name not in known]
    if not params:
        fail("model", f"the model names no parameter (only {', '.join(names) or 'numbers'}); nothing could be fitted")
    return params


def _constants_key(values):
    return tuple(sorted((values.get("constants") or {}).items()))


def model_capabilities(values, variables, base):
    """``(capabilities, note)`` of a problem with these model settings: ``base`` plus
    ``parametric`` when there is a model, plus ``linear`` when it is linear in its
    parameters, plus ``black_box`` when every parameter has finite bounds (optimisers
    then minimise the model's chi-square over that box, see
    :func:`fitflow.inputs.objective.chi_square_objective`); ``note`` says why or why not."""
    model = build_model(values, variables)
    if model is None:
        return frozenset(base), "no model: only non-parametric methods apply"
    capabilities = set(base) | {"parametric"} | ({"linear"} if model.is_linear else set())
    notes = [f"the model is {model.linearity}"] if model.linearity else []
    if values.get("likelihood", "gaussian") != "gaussian":
        notes.append("black-box optimisers minimise a chi-square, not a Poisson likelihood: they do not serve counts")
    elif all(np.isfinite(bound).all() for bound in model.bounds):
        capabilities.add("black_box")
    else:
        notes.append("black-box optimisers need a finite lower and upper bound on every parameter")
    return frozenset(capabilities), "; ".join(notes)


def _bounds(values):
    n = len(values["params"])
    lower = [-np.inf if v is None else v for v in values["lower"] or [None] * n]
    upper = [np.inf if v is None else v for v in values["upper"] or [None] * n]
    return np.asarray(lower, dtype=float), np.asarray(upper, dtype=float)


def _load_callable(spec):
    """The function ``spec`` names, in either form (see :func:`fitflow.inputs.external.load_callable`)."""
    from .external import load_callable

    try:
        return load_callable(spec.strip(), key="model")
    except ConfigError as exc:
        raise ModelError(exc.reason, model=spec) from None


def build_model(values, variables, p0=None):
    """The :class:`~fitflow.core.model.ParametricModel` the settings describe (``None`` without a model).

    ``p0`` overrides the configured starting values (the simulate problem starts
    where the user's own fit would).
    """
    spec = values["model"]
    if spec is None:
        return None
    params = tuple(values["params"])
    start = values["p0"] if p0 is None else p0
    bounds = _bounds(values)
    backend = values.get("backend", "auto")
    if not is_callable_spec(spec):
        model = expression_model(
            spec, params, start, bounds=bounds, variables=tuple(variables), constants=values.get("constants")
        )
        return replace(model, jax_function=None) if backend == "numpy" else model
    function = _load_callable(spec)
    if backend == "jax" or (backend == "auto" and _uses_jax(function) and jax_available()):
        return _jax_callable_model(function, spec, params, start, bounds)

    def call(x, theta):
        try:
            output = function(x, *theta)
        except Exception as exc:
            raise ModelError(f"raised {type(exc).__name__}: {exc}", model=spec) from exc
        output = np.asarray(output, dtype=float)
        if output.shape != (len(x),):
            raise ModelError(
                f"returned shape {output.shape} for {len(x)} points; it must return shape ({len(x)},)", model=spec
            )
        return output

    return ParametricModel(
        function=call,
        param_names=params,
        p0=start,
        bounds=bounds,
        linearity="not checked for linearity (a function, which only an expression can be; write it as an expression for ols to fit it)",
    )


def _uses_jax(function):
    """True when the function's module imported JAX (``import jax.numpy as jnp``, say), or
    the function is itself a JAX object (``jax.jit``, ``jax.custom_vjp``, ...)."""
    if type(function).__module__.split(".")[0] in ("jax", "jaxlib"):
        return True
    return any(
        getattr(value, "__name__", "").split(".")[0] == "jax" for value in getattr(function, "__globals__", {}).values()
    )


def _jax_callable_model(function, spec, params, start, bounds):
    """A model of a function written with jax.numpy, ``function(x, *params)``: its values and
    Jacobian compiled by JAX, in double precision (:mod:`fitflow.core.autodiff`)."""
    from ..core.autodiff import shared_derivatives

    traceable = _traceable(function, len(params))
    exact = shared_derivatives(traceable)

    def checked(what, compute, x, theta):
        try:
            return compute(x, theta)
        except Exception as exc:
            raise ModelError(_jax_failure(exc, function, what), model=spec) from exc

    def call(x, theta):
        output = checked("its values", exact.value, x, theta)
        if output.shape != (len(x),):
            raise ModelError(
                f"returned shape {output.shape} for {len(x)} points; it must return shape ({len(x)},)", model=spec
            )
        return output

    def jacobian(x, theta):
        return checked("its Jacobian", exact.jacobian, x, theta)

    jacobian.automatic = True  # by JAX: nlls compares its Gauss-Newton curvature with the exact Hessian

    model = ParametricModel(
        function=call,
        param_names=params,
        p0=start,
        bounds=bounds,
        jacobian=jacobian,
        jax_function=traceable,
        linearity="not checked for linearity (a function, which only an expression can be; write it as an expression for ols to fit it)",
    )
    object.__setattr__(model, "_exact", exact)  # one compiled set per model
    return model


@functools.cache
def _traceable(function, n_params):
    """``function(x, *params)`` as ``f(x, theta)``: one object per function, so that every model
    of it (each replicate, each fold) reaches the same compiled programs."""

    def traceable(x, theta):
        return function(x, *(theta[i] for i in range(n_params)))

    return traceable


def _jax_failure(exc, function, what):
    """What went wrong when JAX ran the user's function, with its file and line, and the fallback."""
    import traceback

    from ..core.autodiff import trace_error_types

    code = getattr(function, "__code__", None)
    where = ""
    if code is not None:
        frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == code.co_filename]
        if frames:
            frame = frames[-1]
            where = (
                f" at {frame.filename}, line {frame.lineno} (in {function.__name__}: `{(frame.line or '').strip()}`)"
            )
    first = str(exc).strip().splitlines()[0].rstrip(".") if str(exc).strip() else ""
    if isinstance(exc, trace_error_types()):
        return (
            f"JAX cannot trace the function for {what}{where}: {type(exc).__name__}: {first}. Write it with "
            f"jax.numpy throughout (jnp.where or jax.lax.cond for a Python if on a parameter, x.at[i].set(v) "
            f"for x[i] = v, jnp.* for np.*), or set backend: numpy to fit it with finite differences"
        )
    return f"raised {type(exc).__name__}{where} computing {what}: {_runtime_cause(str(exc)) or first}"


def _runtime_cause(message):
    """The innermost ``SomeError: reason`` line of an error raised inside a compiled program
    (a solver's "maximum number of steps was reached", say), whose own first line is only
    "CpuCallback error calling callback"; None when the message carries no such line."""
    import re

    causes = re.findall(r"^[\w.]*(?:Error|Exception): (.+)$", message, flags=re.MULTILINE)
    return causes[-1].strip() if causes and "Traceback" in message else None


#: The relative step of a parameter that a step-function model's output does not follow.
STEP_PROBE = 1e-4


def stepwise_warning(model, x, values):
    """A warning when ``model``'s output at its start (``values`` on ``x``) is integer-valued
    and moves for no parameter stepped by :data:`STEP_PROBE` of its size: a step function of
    its parameters (a model that rounds or counts), with zero derivative almost everywhere, on
    which every gradient method stands still; else None."""
    if not np.all(values == np.round(values)):
        return None
    for j in range(len(model.param_names)):
        theta = np.array(model.p0, dtype=float)
        theta[j] += STEP_PROBE * max(abs(theta[j]), 1.0)
        with np.errstate(all="ignore"):
            moved = np.asarray(model(x, theta), dtype=float)
        if not np.array_equal(moved, values):
            return None
    return (
        "the model returns whole numbers and does not change when any parameter moves by "
        f"{STEP_PROBE:.0e} of its size: it is a step function of its parameters, with zero derivative, so "
        "gradient methods (nlls, gradient_descent, nuts) cannot move from the start; round or count after "
        "the fit, not inside the model"
    )


def check_model_output(model, x, spec):
    """Evaluate ``model`` at its start on ``x``; raise ModelError unless it gives finite values.
    Returns the warnings the start already shows (:func:`stepwise_warning`), as a list."""
    try:
        with np.errstate(all="ignore"):
            values = np.asarray(model(x, model.p0), dtype=float)
    except ModelError:
        raise
    except Exception as exc:
        raise ModelError(f"raised {type(exc).__name__}: {exc} at the starting values", model=spec) from exc
    if values.shape != (len(x),):
        raise ModelError(f"gives shape {values.shape} for {len(x)} points", model=spec)
    bad = np.flatnonzero(~np.isfinite(values))
    if bad.size:
        raise ModelError(
            f"is not finite at the starting values {model.p0.tolist()} "
            f"for data row {bad[0] + 1} (x = {np.asarray(x)[bad[0]].tolist()})",
            model=spec,
        )
    if model.jacobian is not None:  # the compiled derivatives run too, before any job does
        try:
            with np.errstate(all="ignore"):
                jacobian = np.asarray(model.jacobian(x, model.p0), dtype=float)
        except Exception as exc:
            raise ModelError(
                f"its derivatives raised {type(exc).__name__}: {exc} at the starting values", model=spec
            ) from exc
        rows, columns = np.nonzero(~np.isfinite(jacobian))
        if rows.size:
            fallback = (
                " (its automatic derivative: where a function such as sqrt or log is not differentiable at "
                "that value, move the start, or set backend: numpy to use finite differences)"
                if model.jax_function is not None
                else ""
            )
            raise ModelError(
                f"its derivative in {model.param_names[columns[0]]} is not finite at the starting "
                f"values {model.p0.tolist()} for data row {rows[0] + 1}{fallback}",
                model=spec,
            )
    return [note for note in (stepwise_warning(model, x, values),) if note]
