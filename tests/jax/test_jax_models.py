"""A model written with jax.numpy: exact derivatives, clear errors when JAX cannot trace it,
the exact Hessian beside Gauss-Newton in nlls, and plugins that need JAX when it is absent."""

import io
import textwrap

import numpy as np
import pytest

import fitflow
from fitflow.core.errors import ModelError, SettingsError

pytest.importorskip("jax", reason="needs the jax extra (pip install -e '.[jax]')")


@pytest.fixture
def module(tmp_path):
    """Write ``source`` as a module file; return its path."""

    def write(source, name="models.py"):
        path = tmp_path / name
        path.write_text("import jax\nimport jax.numpy as jnp\nimport numpy as np\n\n" + textwrap.dedent(source))
        return path

    return write


def simulate(spec, **settings):
    base = dict(truth=[2.0, 0.7], noise=0.05, x_min=0.0, x_max=4.0, n_points=40, p0=[1.0, 1.0])
    return fitflow.generate("simulate", seed=3, model=spec, **{**base, **settings})


def test_a_jax_function_gets_its_jacobian_by_automatic_differentiation(module):
    path = module("def rise(x, b1, b2):\n    return b1 * (1 - jnp.exp(-b2 * x))\n")
    data = simulate(f"{path}:rise")
    model = data.model
    assert getattr(model.jacobian, "automatic", False) and model.differentiable
    b1, b2 = 2.0, 0.7
    exact = np.column_stack([1 - np.exp(-b2 * data.x), b1 * data.x * np.exp(-b2 * data.x)])
    np.testing.assert_allclose(model.jacobian_at(data.x, [b1, b2]), exact, rtol=1e-14, atol=1e-15)
    result = fitflow.fit("nlls", data)
    assert result.ok and result.diagnostics["hessian_stderr_ratio"]


def test_backend_numpy_fits_the_same_function_with_finite_differences(module):
    path = module("def rise(x, b1, b2):\n    return b1 * (1 - jnp.exp(-b2 * x))\n")
    automatic, finite = simulate(f"{path}:rise"), simulate(f"{path}:rise", backend="numpy")
    assert finite.model.jacobian is None and finite.model.jax_function is None
    a, b = fitflow.fit("nlls", automatic), fitflow.fit("nlls", finite)
    np.testing.assert_allclose(a.estimate_vector(), b.estimate_vector(), rtol=1e-7)
    assert "hessian_stderr_ratio" not in b.diagnostics


@pytest.mark.parametrize(
    "body, line, kind",
    [
        ("    if b1 > 0:\n        return b1 * x\n    return b2 * x\n", "if b1 > 0:", "TracerBoolConversionError"),
        ("    return np.exp(b1) * x + b2\n", "return np.exp(b1) * x + b2", "TracerArrayConversionError"),
        ("    y = jnp.zeros_like(x)\n    y[0] = b1\n    return y + b2 * x\n", "y[0] = b1", "immutable"),
    ],
    ids=["python-if", "numpy-call", "in-place"],
)
def test_a_function_jax_cannot_trace_is_refused_naming_file_line_and_fallback(module, body, line, kind):
    path = module("def f(x, b1, b2):\n" + body)
    with pytest.raises(ModelError) as caught:
        simulate(f"{path}:f")
    message = str(caught.value)
    assert str(path) in message and f"`{line}`" in message and kind in message, message
    assert "backend: numpy" in message
    lineno = (path.read_text().splitlines()).index("    " + line) + 1
    assert f"line {lineno}" in message


def test_a_gradient_that_is_not_finite_at_the_start_is_refused(module):
    path = module("def f(x, b1, b2):\n    return jnp.sqrt(b1) * x + b2\n")
    problem = fitflow.make_problem(
        "simulate", model=f"{path}:f", truth=[0.0, 1.0], p0=[0.0, 1.0], noise=0.1, x_min=0.0, x_max=1.0
    )
    with pytest.raises(ModelError, match=r"derivative in b1 is not finite.*backend: numpy"):
        problem.check_inputs()  # as the plan does, before any job


def test_backend_jax_without_jax_names_the_install_line(monkeypatch):
    import fitflow.inputs.user_model as user_model

    monkeypatch.setattr(user_model, "jax_available", lambda: False)
    with pytest.raises(SettingsError, match=r"pip install 'fitflow\[jax\]'"):
        simulate("b1*(1 - exp(-b2*x))", backend="jax")


def test_the_exact_hessian_matches_differences_of_the_exact_gradient():
    data = simulate("b1*(1 - exp(-b2*x))", noise=0.3)
    model, theta = data.model, np.array([1.7, 0.9])
    whiten = 1 / data.sigma

    def gradient(t):  # of 0.5 chi2, from the sympy Jacobian
        return -(model.jacobian_at(data.x, t) * whiten[:, None]).T @ ((data.y - model(data.x, t)) * whiten)

    step = 1e-6
    differences = np.column_stack(
        [(gradient(theta + step * e) - gradient(theta - step * e)) / (2 * step) for e in np.eye(2)]
    )
    hessian = model.exact().chi_square_hessian(data.x, data.y, whiten, theta)
    np.testing.assert_allclose(hessian, differences, rtol=1e-6)  # central differences: ~1e-8 relative here
    jacobian = model.jacobian_at(data.x, theta) * whiten[:, None]
    assert not np.allclose(hessian, jacobian.T @ jacobian, rtol=1e-3)  # away from zero residual they differ


def test_nlls_reports_where_gauss_newton_and_the_exact_hessian_disagree(module):
    # A peak whose data carry a large unmodelled structure: residuals far above their errors,
    # where Gauss-Newton's J^T W J drops the residual-weighted second derivatives.
    path = module("def peak(x, a, c, w):\n    return a * jnp.exp(-0.5 * ((x - c) / w) ** 2)\n")
    rng = np.random.default_rng(0)
    x = np.linspace(-3, 3, 60)
    y = 2 * np.exp(-0.5 * (x / 0.5) ** 2) + 1.5 * np.exp(-0.5 * ((x - 1.2) / 0.3) ** 2) + rng.normal(0, 0.02, 60)
    csv = path.parent / "peak.csv"
    csv.write_text("x,y,e\n" + "\n".join(f"{a:.17g},{b:.17g},0.02" for a, b in zip(x, y)))
    data = fitflow.generate("table", file=str(csv), x=["x"], y="y", sigma="e", model=f"{path}:peak", p0=[2, 0, 0.5])
    gauss_newton = fitflow.fit("nlls", data)
    exact = fitflow.fit("nlls", data, curvature="hessian")
    assert gauss_newton.ok and exact.ok
    ratios = np.array(list(gauss_newton.diagnostics["hessian_stderr_ratio"].values()))
    assert np.max(np.abs(ratios - 1)) > 0.10, ratios
    assert any("exact Hessian and Gauss-Newton" in w for w in gauss_newton.warnings)
    np.testing.assert_allclose(exact.stderr_vector() / gauss_newton.stderr_vector(), ratios, rtol=1e-10)
    np.testing.assert_array_equal(exact.estimate_vector(), gauss_newton.estimate_vector())


def test_on_a_linear_model_the_exact_hessian_is_gauss_newton():
    data = simulate("b1 + b2*x")
    gauss_newton, exact = fitflow.fit("nlls", data), fitflow.fit("nlls", data, curvature="hessian")
    np.testing.assert_allclose(exact.covariance, gauss_newton.covariance, rtol=1e-10)
    assert not exact.warnings


def test_curvature_hessian_needs_a_model_jax_can_differentiate():
    data = fitflow.generate("gaussian_peak", seed=1)  # a numpy model
    result = fitflow.fit("nlls", data, curvature="hessian")
    assert not result.ok and "needs a model JAX can differentiate" in result.message


def test_a_plugin_whose_extra_is_missing_is_unavailable_listed_and_skipped(monkeypatch):
    import importlib.util

    from fitflow.cli import list_plugins
    from fitflow.run.experiment import build_plan

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "blackjax" else real(name, *a))
    nuts = fitflow.core.registry.get_method("nuts")
    assert nuts.unavailable() == "needs blackjax, which is not installed: pip install 'fitflow[jax]'"
    listing = io.StringIO()
    list_plugins(out=listing)
    assert "UNAVAILABLE here: needs blackjax" in listing.getvalue()
    config = {
        "experiment": "x",
        "problems": {"s": {"plugin": "simulate", "settings": {"model": "a + b*x", "truth": [1, 2], "noise": 0.1}}},
        "methods": {"nlls": {}, "nuts": {}},
    }
    plan = build_plan(config)
    assert [p.method.label for p in plan.pairs] == ["nlls"]
    assert "pip install 'fitflow[jax]'" in plan.skipped[0]["reason"]
