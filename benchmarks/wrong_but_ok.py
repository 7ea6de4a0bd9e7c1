"""Wrong answers labelled ok: counted over the NIST StRD nonlinear sets and the cases of issue 56.

A fit is *wrong but ok* when its status is ``ok``, nothing in its warnings names what is wrong,
and its answer is wrong:

* NIST (20 sets x 2 certified starts, nlls and, with JAX, gradient_descent): fewer than 4 correct
  digits in a parameter, or a standard error off the certified one by more than half of it
  (gradient_descent's come from the exact Hessian, the observed information, which differs from
  NIST's Gauss-Newton ones by up to 25% on ENSO: a different Laplace approximation, not a wrong
  one; nlls's agree to 6 digits, tests/nist);
* every x equal (``a*exp(-b*x)``, an expression and a Python function): any ok fit;
* Misra1a with its certified residual SD stated x1000 or x1/1000: ok without a
  ``goodness of fit`` warning;
* a model that returns whole numbers, random_search with 3 evaluations: ok at a chi-square the
  stated errors reject (p < 0.001);
* 14 influenza counts, the GP (it interpolates them): ok in ``compare`` without a warning that it
  follows the noise (needs JAX for the SIR model);
* Poisson counts on a log-linear model: nlls's estimates off statsmodels' Poisson GLM by more
  than 1e-6 (needs statsmodels).

The target is 0. Run: ``.venv/bin/python benchmarks/wrong_but_ok.py``.
"""

from pathlib import Path
import sys
import tempfile
import time

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "nist"))

from strd import NIST_DIR, all_problems, lre, table_settings, write_csv  # noqa: E402

import fitflow  # noqa: E402


def _has(result, text):
    return any(text in w for w in result.warnings)


def nist_cases(methods):
    """``(label, wrong_but_ok)`` per NIST fit."""
    with tempfile.TemporaryDirectory() as folder:
        for problem in all_problems():
            csv = write_csv(problem, folder)
            for start in (0, 1):
                data = fitflow.generate(fitflow.make_problem("table", **table_settings(problem, csv, start)))
                for method in methods:
                    result = fitflow.fit(method, data)
                    wrong = result.ok and (
                        lre(result.estimate_vector(), problem.certified).min() < 4
                        or np.max(np.abs(result.stderr_vector() / problem.certified_sd - 1)) > 0.5
                    )
                    yield f"NIST {problem.name} start {start + 1} {method} ({result.status})", wrong


def constant_x_cases(folder):
    (folder / "expmodel.py").write_text("import numpy as np\n\ndef decay(x, a, b):\n    return a * np.exp(-b * x)\n")
    for n in (5, 40, 200, 2000):
        x = np.full(n, 2.0)
        y = 3 * np.exp(-0.5 * x) + np.random.default_rng(n).normal(0, 0.05, n)
        for model in ("a*exp(-b*x)", f"{folder / 'expmodel.py'}:decay"):
            result = fitflow.fit("nlls", fitflow.measurement(x, y, model=model, p0=[1, 1], cv_folds=0))
            yield f"constant x, n = {n}, {model.split('/')[-1]} ({result.status})", result.ok


def misra_cases():
    from strd import read_strd

    problem = read_strd(NIST_DIR / "Misra1a.dat")
    n, p = problem.y.size, len(problem.params)
    for factor in (1000.0, 1e-3):
        sigma = np.full(n, factor * np.sqrt(problem.certified_rss / (n - p)))
        data = fitflow.measurement(
            problem.x, problem.y, sigma, model=problem.expression, params=problem.params, p0=problem.starts[1]
        )
        result = fitflow.fit("nlls", data)
        yield f"Misra1a errors x{factor:g} ({result.status})", result.ok and not _has(result, "goodness of fit")


def stepwise_case(folder):
    (folder / "stepmodel.py").write_text(
        "import numpy as np\n\ndef counts(x, a, b):\n    return np.round(a * np.exp(-b * x))\n"
    )
    rng = np.random.default_rng(0)
    t = np.linspace(0, 5, 30)
    y = rng.poisson(50 * np.exp(-0.7 * t)).astype(float)
    data = fitflow.measurement(
        t,
        y,
        np.sqrt(np.maximum(y, 1)),
        model=f"{folder / 'stepmodel.py'}:counts",
        p0=[30, 1],
        lower=[1, 0.01],
        upper=[100, 3],
        cv_folds=0,
    )
    result = fitflow.fit("random_search", data, budget=3)
    rejected = (result.diagnostics.get("chi2_p_value") or 1.0) < 1e-3
    yield f"whole-number model, random_search x3 ({result.status})", result.ok and rejected


def influenza_case():
    try:
        import jax  # noqa: F401
    except ImportError:
        return
    folder = ROOT / "examples" / "influenza"
    data = fitflow.generate(
        "table",
        file=str(folder / "boarding_school.csv"),
        x=["day"],
        y="in_bed",
        model=f"{folder / 'sir.py'}:infected",
        p0={"beta": 2.0, "gamma": 0.5},
    )
    table = fitflow.compare(data, methods=["gp"], budget_s=None)
    row = table.iloc[0]
    flagged = "follows the noise" in str(row.get("warnings", ""))
    yield f"influenza counts, gp in compare ({row.status})", row.status == "ok" and not flagged


def poisson_case():
    try:
        import statsmodels.api as sm
    except ImportError:
        return
    x = np.linspace(0, 4, 40)
    y = np.random.default_rng(5).poisson(np.exp(1.5 + 0.4 * x)).astype(float)
    data = fitflow.measurement(x, y, model="exp(a + b*x)", p0=[1, 0.1], likelihood="poisson", cv_folds=0)
    glm = sm.GLM(y, sm.add_constant(x), family=sm.families.Poisson()).fit(tol=1e-13)
    result = fitflow.fit("nlls", data)
    off = not np.allclose(result.estimate_vector(), glm.params, rtol=1e-6)
    yield f"Poisson log-linear vs GLM ({result.status})", result.ok and off


def main():
    if not NIST_DIR.is_dir():
        print(f"NIST StRD folder not found at {NIST_DIR}; nothing to measure")
        return 1
    try:
        import jax  # noqa: F401

        methods = ("nlls", "gradient_descent")
    except ImportError:
        methods = ("nlls",)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        cases = [
            *nist_cases(methods),
            *constant_x_cases(folder),
            *misra_cases(),
            *stepwise_case(folder),
            *influenza_case(),
            *poisson_case(),
        ]
    wrong = [label for label, bad in cases if bad]
    for label in wrong:
        print(f"WRONG BUT OK: {label}")
    statuses = [label.rsplit("(", 1)[-1].rstrip(")") for label, _ in cases]
    print(
        f"{len(cases)} fits ({statuses.count('ok')} ok, {statuses.count('failed')} failed), "
        f"{len(wrong)} wrong but ok (target 0), {time.perf_counter() - started:.0f} s"
    )
    return 0 if not wrong else 1


if __name__ == "__main__":
    sys.exit(main())
