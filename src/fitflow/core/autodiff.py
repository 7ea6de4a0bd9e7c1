"""Exact derivatives by automatic differentiation, for models JAX can trace.

JAX is optional: it comes with the ``jax`` extra (``pip install 'fitflow[jax]'``).
Without it, nothing here is imported and models keep their sympy or
finite-difference derivatives. With it, a model function written with
``jax.numpy`` (``f(x, theta)``, vectorised over ``x``) gets:

- its Jacobian ``d f / d theta`` by forward mode when there are fewer parameters
  than points (p JVPs), by reverse mode otherwise (n VJPs), compiled once per
  data shape (inside cross-validation, every fold at the dataset's shape:
  :func:`fitflow.core.compiled.pad_rows`);
- the exact Hessian of the Gaussian negative log-likelihood, beside which the
  Gauss-Newton ``J^T W J`` of a least-squares fit is an approximation (it drops
  the residual-weighted second derivatives of the model: exact at zero residual,
  off where residuals are large or the model strongly curved).

Everything runs in float64 (``jax_enable_x64``, set on first use): the fits and
their uncertainties are compared with double-precision references.
"""

from functools import cache
import importlib.util
import os

import numpy as np

from .compiled import compiled_once, pad_rows

__all__ = [
    "INSTALL_JAX",
    "jax_available",
    "jax_modules",
    "compilation_cache_folder",
    "ExactDerivatives",
    "shared_derivatives",
    "trace_error_types",
    "HessianUnavailable",
]


class HessianUnavailable(RuntimeError):
    """JAX can trace no combination of modes for the model's exact Hessian (a diffrax solve
    with its default adjoint: reverse-only, and not twice). Methods catch it and say so."""


#: The line that installs the optional engines.
INSTALL_JAX = "pip install 'fitflow[jax]'"


def jax_available():
    """True when JAX can be imported (without importing it: that costs a second)."""
    return importlib.util.find_spec("jax") is not None


@cache
def jax_modules():
    """``(jax, jax.numpy)``, with double precision and the compilation cache switched on."""
    import jax.numpy as jnp

    import jax

    jax.config.update("jax_enable_x64", True)
    from .compiled import listen_to_jax

    listen_to_jax(jax.monitoring)
    folder = compilation_cache_folder()
    if folder:
        jax.config.update("jax_compilation_cache_dir", folder)
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.2)
    return jax, jnp


def compilation_cache_folder():
    """Where JAX keeps compiled code between processes: ``$FITFLOW_JAX_CACHE`` (empty: no
    cache), else ``$XDG_CACHE_HOME/fitflow/jax`` (``~/.cache/fitflow/jax``); None where it
    cannot be created.

    Compiling a sampler costs seconds and every fit job is a new process: on the
    8-parameter example (config/own-jax-model.yaml) NUTS took 7.1 s with a cold cache
    and 1.9 s with a warm one. The cache holds XLA executables keyed by the
    compiled program (data are arguments, never constants in it), so results are
    the same with or without it."""
    folder = os.environ.get("FITFLOW_JAX_CACHE")
    if folder is None:
        base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        folder = os.path.join(base, "fitflow", "jax")
    if not folder:
        return None
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError:
        return None
    return folder if os.access(folder, os.W_OK) else None


def trace_error_types():
    """The exceptions by which JAX says a function cannot be traced (a Python ``if`` on a
    traced value, a NumPy call on a tracer, an in-place assignment, ...)."""
    jax, _ = jax_modules()
    errors = jax.errors
    return (
        errors.ConcretizationTypeError,
        errors.TracerArrayConversionError,
        errors.TracerBoolConversionError,
        errors.TracerIntegerConversionError,
        errors.NonConcreteBooleanIndexError,
        errors.UnexpectedTracerError,
        TypeError,  # "JAX arrays are immutable": x[i] = v on a traced array
    )


class ExactDerivatives:
    """Compiled derivatives of a JAX model function ``function(x, theta) -> (n,)``.

    Each member is compiled on first use for the shapes it is called with, then
    reused for the job's every call; the compiled code is not pickled (a process
    that receives the model compiles again).
    """

    def __init__(self, function):
        self.function = function
        self._compiled = {}

    def __getstate__(self):
        return {"function": self.function, "_compiled": {}}

    def _get(self, key, build):
        if key not in self._compiled:
            self._compiled[key] = build()
        return self._compiled[key]

    def _first_that_traces(self, key, builds, *args):
        """Call the compiled derivative cached under ``key``; on first use, the first of
        ``builds`` (each returns a jitted function) that JAX can trace for this model.

        A model may be differentiable in one mode only: diffrax's default adjoint is a
        ``custom_vjp`` that forward mode cannot enter, its ``ForwardMode`` a ``while_loop``
        that reverse mode cannot. The first failure is raised when no mode traces."""
        if key in self._compiled:
            if isinstance(self._compiled[key], Exception):
                raise self._compiled[key]
            return self._compiled[key](*args)
        failures = []
        for build in builds:
            compiled = build()
            try:
                result = compiled(*args)
            except (TypeError, ValueError, NotImplementedError) as exc:
                failures.append(exc)
                continue
            self._compiled[key] = compiled
            return result
        self._compiled[key] = failures[0]  # not traced again on every call
        raise failures[0]

    def value(self, x, theta):
        jax, _ = jax_modules()
        compiled = self._get("value", lambda: jax.jit(self.function))
        (padded, _), n = pad_rows(x), len(x)
        return np.asarray(compiled(padded, np.asarray(theta, dtype=float)), dtype=float)[:n]

    def jacobian(self, x, theta):
        """``(n, p)`` array of ``d f_i / d theta_j`` at ``theta``."""
        jax, _ = jax_modules()
        theta = np.asarray(theta, dtype=float)
        (padded, _), n = pad_rows(x), len(x)
        forward = theta.size <= padded.shape[0]
        modes = (jax.jacfwd, jax.jacrev) if forward else (jax.jacrev, jax.jacfwd)
        builds = [lambda mode=mode: jax.jit(mode(self.function, argnums=1)) for mode in modes]
        return np.asarray(self._first_that_traces(("jacobian", forward), builds, padded, theta), dtype=float)[:n]

    def batched_value(self, x, thetas):
        """``(m, n)``: the model at ``m`` parameter vectors in one compiled call (``vmap``)."""
        jax, _ = jax_modules()
        compiled = self._get("batched", lambda: jax.jit(jax.vmap(self.function, in_axes=(None, 0))))
        (padded, _), n = pad_rows(x), len(x)
        return np.asarray(compiled(padded, np.asarray(thetas, dtype=float)), dtype=float)[:, :n]

    def chi_square_hessian(self, x, y, whiten, theta):
        """The exact Hessian of ``0.5 * sum(((y - f(x, theta)) * whiten)**2)`` at ``theta``:
        ``J^T W J`` minus the residual-weighted second derivatives of the model."""
        jax, jnp = jax_modules()
        function = self.function

        def half_chi_square(t, x, y, whiten):
            r = (y - function(x, t)) * whiten
            return 0.5 * jnp.sum(r * r)

        builds = [
            lambda outer=outer, inner=inner: jax.jit(outer(inner(half_chi_square)))
            for outer, inner in ((jax.jacfwd, jax.jacrev), (jax.jacfwd, jax.jacfwd), (jax.jacrev, jax.jacrev))
        ]
        theta = np.asarray(theta, dtype=float)
        x, y, whiten, weight = pad_rows(x, y, whiten)
        try:
            return np.asarray(self._first_that_traces("hessian", builds, theta, x, y, whiten * weight), dtype=float)
        except (TypeError, ValueError, NotImplementedError) as exc:
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise HessianUnavailable(
                f"JAX cannot take the exact Hessian through the model in any mode (forward over reverse, "
                f"forward, reverse): {reason}"
            ) from exc


def shared_derivatives(function):
    """The one :class:`ExactDerivatives` of ``function`` in this process, so that every model
    built on the same function (each replicate, each cross-validation fold) calls programs
    compiled once."""
    return compiled_once(("exact derivatives", function), lambda: ExactDerivatives(function))
