"""Emulators of the built-in spectral-line simulation at growing design sizes: each method's
held-out RMSE per output, its 68%/95% predictive-band coverage, and the time of its fit
(training plus one prediction of the test set: the plugin contract has no separate predict),
all measured in one run. The lecture's claims ("GPs scale poorly,
networks scale well") as numbers: the exact GP is skipped above its max_points (it
costs n^3) unless --gp-max is raised.

    .venv/bin/python benchmarks/bench_emulator.py [--sizes 50 200 1000 5000] [--gp-max 3000]
"""

import argparse
import time

import numpy as np

import fitflow
from fitflow.core.errors import FitflowError


def measure(method, data, seed):
    started = time.perf_counter()
    result = method.fit(data, np.random.default_rng(seed))
    elapsed = time.perf_counter() - started
    return result, elapsed


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[50, 200, 1000, 5000])
    parser.add_argument("--n-test", type=int, default=1000)
    parser.add_argument("--gp-max", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    methods = {
        "gp": fitflow.make_method("gp", n_restarts=1, max_points=args.gp_max),
        "mlp": fitflow.make_method("mlp", n_networks=5, hidden_layers=[64, 64]),
    }
    print(
        f"{'n_train':>7} {'method':6} {'nRMSE':>8} {'width':>9} {'shift':>9} {'ratio':>9} "
        f"{'cov68':>6} {'cov95':>6} {'fit [s]':>8}"
    )
    for n in args.sizes:
        data = fitflow.generate("emulator", seed=args.seed, n_train=n, n_test=args.n_test)
        for name, method in methods.items():
            reason = method.can_fit(data)
            if reason:
                print(f"{n:>7} {name:6} skipped: {reason}")
                continue
            try:
                result, elapsed = measure(method, data, args.seed)
            except FitflowError as exc:
                print(f"{n:>7} {name:6} failed: {exc}")
                continue
            m = fitflow.evaluate(data, result)
            print(
                f"{n:>7} {name:6} {m['rmse']:8.2e} {m['rmse.width']:9.2e} {m['rmse.shift']:9.2e} "
                f"{m['rmse.ratio']:9.2e} {m['band_coverage68']:6.2f} {m['band_coverage95']:6.2f} {elapsed:8.1f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
