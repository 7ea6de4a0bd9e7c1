"""Non-parametric regression: a prediction and its band on the dataset's grid.

* ``gp``: a Gaussian process (:mod:`.gp`);
* ``spline``: a smoothing spline (:mod:`.spline`);
* ``mlp``: an ensemble of neural networks (:mod:`.mlp`);
* ``vnn``: a variational Bayesian network (:mod:`.variational_network`).

Shared: :mod:`.emulation`, which trains ``gp`` or ``vnn`` on a design of simulation runs for
``emcee`` to sample through.
"""
