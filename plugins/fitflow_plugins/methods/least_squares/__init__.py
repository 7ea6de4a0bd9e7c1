"""Fits that minimise a (weighted) sum of squares and report Laplace uncertainties.

* ``ols``: linear least squares, exact (:mod:`.ols`);
* ``nlls``: non-linear least squares, finite-difference or exact Jacobian (:mod:`.nlls`);
* ``tikhonov``: regularised deconvolution (:mod:`.tikhonov`);
* ``gradient_descent``: the same objective minimised through JAX gradients with optax
  (:mod:`.gradient_descent`).
"""
