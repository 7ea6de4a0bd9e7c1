"""fitflow's built-in fitting methods, one sub-package per family.

Each family holds its plugins (registered as ``fitflow.methods`` entry points in
``pyproject.toml``) beside the modules they share:

* :mod:`.least_squares`: ``ols``, ``nlls``, ``tikhonov``, ``gradient_descent``;
* :mod:`.sampling`: ``emcee``, ``nuts``, their JAX likelihood, start and diagnostics;
* :mod:`.regression`: ``gp``, ``spline``, ``mlp``, ``vnn``, and the emulators built on them;
* :mod:`.optimisation`: ``bayesopt`` (surrogate, acquisitions, feasibility, ParEGO, EHVI) and
  ``random_search``.
"""
