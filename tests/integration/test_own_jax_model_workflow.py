"""config/own-jax-model.yaml end to end: the worked example of "Your model in JAX" (README).

A model written with jax.numpy in a .py file is fitted through the workflow by nlls (exact
Jacobian, Gauss-Newton against the exact Hessian) and nuts (NUTS on exact gradients); the
report shows nuts's diagnostics figures. Cross-validation is left out here to keep the test
short; the shipped config has it.

The two overlapping lines make the posterior far from Gaussian: its sds are up to 1.8 times
Laplace's (measured), and nuts and emcee agree on that, where Laplace cannot see it."""

import shutil

import numpy as np
import pandas as pd
import pytest

from conftest import REPO, run_snakemake, shipped_config, write_config
from fitflow.core.artefacts import read_result

pytest.importorskip("blackjax", reason="needs the jax extra (pip install -e '.[jax]')")
pytestmark = pytest.mark.slow

TRUTH = dict(a1=3.0, c1=4.2, w1=0.35, a2=1.2, c2=5.1, w2=0.5, b0=0.8, b1=-0.05)  # the CSV's header


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("own-jax-model")
    config = shipped_config("own-jax-model")
    settings = config["problems"]["spectrum"]["settings"]
    shutil.copytree(REPO / "examples" / "jax_model", workdir / "jax_model")
    settings["file"] = "jax_model/spectrum.csv"
    settings["model"] = "jax_model/lines.py:two_lines"
    settings["cv_folds"] = 0
    run_snakemake(workdir, configfile=write_config(config, workdir / "config.yaml"))
    return workdir / "results" / "own-jax-model"


def test_nlls_nuts_and_emcee_fit_the_jax_model(run):
    table = pd.read_csv(run / "fits.csv")
    assert set(table.method) == {"nlls", "nuts", "emcee"} and (table.status == "ok").all(), table[["method", "message"]]
    folder = run / "fits" / "spectrum" / "default"
    nlls, nuts, emcee = (read_result(folder / m / "default" / "rep-0") for m in ("nlls", "nuts", "emcee"))
    names = list(TRUTH)
    assert list(nlls.params) == names  # read from the function's arguments, in order
    truth = np.array([TRUTH[n] for n in names])
    # the synthetic spectrum was drawn from TRUTH: each estimate within 4 standard errors
    np.testing.assert_array_less(np.abs(nlls.estimate_vector() - truth), 4 * nlls.stderr_vector())
    ratios = np.array(list(nlls.diagnostics["hessian_stderr_ratio"].values()))
    assert np.all(np.abs(ratios - 1) < 0.1)  # chi2/dof ~ 1: the exact Hessian agrees with Gauss-Newton
    assert max(nuts.diagnostics["rhat"].values()) <= 1.01 and nuts.diagnostics["n_chains"] == 4
    # The two samplers against each other: posterior means within 4 Monte Carlo standard
    # errors of their difference, sds within 15% (each sd's MC error is ~3% at these ESS)
    sd = emcee.samples.std(axis=0)
    ess = nuts.diagnostics["effective_sample_size"], emcee.diagnostics["effective_sample_size"]
    bound = 4 * sd * np.sqrt(1 / ess[0] + 1 / ess[1])
    np.testing.assert_array_less(np.abs(nuts.samples.mean(axis=0) - emcee.samples.mean(axis=0)), bound)
    np.testing.assert_allclose(nuts.samples.std(axis=0), sd, rtol=0.15)
    # and both see a posterior wider than Laplace's for the overlapping lines' parameters
    assert np.max(nuts.stderr_vector() / nlls.stderr_vector()) > 1.3


def test_the_report_shows_the_nuts_diagnostics(run):
    html = (run / "report.html").read_text()
    for figure in ("nuts traces", "nuts energy", "nuts pairs"):
        assert f'alt="{figure}"' in html
