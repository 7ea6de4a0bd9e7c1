"""fitflow's bayesopt against scikit-optimize 0.10.2 on the same problems, budgets and seeds.

    .venv/bin/pip install -e '.[bench]'          # scikit-optimize, statsmodels
    .venv/bin/python benchmarks/bench_bo_vs_skopt.py [--seeds 20] [--first-seed 0] [--cases all] [--workers 2]

Prints, per case, the median over seeds (and how many seeds reached the target):

* noise-free: evaluations until the simple regret first drops below the threshold
  (a seed that never does counts as budget + 1);
* noisy (Gaussian noise of the stated sd on every evaluation): the *true* regret of
  the recommended point (fitflow: best posterior mean; skopt: ``res.x``, the best
  noisy sample gp_minimize returns, and ``expected_minimum(res)``, its surrogate's
  minimum);
* batches: evaluations to the threshold with q = 4 (kriging believer; skopt
  ``Optimizer.ask(n_points=4)``, constant liar) against q = 1;
* proposal time per iteration in 6-D with 59 evaluations, one thread: fitflow's
  ``suggest`` against skopt's ``tell`` + ``ask`` (which fit the GP and optimise the
  acquisition), best of 5.

skopt runs with its defaults (``gp_minimize``: GP with Matern-5/2, gp_hedge
acquisition, 10 initial points, noise modelled), as its users run it.

``--botorch`` adds BoTorch to the noise-free and noisy rows, run as its tutorials run it:
a scrambled Sobol' design of fitflow's default size, then a SingleTaskGP with BoTorch's
default priors and standardised outcomes, LogExpectedImprovement, ``optimize_acqf`` with
10 restarts from 512 raw samples; with noise, EI improves on and the recommendation is the
best posterior mean at an evaluated point, as fitflow's. BoTorch needs torch, which no
extra of fitflow installs (several GB unless pinned to a CPU build); run it from a virtual
environment that has both, e.g. one sharing this one's packages:

    python -m venv /tmp/bt && /tmp/bt/bin/pip install torch==2.13.0 botorch
    here=$(.venv/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
    echo "import site; site.addsitedir('$here')" \
        > "$(/tmp/bt/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')/fitflow.pth"
    /tmp/bt/bin/python benchmarks/bench_bo_vs_skopt.py --cases clean,noisy --botorch
"""

import argparse
from concurrent.futures import ProcessPoolExecutor
import time

import numpy as np

from timing import one_quiet_thread

NOISE_SD = {"forrester": 0.5, "branin": 1.0, "hartmann6": 0.1}
CASES = {
    # name: (function, threshold, budget)
    "forrester": ("forrester", 1e-3, 20),
    "branin": ("branin", 1e-2, 40),
    "hartmann6": ("hartmann6", 0.1, 60),
}


def _benchmark(function):
    from fitflow_plugins.problems.synthetic.black_box import BENCHMARKS

    return BENCHMARKS[function]


def evaluations_to(values, optimum, threshold, budget):
    regret = np.minimum.accumulate(np.asarray(values, dtype=float)) - optimum
    hit = np.flatnonzero(regret < threshold)
    return int(hit[0]) + 1 if hit.size else budget + 1


def fitflow_run(function, budget, seed, noise_sd=0.0, batch=1):
    """(observed values, true value at the recommendation) of one bayesopt campaign."""
    one_quiet_thread()
    import fitflow
    from fitflow.campaigns.campaign import run_in_process

    data = fitflow.generate("black_box", seed=seed, function=function, noise_sd=noise_sd)
    objective = data.objective
    method = fitflow.make_method("bayesopt", budget=budget, batch=batch)
    history, best = run_in_process(method, objective, seed)
    f = _benchmark(function)[0]
    return list(history.y), float(f(best.x))


def skopt_run(function, budget, seed, noise_sd=0.0, batch=1):
    """(observed values, true value at res.x, true value at expected_minimum) of skopt."""
    one_quiet_thread()
    from skopt import Optimizer, gp_minimize
    from skopt.utils import expected_minimum

    f, lower, upper, _, _ = _benchmark(function)
    noise = np.random.default_rng(10_000 + seed)

    def objective(x):
        return float(f(np.asarray(x))) + noise_sd * noise.standard_normal()

    dimensions = list(zip(lower, upper))
    if batch == 1:
        res = gp_minimize(objective, dimensions, n_calls=budget, random_state=seed)
        at_expected = float(f(np.asarray(expected_minimum(res, random_state=seed)[0]))) if noise_sd else None
        return list(res.func_vals), float(f(np.asarray(res.x))), at_expected
    optimizer = Optimizer(dimensions, base_estimator="GP", random_state=seed)
    values = []
    while len(values) < budget:
        points = optimizer.ask(n_points=min(batch, budget - len(values)))
        ys = [objective(p) for p in points]
        optimizer.tell(points, ys)
        values += ys
    return values, None, None


def botorch_run(function, budget, seed, noise_sd=0.0):
    """(observed values, true value at the recommendation) of one BoTorch campaign
    (module docstring), on the unit cube mapped onto the function's box."""
    one_quiet_thread()
    from botorch.acquisition import LogExpectedImprovement
    from botorch.fit import fit_gpytorch_mll
    from botorch.models import SingleTaskGP
    from botorch.models.transforms import Standardize
    from botorch.optim import optimize_acqf
    from gpytorch.mlls import ExactMarginalLogLikelihood
    import torch
    from torch.quasirandom import SobolEngine

    torch.set_num_threads(1)
    torch.manual_seed(seed)
    f, lower, upper, _, _ = _benchmark(function)
    lower, upper = np.asarray(lower, dtype=float), np.asarray(upper, dtype=float)
    dim = lower.size
    noise = np.random.default_rng(10_000 + seed)

    def measure(unit):  # BoTorch maximises: it sees minus the (noisy) value
        return [float(f(lower + (upper - lower) * u)) + noise_sd * noise.standard_normal() for u in unit.numpy()]

    def model_of(x, values):
        model = SingleTaskGP(
            x, -torch.tensor(values, dtype=torch.double).unsqueeze(-1), outcome_transform=Standardize(m=1)
        )
        fit_gpytorch_mll(ExactMarginalLogLikelihood(model.likelihood, model))
        return model

    import fitflow

    n_initial = fitflow.make_method("bayesopt", budget=budget).default_initial_size(dim, noisy=noise_sd != 0)
    x = SobolEngine(dim, scramble=True, seed=seed).draw(n_initial).to(torch.double)
    values = measure(x)
    bounds = torch.stack([torch.zeros(dim), torch.ones(dim)]).to(torch.double)
    while len(values) < budget:
        model = model_of(x, values)
        best = -min(values) if noise_sd == 0 else float(model.posterior(x).mean.max())
        point, _ = optimize_acqf(
            LogExpectedImprovement(model, best_f=best), bounds=bounds, q=1, num_restarts=10, raw_samples=512
        )
        x = torch.cat([x, point])
        values += measure(point)
    best = int(np.argmin(values)) if noise_sd == 0 else int(model_of(x, values).posterior(x).mean.argmax())
    return values, float(f(lower + (upper - lower) * x[best].numpy()))


def proposal_times(repeats=5):
    """Seconds per proposal in 6-D after 59 evaluations (one thread), fitflow and skopt."""
    one_quiet_thread()
    from skopt import Optimizer

    import fitflow
    from fitflow.campaigns.campaign import History
    from fitflow.inputs.space import SearchSpace

    f, lower, upper, _, _ = _benchmark("hartmann6")
    rng = np.random.default_rng(0)
    x = rng.uniform(lower, upper, size=(59, 6))
    y = np.array([f(row) for row in x])
    space = SearchSpace.box([f"x{i}" for i in range(6)], lower, upper)
    history = History(space, x, y, noise_sd=0.0)
    method = fitflow.make_method("bayesopt", budget=60)
    ours, theirs = [], []
    for k in range(repeats):
        start = time.perf_counter()
        method.suggest(history, 1, np.random.default_rng(k))
        ours.append(time.perf_counter() - start)
        optimizer = Optimizer(list(zip(lower, upper)), base_estimator="GP", random_state=k)
        start = time.perf_counter()
        optimizer.tell([list(r) for r in x], list(y))
        optimizer.ask()
        theirs.append(time.perf_counter() - start)
    return min(ours), min(theirs)


def _fmt_evals(counts, budget):
    reached = sum(c <= budget for c in counts)
    return f"{np.median(counts):5.1f} ({reached}/{len(counts)})"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument(
        "--first-seed",
        type=int,
        default=0,
        help="seeds first-seed, ..., first-seed + seeds - 1 (the table uses 0-19; tune on others)",
    )
    parser.add_argument("--cases", default="all", help="comma-separated: clean,noisy,batch,time (default all)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--botorch",
        action="store_true",
        help="add BoTorch to the noise-free and noisy rows (needs torch and botorch: see above)",
    )
    args = parser.parse_args()
    if args.botorch:
        try:
            import botorch  # noqa: F401
        except ImportError:
            parser.error("--botorch needs torch and botorch in this Python; the module docstring says how")
    wanted = {"clean", "noisy", "batch", "time"} if args.cases == "all" else set(args.cases.split(","))
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    pool = ProcessPoolExecutor(args.workers)
    print(f"{args.seeds} seeds; medians, (seeds reaching the target)", flush=True)
    if "clean" in wanted:
        print("\nnoise-free: evaluations until regret < threshold", flush=True)
        for name, (function, threshold, budget) in CASES.items():
            optimum = _benchmark(function)[3]
            ours = list(pool.map(fitflow_run, [function] * len(seeds), [budget] * len(seeds), seeds))
            theirs = list(pool.map(skopt_run, [function] * len(seeds), [budget] * len(seeds), seeds))
            a = [evaluations_to(v, optimum, threshold, budget) for v, _ in ours]
            b = [evaluations_to(v, optimum, threshold, budget) for v, _, _ in theirs]
            extra = ""
            if args.botorch:
                runs = pool.map(botorch_run, [function] * len(seeds), [budget] * len(seeds), seeds)
                extra = (
                    f"   botorch {_fmt_evals([evaluations_to(v, optimum, threshold, budget) for v, _ in runs], budget)}"
                )
            print(
                f"  {name:10s} regret {threshold:g}, budget {budget}: fitflow {_fmt_evals(a, budget)}   "
                f"skopt {_fmt_evals(b, budget)}{extra}",
                flush=True,
            )
    if "noisy" in wanted:
        print("\nnoisy: true regret of the recommended point (median, max)", flush=True)
        for name, (function, _, budget) in CASES.items():
            sd, optimum = NOISE_SD[function], _benchmark(function)[3]
            n = len(seeds)
            ours = list(pool.map(fitflow_run, [function] * n, [budget] * n, seeds, [sd] * n))
            theirs = list(pool.map(skopt_run, [function] * n, [budget] * n, seeds, [sd] * n))
            a = np.array([t for _, t in ours]) - optimum
            b = np.array([t for _, t, _ in theirs]) - optimum
            c = np.array([t for _, _, t in theirs]) - optimum
            extra = ""
            if args.botorch:
                runs = pool.map(botorch_run, [function] * n, [budget] * n, seeds, [sd] * n)
                d = np.array([t for _, t in runs]) - optimum
                extra = f"   botorch {np.median(d):.3g} (max {d.max():.3g})"
            print(
                f"  {name:10s} sd {sd:g}, budget {budget}: fitflow {np.median(a):.3g} (max {a.max():.3g})   "
                f"skopt res.x {np.median(b):.3g} (max {b.max():.3g})   skopt expected_minimum "
                f"{np.median(c):.3g} (max {c.max():.3g})   ratio fitflow/skopt {np.median(a) / np.median(b):.2f}"
                f"{extra}",
                flush=True,
            )
    if "batch" in wanted:
        print("\nbatches: Hartmann-6 evaluations until regret < 0.1, budget 60", flush=True)
        function, threshold, budget = CASES["hartmann6"]
        optimum, n = _benchmark(function)[3], len(seeds)
        results = {}
        for q in (1, 4):
            ours = list(pool.map(fitflow_run, [function] * n, [budget] * n, seeds, [0.0] * n, [q] * n))
            results[q] = [evaluations_to(v, optimum, threshold, budget) for v, _ in ours]
        theirs = list(pool.map(skopt_run, [function] * n, [budget] * n, seeds, [0.0] * n, [4] * n))
        skopt4 = [evaluations_to(v, optimum, threshold, budget) for v, _, _ in theirs]
        print(
            f"  fitflow q=1 {_fmt_evals(results[1], budget)}   q=4 {_fmt_evals(results[4], budget)}   "
            f"ratio {np.median(results[4]) / np.median(results[1]):.2f}   skopt q=4 {_fmt_evals(skopt4, budget)}",
            flush=True,
        )
    if "time" in wanted:
        ours, theirs = pool.submit(proposal_times).result()
        print(
            f"\nproposal time, 6-D, 59 evaluations, one thread: fitflow {ours:.3f} s   skopt {theirs:.3f} s   "
            f"ratio {ours / theirs:.2f}",
            flush=True,
        )
    pool.shutdown()


if __name__ == "__main__":
    main()
