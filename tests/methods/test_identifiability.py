"""A model the data cannot identify is a failed fit, never ok (issue 56): with every x equal,
``a*exp(-b*x)`` fixes only ``a*exp(-b*x0)``. nlls once said ok there with standard errors of
1e13 (scaled condition number 2e15): its rank test ran on the Jacobian's 2x2 R factor with a
tolerance of eps times the matrix's size. One tolerance now, the precision of the Jacobian."""

import numpy as np
import pytest

import fitflow
from fitflow.core.lstsq import JACOBIAN_PRECISION, RankDeficiency, laplace_covariance

DECAY = "import numpy as np\n\ndef decay(x, a, b):\n    return a * np.exp(-b * x)\n"


@pytest.fixture
def callable_model(tmp_path, monkeypatch):
    (tmp_path / "expmodel.py").write_text(DECAY)
    monkeypatch.chdir(tmp_path)
    return "expmodel.py:decay"


@pytest.mark.parametrize("n", [5, 40, 200, 2000])
@pytest.mark.parametrize("x0", [1.0, 2.0, 3.7])
def test_constant_x_is_never_ok_whatever_the_size_and_the_derivatives(n, x0, callable_model):
    rng = np.random.default_rng(n)
    x = np.full(n, x0)
    y = 3 * np.exp(-0.5 * x) + rng.normal(0, 0.05, n)
    # the expression (exact derivatives) and a Python function (finite differences)
    for model in ("a*exp(-b*x)", callable_model):
        data = fitflow.measurement(x, y, model=model, p0=[1, 1], cv_folds=0)
        result = fitflow.fit("nlls", data)
        # failed, saying why: the first attempt's reason (a rank-deficient Jacobian, or a
        # parameter that no longer moves the model where the search ended)
        assert result.status == "failed", (model, result.stderr)
        assert "not separately determined" in result.message or "degenerate plateau" in result.message


def test_the_tolerance_is_the_same_for_the_jacobian_and_its_r_factor():
    rng = np.random.default_rng(1)
    column = rng.normal(size=40)
    jacobian = np.column_stack([column, column * (1 + 3e-15 * rng.normal(size=40))])  # dependent to rounding
    r_factor = np.linalg.qr(jacobian, mode="r")
    for matrix in (jacobian, r_factor):
        with pytest.raises(RankDeficiency):
            laplace_covariance(matrix, ["a", "b"])
    # Independent to 1e-10: determined for exact derivatives, not for finite differences.
    separate = np.column_stack([column, column + 1e-10 * rng.normal(size=40)])
    assert np.isfinite(laplace_covariance(separate, ["a", "b"])[0]).all()
    assert JACOBIAN_PRECISION["finite differences"] > 1e-10
    with pytest.raises(RankDeficiency):
        laplace_covariance(separate, ["a", "b"], "finite differences")


def test_a_linear_model_on_constant_x_fails_in_ols_and_in_every_cross_validation_fold():
    x = np.full(30, 2.0)
    y = 1 + np.random.default_rng(0).normal(0, 0.1, 30)
    data = fitflow.measurement(x, y, model="a + b*x", cv_folds=3)
    table = fitflow.compare(data, methods=["ols", "nlls"], budget_s=None)
    assert (table.status == "failed").all()
    assert table.message.str.contains("rank-deficient").all()


def test_standard_errors_beyond_any_plausible_scale_never_pass_silently():
    """Whatever the method: a standard error a million times its estimate, or wider than the
    parameter's bounds, is named in a warning."""
    from fitflow import FitResult
    from fitflow.core.validation import undetermined_warning

    x = np.linspace(0, 1, 20)
    data = fitflow.measurement(x, 1 + x, model="a + b*x", lower=[-10, -10], upper=[10, 10], cv_folds=0)
    honest = FitResult(params={"a": 1.0, "b": 1e-9}, stderr={"a": 0.1, "b": 0.05})  # b consistent with 0
    assert undetermined_warning(data, honest) is None
    huge = FitResult(params={"a": 2.6, "b": 1.5}, stderr={"a": 2.6e13, "b": 0.1})
    assert "not determined by these data: a = 2.6 ± 2.6e+13" in undetermined_warning(data, huge)
    wide = FitResult(params={"a": 1.0, "b": 1.0}, stderr={"a": 0.1, "b": 30.0})
    assert "b = 1 ± 30, wider than its bounds" in undetermined_warning(data, wide)
