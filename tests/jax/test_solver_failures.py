"""A differentiable solver that fails: explicit Euler on y' = -k y^3 overflows to NaN once
dt k y^2 > 2. A start where it fails is refused before any fit, naming the row; from a start
where it holds, every method finishes, and none calls a fit ok whose numbers are not finite
(issue 39: solver errors make a failed fit with the reason, never a hang)."""

import warnings

import numpy as np
import pytest

import fitflow
from fitflow.core.errors import ModelError

pytest.importorskip("jax", reason="needs the jax extra (pip install -e '.[jax]')")

SOLVER = """
import jax
import jax.numpy as jnp


def cooling(t, k, y0):
    def step(y, _):
        y = y - 0.5 * k * y**3
        return y, y

    _, path = jax.lax.scan(step, y0, None, length=20)
    return jnp.interp(t, 0.5 * jnp.arange(1, 21), path)
"""


@pytest.fixture(scope="module")
def measured(tmp_path_factory):
    """Data from the exact solution with k = 1, y0 = 3, where the Euler solver is unstable."""
    folder = tmp_path_factory.mktemp("cooling")
    (folder / "model.py").write_text(SOLVER)
    t = 0.5 * np.arange(1, 21)
    y = 3.0 / np.sqrt(1 + 18.0 * t) + 0.01 * np.random.default_rng(0).standard_normal(20)
    np.savetxt(
        folder / "data.csv", np.column_stack([t, y, np.full(20, 0.01)]), delimiter=",", header="t,y,sigma", comments=""
    )
    return folder


def _table(folder, p0):
    return fitflow.generate(
        "table",
        file=str(folder / "data.csv"),
        x="t",
        y="y",
        sigma="sigma",
        model=f"{folder / 'model.py'}:cooling",
        p0=p0,
        cv_folds=0,
    )


def test_a_start_where_the_solver_fails_is_refused_naming_the_row(measured):
    with pytest.raises(ModelError, match=r"not finite at the starting values \[1.0, 3.0\] for data row \d+"):
        _table(measured, {"k": 1.0, "y0": 3.0})


@pytest.mark.parametrize(
    "method, settings",
    [
        ("nlls", {}),
        ("gradient_descent", {}),
        ("nuts", {"n_warmup": 200, "n_samples": 200}),
        ("emcee", {"n_steps": 500}),
    ],
)
def test_no_method_calls_a_fit_through_a_failing_solver_ok_unless_its_numbers_are_finite(measured, method, settings):
    data = _table(measured, {"k": 1.0, "y0": 1.0})
    assert np.isnan(data.model.function(data.x, np.array([1.0, 3.0]))).any()  # the truth is where it fails
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = fitflow.fit(method, data, seed=1, **settings)
    if result.ok:
        assert np.all(np.isfinite(result.estimate_vector())) and np.all(np.isfinite(result.covariance))
        assert np.all(np.isfinite(result.y_fit))
    else:
        assert result.message  # the reason


FAILING_INSIDE = """
import jax
import jax.numpy as jnp
import numpy as np


def check(y):
    if not np.all(np.isfinite(y)):
        raise RuntimeError("the solver diverged: a state is not finite")
    return y


def decay(t, k):
    y = jnp.exp(-k * t) / (k - 1.0)  # k = 1: infinite, as a solver's state can become
    return jax.pure_callback(check, jax.ShapeDtypeStruct(y.shape, y.dtype), y, vmap_method="sequential")
"""


def test_an_error_raised_inside_the_compiled_solver_is_named_by_its_own_reason(tmp_path):
    (tmp_path / "decay.py").write_text(FAILING_INSIDE)
    with pytest.raises(ModelError, match="raised .* computing its values: the solver diverged: a state is not finite"):
        fitflow.generate(
            "simulate",
            model=f"{tmp_path / 'decay.py'}:decay",
            truth=[1.0],
            p0=[1.0],
            noise=0.1,
            x_min=0.0,
            x_max=1.0,
        )
