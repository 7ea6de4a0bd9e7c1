"""Core benchmarks, each a ratio against a reference measured in the same run.

1. ``nlls`` fit time against a direct ``scipy.optimize.curve_fit`` call on the
   same data (target: ratio <= 1.5).
2. Wall time of the default experiment (``snakemake --cores 2`` from scratch)
   against the sum of its fit times halved (the ideal on 2 cores): the
   orchestration overhead.

Run:  .venv/bin/python benchmarks/bench_core.py [--repeats 200] [--config config/config.yaml]
"""

import argparse
from pathlib import Path
import tempfile

import numpy as np
import pandas as pd
from scipy.optimize import curve_fit

import fitflow
from fitflow_plugins.problems.gaussian_peak import gaussian, gaussian_jacobian
from timing import per_call, run_workflow

REPO = Path(__file__).resolve().parents[1]


def bench_nlls_vs_curve_fit(repeats):
    data = fitflow.generate("gaussian_peak", seed=1)
    method = fitflow.make_method("nlls")
    model = lambda x, *theta: gaussian(x, theta)  # noqa: E731
    jac = lambda x, *theta: gaussian_jacobian(x, theta)  # noqa: E731

    def direct():
        curve_fit(
            model,
            data.x,
            data.y,
            p0=data.model.p0,
            sigma=data.sigma,
            absolute_sigma=True,
            jac=jac,
            method="lm",
            xtol=1e-15,
            ftol=1e-15,
            gtol=1e-15,
        )

    def wrapped():
        method.fit(data, None)

    wrapped(), direct()  # warm caches and imports
    t_wrapped, t_direct = per_call([wrapped, direct], repeats)
    return t_wrapped, t_direct


def bench_default_experiment(config):
    with tempfile.TemporaryDirectory() as workdir:
        wall = run_workflow(workdir, config)
        experiment = next((Path(workdir) / "results").iterdir())
        timings = pd.read_csv(experiment / "timings.csv")
    per_method = timings.groupby("method")["wall_time_s"].agg(["count", "sum"])
    return wall, timings["wall_time_s"].sum(), len(timings), per_method


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=200)
    parser.add_argument("--config", type=Path, default=REPO / "config" / "config.yaml")
    args = parser.parse_args()

    t_wrapped, t_direct = bench_nlls_vs_curve_fit(args.repeats)
    print(f"nlls fit (gaussian_peak, 100 points), best of 15 interleaved blocks of {args.repeats} calls:")
    print(f"  fitflow nlls        {t_wrapped * 1e3:8.3f} ms")
    print(f"  scipy curve_fit     {t_direct * 1e3:8.3f} ms")
    print(f"  ratio               {t_wrapped / t_direct:8.2f}   (target <= 1.5)")

    wall, fit_sum, n_fits, per_method = bench_default_experiment(args.config)
    print(f"\ndefault experiment ({args.config.name}, --cores 2, from scratch): {n_fits} fits")
    ideal = fit_sum / 2
    print(f"  snakemake wall time {wall:8.2f} s")
    print(f"  sum of fit times    {fit_sum:8.3f} s  (ideal wall time on 2 cores: {ideal:.2f} s)")
    print(f"  orchestration       {wall - ideal:8.2f} s  (wall / ideal = {wall / max(ideal, 1e-9):.2f}; includes")
    print("                      process start-up, imports, plots, artefact writing, aggregate and report)")
    print("  per method (fits, seconds fitting):")
    for method, row in per_method.iterrows():
        print(f"    {method:10s} {int(row['count']):5d} {row['sum']:9.3f}")


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
