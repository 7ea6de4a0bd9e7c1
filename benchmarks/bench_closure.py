"""Learning a closure through a PDE solver: gradient-through-solver methods against gradient-free ones.

    .venv/bin/python benchmarks/bench_closure.py [--seeds 5]

On the ``closure_learning`` problem (flux-limited radiation diffusion; the Levermore-Pomraning
limiter to be learned as lambda(R) = 1/(3 + R^2/(a^2 + b^2 R)) from noisy profiles of three
Marshak waves), for one dataset (seed 0) it prints, per method:

* **solver runs to reach a chi-square within 1% of the best found** by any method, and in all.
  A run is one integration of the PDE: a value of the profiles, or one Jacobian of them
  (JAX's forward mode carries the two tangents through one integration; counted as one run,
  and its cost in time is in the next column). ``gradient_descent`` runs inside one compiled
  loop, where runs cannot be counted from Python: its iterations are given instead;
* wall time of the fit (JAX's compilation included, with its persistent cache warm); for
  ``bayesopt`` the framework's least-squares check of its answer is included in the time, not
  in the runs;
* the estimates and the closure's RMS relative error against Levermore-Pomraning.

Then, over ``--seeds`` noisy datasets, the closure error of ``nlls`` against that of a fit to
the noise-free profiles (the family's own limit): the target is within 2x.
"""

import argparse
import time
import warnings

import numpy as np


def instrumented(dataset, log):
    """``dataset`` with its model wrapped so that every value and Jacobian is logged as
    ``(kind, chi-square)`` (a Jacobian logs the chi-square of the last value)."""
    from dataclasses import replace

    model = dataset.model
    whiten = 1.0 / dataset.sigma

    def function(x, theta):
        values = model.function(x, theta)
        if x.shape == dataset.x.shape and np.array_equal(x, dataset.x):
            log.append(("value", float(np.sum(((dataset.y - values) * whiten) ** 2))))
        return values

    def jacobian(x, theta):
        log.append(("jacobian", log[-1][1] if log else np.inf))
        return model.jacobian(x, theta)

    jacobian.automatic = True
    wrapped = replace(model, function=function, jacobian=jacobian)
    object.__setattr__(wrapped, "_exact", model.exact())
    dataset._model = wrapped
    return dataset


def runs_to(log, target):
    """Solver runs (values and Jacobians) until the logged chi-square first falls to ``target``."""
    for i, (_, chi2) in enumerate(log):
        if chi2 <= target:
            return i + 1
    return None


METHODS = [
    ("nlls (JAX Jacobian through the solver)", "nlls", {}),
    ("gradient_descent (JAX gradient)", "gradient_descent", {}),
    ("nlls (finite differences)", "nlls", {"jacobian": "finite-difference"}),
    ("bayesopt (budget 150)", "bayesopt", {"budget": 150}),
]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    import fitflow

    rows, logs, best = [], {}, np.inf
    for label, method, settings in METHODS:
        for _attempt in ("compile", "warm"):  # the second run times a job whose compilation is cached
            log = []
            data = instrumented(fitflow.generate("closure_learning", seed=0), log)
            start = time.perf_counter()
            result = fitflow.fit(method, data, seed=0, **settings)
            seconds = time.perf_counter() - start
        metrics = fitflow.evaluate(data, result)
        # An optimiser's own runs are its budget; the least-squares check of its answer follows them.
        logs[label] = log[: settings["budget"]] if "budget" in settings else log
        chi2 = metrics["chi2"]
        best = min(best, chi2, *(c for _, c in log))
        rows.append((label, result, metrics, seconds))
    print(f"closure_learning, seed 0: best chi-square {best:.6g} on {len(data.y)} points")
    print(f"{'method':42s} {'runs to 1%':>10s} {'runs':>6s} {'time (s)':>9s}  {'a':>8s} {'b':>8s} {'closure err':>11s}")
    reached = {}
    for label, result, metrics, seconds in rows:
        log = logs[label]
        if label.startswith("gradient_descent"):
            to, total = "-", f"{result.n_evaluations} it" if result.n_evaluations else "-"
        else:
            hit = runs_to(log, 1.01 * best)
            reached[label] = hit
            to, total = (str(hit) if hit else "never"), str(len(log))
        a, b = ((result.params or {}).get(k, np.nan) for k in ("a", "b"))
        print(
            f"{label:42s} {to:>10s} {total:>6s} {seconds:9.2f}  {a:8.4f} {b:8.4f} "
            f"{metrics.get('closure_rms_error', np.nan):11.4f}  {result.status} {result.message[:90]}"
        )
    ours = reached[METHODS[0][0]]
    for label in (METHODS[2][0], METHODS[3][0]):
        if ours and reached.get(label):
            print(f"runs to 1%: {METHODS[0][0]} / {label} = {ours / reached[label]:.2f}")
        else:
            print(f"runs to 1%: {label} never reached it")

    clean = fitflow.generate("closure_learning", seed=0)
    clean.y = clean.grid_y.copy()
    limit = fitflow.evaluate(clean, fitflow.fit("nlls", clean, seed=0))["closure_rms_error"]
    errors = []
    for seed in range(args.seeds):
        data = fitflow.generate("closure_learning", seed=seed)
        errors.append(fitflow.evaluate(data, fitflow.fit("nlls", data, seed=seed))["closure_rms_error"])
    print(
        f"closure error of nlls over seeds 0-{args.seeds - 1}: median {np.median(errors):.4f} "
        f"(max {np.max(errors):.4f}); fit to the noise-free profiles {limit:.4f}; "
        f"ratio {np.median(errors) / limit:.2f} (target <= 2)"
    )


if __name__ == "__main__":
    main()
