"""bayesopt on the built-in test functions: median and worst regret over seeds, and the time
it takes, in one run (to check that a speed change keeps the accuracy).

    .venv/bin/python benchmarks/bench_bayesopt.py [--seeds 8] [--budget 30]
"""

import argparse
import time
import warnings

import numpy as np

import fitflow


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=8)
    parser.add_argument("--budget", type=int, default=30)
    args = parser.parse_args()
    warnings.filterwarnings("ignore")  # scikit-learn's notes on hyperparameters at their bounds
    for function in ("forrester", "branin", "hartmann6"):
        regrets, started = [], time.perf_counter()
        for seed in range(args.seeds):
            data = fitflow.generate("black_box", seed=seed, function=function)
            result = fitflow.fit("bayesopt", data, seed=seed, budget=args.budget)
            regrets.append(fitflow.evaluate(data, result)["regret"])
        print(
            f"{function:10s} median regret {np.median(regrets):.3g}  worst {np.max(regrets):.3g}  "
            f"time {time.perf_counter() - started:.1f} s for {args.seeds} runs",
            flush=True,
        )


if __name__ == "__main__":
    main()
