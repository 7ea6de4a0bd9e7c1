"""Own-data latency: a folder of 14 small measurements fitted with nlls, through the workflow
(a job per batch and stage, and chunked) against the same work in one plain process.

    .venv/bin/python benchmarks/bench_own_data.py [--chunks 2]

The issue this answers: a config with no layout keys must take the fast path by itself
(chunks: auto), at <= 3x the bare loop.

Each measurement is a saturating exponential y = b1 (1 - exp(-b2 x)) of 14-40 points
with 2% errors (NIST-sized). Measured, each in a fresh process so imports count:

* bare loop: ``fitflow.generate`` / ``fit`` / ``evaluate`` on every file, nothing written;
* plain process: the workflow's own job functions called in a loop (every artefact, the
  tables and the report written);
* the workflow with ``--cores 2``: a job per batch and stage (``chunks: 0``), and ``chunks: N``.
"""

import argparse
from pathlib import Path
import subprocess
import sys
import tempfile
import time

import numpy as np
import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))
from timing import run_workflow  # noqa: E402

N_FILES = 14


def write_measurements(folder):
    rng = np.random.default_rng(0)
    problems = {}
    for i in range(N_FILES):
        n = int(rng.integers(14, 41))
        x = np.sort(rng.uniform(0, 10, n))
        b1, b2 = rng.uniform(1, 5), rng.uniform(0.1, 1)
        y = b1 * (1 - np.exp(-b2 * x))
        error = 0.02 * b1 * np.ones(n)
        y = y + error * rng.standard_normal(n)
        path = Path(folder) / f"shot{i:02d}.csv"
        np.savetxt(path, np.column_stack([x, y, error]), delimiter=",", header="x,y,error", comments="")
        problems[f"shot{i:02d}"] = {
            "plugin": "table",
            "settings": {
                "file": str(path),
                "x": ["x"],
                "y": "y",
                "sigma": "error",
                "model": "b1*(1 - exp(-b2*x))",
                "params": ["b1", "b2"],
                "p0": [1.0, 0.5],
                "cv_folds": 0,
            },
        }
    return {
        "experiment": "own",
        "seed": 1,
        "replicates": 1,
        "plot_fits": False,
        "problems": problems,
        "methods": {"nlls": {}},
    }


BARE = """
import sys, time, yaml
start = time.perf_counter()
import fitflow
config = yaml.safe_load(open(sys.argv[1]))
for entry in config["problems"].values():
    data = fitflow.generate(entry["plugin"], seed=1, **entry["settings"])
    fitflow.evaluate(data, fitflow.fit("nlls", data, seed=1))
print(time.perf_counter() - start)
"""

PLAIN = """
import sys, time, yaml
start = time.perf_counter()
from bench_sweep import plain_loop
config = yaml.safe_load(open(sys.argv[1]))
plain_loop(sys.argv[2], config)
print(time.perf_counter() - start)
"""


def in_fresh_process(code, *args):
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code, *args], check=True, capture_output=True, cwd=REPO / "benchmarks")
    return time.perf_counter() - start


def workflow(workdir, config_path):
    return run_workflow(workdir, config_path)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunks", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        config = write_measurements(folder)
        configs = {
            "default layout (chunks: auto)": config,
            "a job per batch and stage (chunks: 0)": {**config, "chunks": 0},
            f"chunks: {args.chunks}": {**config, "chunks": args.chunks},
        }
        # What a new user writes: no layout, no figures or cross-validation switched off.
        untuned = {
            **config,
            "problems": {
                k: {**v, "settings": {s: x for s, x in v["settings"].items() if s != "cv_folds"}}
                for k, v in config["problems"].items()
            },
        }
        untuned.pop("plot_fits")
        configs["no tuning keys at all (figures, 5-fold CV)"] = untuned
        paths = {}
        for i, (name, cfg) in enumerate(configs.items()):
            paths[name] = folder / f"config-{i}.yaml"
            paths[name].write_text(yaml.safe_dump(cfg))
        first = paths["default layout (chunks: auto)"]
        bare = in_fresh_process(BARE, str(first))
        (folder / "plain").mkdir()
        plain = in_fresh_process(PLAIN, str(first), str(folder / "plain"))
        walls = {}
        for i, (name, path) in enumerate(paths.items()):
            (folder / f"run-{i}").mkdir()
            walls[name] = workflow(folder / f"run-{i}", path)
    print(f"{N_FILES} files x nlls, wall seconds (fresh processes, imports included)")
    print(f"  bare generate/fit/evaluate loop:             {bare:6.1f}")
    print(f"  plain process, artefacts + report:           {plain:6.1f}")
    for name, wall in walls.items():
        print(f"  workflow, {name:<42} {wall:6.1f}   / bare {wall / bare:4.1f}   / plain process {wall / plain:4.1f}")
    print("  target: the default layout <= 3 x the bare loop")


if __name__ == "__main__":
    main()
