"""Models that JAX differentiates in one mode only get their derivatives in that mode:
a custom_vjp (reverse only; diffrax's default adjoint) and a while_loop with a bound that
depends on the data (forward only; diffrax's ForwardMode). Where no mode gives the exact
Hessian, nlls says so in a warning and gradient_descent fails saying why."""

import numpy as np
import pytest

jax = pytest.importorskip("jax", reason="needs the jax extra (pip install -e '.[jax]')")

from fitflow.core.autodiff import ExactDerivatives, HessianUnavailable, jax_modules  # noqa: E402

X = np.linspace(0.0, 2.0, 30)
THETA = np.array([1.3, -0.4])


def exact_jacobian(x, theta):
    a, b = theta
    value = np.exp(-a * x) + b * x**2
    return np.column_stack([-x * np.exp(-a * x), x**2]), value


def reverse_only():
    """f = exp(-a x) + b x^2 through a custom_vjp: forward mode cannot enter it."""
    _, jnp = jax_modules()

    @jax.custom_vjp
    def f(x, theta):
        return jnp.exp(-theta[0] * x) + theta[1] * x**2

    def forward(x, theta):
        return f(x, theta), (x, theta)

    def backward(saved, cotangent):
        x, theta = saved
        grad = jnp.stack([jnp.sum(-x * jnp.exp(-theta[0] * x) * cotangent), jnp.sum(x**2 * cotangent)])
        return jnp.zeros_like(x), grad

    f.defvjp(forward, backward)
    return f


def forward_only(x, theta):
    """The same f, with one step of a while_loop whose bound is data: reverse mode cannot enter it."""
    _, jnp = jax_modules()
    steps = jnp.asarray(x.shape[0] > 0, dtype=int)
    value = jax.lax.fori_loop(0, steps, lambda i, v: v + jnp.exp(-theta[0] * x) + theta[1] * x**2, jnp.zeros_like(x))
    return value


@pytest.mark.parametrize("function", [reverse_only(), forward_only], ids=["custom_vjp", "while_loop"])
def test_the_jacobian_and_hessian_come_from_the_mode_that_traces(function):
    derivatives = ExactDerivatives(function)
    jacobian, value = exact_jacobian(X, THETA)
    np.testing.assert_allclose(derivatives.jacobian(X, THETA), jacobian, rtol=1e-12, atol=1e-14)
    y = value + 0.1
    # Hessian of 0.5 sum(r^2), r = y - f: J^T J - sum r d2f; d2f/da2 = x^2 exp(-a x), the rest 0
    residual = y - value
    expected = jacobian.T @ jacobian
    expected[0, 0] -= np.sum(residual * X**2 * np.exp(-THETA[0] * X))
    hessian = derivatives.chi_square_hessian(X, y, np.ones_like(X), THETA)
    np.testing.assert_allclose(hessian, expected, rtol=1e-10)


UNTRACEABLE_SECOND_ORDER = """
import jax
import jax.numpy as jnp
import numpy as np


@jax.custom_vjp
def curve(x, a, b):
    return jnp.exp(-a * x) + b * x**2


def forward(x, a, b):
    return curve(x, a, b), (x, a, b)


def backward(saved, cotangent):
    x, a, b = saved  # the gradient computed outside JAX, as some solvers do: not differentiable again

    def outside(x, a, b, c):
        return np.sum(-x * np.exp(-a * x) * c), np.sum(x**2 * c)

    shape = jax.ShapeDtypeStruct((), a.dtype)
    grad_a, grad_b = jax.pure_callback(outside, (shape, shape), x, a, b, cotangent, vmap_method="sequential")
    return jnp.zeros_like(x), grad_a, grad_b


curve.defvjp(forward, backward)
"""


def test_without_an_exact_hessian_nlls_warns_and_gradient_descent_fails_saying_why(tmp_path):
    import fitflow

    (tmp_path / "curve.py").write_text(UNTRACEABLE_SECOND_ORDER)
    data = fitflow.generate(
        "simulate",
        model=f"{tmp_path / 'curve.py'}:curve",
        truth=[1.3, -0.4],
        p0=[1.0, 0.0],
        noise=0.01,
        x_min=0.0,
        x_max=2.0,
    )
    with pytest.raises(HessianUnavailable, match="any mode"):
        data.model.exact().chi_square_hessian(data.x, data.y, np.ones_like(data.y), np.array([1.3, -0.4]))
    fitted = fitflow.fit("nlls", data)
    assert fitted.ok and "no exact curvature" in " ".join(fitted.warnings)
    np.testing.assert_allclose(fitted.estimate_vector(), [1.3, -0.4], atol=5 * fitted.stderr_vector().max())
    result = fitflow.fit("gradient_descent", data)
    assert not result.ok and "exact Hessian" in result.message
