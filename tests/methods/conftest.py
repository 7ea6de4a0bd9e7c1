"""Datasets shared by the method tests."""

import numpy as np
import pytest

import fitflow
from fitflow.testing import GivenModel


def _decay(x, theta):
    return theta[0] * np.exp(-x / theta[1]) + theta[2]


@pytest.fixture
def decay_below_its_bound():
    """``(dataset, decay)``: a decay whose background is measured at -0.1 while its bounds
    say b >= 0, so the unbounded least-squares optimum lies outside the bounds."""
    rng = np.random.default_rng(2)
    x, sigma = np.linspace(0, 5, 30), np.full(30, 0.05)
    y = _decay(x, [1.0, 1.0, -0.1]) + sigma * rng.standard_normal(x.size)
    model = fitflow.ParametricModel(_decay, ("A", "tau", "b"), [1.0, 1.0, 0.1], bounds=([0, 0.1, 0], [10, 10, 1]))
    return fitflow.Dataset(problem=GivenModel(model), x=x, y=y, sigma=sigma), _decay
