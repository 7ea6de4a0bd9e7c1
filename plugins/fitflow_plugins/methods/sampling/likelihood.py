"""What the JAX-based methods share: the log-likelihood (Gaussian, or Poisson for counts) of a model JAX can trace,
and the map that takes bounded parameters to the real line.

Both are written for tracing inside a method's own compiled program (``nuts``'s sampler,
``gradient_descent``'s optimiser), with the data as arguments of that program.
"""

import numpy as np

__all__ = ["log_likelihood", "Unconstrained", "without_gradient"]


def without_gradient(dataset):
    """Why a method that needs the log-likelihood's gradient cannot fit ``dataset``, or None."""
    if dataset.model is not None and dataset.model.jax_function is None:
        return (
            "needs the gradient of the log-likelihood: a model JAX can differentiate (an expression, or a "
            "function written with jax.numpy and backend: jax)"
        )
    return None


def log_likelihood(model, known_errors, counts=False):
    """The JAX log-likelihood ``f(theta, x, y, whiten)``, as :mod:`.emcee_sampler` defines it:
    Gaussian with known errors (``whiten = 1/sigma``) or one unknown error, or, with
    ``counts``, Poisson (``sum(y log f - f)``, ``-inf`` where a mean is not positive).
    The data are arguments, not constants of the compiled program, so that program is the
    same for every dataset of a shape and JAX's compilation cache serves it again."""
    from fitflow.plugin import jax_modules

    _, jnp = jax_modules()
    function = model.jax_function

    def with_errors(theta, x, y, whiten):
        r = (y - function(x, theta)) * whiten
        return -0.5 * jnp.sum(r * r)

    def unknown_error(theta, x, y, whiten):  # a common error integrated out under Jeffreys' prior 1/sigma
        r = y - function(x, theta)
        return -0.5 * y.size * jnp.log(jnp.sum(r * r))

    def poisson(theta, x, y, whiten):  # whiten unused: a count's variance is its mean
        mean = function(x, theta)
        positive = mean > 0
        terms = y * jnp.log(jnp.where(positive, mean, 1.0)) - mean
        return jnp.where(jnp.all(positive), jnp.sum(terms), -jnp.inf)

    if counts:
        return poisson
    return with_errors if known_errors else unknown_error


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
