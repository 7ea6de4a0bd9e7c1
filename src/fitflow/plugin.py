"""Everything a plugin may import from fitflow, in one place.

A problem or method plugin (fitflow's own in ``fitflow_plugins``, or yours, installed with
pip) imports from ``fitflow`` and from this module only; the sub-packages behind it
(``fitflow.core``, ``fitflow.inputs``, ...) may change between versions. An import-linter
contract in ``pyproject.toml`` keeps ``fitflow_plugins`` to this surface, and
``docs/plugins.md`` documents it name by name.

The names come in groups:

* **the contract**: :class:`Problem`, :class:`Method`, :class:`Setting`, :class:`Dataset`,
  :class:`ParametricModel`, :class:`FitResult`, :class:`Objective`, and the errors a plugin
  raises (:class:`SettingsError` for a bad setting, :class:`DataError` for bad data,
  :class:`ConfigError` for a bad config);
* **diagnostic keys** that fitflow reads from ``FitResult.diagnostics``
  (:data:`BAND`, :data:`BAND_NOTE`, ...; see :mod:`fitflow.core.diagnostics`);
* **settings and data helpers**: :func:`require_increasing`, :func:`chi_square_objective`,
  the readers of a user's table (:func:`read_observations`, ...);
* **likelihoods**: :func:`likelihood_of` (gaussian or poisson, what the data declare),
  :func:`needs_gaussian`, :func:`poisson_scale`, :func:`poisson_log_likelihood`,
  :func:`scatter_of`, :func:`count_problem`;
* **least squares**: :func:`solve_linear`, :func:`laplace_covariance`,
  :func:`hac_covariance`, :func:`sandwich_covariance`, :func:`series_order`, :data:`covariance_settings`, :class:`RankDeficiency`;
* **models written with jax.numpy**: :func:`jax_modules`, :class:`ExactDerivatives`,
  :class:`HessianUnavailable`, :data:`INSTALL_JAX`, and compiling once per process:
  :func:`compiled_once`, :func:`pad_rows`;
* **optimisers** (ask/tell over a search space): :class:`History`, :class:`Recommendation`,
  :func:`run_in_process`, :func:`best_observed`, :func:`no_answer`, :func:`non_dominated`;
* **problems that read what a user writes**: a model (:data:`MODEL_SETTINGS`,
  :func:`build_model`, ...), an expression, a search space, goals, constraints and an
  external program.
"""

from .campaigns.campaign import History, Recommendation, best_observed, no_answer, run_in_process
from .campaigns.pareto import non_dominated
from .core.autodiff import INSTALL_JAX, ExactDerivatives, HessianUnavailable, jax_modules
from .core.compiled import compiled_once, pad_rows
from .core.dataset import Dataset
from .core.diagnostics import BAND, BAND_KINDS, BAND_NOTE, BEST_VALUE, CV_NOTE, CV_RMSE, TRUE_VALUE
from .core.errors import ConfigError, DataError, SettingsError
from .core.likelihoods import (
    count_problem,
    likelihood_of,
    needs_gaussian,
    poisson_log_likelihood,
    poisson_scale,
    scatter_of,
)
from .core.lstsq import (
    RankDeficiency,
    covariance_settings,
    hac_covariance,
    laplace_covariance,
    sandwich_covariance,
    series_order,
    solve_linear,
)
from .core.model import ParametricModel
from .core.plugin import Method, Problem
from .core.result import FitResult
from .core.settings import Setting, require_increasing
from .core.timelimit import TimedOut
from .evaluation.plots import log_scale_if_wide
from .inputs.constraints import parse_constraints
from .inputs.expression import ExpressionError, compile_expression
from .inputs.external import make_runner
from .inputs.goals import parse_goals
from .inputs.objective import Objective, Observation, chi_square_objective, parse_observation
from .inputs.space import SearchSpace
from .inputs.tables import READERS, formats, npz_array, observations_from_arrays, read_observations
from .inputs.user_model import (
    MODEL_SETTINGS,
    build_model,
    check_model_output,
    check_model_settings,
    in_parameter_order,
    model_assumptions,
    model_capabilities,
    model_files,
)

__all__ = [
    # the contract (alphabetical)
    "Dataset",
    "FitResult",
    "Method",
    "Objective",
    "ParametricModel",
    "Problem",
    "Setting",
    "SettingsError",
    "DataError",
    "ConfigError",
    "TimedOut",
    # diagnostic keys fitflow reads
    "BAND",
    "BAND_KINDS",
    "BAND_NOTE",
    "BEST_VALUE",
    "CV_NOTE",
    "CV_RMSE",
    "TRUE_VALUE",
    # settings and data helpers
    "require_increasing",
    "chi_square_objective",
    "log_scale_if_wide",
    "READERS",
    "formats",
    "read_observations",
    "observations_from_arrays",
    "npz_array",
    # likelihoods
    "likelihood_of",
    "needs_gaussian",
    "poisson_scale",
    "poisson_log_likelihood",
    "scatter_of",
    "count_problem",
    # least squares
    "solve_linear",
    "laplace_covariance",
    "hac_covariance",
    "sandwich_covariance",
    "series_order",
    "covariance_settings",
    "RankDeficiency",
    # models written with jax.numpy
    "jax_modules",
    "ExactDerivatives",
    "HessianUnavailable",
    "INSTALL_JAX",
    "compiled_once",
    "pad_rows",
    # optimisers
    "History",
    "Recommendation",
    "run_in_process",
    "best_observed",
    "no_answer",
    "non_dominated",
    # problems that read what a user writes
    "MODEL_SETTINGS",
    "build_model",
    "check_model_output",
    "check_model_settings",
    "in_parameter_order",
    "model_assumptions",
    "model_capabilities",
    "model_files",
    "ExpressionError",
    "compile_expression",
    "SearchSpace",
    "parse_goals",
    "parse_constraints",
    "Observation",
    "parse_observation",
    "make_runner",
]
