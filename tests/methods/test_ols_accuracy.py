"""OLS is trustworthy on ill-conditioned designs: columns scaled before the solve, the
condition number reported, dependent columns a failed fit, and digits checked against
exact answers (no NIST files needed: the designs are built here)."""

import numpy as np
import pytest

import fitflow
from fitflow.core.model import ParametricModel
from fitflow.inputs.expression import expression_model


class _Given(fitflow.Problem):
    name = "given"
    capabilities = frozenset({"linear", "parametric"})

    def __init__(self, model):
        self._model = model

    def model(self, dataset):
        return self._model


def _data(model, x, y, sigma=None):
    return fitflow.Dataset(problem=_Given(model), x=x, y=y, sigma=sigma)


def _digits(estimate, truth):
    return -np.log10(max(np.max(np.abs(np.asarray(estimate) - truth) / np.abs(truth)), 1e-17))


def test_column_scaling_keeps_every_digit_of_a_badly_scaled_design():
    # Unscaled condition ~1e13 (x up to 3e6 and its square); scaled, the design is benign.
    x = np.linspace(1.5e5, 3e6, 40)
    truth = np.array([6.7e-4, 7.3e-7, -3.2e-15])
    design = np.column_stack([np.ones_like(x), x, x**2])
    model = ParametricModel(
        function=lambda x, t: np.column_stack([np.ones_like(x), x, x**2]) @ t,
        param_names=("b0", "b1", "b2"),
        p0=np.zeros(3),
        design=lambda x: np.column_stack([np.ones_like(x), x, x**2]),
    )
    result = fitflow.fit("ols", _data(model, x, design @ truth))
    assert result.ok
    assert result.diagnostics["condition_number"] > 1e12
    assert result.diagnostics["scaled_condition_number"] < 1e3
    assert _digits(result.estimate_vector(), truth) > 11  # unscaled SVD lost ~6 digits of b0 here


def _exact_least_squares(x, y, degree):
    """The exact least-squares solution of these (double) data, by mpmath at 50 digits."""
    import mpmath

    with mpmath.workdps(50):
        design = mpmath.matrix([[mpmath.mpf(float(v)) ** k for k in range(degree + 1)] for v in x])
        solution, _ = mpmath.qr_solve(design, mpmath.matrix([mpmath.mpf(float(v)) for v in y]))
        return np.array([float(v) for v in solution])


def test_a_degree_ten_polynomial_is_solved_in_extended_precision_from_an_expression():
    # Condition ~1e15: double precision alone keeps ~7 digits. The reference is the exact
    # least-squares solution of the same data, from mpmath at 50 digits.
    x = np.linspace(-8.8, -3.1, 82)
    truth = np.array(
        [
            -1467.49,
            -2772.18,
            -2316.37,
            -1127.97,
            -354.478,
            -75.1242,
            -10.8753,
            -1.06221,
            -0.0670191,
            -0.00246781,
            -4.02963e-05,
        ]
    )
    text = " + ".join(["b0"] + [f"b{k}*x**{k}" for k in range(1, 11)])
    model = expression_model(text, [f"b{k}" for k in range(11)], p0=np.ones(11))
    assert model.is_linear and model.exact_design is not None
    y = model(x, truth) + np.random.default_rng(0).normal(0, 1e-3, x.size)
    reference = _exact_least_squares(x, y, 10)
    result = fitflow.fit("ols", _data(model, x, y))
    assert result.ok and result.diagnostics["precision"] == "extended"
    assert result.diagnostics["condition_number"] > 1e14
    assert _digits(result.estimate_vector(), reference) > 13
    truth = reference
    # The same design given only in double precision: fewer digits, but never a confidently
    # wrong answer: either ok with about the digits it claims, or failed.
    plain = ParametricModel(function=model.function, param_names=model.param_names, p0=model.p0, design=model.design)
    double = fitflow.fit("ols", _data(plain, x, y))
    if double.ok:
        claimed = double.diagnostics["correct_digits"]
        assert _digits(double.estimate_vector(), truth) > claimed - 2.5 > 0
        assert any("ill-conditioned" in w for w in double.warnings)


def test_dependent_columns_fail_naming_the_parameters():
    x = np.linspace(0, 1, 20)
    model = expression_model("a*x + b*2*x + c", ["a", "b", "c"], p0=[1, 1, 1])
    result = fitflow.fit("ols", _data(model, x, 3 * x + 1))
    assert not result.ok
    assert "rank-deficient" in result.message and "a" in result.message and "b" in result.message


def test_unknown_errors_give_the_residual_scaled_covariance_of_statsmodels_form():
    # (A^T A)^-1 RSS / (n - p), the textbook OLS covariance, checked by direct algebra.
    rng = np.random.default_rng(4)
    x = np.linspace(0, 5, 30)
    y = 1.0 + 0.5 * x - 0.1 * x**2 + rng.normal(0, 0.2, x.size)
    model = expression_model("b0 + b1*x + b2*x**2", ["b0", "b1", "b2"], p0=[0, 0, 0])
    result = fitflow.fit("ols", _data(model, x, y))
    design = np.column_stack([np.ones_like(x), x, x**2])
    beta = np.linalg.solve(design.T @ design, design.T @ y)
    rss = np.sum((y - design @ beta) ** 2)
    np.testing.assert_allclose(result.estimate_vector(), beta, rtol=1e-10)
    np.testing.assert_allclose(result.covariance, np.linalg.inv(design.T @ design) * rss / 27, rtol=1e-8)


@pytest.mark.parametrize("weights", [None, "known"])
def test_weighted_least_squares_with_known_errors(weights):
    rng = np.random.default_rng(5)
    x = np.linspace(0, 2, 25)
    sigma = np.linspace(0.05, 0.5, x.size) if weights else None
    y = 2 - x + rng.normal(0, 1, x.size) * (sigma if weights else 0.1)
    model = expression_model("a + b*x", ["a", "b"], p0=[0, 0])
    result = fitflow.fit("ols", _data(model, x, y, sigma))
    design = np.column_stack([np.ones_like(x), x])
    w = 1 / sigma**2 if weights else np.ones_like(x)
    normal = design.T @ (design * w[:, None])
    beta = np.linalg.solve(normal, design.T @ (w * y))
    np.testing.assert_allclose(result.estimate_vector(), beta, rtol=1e-10)
    if weights:
        np.testing.assert_allclose(result.covariance, np.linalg.inv(normal), rtol=1e-9)
