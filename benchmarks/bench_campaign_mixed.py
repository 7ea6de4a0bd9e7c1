"""A campaign like a laser-plasma experiment's: batches of 4, an integer knob, a secondary peak, shot noise.

    .venv/bin/pip install -e '.[bench]'          # optuna (the peer)
    .venv/bin/python benchmarks/bench_campaign_mixed.py [--seeds 20] [--workers 2] [--methods bayesopt,random,tpe]

The objective (to maximise) has three continuous knobs in [0, 1] and an integer one (say,
the number of gas jets, 1 .. 6). Its main peak (height 1) sits at jets = 4 and is narrow;
a secondary peak a fifth as high sits at jets = 2 and is broad, so a search that settles on
the first good slope it finds ends there. Every shot carries 5% multiplicative noise, whose
level the optimiser is not told. Budget 40, in rounds of 4 after the initial design.

Prints, per method, over seeds:

* **worth**: the noise-free value at the recommended point over the optimum's; median,
  and how many seeds reached >= 0.9;
* **spread**: the median over rounds of the smallest distance between two points of a
  round's batch (unit cube, integer and choice coordinates included), median over seeds;
  a batch of near-duplicates spends four shots as one;
* **longest integer run**: the most consecutive proposals (after the initial design)
  that kept the integer knob at one value, median over seeds;
* time per campaign;
* bayesopt's time to propose a batch of 8 in 6-D (target <= 2 s);
* how many seeds had a shot worth >= 0.9 of the optimum (noise-free): the main peak was
  found, whatever was recommended.

Peers: random search (fitflow's ``random_search``), Optuna's TPE (5.0, ``constant_liar`` for
batches, ``multivariate``, as Optuna recommends for parallel runs), recommending the best
observed shot (what ``study.best_trial`` gives).
"""

import argparse
from concurrent.futures import ProcessPoolExecutor
import time

import numpy as np

from timing import one_quiet_thread

BUDGET, BATCH, NOISE = 40, 4, 0.05
MAIN = (np.array([0.72, 0.30, 0.62]), 4, 0.15, 0.9, 1.0)  # centre, jets, width, jets width, height
SECONDARY = (np.array([0.25, 0.75, 0.30]), 2, 0.30, 1.5, 0.2)
PARAMETERS = {"a": [0.0, 1.0], "b": [0.0, 1.0], "c": [0.0, 1.0], "jets": {"bounds": [1, 6], "type": "int"}}


def peak(x, jets, centre, at, width, jets_width, height):
    distance = np.sum((np.asarray(x) - centre) ** 2) / (2 * width**2) + (jets - at) ** 2 / (2 * jets_width**2)
    return height * np.exp(-distance)


def truth(a, b, c, jets):
    x = (a, b, c)
    return float(peak(x, jets, *MAIN) + peak(x, jets, *SECONDARY))


OPTIMUM = truth(*MAIN[0], MAIN[1])  # the secondary peak adds ~1e-4 there; checked by main()


def shot(rng):
    """One noisy measurement, as the experiment gives it."""

    def measure(a, b, c, jets):
        return truth(a, b, c, jets) * (1 + NOISE * rng.standard_normal())

    return measure


def batch_spread(unit, n_initial):
    """Median over rounds after the initial design of the smallest pairwise distance."""
    spreads = []
    for start in range(n_initial, len(unit), BATCH):
        block = unit[start : start + BATCH]
        if len(block) > 1:
            gaps = np.linalg.norm(block[:, None] - block[None], axis=-1)
            spreads.append(gaps[np.triu_indices(len(block), 1)].min())
    return float(np.median(spreads))


def longest_run(values):
    best = run = 1
    for before, now in zip(values[:-1], values[1:]):
        run = run + 1 if now == before else 1
        best = max(best, run)
    return best


def fitflow_run(method, seed):
    one_quiet_thread()
    import fitflow

    start = time.perf_counter()
    result = fitflow.maximise(
        shot(np.random.default_rng(10_000 + seed)), PARAMETERS, budget=BUDGET, batch=BATCH, method=method, seed=seed
    )
    seconds = time.perf_counter() - start
    history = result.history
    from fitflow.campaigns.campaign import campaign_shape

    _, n_initial, _ = campaign_shape(fitflow.make_method(method, budget=BUDGET, batch=BATCH), 4, noise_sd=None)
    unit = history.space.to_unit(history.x)
    shots = [truth(*x) for x in history.x]
    return (
        truth(**result.params) / OPTIMUM,
        batch_spread(unit, n_initial),
        longest_run(list(history.x[n_initial:, 3])),
        seconds,
        max(shots) / OPTIMUM,
    )


def tpe_run(seed):
    one_quiet_thread()
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    measure = shot(np.random.default_rng(10_000 + seed))
    sampler = optuna.samplers.TPESampler(seed=seed, constant_liar=True, multivariate=True)
    study = optuna.create_study(direction="maximize", sampler=sampler)
    start = time.perf_counter()
    points = []
    while len(points) < BUDGET:
        trials = [study.ask() for _ in range(min(BATCH, BUDGET - len(points)))]
        for trial in trials:
            p = {k: trial.suggest_float(k, 0.0, 1.0) for k in "abc"}
            p["jets"] = trial.suggest_int("jets", 1, 6)
            points.append(p)
        for trial, p in zip(trials, points[-len(trials) :]):
            study.tell(trial, measure(**p))
    seconds = time.perf_counter() - start
    unit = np.array([[p["a"], p["b"], p["c"], (p["jets"] - 0.5) / 6] for p in points])
    n_initial = 10  # TPE's n_startup_trials
    return (
        truth(**study.best_trial.params) / OPTIMUM,
        batch_spread(unit, n_initial),
        longest_run([p["jets"] for p in points[n_initial:]]),
        seconds,
        max(truth(**p) for p in points) / OPTIMUM,
    )


def batch_proposal_seconds(q=8, repeats=3):
    """Seconds for one batch of ``q`` proposals in 6-D after 59 evaluations (Hartmann-6,
    one thread), noise-free and with unknown noise; best of ``repeats``."""
    one_quiet_thread()
    import fitflow
    from fitflow.campaigns.campaign import History
    from fitflow.inputs.space import SearchSpace
    from fitflow_plugins.problems.synthetic.black_box import BENCHMARKS

    f, lower, upper, _, _ = BENCHMARKS["hartmann6"]
    rng = np.random.default_rng(0)
    x = rng.uniform(lower, upper, size=(59, 6))
    space = SearchSpace.box([f"x{i}" for i in range(6)], lower, upper)
    method = fitflow.make_method("bayesopt", budget=100, batch=q)
    out = []
    for noise in (0.0, 0.1):
        y = np.array([f(row) for row in x]) + noise * rng.standard_normal(len(x))
        history = History(space, x, y, noise_sd=None if noise else 0.0)
        times = []
        for k in range(repeats):
            start = time.perf_counter()
            method.suggest(history, q, np.random.default_rng(k))
            times.append(time.perf_counter() - start)
        out.append(min(times))
    return out


def run(case):
    method, seed = case
    return tpe_run(seed) if method == "tpe" else fitflow_run(method, seed)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--methods", default="bayesopt,random_search,tpe")
    args = parser.parse_args()
    from scipy.optimize import minimize

    best_elsewhere = max(-minimize(lambda x, j=j: -truth(*x, j), MAIN[0], bounds=[(0, 1)] * 3).fun for j in range(1, 7))
    assert best_elsewhere < OPTIMUM * 1.001, "the optimum moved: recompute OPTIMUM"
    methods = args.methods.split(",")
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    cases = [(m, s) for m in methods for s in seeds]
    with ProcessPoolExecutor(args.workers) as pool:
        results = dict(zip(cases, pool.map(run, cases)))
    print(f"budget {BUDGET}, batches of {BATCH}, {NOISE:.0%} noise, seeds {seeds.start}-{seeds.stop - 1}")
    print(
        f"{'method':14s} {'worth (>=0.9)':>16s} {'spread':>8s} {'int run':>8s} {'s/campaign':>11s} {'best shot >=0.9':>16s}"
    )
    for m in methods:
        worth, spread, runs, seconds, reached = np.array([results[(m, s)] for s in seeds]).T
        hits = int(np.sum(worth >= 0.9))
        print(
            f"{m:14s} {np.median(worth):9.2f} ({hits:2d}/{len(worth)}) {np.median(spread):8.3f} "
            f"{np.median(runs):8.1f} {np.median(seconds):11.2f} {int(np.sum(reached >= 0.9)):13d}/{len(worth)}"
        )
    if "bayesopt" in methods:
        clean, noisy = batch_proposal_seconds()
        print(
            f"bayesopt: a batch of 8 in 6-D after 59 evaluations, one thread: {clean:.2f} s, {noisy:.2f} s with noise"
        )


if __name__ == "__main__":
    main()
