"""gradient_descent: maximum likelihood by L-BFGS (optax) on JAX gradients, Laplace from the
exact Hessian; against nlls with the same exact curvature, and its refusals."""

import numpy as np
import pytest

import fitflow

pytest.importorskip("optax", reason="needs the jax extra (pip install -e '.[jax]')")


def rehearsal(**settings):
    base = dict(model="b1*(1 - exp(-b2*x))", truth=[2.0, 1.3], p0=[1, 1], noise=0.1, n_points=20)
    return fitflow.generate("simulate", seed=2, **{**base, **settings})


@pytest.mark.parametrize("bounds", [{}, {"lower": [0, 0], "upper": [10, 10]}], ids=["unbounded", "bounded"])
def test_lbfgs_reaches_the_least_squares_optimum_with_the_exact_hessian_covariance(bounds):
    data = rehearsal(**bounds)
    reference = fitflow.fit("nlls", data, curvature="hessian")
    result = fitflow.fit("gradient_descent", data)
    assert result.ok, result.message
    # both stop at the optimum to their tolerances (gtol 1e-8 here, 1e-15 in nlls)
    np.testing.assert_allclose(result.estimate_vector(), reference.estimate_vector(), rtol=1e-7)
    np.testing.assert_allclose(result.covariance, reference.covariance, rtol=1e-6)
    assert result.diagnostics["newton_distance"] <= 1e-3


def test_unknown_errors_scale_the_covariance_by_chi2_per_dof():
    data = rehearsal()
    data.sigma = None
    reference, result = fitflow.fit("nlls", data, curvature="hessian"), fitflow.fit("gradient_descent", data)
    assert result.ok, result.message
    np.testing.assert_allclose(result.stderr_vector(), reference.stderr_vector(), rtol=1e-6)


def test_a_descent_out_of_steps_is_failed_with_the_gradient_reached():
    result = fitflow.fit("gradient_descent", rehearsal(), max_steps=3)
    assert not result.ok and "not converged: max_steps (3) ran out" in result.message


def test_adam_that_stalls_short_of_the_optimum_is_failed():
    result = fitflow.fit("gradient_descent", rehearsal(), optimizer="adam", learning_rate=0.05)
    assert not result.ok and "not converged" in result.message


def test_many_parameters_skip_the_hessian_and_check_convergence_matrix_free():
    # ten Gaussian lines (30 parameters); max_hessian_params below that: no covariance, but the
    # Newton step to the optimum is still checked (conjugate gradients on Hessian-vector products)
    lines = " + ".join(f"a{i}*exp(-0.5*((x - c{i})/w{i})**2)" for i in range(10))
    truth = [v for i in range(10) for v in (1.0 + 0.1 * i, 0.5 + i, 0.3)]
    data = fitflow.generate(
        "simulate",
        seed=1,
        model=lines,
        truth=truth,
        p0=[t * 1.02 for t in truth],
        noise=0.02,
        x_min=0.0,
        x_max=10.0,
        n_points=400,
    )
    result = fitflow.fit("gradient_descent", data, max_hessian_params=10)
    assert result.ok, result.message
    assert result.stderr is None and "no covariance" in result.warnings[0]
    reference = fitflow.fit("nlls", data)
    np.testing.assert_allclose(result.estimate_vector(), reference.estimate_vector(), rtol=1e-6, atol=1e-8)
    np.testing.assert_array_less(np.abs(result.estimate_vector() - truth), 5 * reference.stderr_vector())


def test_a_local_minimum_where_terms_merged_is_failed_not_ok(tmp_path):
    # NIST Lanczos3 from its first start: L-BFGS ends where two exponentials coincide
    # (rank-deficient Jacobian), a local minimum with 270x the certified RSS
    import sys

    sys.path.insert(0, str(__import__("conftest").REPO / "tests"))
    from nist.strd import NIST_DIR, read_strd, table_settings, write_csv, write_jax_module

    if not NIST_DIR.is_dir():
        pytest.skip(f"NIST StRD files not found at {NIST_DIR}")
    problem = read_strd(NIST_DIR / "Lanczos3.dat")
    write_jax_module([problem], tmp_path)
    settings = table_settings(problem, write_csv(problem, tmp_path), 0, f"{tmp_path}/nist_jax_models.py:Lanczos3")
    result = fitflow.fit("gradient_descent", fitflow.generate("table", **settings))
    assert not result.ok and "rank-deficient" in result.message
