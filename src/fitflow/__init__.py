"""fitflow: compare regression and inference methods against known truth.

The public API, for plugin authors and notebook users:

* the plugin contract: :class:`Problem`, :class:`Method`, :class:`Setting`,
  :class:`Dataset`, :class:`ParametricModel`, :class:`FitResult`;
* plugin lookup: :func:`get_problem`, :func:`get_method`;
* the pipeline: :func:`generate` (or :func:`measurement` for your own arrays), :func:`fit`, :func:`evaluate`;
  :func:`compare` for every method on one dataset, in one table;
* optimisation of a plain function: :func:`minimise`, :func:`maximise` (see :mod:`fitflow.campaign`);
* artefacts: :func:`write_dataset`, :func:`read_dataset`, :func:`write_result`,
  :func:`read_result`, :func:`read_table`.

Conformance checks for plugins live in :mod:`fitflow.testing`.
"""

from .api import fit, generate, make_method, make_problem, measurement
from .artefacts import read_dataset, read_result, write_dataset, write_result
from .campaign import maximise, minimise
from .compare import compare
from .dataset import Dataset
from .errors import (
    ArtefactError,
    ConfigError,
    DataError,
    FitflowError,
    IncompatiblePairError,
    PluginLoadError,
    PluginNotFoundError,
    SettingsError,
)
from .evaluate import evaluate
from .model import ParametricModel
from .objective import Objective
from .plugin import Method, Problem
from .registry import get_method, get_problem
from .result import FitResult
from .settings import Setting

__version__ = "0.1.0"

__all__ = [
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
    "compare",
    "evaluate",
    "fit",
    "generate",
    "get_method",
    "get_problem",
    "make_method",
    "make_problem",
    "maximise",
    "measurement",
    "minimise",
    "read_dataset",
    "read_result",
    "read_table",
    "write_dataset",
    "write_result",
]


def read_table(root, with_timings=True):
    """The aggregate table of an experiment folder (see :mod:`fitflow.aggregate`)."""
    from .aggregate import read_table as _read_table

    return _read_table(root, with_timings=with_timings)
