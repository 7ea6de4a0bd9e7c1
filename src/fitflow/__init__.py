"""fitflow: compare regression and inference methods against known truth.

The public API, for plugin authors and notebook users:

* the plugin contract: :class:`Problem`, :class:`Method`, :class:`Setting`,
  :class:`Dataset`, :class:`ParametricModel`, :class:`FitResult`;
* plugin lookup: :func:`get_problem`, :func:`get_method`;
* the pipeline: :func:`generate` (or :func:`measurement` for your own arrays), :func:`fit`, :func:`evaluate`;
  :func:`compare` for every method on one dataset, in one table, and :func:`verdict` on it;
* optimisation of a plain function: :func:`minimise`, :func:`maximise` (see :mod:`fitflow.campaign`),
  and of several objectives at once: :func:`pareto`;
* artefacts: :func:`write_dataset`, :func:`read_dataset`, :func:`write_result`,
  :func:`read_result`, :func:`read_table`.

Conformance checks for plugins live in :mod:`fitflow.testing`.

The package is layered; a module imports only from its own layer and those below:

* ``core``: the plugin contract, data types, registry, artefacts, one fit;
* ``inputs``: what a user writes (expressions, models, tables, objectives, programs);
* ``evaluation``: metrics, cross-validation, comparisons, method figures;
* ``campaigns``: optimisation of a function or an experiment;
* ``run``: the plan, Snakemake jobs, the result store;
* ``report``: the HTML report;
* ``api``, ``cli``, ``testing`` on top.
"""

from . import api
from .api import *  # noqa: F403  (the public functions: api.__all__)
from .core.dataset import Dataset
from .core.errors import (
    ArtefactError,
    ConfigError,
    DataError,
    FitflowError,
    IncompatiblePairError,
    PluginLoadError,
    PluginNotFoundError,
    SettingsError,
)
from .core.model import ParametricModel
from .core.plugin import Method, Problem
from .core.registry import get_method, get_problem
from .core.result import FitResult
from .core.settings import Setting
from .inputs.objective import Objective

__version__ = "0.1.0"

__all__ = [
    *api.__all__,
    "ArtefactError",
    "ConfigError",
    "DataError",
    "Dataset",
    "FitResult",
    "FitflowError",
    "IncompatiblePairError",
    "Method",
    "Objective",
    "ParametricModel",
    "PluginLoadError",
    "PluginNotFoundError",
    "Problem",
    "Setting",
    "SettingsError",
    "get_method",
    "get_problem",
]
