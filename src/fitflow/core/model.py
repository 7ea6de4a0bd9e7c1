"""Parametric models: what a parametric problem hands to the methods that fit it.

A :class:`ParametricModel` is a plain description of ``y = f(x, theta)``: the
function, parameter names, a starting guess, bounds and, where known, the exact
Jacobian or (for linear models) the design matrix. Methods only ever call these
members, so any problem — built-in, third-party or a user's own model — is
fitted the same way.
"""

from dataclasses import dataclass

import numpy as np

__all__ = ["ParametricModel"]


@dataclass(frozen=True)
class ParametricModel:
    """``y = function(x, theta)`` with named parameters.

    Parameters
    ----------
    function
        ``function(x, theta) -> y`` with ``theta`` a 1-D array ordered as
        ``param_names``; vectorised over ``x``.
    param_names
        Names of the parameters, in order.
    p0
        Starting guess, derived from the data (never from the truth).
    bounds
        ``(lower, upper)`` arrays; ``-inf``/``inf`` where unbounded. Used as prior
        support by samplers and as the search box by optimisers.
    jacobian
        Optional ``jacobian(x, theta) -> (n, p)`` array of ``d f / d theta``.
    design
        Optional ``design(x) -> (n, p)`` matrix for a model linear in ``theta``
        (then ``function(x, theta) == design(x) @ theta``).
    signal, signal_design
        For problems whose truth is not the observed function itself (in
        deconvolution the truth is the unblurred signal, the observations its
        blurred image): ``signal(grid_x, theta)`` gives what ``dataset.grid_y``
        holds and ``signal_design(grid_x)`` its Jacobian in ``theta``.
    exact_design
        Optional ``exact_design(x)`` giving the design matrix as rows of mpmath
        numbers, for ill-conditioned linear fits in extended precision (fitflow's
        expression models provide it; see :mod:`fitflow.lstsq`).
    linearity
        One sentence saying why the model is or is not linear in its parameters.
    jax_function
        Optional ``jax_function(x, theta) -> y`` written with ``jax.numpy``, the same
        function as ``function`` in a form JAX can trace: methods that need gradients
        (NUTS, the exact Hessian) use it through :meth:`exact`. Expression models
        provide it; a user's function declares it (``backend: jax``).
    """

    function: object
    param_names: tuple
    p0: np.ndarray
    bounds: tuple = None
    jacobian: object = None
    design: object = None
    signal: object = None
    signal_design: object = None
    exact_design: object = None
    linearity: str = ""
    jax_function: object = None

    def __post_init__(self):
        n = len(self.param_names)
        object.__setattr__(self, "param_names", tuple(self.param_names))
        object.__setattr__(self, "p0", np.asarray(self.p0, dtype=float).reshape(n))
        if self.bounds is None:
            lower, upper = np.full(n, -np.inf), np.full(n, np.inf)
        else:
            lower = np.asarray(self.bounds[0], dtype=float).reshape(n)
            upper = np.asarray(self.bounds[1], dtype=float).reshape(n)
        object.__setattr__(self, "bounds", (lower, upper))

    @property
    def n_params(self):
        return len(self.param_names)

    @property
    def is_linear(self):
        return self.design is not None

    @property
    def is_bounded(self):
        lower, upper = self.bounds
        return bool(np.isfinite(lower).any() or np.isfinite(upper).any())

    @property
    def differentiable(self):
        """True when JAX is installed and the model has a function it can trace."""
        from .autodiff import jax_available

        return self.jax_function is not None and jax_available()

    def exact(self):
        """The model's :class:`~fitflow.core.autodiff.ExactDerivatives`, one per JAX function
        in the process (every model on the same function shares its compiled programs); only
        for a :attr:`differentiable` model."""
        if not self.differentiable:
            raise TypeError("the model has no function JAX can differentiate (an expression, or backend: jax)")
        cached = self.__dict__.get("_exact")
        if cached is None:
            from .autodiff import shared_derivatives

            cached = shared_derivatives(self.jax_function)
            object.__setattr__(self, "_exact", cached)
        return cached

    def __call__(self, x, theta):
        return np.asarray(self.function(x, np.asarray(theta, dtype=float)), dtype=float)

    def jacobian_at(self, x, theta):
        """Exact Jacobian where the model gives one; else central differences."""
        theta = np.asarray(theta, dtype=float)
        if self.design is not None:
            return np.asarray(self.design(x), dtype=float)
        if self.jacobian is not None:
            return np.asarray(self.jacobian(x, theta), dtype=float)
        columns = []
        for j in range(theta.size):
            step = 1e-6 * max(1.0, abs(theta[j]))
            up, down = theta.copy(), theta.copy()
            up[j] += step
            down[j] -= step
            columns.append((self(x, up) - self(x, down)) / (2 * step))
        return np.column_stack(columns)
