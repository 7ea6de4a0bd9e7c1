"""A differentiable simulation as the model: Lotka-Volterra, integrated by RK4 in jax.lax.scan
(examples/lotka_volterra/model.py), fitted to the Hudson's Bay lynx-hare pelts by nlls with
the exact Jacobian through the solver, against scipy's solve_ivp + least_squares on the same
data (issue 39's target: the same parameters to 4 significant digits)."""

import time

import numpy as np
import pytest

from conftest import REPO
import fitflow

pytest.importorskip("jax", reason="needs the jax extra (pip install -e '.[jax]')")

FOLDER = REPO / "examples" / "lotka_volterra"
START = {"alpha": 0.55, "beta": 0.028, "gamma": 0.8, "delta": 0.024, "hare0": 33.0, "lynx0": 6.0}


def lynx_hare(model_file=FOLDER / "model.py"):
    """The pelts as a table problem whose model is ``populations`` in ``model_file``."""
    return fitflow.generate(
        "table",
        file=str(FOLDER / "lynx_hare.csv"),
        x=["year", "species"],
        y="pelts",
        model=f"{model_file}:populations",
        p0=START,
        cv_folds=0,
    )


def scipy_populations(data, theta):
    """The model at ``theta`` by scipy's adaptive ``solve_ivp`` (rtol = atol = 1e-11)."""
    from scipy.integrate import solve_ivp

    alpha, beta, gamma, delta, hare0, lynx0 = theta

    def rate(_, state):
        hare, lynx = state
        return [alpha * hare - beta * hare * lynx, -gamma * lynx + delta * hare * lynx]

    path = solve_ivp(rate, (1900, 1920), [hare0, lynx0], t_eval=np.arange(1900, 1921), rtol=1e-11, atol=1e-11).y
    index = (data.x[:, 0] - 1900).astype(int)
    return np.where(data.x[:, 1] == 0, path[0, index], path[1, index])


def scipy_fit(data):
    from scipy.optimize import least_squares

    return least_squares(
        lambda t: data.y - scipy_populations(data, t), list(START.values()), xtol=1e-14, ftol=1e-14, gtol=1e-14
    )


def test_nlls_through_the_jax_solver_agrees_with_solve_ivp_and_least_squares():
    data = lynx_hare()
    assert getattr(data.model.jacobian, "automatic", False)
    started = time.perf_counter()
    result = fitflow.fit("nlls", data)
    ours = time.perf_counter() - started
    assert result.ok, result.message
    started = time.perf_counter()
    reference = scipy_fit(data)
    theirs = time.perf_counter() - started
    assert reference.success
    np.testing.assert_allclose(result.estimate_vector(), reference.x, rtol=5e-5)  # 4 significant digits
    # Scored on the same (scipy's) solution of the ODE, our optimum is no worse than scipy's:
    # RK4's own error (2e-6 of the populations) would otherwise move the RSS by 2e-7.
    rss = float(np.sum((data.y - scipy_populations(data, result.estimate_vector())) ** 2))
    assert rss <= 2 * reference.cost * (1 + 1e-8)  # least_squares's cost is half the RSS
    print(f"nlls through JAX {ours:.2f} s (compile included); solve_ivp + least_squares {theirs:.2f} s")


def test_nuts_samples_the_rates_through_the_solver():
    result = fitflow.fit("nuts", lynx_hare(), seed=1, n_warmup=500, n_samples=500, min_ess=200)
    assert result.ok, result.message
    laplace = fitflow.fit("nlls", lynx_hare())
    # the posterior is close to Gaussian here: medians within half a Laplace standard error
    np.testing.assert_array_less(
        np.abs(result.estimate_vector() - laplace.estimate_vector()), 0.5 * laplace.stderr_vector()
    )
