"""Several objectives: `bayesopt` (EHVI, and ParEGO as ``parego``) against Optuna's NSGA-II and TPE and random search.

    .venv/bin/pip install -e '.[bench]'          # optuna (the peers)
    .venv/bin/python benchmarks/bench_pareto.py [--seeds 20] [--workers 2] [--batch 4]

Problems (both objectives minimised), each with its reference point and the hypervolume of
its true front (computed here on a dense grid of the front):

* **Branin-Currin** (Belakaria et al. 2019; BoTorch's standard two-objective test), 2-D,
  reference (18, 6); budget 40.
* **DTLZ2** (Deb et al. 2002) with 2 objectives and 4 variables: the front is the quarter
  circle f1^2 + f2^2 = 1, reference (1.1, 1.1), true hypervolume 1.21 - pi/4; budget 40.

Campaigns run in batches of ``--batch`` (Optuna: ask that many trials, then tell them).

``--botorch`` adds BoTorch's qLogNEHVI as its multi-objective tutorial runs it: a scrambled
Sobol' design of fitflow's default size, then a SingleTaskGP per objective (standardised
outcomes, BoTorch's default priors), 128 quasi-Monte-Carlo samples, and ``optimize_acqf``
choosing each batch point by point (``sequential``) with 10 restarts from 512 raw samples.
It is given the problem's reference point (fitflow infers its own from the data). It needs
torch and botorch; run from a virtual environment that has both and sees this one's packages
(as ``benchmarks/bench_bo_vs_skopt.py`` explains):

    /tmp/bt/bin/python benchmarks/bench_pareto.py --methods bayesopt,botorch
Printed per problem and method, over seeds: the median and quartiles of the normalised
hypervolume at the end (found / true, 1 best), and the ratio of each peer's median
shortfall (1 - normalised hypervolume) to bayesopt's.
"""

import argparse
from concurrent.futures import ProcessPoolExecutor
import math

import numpy as np

from timing import one_quiet_thread


def branin_currin(x1, x2):
    u, v = 15 * x1 - 5, 15 * x2
    branin = (
        (v - 5.1 / (4 * math.pi**2) * u**2 + 5 / math.pi * u - 6) ** 2 + 10 * (1 - 1 / (8 * math.pi)) * math.cos(u) + 10
    )
    x2 = max(x2, 1e-10)
    currin = (1 - math.exp(-1 / (2 * x2))) * (2300 * x1**3 + 1900 * x1**2 + 2092 * x1 + 60)
    currin /= 100 * x1**3 + 500 * x1**2 + 4 * x1 + 20
    return {"f1": branin, "f2": currin}


def dtlz2(x1, x2, x3, x4):
    g = sum((x - 0.5) ** 2 for x in (x2, x3, x4))
    return {"f1": (1 + g) * math.cos(x1 * math.pi / 2), "f2": (1 + g) * math.sin(x1 * math.pi / 2)}


def _true_front_branin_currin(n=400):
    """The non-dominated points of a dense grid (n x n) of Branin-Currin's inputs."""
    from fitflow.campaigns.pareto import non_dominated

    grid = np.linspace(0, 1, n)
    values = np.array([[*branin_currin(a, b).values()] for a in grid for b in grid])
    return values[non_dominated(values)]


PROBLEMS = {
    # name: (function, parameters, reference, true front)
    "branin_currin": (branin_currin, {"x1": [0, 1], "x2": [0, 1]}, (18.0, 6.0), _true_front_branin_currin),
    "dtlz2": (
        dtlz2,
        {f"x{i}": [0, 1] for i in range(1, 5)},
        (1.1, 1.1),
        lambda: np.column_stack([np.cos(t := np.linspace(0, np.pi / 2, 2001)), np.sin(t)]),
    ),
}
BUDGET = 40
METHODS = ("bayesopt", "parego", "random_search", "nsga2", "tpe")


def fitflow_run(name, method, seed, batch):
    one_quiet_thread()
    import fitflow

    function, parameters, reference, _ = PROBLEMS[name]
    reference = dict(zip(("f1", "f2"), reference))
    result = fitflow.pareto(
        function,
        parameters,
        {"f1": "minimise", "f2": "minimise"},
        budget=BUDGET,
        batch=batch,
        method="bayesopt" if method == "parego" else method,
        **({"pareto": "parego"} if method == "parego" else {}),
        noise_sd=0,
        seed=seed,
        reference=reference,
    )
    return result.hypervolume()[-1]


def optuna_run(name, method, seed, batch):
    one_quiet_thread()
    import optuna

    from fitflow.campaigns.pareto import hypervolume

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    function, parameters, reference, _ = PROBLEMS[name]
    sampler = (
        optuna.samplers.NSGAIISampler(seed=seed, population_size=batch * 2 if batch > 1 else 10)
        if method == "nsga2"
        else optuna.samplers.TPESampler(seed=seed, multivariate=True)
    )
    study = optuna.create_study(directions=["minimize", "minimize"], sampler=sampler)
    values = []
    while len(values) < BUDGET:
        trials = [study.ask() for _ in range(min(batch, BUDGET - len(values)))]
        for trial in trials:
            params = {key: trial.suggest_float(key, *bounds) for key, bounds in parameters.items()}
            outputs = function(**params)
            values.append((outputs["f1"], outputs["f2"]))
            study.tell(trial, list(values[-1]))
    return hypervolume(np.array(values), reference)


def botorch_run(name, method, seed, batch):
    """The hypervolume of one qLogNEHVI campaign (module docstring), on the unit cube."""
    one_quiet_thread()
    from botorch.acquisition.multi_objective.logei import qLogNoisyExpectedHypervolumeImprovement
    from botorch.fit import fit_gpytorch_mll
    from botorch.models import ModelListGP, SingleTaskGP
    from botorch.models.transforms import Standardize
    from botorch.optim import optimize_acqf
    from botorch.sampling.normal import SobolQMCNormalSampler
    from gpytorch.mlls.sum_marginal_log_likelihood import SumMarginalLogLikelihood
    import torch
    from torch.quasirandom import SobolEngine

    import fitflow
    from fitflow.campaigns.campaign import round_sizes
    from fitflow.campaigns.pareto import hypervolume

    torch.set_num_threads(1)
    torch.manual_seed(seed)
    function, parameters, reference, _ = PROBLEMS[name]
    names, bounds = list(parameters), np.array(list(parameters.values()), dtype=float)
    dim = len(names)

    def measure(unit):  # BoTorch maximises: it sees minus each objective
        points = bounds[:, 0] + (bounds[:, 1] - bounds[:, 0]) * unit.numpy()
        return [list(function(**dict(zip(names, p))).values()) for p in points]

    sizes = round_sizes(BUDGET, fitflow.make_method("bayesopt", budget=BUDGET).default_initial_size(dim), batch)
    x = SobolEngine(dim, scramble=True, seed=seed).draw(sizes[0]).to(torch.double)
    values = measure(x)
    unit_box = torch.stack([torch.zeros(dim), torch.ones(dim)]).to(torch.double)
    for size in sizes[1:]:
        y = -torch.tensor(values, dtype=torch.double)
        models = [SingleTaskGP(x, y[:, j : j + 1], outcome_transform=Standardize(m=1)) for j in range(y.shape[1])]
        model = ModelListGP(*models)
        fit_gpytorch_mll(SumMarginalLogLikelihood(model.likelihood, model))
        acquisition = qLogNoisyExpectedHypervolumeImprovement(
            model,
            ref_point=[-r for r in reference],
            X_baseline=x,
            prune_baseline=True,
            sampler=SobolQMCNormalSampler(sample_shape=torch.Size([128])),
        )
        points, _ = optimize_acqf(
            acquisition,
            unit_box,
            q=size,
            num_restarts=10,
            raw_samples=512,
            sequential=True,
            options={"batch_limit": 5, "maxiter": 200},
        )
        x = torch.cat([x, points])
        values += measure(points)
    return hypervolume(np.array(values), reference)


def run(case):
    name, method, seed, batch = case
    if method == "botorch":
        return botorch_run(name, method, seed, batch)
    return (fitflow_run if method in ("bayesopt", "parego", "random_search") else optuna_run)(name, method, seed, batch)


def main():
    from fitflow.campaigns.pareto import hypervolume

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--problems", default=",".join(PROBLEMS))
    parser.add_argument("--methods", default=",".join(METHODS), help="bayesopt first: the others' ratios are to it")
    args = parser.parse_args()
    names, methods = args.problems.split(","), args.methods.split(",")
    cases = [(n, m, s, args.batch) for n in names for m in methods for s in range(args.seeds)]
    with ProcessPoolExecutor(args.workers) as pool:
        results = dict(zip(cases, pool.map(run, cases)))
    print(f"{args.seeds} seeds, budget {BUDGET}, batches of {args.batch}: normalised hypervolume (found / true)")
    for name in names:
        _, _, reference, front = PROBLEMS[name]
        best = hypervolume(front(), reference)
        shortfall = {}
        for method in methods:
            ratio = np.array([results[(name, method, s, args.batch)] for s in range(args.seeds)]) / best
            q25, q50, q75 = np.percentile(ratio, [25, 50, 75])
            shortfall[method] = 1 - q50
            print(f"  {name:14s} {method:14s} median {q50:.3f}  quartiles [{q25:.3f}, {q75:.3f}]")
        for method in methods[1:]:
            print(f"  {name:14s} shortfall of {method} / bayesopt's: {shortfall[method] / shortfall['bayesopt']:.2f}")


if __name__ == "__main__":
    main()
