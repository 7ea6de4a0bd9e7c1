"""fitflow's nlls and emcee against the certified NIST StRD nonlinear regression results.

Each set goes through the user-facing path: its data written as a CSV, its model
as an expression in the ``table`` problem, fitted with the ``nlls`` plugin from
both of NIST's starting points. Targets (the issue's): every parameter and
standard deviation to LRE >= 6, the residual sum of squares to LRE >= 8. The
allowed exception for Lanczos-type sets (RSS at the limit of double precision)
is not needed: Lanczos2/3 reach LRE >= 6.4 for the standard deviations too.
The table of LREs: ``.venv/bin/python benchmarks/nist_lre.py``.
"""

import numpy as np
import pytest

import fitflow

from .strd import NIST_DIR, all_problems, lre, nlls_lre, read_strd, table_settings, write_csv

pytestmark = pytest.mark.skipif(
    not NIST_DIR.is_dir(), reason=f"NIST StRD files not found at {NIST_DIR} (../shared/nist-strd beside the checkout)"
)

NAMES = sorted(p.stem for p in NIST_DIR.glob("*.dat")) if NIST_DIR.is_dir() else []


@pytest.fixture(scope="module")
def csv_folder(tmp_path_factory):
    return tmp_path_factory.mktemp("nist")


def test_parser_reads_all_twenty_sets():
    problems = all_problems()
    assert len(problems) == 20
    for problem in problems:
        assert len(problem.params) == len(problem.starts[0]) == len(problem.certified) == len(problem.certified_sd)
        assert problem.x.shape[0] == problem.y.size > len(problem.params)


def test_fitflow_reads_every_strd_file_as_the_test_parser_does():
    # fitflow's own data reader (tables.read_observations), given the .dat file itself,
    # against this test suite's independent StRD parser: the same numbers, bit for bit.
    from fitflow.inputs.tables import read_observations

    for problem in all_problems():
        observations = read_observations(NIST_DIR / f"{problem.name}.dat", problem.variables, "y")
        np.testing.assert_array_equal(observations.y, problem.y)
        np.testing.assert_array_equal(observations.x, problem.x)


def test_misra1a_fitted_from_its_own_dat_file_reaches_the_certified_values():
    problem = read_strd(NIST_DIR / "Misra1a.dat")
    data = fitflow.generate(
        "table",
        file=str(NIST_DIR / "Misra1a.dat"),
        model=problem.expression,
        params=problem.params,
        p0=problem.starts[0],
    )
    result = fitflow.fit("nlls", data)
    assert result.ok, result.message
    estimate = [result.params[p] for p in problem.params]
    assert np.all(lre(estimate, problem.certified) >= 6)


@pytest.mark.parametrize("start", [0, 1], ids=["start1", "start2"])
@pytest.mark.parametrize("name", NAMES)
def test_nlls_reproduces_certified_values(name, start, csv_folder):
    problem = read_strd(NIST_DIR / f"{name}.dat")
    lres, result = nlls_lre(problem, write_csv(problem, csv_folder), start)
    assert lres is not None, f"{name} start {start + 1}: {result.message}"
    assert lres["params"].min() >= 6, f"parameter LREs {np.round(lres['params'], 1)}"
    assert lres["sd"].min() >= 6, f"standard deviation LREs {np.round(lres['sd'], 1)}"
    assert lres["rss"] >= 8, f"RSS LRE {lres['rss']:.1f}"


def test_divergent_levenberg_marquardt_start_is_rescued(csv_folder):
    """From 30x NIST's first start, MINPACK's LM fails on Rat42; nlls falls back to
    Jacobian-scaled TRF, polishes with LM and still reaches the certified values."""
    from scipy.optimize import leastsq

    problem = read_strd(NIST_DIR / "Rat42.dat")
    settings = table_settings(problem, write_csv(problem, csv_folder), 0)
    settings["p0"] = [30 * v for v in settings["p0"]]
    data = fitflow.generate(fitflow.make_problem("table", **settings))
    model = data.model
    with np.errstate(all="ignore"):
        *_, ier = leastsq(
            lambda t: data.y - model(data.x, t),
            model.p0,
            Dfun=lambda t: -model.jacobian_at(data.x, t),
            full_output=True,
            maxfev=4000,
        )
    assert ier not in (1, 2, 3, 4), "plain LM converged: this start no longer exercises the fallback"
    result = fitflow.fit("nlls", data)
    assert result.ok, result.message
    assert result.diagnostics["algorithm"] == "lm after trf(x_scale=jac)"
    assert lre(result.estimate_vector(), problem.certified).min() >= 6


# Posteriors the stretch move does not cross in 10,000 steps (measured: 11-35 autocorrelation
# times; the parameters of these sets are strongly and non-linearly correlated).
HARD_FOR_EMCEE = {"Lanczos2", "Lanczos3", "MGH10", "MGH17", "Nelson"}


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_emcee_posterior_medians_agree_with_certified_values(name, csv_folder):
    """emcee, started from the nlls optimum, with the error level integrated out:
    each posterior median lies within 2 posterior standard deviations of NIST's
    certified value. (The posterior is nearly Gaussian around the least-squares
    optimum for these sets, so the median sits well inside 2 sd; a shifted or
    mis-scaled likelihood would push it out.) The chain starts at 2,000 steps and is
    extended to 50 autocorrelation times, at most 10,000 steps here; on the sets that
    need more it must fail saying so, never be ok with an unconverged chain."""
    problem = read_strd(NIST_DIR / f"{name}.dat")
    data = fitflow.generate(fitflow.make_problem("table", **table_settings(problem, write_csv(problem, csv_folder), 1)))
    result = fitflow.fit("emcee", data, seed=1, n_steps=2000, max_steps=10_000, max_samples=4000)
    if name in HARD_FOR_EMCEE and not result.ok:
        assert result.message.startswith("chain not converged: 10000 steps"), result.message
        return
    assert result.ok, result.message
    assert result.diagnostics["n_steps"] >= 50 * max(result.diagnostics["tau"])
    median, spread = result.estimate_vector(), result.stderr_vector()
    distance = np.abs(median - problem.certified) / spread
    assert np.all(distance < 2), f"|median - certified| / sd = {np.round(distance, 2)}"
