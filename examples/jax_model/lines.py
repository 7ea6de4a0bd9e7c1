"""Two Gaussian emission lines on a sloping background, written with jax.numpy.

fitflow sees ``import jax.numpy`` and differentiates the function with JAX
(``backend: auto``): nlls gets the exact Jacobian and compares Gauss-Newton's
curvature with the exact Hessian; nuts samples the posterior on exact gradients.
Called as ``two_lines(x, *params)``, like ``scipy.optimize.curve_fit``.
"""

import jax.numpy as jnp


def two_lines(energy, a1, c1, w1, a2, c2, w2, b0, b1):
    def line(amplitude, centre, width):
        return amplitude * jnp.exp(-0.5 * ((energy - centre) / width) ** 2)

    return line(a1, c1, w1) + line(a2, c2, w2) + b0 + b1 * energy
