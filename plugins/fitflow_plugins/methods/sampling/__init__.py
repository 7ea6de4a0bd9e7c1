"""Posterior sampling: Markov chains over a model's parameters.

* ``emcee``: the affine-invariant ensemble sampler (:mod:`.emcee_sampler`);
* ``nuts``: the No-U-Turn sampler on JAX gradients (:mod:`.nuts`).

Shared: the JAX log-likelihood (:mod:`.likelihood`, also used by ``gradient_descent``), the
least-squares start (:mod:`.start`), and the recorded diagnostics and their figures
(:mod:`.diagnostics`).
"""
