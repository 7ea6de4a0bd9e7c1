"""Optimisers of a black-box objective, through fitflow's ask/tell campaign.

* ``bayesopt``: Bayesian optimisation (:mod:`.bayesopt`), built from a Gaussian-process
  surrogate (:mod:`.surrogate`), named acquisition functions (:mod:`.acquisitions`), the
  probability of meeting output constraints (:mod:`.feasibility`), and for several
  objectives expected hypervolume improvement (:mod:`.hypervolume_improvement`) or ParEGO
  (:mod:`.parego`);
* ``random_search``: uniform random points (:mod:`.random_search`).

Shared: the result built from a campaign's history, and its plot (:mod:`.campaign_result`).
"""
