"""The verdict on 14 counts (issue 56): the 1978 boarding-school influenza outbreak with an SIR
model in JAX (examples/influenza). The report once said "Trust spline: lowest CV error (19.5)"
on 5 folds of 14 points, above the mechanistic model whose parameters were the point; a GP that
interpolated the counts (residual RMS 8e-6) was ok. Now the smoothers that follow the noise are
avoided, and of the SIR fits the verdict cannot tell apart it trusts the cheapest parametric one."""

import numpy as np
import pytest

from conftest import REPO
import fitflow

pytest.importorskip("jax", reason="needs the jax extra (pip install -e '.[jax]')")

FOLDER = REPO / "examples" / "influenza"


def outbreak(**settings):
    return fitflow.generate(
        "table",
        file=str(FOLDER / "boarding_school.csv"),
        x=["day"],
        y="in_bed",
        model=f"{FOLDER / 'sir.py'}:infected",
        p0={"beta": 2.0, "gamma": 0.5},
        **settings,
    )


def reference_fit(data):
    """scipy's least_squares on solve_ivp (tolerances 1e-10): the SIR least-squares answer."""
    from scipy.integrate import solve_ivp
    from scipy.optimize import least_squares

    def infected(theta):
        beta, gamma = theta

        def rate(_, state):
            s, i = state
            return [-beta * s * i / 763.0, beta * s * i / 763.0 - gamma * i]

        path = solve_ivp(rate, (0, 14), [762.0, 1.0], t_eval=data.x.ravel(), rtol=1e-10, atol=1e-10)
        return path.y[1]

    return least_squares(lambda theta: infected(theta) - data.y, [2.0, 0.5], x_scale="jac").x


def test_the_sir_fit_is_trusted_over_smoothers_that_follow_the_noise():
    data = outbreak()
    table = fitflow.compare(data, methods=["spline", "gp", "nlls", "mlp"], budget_s=None)
    verdict = fitflow.verdict(table)
    assert verdict["trust"]["name"] == "nlls", verdict
    avoided = {a["name"]: a["why"] for a in verdict["avoid"]}
    assert "follows the noise" in avoided["gp"] and "follows the noise" in avoided["spline"]
    gp = table.set_index("method").loc["gp"]
    assert gp.residual_rms < 1e-3 < gp.cv_rmse  # it interpolates 14 noisy counts
    # The SIR parameters agree with scipy's solve_ivp + least_squares to the RK4 step's accuracy.
    nlls = table.set_index("method").loc["nlls"]
    np.testing.assert_allclose([nlls["param.beta"], nlls["param.gamma"]], reference_fit(data), rtol=1e-4)
    # The CV error carries its standard error over the 5 folds.
    assert 0 < nlls.cv_rmse_se < nlls.cv_rmse and len(nlls.cv_fold_mse.split()) == 5


def test_the_command_line_prints_the_verdict(capsys):
    from fitflow.cli import main

    argv = ["compare", str(FOLDER / "boarding_school.csv"), "--x", "day", "--y", "in_bed"]
    argv += ["--model", f"{FOLDER / 'sir.py'}:infected", "--p0", "beta=2", "gamma=0.5", "--methods", "nlls,gp"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "verdict: trust nlls: lowest median CV prediction error" in out
    assert "verdict: avoid gp: it follows the noise" in out
    assert "verdict: how: the verdict compares each method" in out
