"""Tikhonov deconvolution against the closed-form solution, the pseudo-inverse and the oracle lam."""

import numpy as np
import pytest
from scipy import linalg

import fitflow
from fitflow_plugins.methods.least_squares.tikhonov import _StandardFormCurve, difference_operator


@pytest.fixture(scope="module")
def data():
    return fitflow.generate("blurred_signal", seed=11)


def rmse(data, result):
    return fitflow.evaluate(data, result)["rmse"]


def test_fixed_lam_solution_matches_the_regularised_normal_equations(data):
    lam = 30.0
    result = fitflow.fit("tikhonov", data, choice="fixed", lam=lam)
    a = data.model.design(data.x) / data.sigma[:, None]
    d = difference_operator(a.shape[1], 1)
    reference = np.linalg.solve(a.T @ a + lam * d.T @ d, a.T @ (data.y / data.sigma))
    np.testing.assert_allclose(result.grid_mean, reference, rtol=1e-7, atol=1e-9)
    # Effective degrees of freedom: the trace of the influence matrix A (A^T A + lam D^T D)^-1 A^T.
    hat = a @ np.linalg.solve(a.T @ a + lam * d.T @ d, a.T)
    assert result.diagnostics["edf"] == pytest.approx(np.trace(hat), rel=1e-8)


def qr_curve_point(a, b, d, lam):
    """(squared residual, ||D f||, edf) from the stacked system's QR at one lam: the exact path."""
    n = a.shape[0]
    q, t = linalg.qr(np.vstack([a, np.sqrt(lam) * d]), mode="economic")
    f = linalg.solve_triangular(t, q[:n].T @ b)
    return np.sum((b - a @ f) ** 2), np.linalg.norm(d @ f), np.sum(q[:n] ** 2)


@pytest.mark.parametrize("order", [0, 1, 2])
def test_the_standard_form_scan_gives_the_curve_of_the_exact_qr_path(data, order):
    # The grid is scanned from one SVD in standard form; every point must be the one the stacked
    # QR gives. Measured agreement: 3e-8 relative at worst (||D f|| of order 2 at lam = 1e-8 of
    # the scale, where the fit interpolates noise); 1e-6 leaves room for other BLAS builds.
    result = fitflow.fit("tikhonov", data, order=order)
    a, b = data.model.design(data.x) / data.sigma[:, None], data.y / data.sigma
    d = difference_operator(a.shape[1], order)
    for i, lam in enumerate(result.arrays["lam"]):
        residual, penalty, edf = qr_curve_point(a, b, d, lam)
        np.testing.assert_allclose(
            [result.arrays["residual_norm"][i] ** 2, result.arrays["penalty_norm"][i], result.arrays["edf"][i]],
            [residual, penalty, edf],
            rtol=1e-6,
        )


def test_the_scan_declines_a_response_blind_to_the_unpenalised_null_space():
    # Rows summing to zero: the response cannot see a constant offset, which order 1 leaves
    # unpenalised, so the standard form does not exist and each lam must be solved by QR.
    rng = np.random.default_rng(0)
    a = rng.normal(size=(40, 30))
    a -= a.mean(axis=1, keepdims=True)
    b = rng.normal(size=40)
    assert not _StandardFormCurve(a, b, difference_operator(30, 1)).ok
    assert _StandardFormCurve(a, b, difference_operator(30, 0)).ok  # order 0 penalises every direction


def test_the_qr_fallback_scan_chooses_the_same_lam(data, monkeypatch):
    scanned = fitflow.fit("tikhonov", data)
    monkeypatch.setattr(_StandardFormCurve, "ok", False, raising=False)
    monkeypatch.setattr(_StandardFormCurve, "__init__", lambda self, *args: None)
    by_qr = fitflow.fit("tikhonov", data)
    assert by_qr.diagnostics["lam"] == scanned.diagnostics["lam"]
    np.testing.assert_allclose(by_qr.arrays["gcv"], scanned.arrays["gcv"], rtol=1e-6)
    np.testing.assert_array_equal(by_qr.grid_mean, scanned.grid_mean)  # the chosen lam is solved by QR either way


def pseudo_inverse_rmse(data):
    """RMSE of the unregularised least-squares answer (numpy's SVD pseudo-inverse)."""
    design = data.model.design(data.x) / data.sigma[:, None]
    f = np.linalg.lstsq(design, data.y / data.sigma, rcond=None)[0]
    return float(np.sqrt(np.mean((f - data.grid_y) ** 2)))


def test_regularisation_beats_the_unregularised_pseudo_inverse_fifty_fold(data):
    regularised = rmse(data, fitflow.fit("tikhonov", data))
    pseudo_inverse = pseudo_inverse_rmse(data)
    assert pseudo_inverse / regularised >= 50, (regularised, pseudo_inverse)
    # ols refuses the same system rather than return that answer as ok.
    unregularised = fitflow.fit("ols", data)
    assert not unregularised.ok and "rank-deficient" in unregularised.message


@pytest.mark.parametrize("order", [1, 2])
def test_gcv_lam_is_within_twice_the_oracle_rmse_on_its_grid(data, order):
    chosen = fitflow.fit("tikhonov", data, order=order)
    oracle = min(
        rmse(data, fitflow.fit("tikhonov", data, order=order, choice="fixed", lam=lam)) for lam in chosen.arrays["lam"]
    )
    assert rmse(data, chosen) <= 2 * oracle


def test_lcurve_choice_is_also_far_better_than_no_regularisation(data):
    lcurve = fitflow.fit("tikhonov", data, choice="lcurve")
    assert lcurve.diagnostics["choice"] == "lcurve"
    assert rmse(data, lcurve) < pseudo_inverse_rmse(data) / 50


@pytest.mark.parametrize("kernel, width, worse", [("gaussian", 0.3, 1e6), ("boxcar", 0.4, 10)])
def test_piecewise_signal(kernel, width, worse):
    # Jumps cannot be recovered exactly, but to far better than the signal's amplitude (1).
    # The boxcar response has exact spectral zeros that the pseudo-inverse's SVD cut-off drops,
    # so there it is "only" 18x worse (measured RMSE 1.0 against 0.054); the Gaussian's tail of
    # tiny singular values makes it ~1e10 worse.
    data = fitflow.generate("blurred_signal", seed=2, signal="piecewise", kernel=kernel, kernel_width=width)
    result = fitflow.fit("tikhonov", data)
    assert rmse(data, result) < 0.15
    assert rmse(data, result) * worse < pseudo_inverse_rmse(data)


def test_fixed_choice_without_lam_is_a_settings_error():
    with pytest.raises(fitflow.SettingsError, match="lam"):
        fitflow.make_method("tikhonov", choice="fixed")
