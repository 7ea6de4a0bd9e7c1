"""The variational neural network (vnn) against the MLP ensemble and the GP on the
``emulator`` problem, over several seeds, all measured in one run (issue 39's targets):

- 95% band coverage of the true outputs on the held-out runs, pooled over seeds and outputs,
  beside the 95% Wilson interval of 0.95 for that many points;
- RMSE (standardised per output, pooled) as a ratio to the MLP ensemble's, at equal training size;
- the vnn's raw (unscaled) mean-field coverage, to show what the conformal scale corrects.

    .venv/bin/python benchmarks/bench_variational.py [--n-train 200] [--seeds 10]
"""

import argparse
import time

import numpy as np
from statsmodels.stats.proportion import proportion_confint

import fitflow


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-train", type=int, default=200)
    parser.add_argument("--n-test", type=int, default=500)
    parser.add_argument("--seeds", type=int, default=10)
    args = parser.parse_args()
    methods = {
        "vnn": fitflow.make_method("vnn"),
        "vnn raw": fitflow.make_method("vnn", calibration_fraction=0.0),
        "mlp": fitflow.make_method("mlp"),
        "gp": fitflow.make_method("gp"),
    }
    rows = {name: {"covered": 0, "points": 0, "rmse": [], "seconds": []} for name in methods}
    for seed in range(1, args.seeds + 1):
        data = fitflow.generate("emulator", seed=seed, n_train=args.n_train, n_test=args.n_test)
        spread = np.std(data.grid_y, axis=0)
        for name, method in methods.items():
            started = time.perf_counter()
            result = method.fit(data, np.random.default_rng(seed))
            rows[name]["seconds"].append(time.perf_counter() - started)
            deviation = np.abs(result.grid_mean - data.grid_y)
            rows[name]["covered"] += int(np.sum(deviation <= 1.959964 * result.grid_std))
            rows[name]["points"] += deviation.size
            rows[name]["rmse"].append(float(np.sqrt(np.mean((deviation / spread) ** 2))))
            print(f"seed {seed:2d} {name:8} RMSE {rows[name]['rmse'][-1]:.4f}", flush=True)
    mlp_rmse = np.array(rows["mlp"]["rmse"])
    points = rows["vnn"]["points"]
    low, high = proportion_confint(round(0.95 * points), points, method="wilson")
    print(f"\nemulator, n_train {args.n_train}, {args.seeds} seeds; 95% Wilson interval of 0.95 at {points} points:")
    print(f"[{low:.3f}, {high:.3f}]")
    print(f"{'method':8} {'cov95':>6} {'median RMSE':>12} {'RMSE / mlp (median of seeds)':>29} {'fit [s]':>8}")
    for name, row in rows.items():
        ratio = np.median(np.array(row["rmse"]) / mlp_rmse)
        print(
            f"{name:8} {row['covered'] / row['points']:6.3f} {np.median(row['rmse']):12.4f} {ratio:29.2f} "
            f"{np.median(row['seconds']):8.1f}"
        )


if __name__ == "__main__":
    main()
