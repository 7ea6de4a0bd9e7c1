"""Mixed-variable suites, bayesopt against its peers: problems from the literature
(batches of 4), and scikit-learn hyper-parameter tuning (the BBO challenge's 16 rounds of 8).

    .venv/bin/pip install -e '.[bench]'          # optuna, scikit-optimize
    .venv/bin/python benchmarks/bench_mixed_suite.py [--suite mixed|sklearn] [--seeds 20] \
        [--workers 2] [--methods bayesopt,random_search,tpe,skopt] \
        [--hebo-python /tmp/hebovenv/bin/python]

HEBO 0.3.6 needs PyTorch and numpy < 1.25, so it runs in a venv of its own: this file, run
by that venv's Python with ``--worker hebo``, imports nothing but numpy, pandas and HEBO and
serves one campaign's proposals over a pipe (``hebo_worker``); the objective runs here, so
every optimiser is scored by the same library versions. HEBO's pins send pip's resolver
backtracking for a long time; pinned by hand it installs in a few minutes:

    python3 -m venv /tmp/hebovenv
    /tmp/hebovenv/bin/pip install numpy==1.24.4 scipy==1.11.4 pandas==2.2.3 scikit-learn==1.5.2 \
        torch==2.13.0 pymoo==0.6.0 gpytorch GPy catboost disjoint-set
    /tmp/hebovenv/bin/pip install --no-deps hebo==0.3.6

``--cache FILE`` keeps each finished campaign, so an interrupted run resumes (HEBO takes
about 40 s a campaign).

The ``mixed`` suite's problems (all minimised, noise-free; each knob's kind as the paper has it):

* ``func2c`` (Ru et al. 2020, CoCaBO): two choices (3 and 5 options) pick and add two of
  Rosenbrock, six-hump camel and Beale on two continuous knobs in [-1, 1];
* ``func3c`` (the same): three choices (3, 5 and 4 options), two continuous knobs;
* ``ackley5c_shuffled`` (the same paper's Ackley-5C): Ackley in 6-D on [-1, 1], five
  coordinates each a choice among 17 evenly spaced values, one continuous. Each choice's
  options map to the levels through a fixed shuffle, so that an optimiser which treats an
  option's index as a number (bayesopt's GP does) learns nothing from the order;
  ``ackley5c_ordinal`` keeps the levels in order (the optimum is then the middle option of
  each choice);
* ``rosenbrock_int`` (a bbob-mixint-like case): 4-D Rosenbrock, two continuous knobs in
  [-2, 2] and two integers in -2 .. 2.

The score is the normalised regret of the recommended point: ``(f(x) - f*) / (f_random - f*)``,
where ``f_random`` is the median of ``f`` over 20,000 uniform points (0: the optimum; 1: a
typical random point). Each method recommends what it would hand the scientist: bayesopt
its result, the peers their best evaluation (the problems are noise-free). Prints, per
problem, the median regret and its quartiles over seeds, and which method has the best
median.

The ``sklearn`` suite (``sklearn_tasks.py``): six models' cross-validated losses on data
sets bundled with scikit-learn, budget 128 in 16 rounds of 8. Its score is the challenge's
normalised score, 100 (1 - (f - f_best) / (f_random - f_best)): f_best the lowest loss any
run of any method found, f_random random search's mean at the budget. Prints each task's
mean and quartiles over seeds, and each method's mean over tasks (the challenge's ranking).
"""

import argparse
from concurrent.futures import ProcessPoolExecutor, as_completed
import itertools
import json
import subprocess
import time
import warnings

import numpy as np

from timing import one_quiet_thread

BUDGET, BATCH = 60, 4


def _rosenbrock2(x1, x2):
    return (100 * (x2 - x1**2) ** 2 + (x1 - 1) ** 2) / 300


def _six_hump_camel(x1, x2):
    return ((4 - 2.1 * x1**2 + x1**4 / 3) * x1**2 + x1 * x2 + (-4 + 4 * x2**2) * x2**2) / 10


def _beale(x1, x2):
    return ((1.5 - x1 + x1 * x2) ** 2 + (2.25 - x1 + x1 * x2**2) ** 2 + (2.625 - x1 + x1 * x2**3) ** 2) / 50


_COCABO_TERMS = (_rosenbrock2, _six_hump_camel, _beale)


def _cocabo_term(choice, x1, x2):
    return _COCABO_TERMS[min(int(choice), 2)](x1, x2)  # options beyond the third are Beale's


def func2c(h1, h2, x1, x2):
    x1, x2 = 2 * x1, 2 * x2
    return _cocabo_term(h1, x1, x2) + _cocabo_term(h2, x1, x2)


def func3c(h1, h2, h3, x1, x2):
    x1, x2 = 2 * x1, 2 * x2
    third = (5 * _six_hump_camel(x1, x2), 2 * _rosenbrock2(x1, x2), int(h3) * _beale(x1, x2))[min(int(h3), 2)]
    return _cocabo_term(h1, x1, x2) + _cocabo_term(h2, x1, x2) + third


ACKLEY_LEVELS = np.linspace(-1, 1, 17)


def ackley5c(h1, h2, h3, h4, h5, x):
    z = np.array([ACKLEY_LEVELS[int(h)] for h in (h1, h2, h3, h4, h5)] + [x])
    return float(-20 * np.exp(-0.2 * np.sqrt(np.mean(z**2))) - np.exp(np.mean(np.cos(2 * np.pi * z))) + 20 + np.e)


#: Each coordinate's own fixed shuffle of the levels, so that a choice's index says nothing
#: about its level: a categorical knob, as CoCaBO means it (``ackley5c_ordinal`` keeps the order).
ACKLEY_SHUFFLES = [np.random.default_rng(17 + i).permutation(17) for i in range(5)]


def ackley5c_shuffled(h1, h2, h3, h4, h5, x):
    return ackley5c(*(order[int(h)] for order, h in zip(ACKLEY_SHUFFLES, (h1, h2, h3, h4, h5))), x)


def rosenbrock_int(x1, x2, n1, n2):
    z = np.array([x1, x2, n1, n2], dtype=float)
    return float(np.sum(100 * (z[1:] - z[:-1] ** 2) ** 2 + (1 - z[:-1]) ** 2))


def _choice(k):
    return {"choices": list(range(k))}


PROBLEMS = {
    "func2c": (func2c, {"h1": _choice(3), "h2": _choice(5), "x1": [-1.0, 1.0], "x2": [-1.0, 1.0]}),
    "func3c": (func3c, {"h1": _choice(3), "h2": _choice(5), "h3": _choice(4), "x1": [-1.0, 1.0], "x2": [-1.0, 1.0]}),
    "ackley5c_ordinal": (ackley5c, {**{f"h{i}": _choice(17) for i in range(1, 6)}, "x": [-1.0, 1.0]}),
    "ackley5c_shuffled": (ackley5c_shuffled, {**{f"h{i}": _choice(17) for i in range(1, 6)}, "x": [-1.0, 1.0]}),
    "rosenbrock_int": (
        rosenbrock_int,
        {
            "x1": [-2.0, 2.0],
            "x2": [-2.0, 2.0],
            "n1": {"bounds": [-2, 2], "type": "int"},
            "n2": {"bounds": [-2, 2], "type": "int"},
        },
    ),
}


def _discrete(spec):
    """The values a discrete knob takes, or None for a continuous one."""
    if isinstance(spec, dict) and "choices" in spec:
        return list(spec["choices"])
    if isinstance(spec, dict) and spec.get("type") == "int":
        return list(range(spec["bounds"][0], spec["bounds"][1] + 1))
    return None


def _knob(spec):
    """``(kind, lower, upper, log)`` of a knob: kind "choice" (lower: the options), "int"
    or "float"."""
    if isinstance(spec, dict) and "choices" in spec:
        return "choice", list(spec["choices"]), None, False
    if isinstance(spec, dict):
        return spec.get("type", "float"), *spec["bounds"], spec.get("scale") == "log"
    return "float", *spec, False


def random_points(space, n, rng):
    """``n`` uniform points of a space (log knobs uniform in their logarithm), as dicts."""
    columns = {}
    for name, spec in space.items():
        kind, lower, upper, log = _knob(spec)
        if kind == "choice":
            columns[name] = [lower[i] for i in rng.integers(len(lower), size=n)]
            continue
        draw = np.exp(rng.uniform(np.log(lower), np.log(upper + (kind == "int")), n)) if log else None
        if kind == "int":
            values = np.floor(draw) if log else rng.integers(lower, upper + 1, n)
            columns[name] = np.minimum(values, upper).astype(int).tolist()
        else:
            columns[name] = (draw if log else rng.uniform(lower, upper, n)).tolist()
    return [{k: columns[k][i] for k in space} for i in range(n)]


def optimum(name):
    """f* by a bounded local search from a grid of starts, for every discrete combination."""
    from scipy.optimize import minimize

    f, space = PROBLEMS[name]
    if name.startswith("ackley5c"):
        return 0.0  # at the origin: the ninth level is 0
    discrete = {k: _discrete(s) for k, s in space.items() if _discrete(s) is not None}
    continuous = [k for k in space if k not in discrete]
    best = np.inf
    starts = list(itertools.product(*[np.linspace(*space[k], 5) for k in continuous]))
    for combo in itertools.product(*discrete.values()):
        fixed = dict(zip(discrete, combo))
        for start in starts:
            res = minimize(
                lambda x, fixed=fixed: f(**fixed, **dict(zip(continuous, x))),
                start,
                bounds=[space[k] for k in continuous],
            )
            best = min(best, res.fun)
    return float(best)


def regret_scale(name):
    f, space = PROBLEMS[name]
    values = [f(**p) for p in random_points(space, 20_000, np.random.default_rng(12345))]
    return float(np.median(values))


def fitflow_run(f, space, method, seed, budget, batch):
    one_quiet_thread()
    import yaml

    import fitflow

    method, *pairs = method.split(":")  # a variant: bayesopt:warp=none:n_starts=10
    settings = {key: yaml.safe_load(value) for key, value in (pair.split("=", 1) for pair in pairs)}
    result = fitflow.minimise(f, space, budget=budget, batch=batch, method=method, noise_sd=0, seed=seed, **settings)
    return f(**result.params)


def tpe_run(f, space, seed, budget, batch):
    one_quiet_thread()
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    sampler = optuna.samplers.TPESampler(seed=seed, constant_liar=True, multivariate=True)
    study = optuna.create_study(sampler=sampler)
    done = 0
    while done < budget:
        trials = [study.ask() for _ in range(min(batch, budget - done))]
        for trial in trials:
            params = {}
            for name, spec in space.items():
                kind, lower, upper, log = _knob(spec)
                if kind == "choice":
                    params[name] = trial.suggest_categorical(name, lower)
                elif kind == "int":
                    params[name] = trial.suggest_int(name, lower, upper, log=log)
                else:
                    params[name] = trial.suggest_float(name, lower, upper, log=log)
            study.tell(trial, f(**params))
        done += len(trials)
    return study.best_value


def skopt_run(f, space, seed, budget, batch):
    one_quiet_thread()
    from skopt import Optimizer
    from skopt.space import Categorical, Integer, Real

    dimensions = []
    for spec in space.values():
        kind, lower, upper, log = _knob(spec)
        prior = "log-uniform" if log else "uniform"
        if kind == "choice":
            dimensions.append(Categorical(lower))
        elif kind == "int":
            dimensions.append(Integer(lower, upper, prior=prior))
        else:
            dimensions.append(Real(lower, upper, prior=prior))
    optimizer = Optimizer(dimensions, base_estimator="GP", random_state=seed)
    best = np.inf
    done = 0
    while done < budget:
        points = optimizer.ask(n_points=min(batch, budget - done))
        values = [f(**dict(zip(space, p))) for p in points]
        optimizer.tell(points, values)
        best = min(best, *values)
        done += len(points)
    return best


_REPLY = "@reply "  # marks the HEBO worker's answers among anything else it prints


def hebo_worker(space, seed):
    """Serve one HEBO campaign over standard input and output (run by the HEBO venv's
    Python, see the module docstring): a line ``{"ask": n}`` gets n points, a line
    ``{"tell": [values]}`` gives the values of the points last asked for. The objective
    runs in the caller's venv, so every optimiser is scored by the same library versions."""
    import sys

    from hebo.design_space.design_space import DesignSpace
    from hebo.optimizers.hebo import HEBO
    import torch

    warnings.filterwarnings("ignore")
    torch.set_num_threads(1)
    np.random.seed(seed)
    torch.manual_seed(seed)
    described = []
    for name, spec in space.items():
        kind, lower, upper, log = _knob(spec)
        if kind == "choice":
            described.append({"name": name, "type": "cat", "categories": [str(v) for v in lower]})
        else:
            kind = {"int": "int", "float": "num"}[kind] if not log else {"int": "pow_int", "float": "pow"}[kind]
            described.append({"name": name, "type": kind, "lb": lower, "ub": upper})
    optimizer = HEBO(DesignSpace().parse(described), scramble_seed=seed)
    points = None
    for line in sys.stdin:
        message = json.loads(line)
        if "ask" in message:
            points = optimizer.suggest(n_suggestions=message["ask"])
            print(_REPLY + points.to_json(orient="records"), flush=True)
        else:
            optimizer.observe(points, np.array(message["tell"], dtype=float).reshape(-1, 1))


def hebo_run(python, f, space, seed, budget, batch):
    """One HEBO campaign: HEBO in its venv proposes (``hebo_worker``), ``f`` runs here."""
    command = [python, __file__, "--worker", "hebo", "--space", json.dumps(space), "--seed", str(seed)]
    options = {k: {str(o): o for o in spec["choices"]} for k, spec in space.items() if _knob(spec)[0] == "choice"}
    best, done = np.inf, 0
    with subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True) as worker:
        while done < budget:
            worker.stdin.write(json.dumps({"ask": min(batch, budget - done)}) + "\n")
            worker.stdin.flush()
            line = next(line for line in worker.stdout if line.startswith(_REPLY))
            asked = json.loads(line[len(_REPLY) :])
            rows = [{k: options[k][str(v)] if k in options else v for k, v in row.items()} for row in asked]
            values = [f(**row) for row in rows]
            worker.stdin.write(json.dumps({"tell": values}) + "\n")
            worker.stdin.flush()
            best, done = min(best, *values), done + len(rows)
        worker.stdin.close()
    return float(best)


def suite(name):
    """``(problems, budget, batch)`` of a suite."""
    if name == "sklearn":
        import sklearn_tasks

        return sklearn_tasks.PROBLEMS, 128, 8  # the BBO challenge's 16 rounds of 8
    return PROBLEMS, 60, 4


def run(case):
    suite_name, name, method, seed, hebo_python = case
    problems, budget, batch = suite(suite_name)
    f, space = problems[name]
    start = time.perf_counter()
    if method == "tpe":
        value = tpe_run(f, space, seed, budget, batch)
    elif method == "skopt":
        value = skopt_run(f, space, seed, budget, batch)
    elif method == "hebo":
        value = hebo_run(hebo_python, f, space, seed, budget, batch)
    else:
        value = fitflow_run(f, space, method, seed, budget, batch)
    return value, time.perf_counter() - start


def _key(case):
    _, name, method, seed, _ = case
    return f"{name}/{method}/{seed}"


def _cached(path):
    """``{case: (value, seconds)}`` from a cache file (one JSON line per campaign)."""
    try:
        with open(path) as lines:
            return {key: tuple(value) for key, value in map(json.loads, lines)}
    except (TypeError, FileNotFoundError):
        return {}


def print_regrets(names, methods, seeds, results):
    """The mixed suite: normalised regret against the known optimum, median and quartiles."""
    print("normalised regret of the recommendation: median [quartiles]; s per campaign (median)")
    for name in names:
        f_star, f_random = optimum(name), regret_scale(name)
        print(f"\n{name}: f* = {f_star:.4g}, median of random points {f_random:.4g}")
        medians = {}
        for m in methods:
            values, seconds = np.array([results[_key((None, name, m, s, None))] for s in seeds]).T
            regret = (values - f_star) / (f_random - f_star)
            q1, med, q3 = np.percentile(regret, [25, 50, 75])
            medians[m] = med
            print(f"  {m:14s} {med:8.4f} [{q1:.4f}, {q3:.4f}]   {np.median(seconds):6.1f} s")
        print(f"  best median: {min(medians, key=medians.get)}")


def print_scores(names, methods, seeds, results):
    """The tuning suite: Bayesmark's normalised score, 100 (1 - (f - f_best) / (f_random - f_best)),
    with f_best the lowest loss any run found and f_random random search's mean at the
    budget (100: the best found; 0: random search's typical result)."""
    print("normalised score (100: the best any run found; 0: random search): mean [quartiles]; s per campaign")
    means = {m: [] for m in methods}
    for name in names:
        values = {m: np.array([results[_key((None, name, m, s, None))] for s in seeds]) for m in methods}
        f_best = min(v[:, 0].min() for v in values.values())
        f_random = values["random_search"][:, 0].mean()
        print(f"\n{name}: best loss found {f_best:.4g}, random search's mean {f_random:.4g}")
        for m in methods:
            score = 100 * (1 - (values[m][:, 0] - f_best) / (f_random - f_best))
            q1, q3 = np.percentile(score, [25, 75])
            means[m].append(score.mean())
            print(f"  {m:14s} {score.mean():7.1f} [{q1:.1f}, {q3:.1f}]   {np.median(values[m][:, 1]):6.1f} s")
    print("\nmean over tasks: " + ", ".join(f"{m} {np.mean(v):.1f}" for m, v in means.items()))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--suite", choices=("mixed", "sklearn"), default="mixed")
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--problems", help="a comma-separated subset of the suite's problems")
    parser.add_argument("--methods", default="bayesopt,random_search,tpe,skopt")
    parser.add_argument("--hebo-python", help="a Python with HEBO 0.3.6 installed: adds HEBO to the methods")
    parser.add_argument("--cache", help="a file of finished campaigns: appended to, and not run again")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--space", help=argparse.SUPPRESS)
    parser.add_argument("--seed", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker == "hebo":
        hebo_worker(json.loads(args.space), args.seed)
        return
    problems, budget, batch = suite(args.suite)
    names = args.problems.split(",") if args.problems else list(problems)
    unknown = [n for n in names if n not in problems]
    if unknown:
        parser.error(f"--problems {','.join(unknown)}: not in the {args.suite} suite ({', '.join(problems)})")
    methods = args.methods.split(",")
    methods += ["hebo"] if args.hebo_python and "hebo" not in methods else []
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    cases = [(args.suite, n, m, s, args.hebo_python) for n in names for m in methods for s in seeds]
    results = _cached(args.cache)
    todo = [c for c in cases if _key(c) not in results]
    with ProcessPoolExecutor(args.workers) as pool:
        futures = {pool.submit(run, case): case for case in todo}
        for future in as_completed(futures):
            results[_key(futures[future])] = future.result()
            if args.cache:
                with open(args.cache, "a") as log:
                    log.write(json.dumps([_key(futures[future]), future.result()]) + "\n")
    print(f"{args.suite}: budget {budget}, batches of {batch}, noise-free; seeds {seeds.start}-{seeds.stop - 1}")
    (print_scores if args.suite == "sklearn" else print_regrets)(names, methods, seeds, results)


if __name__ == "__main__":
    main()
