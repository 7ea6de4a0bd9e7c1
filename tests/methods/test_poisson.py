"""Counts (issue 56): ``likelihood: poisson`` for nlls (maximum likelihood by reweighted least
squares), emcee, nuts and gradient_descent, against statsmodels' Poisson GLM where the model is
log-linear and scipy's minimiser on the Poisson deviance where it is not; rehearsals that draw
counts, or scatter as the file's own error column does."""

import numpy as np
import pytest

import fitflow
from fitflow import DataError, SettingsError

sm = pytest.importorskip("statsmodels.api", reason="statsmodels is the reference (test extra)")

X = np.linspace(0, 4, 40)


def log_linear(seed=5):
    y = np.random.default_rng(seed).poisson(np.exp(1.5 + 0.4 * X)).astype(float)
    data = fitflow.measurement(X, y, model="exp(a + b*x)", p0=[1, 0.1], likelihood="poisson", cv_folds=0)
    reference = sm.GLM(y, sm.add_constant(X), family=sm.families.Poisson()).fit(tol=1e-13)
    return data, reference


def test_nlls_is_the_poisson_glm_on_a_log_linear_model():
    data, glm = log_linear()
    result = fitflow.fit("nlls", data)
    # The same maximum and the same inverse Fisher information: IRLS stops when no parameter
    # moves by 1e-8 of its standard error, so 1e-8 relative.
    np.testing.assert_allclose([result.params["a"], result.params["b"]], glm.params, rtol=1e-8)
    np.testing.assert_allclose([result.stderr["a"], result.stderr["b"]], glm.bse, rtol=1e-7)
    metrics = fitflow.evaluate(data, result)
    assert metrics["chi2"] == pytest.approx(glm.pearson_chi2, rel=1e-9)  # Pearson's chi-square
    assert metrics["aic"] == pytest.approx(glm.aic, rel=1e-9)  # the Poisson likelihood's
    assert result.diagnostics["likelihood"] == "poisson"
    assert 1e-3 < result.diagnostics["chi2_p_value"] < 1 - 1e-3


def test_nlls_reaches_the_minimum_of_the_poisson_deviance_on_decay_counts():
    """Two exponentials and a background, counts drawn by the simulate problem."""
    data = fitflow.generate(
        "simulate",
        model="a1*exp(-t/tau1) + a2*exp(-t/tau2) + c",
        params=["a1", "tau1", "a2", "tau2", "c"],
        p0=[150, 1.5, 40, 12, 8],
        truth=[200, 2.0, 50, 15, 5],
        likelihood="poisson",
        x=["t"],
        x_min=0,
        x_max=60,
        n_points=120,
        seed=3,
    )
    assert data.sigma is None and np.all(data.y == np.round(data.y))
    result = fitflow.fit("nlls", data)
    from scipy.optimize import minimize

    t, y = data.x.ravel(), data.y

    def deviance(theta):
        mean = theta[0] * np.exp(-t / theta[1]) + theta[2] * np.exp(-t / theta[3]) + theta[4]
        if np.any(mean <= 0):
            return np.inf
        return 2 * np.sum(np.where(y > 0, y * np.log(y / mean), 0.0) - (y - mean))

    reference = minimize(
        deviance,
        result.estimate_vector() * 1.05,
        method="Nelder-Mead",
        options={"xatol": 1e-10, "fatol": 1e-12, "maxiter": 40000, "maxfev": 40000},
    )
    assert deviance(result.estimate_vector()) <= reference.fun + 1e-8  # no lower deviance than nlls's
    np.testing.assert_allclose(result.estimate_vector(), reference.x, rtol=1e-4)


def test_emcee_samples_the_poisson_posterior():
    data, glm = log_linear()
    result = fitflow.fit("emcee", data, seed=1)
    # Flat priors and 40 counts of 5 to 20: the posterior is close to Gaussian about the MLE.
    # Its mean within 0.15 standard errors, its spread within 10% (seeded; Monte Carlo error of
    # the mean about 0.03 sd at emcee's default sample size).
    for i, name in enumerate(["a", "b"]):
        assert abs(result.params[name] - glm.params[i]) < 0.15 * glm.bse[i]
        assert result.stderr[name] == pytest.approx(glm.bse[i], rel=0.1)


@pytest.mark.parametrize("method", ["nuts", "gradient_descent"])
def test_the_gradient_methods_use_the_poisson_likelihood(method):
    pytest.importorskip("jax", reason="needs the jax extra (pip install -e '.[jax]')")
    data, glm = log_linear()
    result = fitflow.fit(method, data, seed=1)
    assert result.ok, result.message
    if method == "gradient_descent":  # the maximum itself, and the observed information
        np.testing.assert_allclose([result.params["a"], result.params["b"]], glm.params, rtol=1e-6)
        np.testing.assert_allclose([result.stderr["a"], result.stderr["b"]], glm.bse, rtol=0.05)
    else:  # as emcee's tolerances
        for i, name in enumerate(["a", "b"]):
            assert abs(result.params[name] - glm.params[i]) < 0.15 * glm.bse[i]
            assert result.stderr[name] == pytest.approx(glm.bse[i], rel=0.1)


def test_gaussian_only_methods_refuse_counts_and_say_which_can_fit_them():
    y = np.random.default_rng(0).poisson(5 + 2 * X).astype(float)
    data = fitflow.measurement(X, y, model="a + b*x", likelihood="poisson", cv_folds=0)
    table = fitflow.compare(data, methods=["ols", "nlls"], budget_s=None).set_index("method")
    assert table.loc["ols", "status"] == "skipped" and "likelihood: poisson" in table.loc["ols", "message"]
    assert table.loc["nlls", "status"] == "ok"


def test_a_value_that_is_not_a_count_is_named_by_file_column_row_and_value(tmp_path):
    path = tmp_path / "counts.csv"
    path.write_text("t,n,err\n0,4,2\n1,,1\n2,3.5,2\n3,2,1\n")
    with pytest.raises(DataError, match=r"counts.csv', column 'n', row 3: is not a count .*3\.5"):
        fitflow.generate(
            "table",
            file=str(path),
            x=["t"],
            y="n",
            model="a*exp(-b*t)",
            p0=[4, 0.3],
            likelihood="poisson",
            missing="drop",
        )
    with pytest.raises(SettingsError, match="leave 'sigma' out"):
        fitflow.make_problem("table", file=str(path), x=["t"], y="n", sigma="err", likelihood="poisson")


def test_a_rehearsal_scatters_as_the_files_own_error_column(tmp_path):
    path = tmp_path / "spectrum.csv"
    x = np.linspace(1, 10, 200)
    errors = 0.01 * x**2  # errors growing along the file, as FIRAS's do at its ends
    np.savetxt(path, np.column_stack([x, np.zeros_like(x), errors]), delimiter=",", header="x,y,err", comments="")
    data = fitflow.generate(
        "simulate", file=str(path), x=["x"], sigma="err", model="a + b*x", params=["a", "b"], truth=[1.0, 2.0], seed=4
    )
    np.testing.assert_array_equal(data.sigma, errors)
    pulls = (data.y - (1 + 2 * x)) / errors
    assert abs(np.std(pulls) - 1) < 0.15  # 200 unit normals: sd of the sd about 0.05
    with pytest.raises(SettingsError, match="'noise' or 'sigma', not both"):
        fitflow.make_problem(
            "simulate",
            file=str(path),
            x=["x"],
            sigma="err",
            noise=0.1,
            model="a + b*x",
            params=["a", "b"],
            truth=[1, 2],
        )
