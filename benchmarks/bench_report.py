"""Report generation for a 2,000-fit experiment: time and file size.

Builds the experiment once (ols and nlls on cosine_series with a noise sweep,
plus nlls on gaussian_peak; 2,000 fits in all) with Snakemake in a temporary
folder, then times ``fitflow.report.write_report`` on it.
Targets: under 30 s and under 15 MB on the 2-core machine. Also printed: the seconds
headless Chromium takes to load it, and until its interactive figures can be drawn (the
plotting library unpacked).

Run:  .venv/bin/python benchmarks/bench_report.py [--replicates 400]
"""

import argparse
from pathlib import Path
import tempfile
import time

import yaml

from fitflow.report import write_report
from timing import browser_load_time, run_workflow

REPO = Path(__file__).resolve().parents[1]


def build(workdir, replicates):
    config = {
        "experiment": "report-bench",
        "seed": 1,
        "replicates": replicates,
        "batch_size": 100,
        "plot_fits": False,
        "problems": {
            "cosine_series": {"settings": {"n_samples": 40, "n_modes": 4}, "sweep": {"noise": [0.05, 0.2]}},
            "gaussian_peak": {"methods": ["nlls"]},
        },
        "methods": {"ols": {}, "nlls": {}},
    }
    path = Path(workdir) / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    wall = run_workflow(workdir, path)  # the report it renders is timed again below, alone
    return Path(workdir) / "results" / "report-bench", wall


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicates", type=int, default=400, help="per problem setting (5 pairs: 5 x this fits)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        root, built = build(workdir, args.replicates)
        n_fits = sum(1 for _ in open(root / "fits.csv")) - 1
        start = time.perf_counter()
        write_report(root, figures_dir=root / "figures")
        elapsed = time.perf_counter() - start
        size = (root / "report.html").stat().st_size
        loaded = browser_load_time(root / "report.html")
        interactive = browser_load_time(root / "report.html", "return typeof Plotly !== 'undefined'")
    print(f"experiment of {n_fits} fits built in {built:.1f} s (not part of the target)")
    print(f"report generation   {elapsed:6.1f} s   (target < 30 s)   ratio to target {elapsed / 30:.2f}")
    print(f"report size         {size / 1e6:6.2f} MB  (target < 15 MB)  ratio to target {size / 15e6:.2f}")
    print(f"load in Chromium    {loaded:6.2f} s; interactive figures ready after {interactive:.2f} s")


if __name__ == "__main__":
    main()
