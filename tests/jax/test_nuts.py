"""The nuts method: its posterior against analytic ones and emcee's, and its refusals.

Monte Carlo tolerances: a posterior mean's error is sd / sqrt(ESS); 4 of those
bounds it with probability above 0.9999 per parameter. A standard deviation's
relative error is about 1 / sqrt(2 ESS) (2% at the ESS here): 10% is allowed.
"""

import numpy as np
import pytest

import fitflow

pytest.importorskip("blackjax", reason="needs the jax extra (pip install -e '.[jax]')")


def linear_data(seed=4):
    return fitflow.generate(
        "simulate", seed=seed, model="a + b*x + c*x**2", truth=[1.0, -2.0, 0.5], noise=0.2, n_points=40, p0=[0, 0, 0]
    )


def assert_the_analytic_linear_posterior(data, result):
    """Draws of a linear model under a flat prior against N(theta_wls, (A^T W A)^-1): means
    within 4 Monte Carlo errors, sds within 10% (the module's doc)."""
    design = data.model.design(data.x) / data.sigma[:, None]
    covariance = np.linalg.inv(design.T @ design)
    mean = covariance @ design.T @ (data.y / data.sigma)
    sd = np.sqrt(np.diag(covariance))
    ess = np.array(list(result.diagnostics["ess_bulk"].values()))
    np.testing.assert_array_less(np.abs(result.samples.mean(axis=0) - mean), 4 * sd / np.sqrt(ess))
    np.testing.assert_allclose(result.samples.std(axis=0), sd, rtol=0.10)


def test_linear_gaussian_posterior_matches_the_analytic_one():
    # Flat prior: the posterior is exactly N(theta_wls, (A^T W A)^-1).
    data = linear_data()
    result = fitflow.fit("nuts", data, seed=4, prior="flat")
    assert result.ok, result.message
    assert_the_analytic_linear_posterior(data, result)
    assert result.diagnostics["n_chains"] == 4 and max(result.diagnostics["rhat"].values()) <= 1.01
    assert result.diagnostics["divergences"] == 0


def test_a_badly_scaled_correlated_posterior_is_sampled_in_few_steps_and_right():
    # A quadratic trend over 40 years: c's posterior sd is ~2e-4, far below the 1e-3
    # regularisation the warm-up puts on the mass matrix, and a, b, c are strongly
    # correlated. Sampled as it stands, each draw walked 112 leapfrog steps here (647 on 2,000
    # points, 78 s); scaled by the Laplace standard errors, about 25 (the correlations remain
    # for the diagonal metric). The posterior is still the analytic one (flat prior, known errors).
    data = fitflow.generate(
        "simulate",
        seed=3,
        model="a + b*x + c*x**2",
        truth=[320.0, 1.2, 0.01],
        noise=0.5,
        n_points=200,
        x_min=0.0,
        x_max=40.0,
        p0=[300, 1, 0],
    )
    result = fitflow.fit("nuts", data, seed=3, prior="flat")
    assert result.ok, result.message
    # 60: twice the ~25 measured scaled, half the 112 unscaled
    assert result.diagnostics["mean_tree_size"] < 60
    assert_the_analytic_linear_posterior(data, result)


def test_the_same_seed_gives_the_same_draws_bit_for_bit():
    data = linear_data()
    first, second = fitflow.fit("nuts", data, seed=9), fitflow.fit("nuts", data, seed=9)
    np.testing.assert_array_equal(first.samples, second.samples)
    assert not np.array_equal(first.samples, fitflow.fit("nuts", data, seed=10).samples)


def test_a_bound_is_respected_and_the_truncated_posterior_is_right():
    # y = a + noise with a's likelihood N(0.1, 0.2^2) and prior uniform on [0, inf): the
    # posterior is that normal truncated at 0 (scipy.stats.truncnorm).
    from scipy import stats

    data = fitflow.generate(
        "simulate", seed=0, model="a + 0*x", truth=[0.1], noise=0.2 * np.sqrt(25), n_points=25, p0=[0.5], lower=[0]
    )
    result = fitflow.fit("nuts", data, seed=1)
    assert result.ok, result.message
    assert result.samples.min() >= 0
    centre, scale = data.y.mean(), 0.2
    posterior = stats.truncnorm((0 - centre) / scale, np.inf, loc=centre, scale=scale)
    ess = result.diagnostics["effective_sample_size"]
    assert abs(result.samples.mean() - posterior.mean()) < 4 * posterior.std() / np.sqrt(ess)
    assert result.samples.std() == pytest.approx(posterior.std(), rel=0.10)


def test_nuts_and_emcee_agree_on_a_nonlinear_posterior():
    data = fitflow.generate(
        "simulate",
        seed=2,
        model="b1*(1 - exp(-b2*x))",
        truth=[2.0, 1.3],
        noise=0.1,
        n_points=20,
        p0=[1, 1],
        lower=[0, 0],
        upper=[10, 10],
    )
    nuts, emcee = fitflow.fit("nuts", data, seed=2), fitflow.fit("emcee", data, seed=2)
    assert nuts.ok and emcee.ok
    sd = emcee.samples.std(axis=0)
    # both means carry Monte Carlo error: sqrt(sd^2/ESS_nuts + sd^2/ESS_emcee), 4 of those
    bound = (
        4 * sd * np.sqrt(1 / nuts.diagnostics["effective_sample_size"] + 1 / emcee.diagnostics["effective_sample_size"])
    )
    np.testing.assert_array_less(np.abs(nuts.samples.mean(axis=0) - emcee.samples.mean(axis=0)), bound)
    np.testing.assert_allclose(nuts.samples.std(axis=0), sd, rtol=0.10)


def test_chains_stuck_in_different_modes_fail_on_r_hat(monkeypatch):
    # y = a^2 x: a and -a fit equally; chains started on both sides never cross zero's ridge
    import fitflow_plugins.methods.sampling.nuts as nuts

    monkeypatch.setattr(nuts, "_starting_points", lambda *args: np.array([[-1.5], [1.5], [-1.5], [1.5]]))
    data = fitflow.generate("simulate", seed=1, model="a**2*x", truth=[1.5], noise=0.05, n_points=30, p0=[1.0])
    result = fitflow.fit("nuts", data, seed=0)
    assert not result.ok and "R-hat" in result.message, result.message


def summarise(draws, diverging=None, **settings):
    from fitflow_plugins.methods.sampling.nuts import NoUTurnSampler

    chains, n, p = draws.shape
    extra = {
        "diverging": np.zeros((chains, n), bool) if diverging is None else diverging,
        "energy": np.random.default_rng(0).normal(size=(chains, n)),
        "num_steps": np.full((chains, n), 7.0),
        "step_size": 0.3,
    }
    return NoUTurnSampler(**settings)._summarise(tuple(f"p{i}" for i in range(p)), draws, extra, 0)


def test_the_checks_pass_independent_draws_and_refuse_autocorrelated_ones():
    rng = np.random.default_rng(0)
    assert summarise(rng.normal(size=(4, 1000, 2))).ok
    walk = np.cumsum(rng.normal(size=(4, 1000, 2)), axis=1)  # a random walk: ESS of a few
    result = summarise(walk)
    assert not result.ok and "too few effective draws" in result.message


def test_divergences_above_the_threshold_fail_and_below_it_warn():
    draws = np.random.default_rng(1).normal(size=(4, 1000, 2))
    few = np.zeros((4, 1000), bool)
    few[0, :3] = True  # 3 of 4000 < 0.1%
    result = summarise(draws, few)
    assert result.ok and "3 of 4000 transitions diverged" in result.warnings[0]
    many = np.zeros((4, 1000), bool)
    many[:, :10] = True  # 40 of 4000
    result = summarise(draws, many)
    assert not result.ok and "40 of 4000 transitions diverged" in result.message


def test_a_model_jax_cannot_differentiate_is_skipped_with_the_reason():
    data = fitflow.generate("gaussian_peak", seed=1)
    reason = fitflow.core.registry.get_method("nuts")().can_fit(data)
    assert "JAX can differentiate" in reason


def test_figures_show_traces_energy_and_pairs():
    import matplotlib

    matplotlib.use("Agg")
    data = linear_data()
    method = fitflow.make_method("nuts")
    result = fitflow.fit(method, data, seed=1)
    assert result.ok, result.message
    figures = method.figures(data, result)
    assert set(figures) == {"traces", "energy", "pairs"}
    assert len(figures["traces"].axes) == 3 and "E-BFMI" in figures["energy"].axes[0].get_title()
