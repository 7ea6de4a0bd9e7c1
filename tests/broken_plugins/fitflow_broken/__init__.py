"""Deliberately broken plugins: each breaks the contract in one way.

Installed for the tests as the distribution ``fitflow-broken`` (see
``tests/broken_plugins/install.py``); every one must give a FAIL from the
conformance checks or a failed fit naming it, and never take a run down.
"""

import time

import numpy as np

from fitflow import Method, ParametricModel
from fitflow_plugins.methods.least_squares.nlls import NonLinearLeastSquares
from fitflow_plugins.problems.synthetic.gaussian_peak import GaussianPeak


class _Broken(NonLinearLeastSquares):
    """A correct nlls fit, then one field broken by ``damage``."""

    name = None
    description = "deliberately broken (tests only)"
    fast_settings = {}

    def fit(self, dataset, rng):
        return self.damage(super().fit(dataset, rng), dataset)


class WrongCovarianceShape(_Broken):
    name = "wrong_covariance_shape"

    def damage(self, result, dataset):
        result.covariance = np.eye(len(result.params) + 1)
        return result


class ShortPrediction(_Broken):
    name = "short_prediction"

    def damage(self, result, dataset):
        result.y_fit = result.y_fit[:-1]
        return result


class MissingStderr(_Broken):
    name = "missing_stderr"

    def damage(self, result, dataset):
        result.stderr.pop(next(iter(result.stderr)))
        return result


class NonFiniteCovarianceOk(_Broken):
    name = "nan_covariance_ok"

    def damage(self, result, dataset):
        result.covariance = np.full_like(result.covariance, np.nan)
        return result


class RaisesInFit(_Broken):
    name = "raises_in_fit"

    def fit(self, dataset, rng):
        raise RuntimeError("deliberate failure inside fit")


class RaisesInFigures(NonLinearLeastSquares):
    name = "raises_in_figures"
    description = "deliberately broken (tests only)"

    def figures(self, dataset, result):
        raise RuntimeError("deliberate failure drawing a figure")


class Hangs(_Broken):
    name = "hangs"
    resources = {"threads": 1, "mem_mb": 500, "runtime": 1}

    def fit(self, dataset, rng):
        while True:  # a fit that never returns
            time.sleep(0.01)


class Segfaults(_Broken):
    """Crashes its process in compiled code, as a buggy C extension would."""

    name = "segfaults"

    def fit(self, dataset, rng):
        import ctypes

        ctypes.string_at(0)


class ExitsInFit(_Broken):
    name = "exits_in_fit"

    def fit(self, dataset, rng):
        import os

        os._exit(3)


class SwallowsTimeout(_Broken):
    """Catches everything, the time-out too, and goes on."""

    name = "swallows_timeout"
    resources = {"threads": 1, "mem_mb": 500, "runtime": 1}

    def fit(self, dataset, rng):
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                time.sleep(0.01)
            except BaseException:  # noqa: BLE001 - the hostile plugin under test
                pass


class RaisesInInit(Method):
    name = "raises_in_init"
    description = "deliberately broken (tests only)"
    capabilities = frozenset({"parametric"})

    def __init__(self, **settings):
        raise RuntimeError("deliberate failure in __init__")


class FalseLinear(GaussianPeak):
    """Claims 'linear' but its model has no design matrix."""

    name = "false_linear"
    description = "deliberately broken (tests only)"
    capabilities = frozenset({"linear", "parametric", "regression"})


class WrongJacobian(GaussianPeak):
    """An all-ones Jacobian: passes every other check, misleads every Jacobian user."""

    name = "wrong_jacobian"
    description = "deliberately broken (tests only)"

    def model(self, dataset):
        model = super().model(dataset)
        return ParametricModel(
            function=model.function,
            param_names=model.param_names,
            p0=model.p0,
            bounds=model.bounds,
            jacobian=lambda x, theta: np.ones((len(x), len(theta))),
        )


class RaisesInGenerate(GaussianPeak):
    name = "raises_in_generate"
    description = "deliberately broken (tests only)"

    def generate(self, rng):
        raise RuntimeError("deliberate failure in generate")


class SegfaultsInGenerate(GaussianPeak):
    name = "segfaults_in_generate"
    description = "deliberately broken (tests only)"

    def generate(self, rng):
        import ctypes

        ctypes.string_at(0)


class ReturnsNoDataset(GaussianPeak):
    name = "returns_no_dataset"
    description = "deliberately broken (tests only)"

    def generate(self, rng):
        return {"x": [1, 2, 3]}


METHODS = [
    WrongCovarianceShape,
    ShortPrediction,
    MissingStderr,
    NonFiniteCovarianceOk,
    RaisesInFit,
    RaisesInFigures,
    Hangs,
    RaisesInInit,
    Segfaults,
    ExitsInFit,
    SwallowsTimeout,
]
PROBLEMS = [FalseLinear, WrongJacobian, RaisesInGenerate, ReturnsNoDataset, SegfaultsInGenerate]
