"""fitflow's built-in problems, in two families.

* :mod:`.synthetic`: test problems with a known truth (generated data, analytic objectives,
  simulations), on which methods are scored;
* :mod:`.own`: the scientist's own data, model, objective or program (``table``,
  ``simulate``, ``simulation``, ``objective``, ``blurred_measurement``).
"""
