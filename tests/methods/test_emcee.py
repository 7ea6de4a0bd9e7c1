"""emcee against the analytic linear-Gaussian posterior, the Laplace approximation and calibration."""

import numpy as np
import pytest

import fitflow


def test_linear_gaussian_posterior_matches_the_analytic_one():
    # Flat prior: the posterior is exactly N(theta_ols, (A^T W A)^-1).
    data = fitflow.generate("cosine_series", seed=5, n_modes=4)
    result = fitflow.fit("emcee", data, seed=5, prior="flat", n_steps=4000)
    design = data.model.design(data.x) / data.sigma[:, None]
    covariance = np.linalg.inv(design.T @ design)
    mean = covariance @ design.T @ (data.y / data.sigma)
    sd = np.sqrt(np.diag(covariance))
    ess = result.diagnostics["effective_sample_size"]
    # Monte-Carlo error of a posterior mean is sd / sqrt(ESS); 4 of those is a safe bound.
    np.testing.assert_array_less(np.abs(result.samples.mean(axis=0) - mean), 4 * sd / np.sqrt(ess))
    # The standard deviation's relative MC error is about 1 / sqrt(2 ESS) (~2% here): allow 10%.
    np.testing.assert_allclose(result.samples.std(axis=0), sd, rtol=0.10)
    # Correlations too, within 0.1 absolute.
    sample_corr = np.corrcoef(result.samples, rowvar=False)
    np.testing.assert_allclose(sample_corr, covariance / np.outer(sd, sd), atol=0.1)


def test_gaussian_peak_posterior_widths_agree_with_laplace_within_15_percent():
    data = fitflow.generate("gaussian_peak", seed=8)
    sampled = fitflow.fit("emcee", data, seed=8)
    laplace = fitflow.fit("nlls", data)
    np.testing.assert_allclose(sampled.stderr_vector(), laplace.stderr_vector(), rtol=0.15)
    assert 0.2 < sampled.diagnostics["acceptance_fraction"] < 0.8


def test_short_chain_is_flagged():
    data = fitflow.generate("gaussian_peak", seed=1)
    result = fitflow.fit("emcee", data, seed=1, n_steps=300)
    assert any("shorter than 50 autocorrelation times" in w for w in result.warnings)


def test_same_seed_same_chain_other_seed_other_chain():
    data = fitflow.generate("gaussian_peak", seed=2, n_points=40)
    a = fitflow.fit("emcee", data, seed=3, n_steps=200)
    b = fitflow.fit("emcee", data, seed=3, n_steps=200)
    c = fitflow.fit("emcee", data, seed=4, n_steps=200)
    assert np.array_equal(a.samples, b.samples) and not np.array_equal(a.samples, c.samples)


@pytest.mark.slow
def test_68_percent_credible_intervals_cover_the_truth():
    # 50 replicates x 4 parameters = 200 intervals; binomial sd of the coverage if independent:
    # sqrt(0.68 * 0.32 / 200) = 3.3%, so +-7% is about 2.1 sd. Seeds are fixed: deterministic.
    method = fitflow.make_method("emcee", n_steps=1000)
    inside = []
    for rep in range(50):
        data = fitflow.generate("gaussian_peak", seed=np.random.SeedSequence([77, rep]))
        metrics = fitflow.evaluate(data, fitflow.fit(method, data, seed=rep))
        inside += [metrics[f"param.{n}.in68"] for n in ("A", "mu", "sigma", "B")]
    assert abs(np.mean(inside) - 0.68) <= 0.07, np.mean(inside)


def test_walkers_are_evaluated_in_one_call_only_when_that_is_exact():
    from fitflow import ParametricModel
    from fitflow_plugins.methods.emcee_sampler import _batched_model
    from fitflow_plugins.problems.gaussian_peak import gaussian

    x = np.linspace(-2, 2, 50)
    walkers = np.random.default_rng(0).normal([1, 0.2, 0.5, 0.0], 0.01, size=(16, 4))
    broadcasting = ParametricModel(gaussian, ("A", "mu", "sigma", "B"), walkers[0])
    predict = _batched_model(broadcasting, x, walkers)
    assert getattr(predict, "vectorised", False)
    assert np.array_equal(predict(walkers), np.stack([gaussian(x, w) for w in walkers]))

    basis = np.vander(x, 4)
    matrix_product = ParametricModel(lambda x, theta: basis @ theta, ("a", "b", "c", "d"), walkers[0])
    strict = ParametricModel(lambda x, theta: gaussian(x, np.asarray(theta).reshape(4)), ("A", "mu", "sigma", "B"),
                             walkers[0])
    for model in (matrix_product, strict):  # wrong shape, or raises on a batch: one call per walker
        predict = _batched_model(model, x, walkers)
        assert not getattr(predict, "vectorised", False)
        assert np.array_equal(predict(walkers), np.stack([model(x, w) for w in walkers]))
