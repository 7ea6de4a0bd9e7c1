"""What the JAX-based methods share: the log-likelihood (Gaussian, or Poisson for counts) of a model JAX can trace,
the map that takes bounded parameters to the real line, and the mode (forward or reverse)
in which a log-density's gradient is taken.

All are written for tracing inside a method's own compiled program (``nuts``'s sampler,
``gradient_descent``'s optimiser), with the data as arguments of that program.
"""

import numpy as np

__all__ = [
    "log_likelihood",
    "likelihood_data",
    "gradient_modes",
    "in_mode",
    "GRADIENT_MODES",
    "FORWARD_MODE_MAX_PARAMS",
    "Unconstrained",
    "without_gradient",
]


def without_gradient(dataset):
    """Why a method that needs the log-likelihood's gradient cannot fit ``dataset``, or None."""
    if dataset.model is not None and dataset.model.jax_function is None:
        return (
            "needs the gradient of the log-likelihood: a model JAX can differentiate (an expression, or a "
            "function written with jax.numpy and backend: jax)"
        )
    return None


def log_likelihood(model, known_errors, counts=False):
    """The JAX log-likelihood ``f(theta, x, y, whiten, weight)``, as :mod:`.emcee_sampler` defines it:
    Gaussian with known errors (``whiten = 1/sigma``) or one unknown error, or, with
    ``counts``, Poisson (``sum(y log f - f)``, ``-inf`` where a mean is not positive).
    ``weight`` is 1 for a row of data and 0 for a row that only pads the data to the shape
    the program was compiled for (:func:`likelihood_data`).
    The data are arguments, not constants of the compiled program, so that program is the
    same for every dataset of a shape and JAX's compilation cache serves it again."""
    from fitflow.plugin import jax_modules

    _, jnp = jax_modules()
    function = model.jax_function

    def with_errors(theta, x, y, whiten, weight):
        r = (y - function(x, theta)) * whiten
        return -0.5 * jnp.sum(weight * r * r)

    def unknown_error(theta, x, y, whiten, weight):  # a common error integrated out under Jeffreys' prior 1/sigma
        r = y - function(x, theta)
        return -0.5 * jnp.sum(weight) * jnp.log(jnp.sum(weight * r * r))

    def poisson(theta, x, y, whiten, weight):  # whiten unused: a count's variance is its mean
        mean = function(x, theta)
        positive = (mean > 0) | (weight == 0)
        terms = y * jnp.log(jnp.where(mean > 0, mean, 1.0)) - mean
        return jnp.where(jnp.all(positive), jnp.sum(weight * terms), -jnp.inf)

    if counts:
        return poisson
    return with_errors if known_errors else unknown_error


def likelihood_data(dataset):
    """``(x, y, whiten, weight)``, the arguments :func:`log_likelihood` takes for ``dataset``:
    ``whiten`` is ``1/sigma`` (ones without errors); inside cross-validation the rows are
    padded to the whole dataset's (``fitflow.plugin.pad_rows``, weight 0), so that every fold
    runs the program compiled for it."""
    from fitflow.plugin import pad_rows

    whiten = 1.0 / dataset.sigma if dataset.sigma is not None else np.ones_like(dataset.y)
    return tuple(np.asarray(a, dtype=float) for a in pad_rows(dataset.x, dataset.y, whiten))


#: At most this many parameters, a log-density's gradient is taken in forward mode (one pass
#: carrying p tangents), above it in reverse mode (one backward pass). Forward mode stores
#: nothing for a backward pass: through an ODE solver's ``lax.scan`` (3 parameters) it was 3x
#: faster; on a cheap vectorised model the two cross near 7 parameters (docs/benchmarks.md).
FORWARD_MODE_MAX_PARAMS = 6

#: The ``gradient`` setting of the methods that take a log-likelihood's gradient.
GRADIENT_MODES = ("auto", "forward", "reverse")


def gradient_modes(setting, n_params):
    """The modes to try, in order, for a gradient of ``n_params`` parameters: the chosen one,
    then the other (a model may be differentiable in one mode only: diffrax's default adjoint
    is reverse-only, its ``ForwardMode`` forward-only)."""
    first = setting if setting != "auto" else ("forward" if n_params <= FORWARD_MODE_MAX_PARAMS else "reverse")
    return (first, "reverse" if first == "forward" else "forward")


def in_mode(log_density, mode):
    """``log_density`` (a scalar function of one vector) whose gradient, however JAX is asked
    for it (``jax.grad``, ``value_and_grad`` inside BlackJAX or optax), is taken in ``mode``:
    as it is for ``"reverse"``; for ``"forward"``, a ``custom_vjp`` whose forward pass computes
    the value and the whole gradient by ``jacfwd`` and whose backward pass only scales it."""
    if mode == "reverse":
        return log_density
    from fitflow.plugin import jax_modules

    jax, _ = jax_modules()

    @jax.custom_vjp
    def forward(w):
        return log_density(w)

    def value_and_gradient(w):
        gradient, value = jax.jacfwd(lambda w: (log_density(w), log_density(w)), has_aux=True)(w)
        return value, gradient

    forward.defvjp(value_and_gradient, lambda gradient, cotangent: (cotangent * gradient,))
    return forward


class Unconstrained:
    """Each parameter mapped to the real line, so that the sampler never meets a bound: the
    identity where unbounded, ``a + exp(z)`` above a lower bound, ``b - exp(z)`` below an
    upper one, ``a + (b - a) sigmoid(z)`` between two; with the log-Jacobian of the change
    of variables, which keeps the prior uniform in the parameters themselves. The kinds are
    fixed when the sampler is compiled (index arrays, no branches on traced values)."""

    def __init__(self, lower, upper):
        below, above = np.isfinite(lower), np.isfinite(upper)
        self.lower, self.upper = lower, upper
        self.interval = np.flatnonzero(below & above)
        self.above_lower = np.flatnonzero(below & ~above)
        self.below_upper = np.flatnonzero(above & ~below)

    def parameters(self, z):
        """``(theta, log |d theta / d z|)`` of an unconstrained vector (JAX)."""
        from fitflow.plugin import jax_modules

        jax, jnp = jax_modules()
        theta, logdet = z, 0.0
        if self.interval.size:
            i = self.interval
            a, width = self.lower[i], self.upper[i] - self.lower[i]
            theta = theta.at[i].set(a + width * jax.nn.sigmoid(z[i]))
            logdet += jnp.sum(np.log(width) + jax.nn.log_sigmoid(z[i]) + jax.nn.log_sigmoid(-z[i]))
        for i, sign, edge in ((self.above_lower, 1.0, self.lower), (self.below_upper, -1.0, self.upper)):
            if i.size:
                theta = theta.at[i].set(edge[i] + sign * jnp.exp(z[i]))
                logdet += jnp.sum(z[i])
        return theta, logdet

    def unconstrained(self, theta):
        """The inverse map, in numpy (for the starting points)."""
        z = np.array(theta, dtype=float)
        i = self.interval
        u = (z[..., i] - self.lower[i]) / (self.upper[i] - self.lower[i])
        z[..., i] = np.log(u) - np.log1p(-u)
        z[..., self.above_lower] = np.log(z[..., self.above_lower] - self.lower[self.above_lower])
        z[..., self.below_upper] = np.log(self.upper[self.below_upper] - z[..., self.below_upper])
        return z
