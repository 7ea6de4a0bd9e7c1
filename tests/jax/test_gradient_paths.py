"""Gradients on every path a user takes (issue 55): each gradient method × each model form ×
each way a fit runs gives the reference answer.

- methods: ``nlls`` with the model's exact Jacobian, ``gradient_descent`` and ``nuts``;
- model forms: an expression, a ``file.py:function`` and a ``module:function`` written with
  jax.numpy, and a JAX ODE solver (RK4 in ``lax.scan``) whose solution is the same decay;
- paths: the Python API, ``fitflow compare`` (the command, with cross-validation), and the
  workflow with a job per batch (``chunks: 0``), with one chunk running its units in its own
  process, and with a chunk forking workers (``chunk_workers: 2``).

The data are a decay ``a exp(-b t) + c`` with known errors; the reference is scipy's
``curve_fit`` (``absolute_sigma=True``). ``nlls`` and ``gradient_descent`` must reproduce its
estimates to 1e-5 relative (both solve the same least-squares problem to their tolerances) and
its standard errors to 2% (Laplace's covariance from the exact Jacobian or Hessian against
curve_fit's from finite differences); ``nuts``'s posterior means must lie within 0.2 of
curve_fit's standard errors of its estimates (for a posterior this close to Gaussian under a
flat prior the mean and the optimum differ by a small fraction of an sd, and 300 draws of each
of 4 chains give a Monte Carlo error of about 0.05 sd), and its sds within 20%.
"""

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from conftest import run_snakemake, write_config

pytest.importorskip("blackjax", reason="needs the jax extra (pip install -e '.[jax]')")
pytestmark = pytest.mark.slow

TRUTH = {"a": 2.0, "b": 0.8, "c": 0.3}
METHODS = ("nlls", "gradient_descent", "nuts")
NUTS_SETTINGS = {"n_warmup": 300, "n_samples": 300, "min_ess": 100}

DECAY = """import jax.numpy as jnp


def decay(t, a, b, c):
    return a * jnp.exp(-b * t) + c
"""

SOLVER = '''"""dy/dt = -b (y - c), y(0) = a + c, by RK4 in lax.scan: 40 fixed steps from 0 to each t."""
import jax
import jax.numpy as jnp

STEPS = 40


def decay_ode(t, a, b, c):
    def solve(end):
        h = end / STEPS

        def rate(y):
            return -b * (y - c)

        def step(y, _):
            k1 = rate(y)
            k2 = rate(y + 0.5 * h * k1)
            k3 = rate(y + 0.5 * h * k2)
            k4 = rate(y + h * k3)
            return y + h / 6.0 * (k1 + 2 * k2 + 2 * k3 + k4), None

        y, _ = jax.lax.scan(step, a + c, None, length=STEPS)
        return y

    return jax.vmap(solve)(jnp.asarray(t))
'''

MODELS = {
    "expression": "a*exp(-b*t) + c",
    "file_function": "decay_file.py:decay",
    "module_function": "decay_module:decay",
    "jax_solver": "decay_solver.py:decay_ode",
}


def write_inputs(folder):
    """The data file and the model files into ``folder``, as a user keeps them in the folder
    they run in."""
    rng = np.random.default_rng(55)
    t = np.linspace(0.0, 5.0, 30)
    sigma = np.full_like(t, 0.05)
    y = TRUTH["a"] * np.exp(-TRUTH["b"] * t) + TRUTH["c"] + sigma * rng.standard_normal(t.size)
    pd.DataFrame({"t": t, "y": y, "err": sigma}).to_csv(folder / "decay.csv", index=False)
    (folder / "decay_file.py").write_text(DECAY)
    (folder / "decay_module.py").write_text(DECAY)
    (folder / "decay_solver.py").write_text(SOLVER)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("gradient-paths")
    write_inputs(folder)
    return folder


@pytest.fixture(scope="module")
def reference(workdir):
    """``(estimates, standard errors)`` of scipy's curve_fit on the same data."""
    from scipy.optimize import curve_fit

    data = pd.read_csv(workdir / "decay.csv")
    popt, pcov = curve_fit(
        lambda t, a, b, c: a * np.exp(-b * t) + c,
        data.t,
        data.y,
        p0=[1, 1, 0],
        sigma=data.err,
        absolute_sigma=True,
    )
    return popt, np.sqrt(np.diag(pcov))


def table_settings(model, cv_folds=0):
    return {
        "file": "decay.csv",
        "x": ["t"],
        "y": "y",
        "sigma": "err",
        "model": model,
        "params": list(TRUTH),
        "p0": [1.0, 1.0, 0.0],
        "lower": [0.0, 0.0, -5.0],
        "upper": [10.0, 10.0, 5.0],
        "cv_folds": cv_folds,
    }


def check(method, estimates, stderrs, reference, where):
    """The agreement stated in the module's docstring."""
    popt, perr = reference
    estimates, stderrs = np.asarray(estimates, dtype=float), np.asarray(stderrs, dtype=float)
    if method == "nuts":
        np.testing.assert_array_less(np.abs(estimates - popt), 0.2 * perr, err_msg=where)
        np.testing.assert_allclose(stderrs, perr, rtol=0.2, err_msg=where)
    else:
        np.testing.assert_allclose(estimates, popt, rtol=1e-5, err_msg=where)
        np.testing.assert_allclose(stderrs, perr, rtol=0.02, err_msg=where)


@pytest.mark.parametrize("form", MODELS)
def test_the_python_api(workdir, reference, form, monkeypatch):
    import fitflow

    monkeypatch.chdir(workdir)
    data = pd.read_csv("decay.csv")
    settings = table_settings(MODELS[form])
    dataset = fitflow.measurement(
        data.t.to_numpy(), data.y.to_numpy(), data.err.to_numpy(), columns=["t"], model=settings["model"],
        params=settings["params"], p0=settings["p0"], lower=settings["lower"], upper=settings["upper"],
    )  # fmt: skip
    assert dataset.model.differentiable, f"{form}: JAX cannot differentiate it"
    for method in METHODS:
        result = fitflow.fit(method, dataset, **(NUTS_SETTINGS if method == "nuts" else {}))
        assert result.ok, f"{form} / {method}: {result.message}"
        check(method, result.estimate_vector(), result.stderr_vector(), reference, f"API {form} / {method}")


@pytest.mark.parametrize("form", MODELS)
def test_fitflow_compare(workdir, reference, form):
    """The command a user types, cross-validation included (2 folds: each method fits 3 times)."""
    csv = workdir / f"compare-{form}.csv"
    settings = table_settings(MODELS[form])
    command = [
        sys.executable, "-m", "fitflow", "compare", "decay.csv", "--x", "t", "--y", "y", "--sigma", "err",
        "--model", settings["model"], "--params", *settings["params"], "--p0", "1", "1", "0",
        "--lower", "0", "0", "-5", "--upper", "10", "10", "5",
        "--methods", ",".join(METHODS), "--cv-folds", "2", "--csv", str(csv), "--budget", "300",
    ]  # fmt: skip
    proc = subprocess.run(command, cwd=workdir, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    table = pd.read_csv(csv).set_index("method")
    for method in METHODS:
        row = table.loc[method]
        assert row.status == "ok", f"{form} / {method}: {row.get('message')}"
        # A fold is a contiguous block of t: the late block alone hardly constrains a and b, and
        # NUTS may fail its ESS there, which the row must then say (the fit itself stays ok).
        assert np.isfinite(row.cv_rmse) or (method == "nuts" and "fold" in str(row.message)), (
            f"{form} / {method}: no cross-validated error ({row.message})"
        )
        estimates = [row[f"param.{p}"] for p in TRUTH]
        stderrs = [row[f"stderr.{p}"] for p in TRUTH]
        check(method, estimates, stderrs, reference, f"compare {form} / {method}")


@pytest.mark.parametrize(
    "layout",
    [{"chunks": 0}, {"chunks": 1, "chunk_workers": 1}, {"chunks": 1, "chunk_workers": 2}],
    ids=["a job per batch", "one chunk in its process", "one chunk with forked workers"],
)
def test_the_workflow(workdir, reference, layout, tmp_path):
    from fitflow.core.artefacts import read_result

    write_inputs(tmp_path)
    config = {
        "experiment": "gradients",
        "seed": 3,
        "replicates": 1,
        **layout,
        "problems": {form: {"plugin": "table", "settings": table_settings(model)} for form, model in MODELS.items()},
        "methods": {m: {"settings": NUTS_SETTINGS} if m == "nuts" else {} for m in METHODS},
    }
    run_snakemake(tmp_path, configfile=write_config(config, tmp_path / "config.yaml"), timeout=1200)
    root = tmp_path / "results" / "gradients"
    table = pd.read_csv(root / "fits.csv")
    assert len(table) == len(MODELS) * len(METHODS)
    failed = table[table.status != "ok"]
    assert failed.empty, failed[["problem", "method", "message"]].to_string()
    for form in MODELS:
        for method in METHODS:
            result = read_result(root / "fits" / form / "default" / method / "default" / "rep-0")
            check(method, result.estimate_vector(), result.stderr_vector(), reference, f"{layout} {form} / {method}")
    assert (root / "report.html").is_file()


def test_a_compiled_expression_keeps_its_jax_form_through_pickling():
    """The Snakefile hands its plan to the jobs pickled, with each expression as generated numpy
    code; unpickled, it must still give JAX's form (it did not: gradient_descent then failed on
    every expression model in the workflow, "calls a function JAX does not provide"), and again
    after a second round (a chunk's workers)."""
    import pickle

    import jax.numpy as jnp

    from fitflow.inputs.expression import compile_expression

    compiled = compile_expression("A*39.73*k**3/(exp(1.4388*k/T) - 1)", ("A", "T"), ("k",))
    k = np.linspace(1.0, 20.0, 5)
    expected = compiled.value(k, 1.0, 2.725)
    for _ in range(2):
        compiled = pickle.loads(pickle.dumps(compiled))
        jax_value = compiled.jax_value()
        assert jax_value is not None
        np.testing.assert_allclose(np.asarray(jax_value(jnp.asarray(k), 1.0, 2.725)), expected, rtol=1e-12)
