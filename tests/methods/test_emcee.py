"""emcee against the analytic linear-Gaussian posterior, the Laplace approximation and calibration."""

import numpy as np
import pytest

import fitflow
from fitflow.testing import GivenModel


def test_linear_gaussian_posterior_matches_the_analytic_one():
    # Flat prior: the posterior is exactly N(theta_ols, (A^T W A)^-1).
    data = fitflow.generate("cosine_series", seed=5, n_modes=4)
    result = fitflow.fit("emcee", data, seed=5, prior="flat", n_steps=500)  # extended to 50 tau
    assert result.diagnostics["n_steps"] >= 50 * max(result.diagnostics["tau"])
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


def test_a_short_chain_is_extended_until_it_is_50_autocorrelation_times_long():
    data = fitflow.generate("gaussian_peak", seed=1)
    result = fitflow.fit("emcee", data, seed=1, n_steps=300)
    steps, tau = result.diagnostics["n_steps"], max(result.diagnostics["tau"])
    assert result.ok and steps > 300 and steps >= 50 * tau, (steps, tau)
    assert result.n_evaluations >= steps * result.diagnostics["n_walkers"]


def test_a_chain_shorter_than_50_autocorrelation_times_at_max_steps_fails():
    data = fitflow.generate("gaussian_peak", seed=1)
    result = fitflow.fit("emcee", data, seed=1, n_steps=300, max_steps=300)
    assert not result.ok
    assert "chain not converged: 300 steps (max_steps 300)" in result.message and "raise max_steps" in result.message


def _ridge_data(curved):
    """Two observations: ``a`` = 0 +- 1 and ``b - 10 a^2`` = 0 +- 0.05, so the posterior
    of ``a`` is N(0, 1) (b's bounds cut it at |a| < 10, 7 sd out). Parametrised by
    ``(a, b)`` the posterior is a thin parabolic ridge; by ``(a, c = b - 10 a^2)`` it is
    Gaussian."""

    def ridge(x, theta):
        a, b = theta[0], theta[1]
        return np.where(x == 0, a, b - 10 * a**2 if curved else b)

    upper = 1000.0 if curved else 10.0
    model = fitflow.ParametricModel(ridge, ("a", "b"), [0.1, 0.1], bounds=([-10, -10], [10, upper]))
    return fitflow.Dataset(
        problem=GivenModel(model), x=np.array([0.0, 1.0]), y=np.zeros(2), sigma=np.array([1.0, 0.05])
    )


def test_a_curved_posterior_the_chain_cannot_cross_fails_instead_of_reporting_a_wrong_width():
    # At 2000 steps the chain has explored a fraction of the ridge: it reports sd(a) of
    # about 0.3 where the truth is 1 (and 0.6 at 30,000 steps, tau still growing).
    result = fitflow.fit("emcee", _ridge_data(curved=True), seed=1, n_steps=2000, max_steps=2000)
    assert not result.ok and "chain not converged" in result.message


def test_the_same_posterior_reparametrised_as_the_message_advises_is_sampled_correctly():
    result = fitflow.fit("emcee", _ridge_data(curved=False), seed=1, n_steps=300)
    assert result.ok, result.message
    # sd(a) = 1 exactly; its relative Monte-Carlo error is ~1 / sqrt(2 ESS) (< 2% here): allow 10%.
    assert result.diagnostics["effective_sample_size"] > 1000
    np.testing.assert_allclose(result.stderr_vector(), [1.0, 0.05], rtol=0.10)


def test_a_long_chain_stores_a_strided_trace_and_plots_it_in_steps():
    import matplotlib

    matplotlib.use("Agg")
    data = fitflow.generate("gaussian_peak", seed=1)
    method = fitflow.make_method("emcee", n_steps=3500)
    result = fitflow.fit(method, data, seed=1)
    assert result.ok and result.diagnostics["trace_stride"] == 2
    assert result.arrays["chains"].shape[0] == 1750
    figure = method.figures(data, result)["traces"]
    assert figure.axes[0].lines[0].get_xdata()[-1] == 3498


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
    from fitflow_plugins.methods.sampling.emcee_sampler import _batched_model
    from fitflow_plugins.problems.synthetic.gaussian_peak import gaussian

    x = np.linspace(-2, 2, 50)
    walkers = np.random.default_rng(0).normal([1, 0.2, 0.5, 0.0], 0.01, size=(16, 4))
    broadcasting = ParametricModel(gaussian, ("A", "mu", "sigma", "B"), walkers[0])
    predict = _batched_model(broadcasting, x, walkers)
    assert getattr(predict, "vectorised", False)
    assert np.array_equal(predict(walkers), np.stack([gaussian(x, w) for w in walkers]))

    basis = np.vander(x, 4)
    matrix_product = ParametricModel(lambda x, theta: basis @ theta, ("a", "b", "c", "d"), walkers[0])
    strict = ParametricModel(
        lambda x, theta: gaussian(x, np.asarray(theta).reshape(4)), ("A", "mu", "sigma", "B"), walkers[0]
    )
    for model in (matrix_product, strict):  # wrong shape, or raises on a batch: one call per walker
        predict = _batched_model(model, x, walkers)
        assert not getattr(predict, "vectorised", False)
        assert np.array_equal(predict(walkers), np.stack([model(x, w) for w in walkers]))


def test_a_linear_model_that_does_not_broadcast_is_evaluated_through_its_design_matrix():
    from fitflow_plugins.methods.sampling.emcee_sampler import _batched_model

    data = fitflow.generate("cosine_series", seed=1, n_modes=4)
    model = data.model
    walkers = np.random.default_rng(0).normal(model.p0, 0.1, size=(16, model.n_params))
    predict = _batched_model(model, data.x, walkers)
    assert getattr(predict, "vectorised", False)
    np.testing.assert_allclose(predict(walkers), np.stack([model(data.x, w) for w in walkers]), rtol=1e-12, atol=1e-12)
    wrong = fitflow.ParametricModel(model.function, model.param_names, model.p0, design=lambda x: 2 * model.design(x))
    assert not getattr(_batched_model(wrong, data.x, walkers), "vectorised", False)


def test_an_optimum_outside_the_prior_starts_the_walkers_inside_and_samples_the_truncated_posterior(
    decay_below_its_bound,
):
    # Started around the unbounded optimum (b = -0.12), every walker was clipped to the same
    # b, which the stretch move can never leave: b's posterior came out as one value, "ok".
    # Reference: the posterior integrated on a 60 x 60 x 200 grid (edges hold < 1e-16 of it).
    data, decay = decay_below_its_bound
    result = fitflow.fit("emcee", data, seed=1)
    assert result.ok, result.message
    lower, upper = data.model.bounds
    assert np.all((result.samples >= lower) & (result.samples <= upper))
    amplitude, tau, background = np.linspace(0.75, 1.1, 60), np.linspace(0.55, 0.95, 60), np.linspace(0, 0.02, 200)
    a, t = np.meshgrid(amplitude, tau, indexing="ij")
    chi2 = np.stack(
        [
            np.sum(((data.y - decay(data.x, [a[..., None], t[..., None], b])) / data.sigma) ** 2, axis=-1)
            for b in background
        ],
        axis=-1,
    )
    weight = np.exp(-0.5 * (chi2 - chi2.min())).sum(axis=(0, 1))
    weight /= weight.sum()
    mean = weight @ background
    sd = np.sqrt(weight @ background**2 - mean**2)
    ess = result.diagnostics["effective_sample_size"]
    # Monte-Carlo error of the mean is sd / sqrt(ESS): allow 4 of them; the sd within 10%.
    assert abs(result.samples[:, 2].mean() - mean) < 4 * sd / np.sqrt(ess)
    assert result.samples[:, 2].std() == pytest.approx(sd, rel=0.10)


SLOW_MODEL = """import math

import numpy as np


def decay(t, a, b):
    return np.array([a * math.exp(-b * v) for v in t])  # no broadcasting: one call per walker
"""


def test_a_time_limit_stops_emcee_without_its_exception_report(tmp_path, monkeypatch, capfd):
    """emcee prints the walkers and a traceback when its likelihood raises; a time limit is
    fitflow stopping the fit, not a failing likelihood, so nothing of it is printed. The model
    is evaluated one walker at a time, so the limit lands inside the likelihood."""
    import fitflow
    from fitflow.core.timelimit import TimedOut, time_limit

    (tmp_path / "slow.py").write_text(SLOW_MODEL)
    monkeypatch.chdir(tmp_path)
    t = np.linspace(0, 4, 2000)  # the model's Python loop is most of each step (5 of 5 runs printed before)
    y = 2.0 * np.exp(-0.7 * t) + 0.01 * np.random.default_rng(1).standard_normal(t.size)
    data = fitflow.measurement(t, y, np.full_like(t, 0.01), model="slow.py:decay", p0=[1, 1], cv_folds=0)
    with pytest.raises(TimedOut), time_limit(1.5):
        fitflow.fit("emcee", data, n_steps=100_000, max_steps=100_000)
    out, err = capfd.readouterr()
    assert "Exception while calling" not in out + err and "Traceback" not in out + err
