"""Constrained campaigns: `bayesopt` with output constraints against Optuna's constrained TPE.

    .venv/bin/pip install -e '.[bench]'          # optuna (the peer)
    .venv/bin/python benchmarks/bench_campaign_constrained.py [--seeds 20] [--workers 2]

Problems (minimised; the objective returns its value and the constrained outputs by name):

* **Gardner 2** (Gardner et al. 2014, "Bayesian optimization with inequality constraints",
  simulated problem 2): sin(x) + y subject to sin(x) sin(y) <= -0.95 on [0, 6]^2; budget 40.
  The feasible set is two small islands; the optimum, asin(0.95) - 1 = 0.2532 at
  x = 3 pi / 2, y = asin(0.95), lies on the edge of one.
* **Pressure vessel** (Sandgren 1990; the classic mixed-integer design): shell and head
  thicknesses are integer multiples of 0.0625 in (1 .. 99), radius and length continuous in
  [10, 200]; cost subject to three limits (thickness against radius, twice, and a volume of
  at least 1,296,000); budget 60. Best known feasible cost 6,059.714.

Prints, per problem and method, over seeds: seeds whose recommendation is feasible (checked on
the noise-free outputs), the median regret of the feasible recommendations (value minus the
best known), and the median share of evaluations that were infeasible.
"""

import argparse
from concurrent.futures import ProcessPoolExecutor
import math

import numpy as np

from timing import one_quiet_thread


def gardner2(x, y):
    return {"value": math.sin(x) + y, "c": math.sin(x) * math.sin(y)}


def pressure_vessel(shell, head, radius, length):
    ts, th = 0.0625 * shell, 0.0625 * head
    cost = 0.6224 * ts * radius * length + 1.7781 * th * radius**2 + 3.1661 * ts**2 * length + 19.84 * ts**2 * radius
    volume = math.pi * radius**2 * length + 4 / 3 * math.pi * radius**3
    return {"value": cost, "shell_margin": ts - 0.0193 * radius, "head_margin": th - 0.00954 * radius, "volume": volume}


PROBLEMS = {
    # name: (function, parameters, constraints, budget, best known)
    "gardner2": (gardner2, {"x": [0, 6], "y": [0, 6]}, {"c": "<= -0.95"}, 40, math.asin(0.95) - 1),
    "pressure_vessel": (
        pressure_vessel,
        {
            "shell": {"bounds": [1, 99], "type": "int"},
            "head": {"bounds": [1, 99], "type": "int"},
            "radius": [10, 200],
            "length": [10, 200],
        },
        {"shell_margin": ">= 0", "head_margin": ">= 0", "volume": ">= 1296000"},
        60,
        6059.714,
    ),
}


def _feasible(outputs, constraints):
    from fitflow.inputs.constraints import parse_constraints

    return all(c.slack(outputs[c.name]) >= 0 for c in parse_constraints(constraints))


def fitflow_run(name, seed):
    one_quiet_thread()
    import fitflow

    function, parameters, constraints, budget, _ = PROBLEMS[name]
    result = fitflow.minimise(function, parameters, budget=budget, noise_sd=0, seed=seed, constraints=constraints)
    outputs = function(**result.params)
    history = result.history
    return _feasible(outputs, constraints), outputs["value"], float(np.mean(history.ok & ~history.feasible))


def tpe_run(name, seed):
    one_quiet_thread()
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    function, parameters, constraints, budget, _ = PROBLEMS[name]
    from fitflow.inputs.constraints import parse_constraints

    limits = parse_constraints(constraints)

    def violations(trial):
        return trial.user_attrs["violations"]

    def objective(trial):
        params = {}
        for key, spec in parameters.items():
            if isinstance(spec, dict):
                params[key] = trial.suggest_int(key, *spec["bounds"])
            else:
                params[key] = trial.suggest_float(key, *spec)
        outputs = function(**params)
        trial.set_user_attr("violations", [-c.slack(outputs[c.name]) for c in limits])
        return outputs["value"]

    sampler = optuna.samplers.TPESampler(seed=seed, constraints_func=violations)
    study = optuna.create_study(sampler=sampler)
    study.optimize(objective, n_trials=budget)
    feasible = [t for t in study.trials if all(v <= 0 for v in t.user_attrs["violations"])]
    share = 1 - len(feasible) / len(study.trials)
    if not feasible:
        return False, math.nan, share
    best = min(feasible, key=lambda t: t.value)
    return True, best.value, share


def run(case):
    method, name, seed = case
    return (fitflow_run if method == "bayesopt" else tpe_run)(name, seed)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--problems", default=",".join(PROBLEMS))
    args = parser.parse_args()
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    names = args.problems.split(",")
    cases = [(m, n, s) for n in names for m in ("bayesopt", "tpe") for s in seeds]
    with ProcessPoolExecutor(args.workers) as pool:
        results = dict(zip(cases, pool.map(run, cases)))
    print(f"seeds {seeds.start}-{seeds.stop - 1}: feasible recommendations, median regret, infeasible share")
    for name in names:
        best = PROBLEMS[name][4]
        regrets = {}
        for method in ("bayesopt", "tpe"):
            feasible, value, share = np.array([results[(method, name, s)] for s in seeds], dtype=float).T
            regret = value[feasible > 0] - best
            regrets[method] = np.median(regret) if regret.size else math.nan
            print(
                f"  {name:16s} {method:9s} feasible {int(feasible.sum()):2d}/{len(seeds)}   "
                f"regret {regrets[method]:.4g}   infeasible evaluations {np.median(share):.0%}"
            )
        print(f"  {name:16s} regret ratio bayesopt / TPE {regrets['bayesopt'] / regrets['tpe']:.3f}")


if __name__ == "__main__":
    main()
