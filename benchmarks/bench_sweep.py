"""Large sweeps: Snakemake's cost against the same work in one Python process.

1. ``snakemake -n`` for a 10,000-fit sweep (target < 30 s) and, chunked, a 1,000,000-fit one (< 60 s).
2. A 2,000-fit sweep of cheap fits (ols on cosine_series, 10 settings x 200
   replicates) with ``--cores 2``, against the same generate / fit / evaluate /
   write-every-artefact / aggregate / report work done in a plain loop in one
   process by the same job functions (target ratio <= 1.5; with ``chunks: 2``, <= 0.65; the
   same with ``chunks: 1, chunk_workers: 2``, one job forking two workers).
   The same with ``store: compact`` (an archive per chunk), and the files each layout
   leaves per 1,000 fits (target <= 50).
3. The no-op rerun of that sweep when everything is up to date (target < 10 s).

4. With ``--large``: a 100,000-fit sweep in the compact store end to end (targets: report
   < 60 s and < 20 MB, peak memory of any job < 2 GB, a handful of files).

Run:  .venv/bin/python benchmarks/bench_sweep.py [--large]
"""

import argparse
from pathlib import Path
import resource
import subprocess
import sys
import tempfile
import time

import yaml

from timing import run_workflow

REPO = Path(__file__).resolve().parents[1]

SWEEP_10K = {
    "experiment": "sweep10k",
    "seed": 1,
    "replicates": 250,
    "batch_size": 50,
    "plot_fits": False,
    "problems": {
        "cosine_series": {
            "settings": {"n_modes": 4},
            "methods": ["ols", "nlls"],
            "sweep": {"noise": [0.01, 0.03, 0.1, 0.3, 1.0], "n_samples": [20, 40, 80, 160]},
        }
    },
    "methods": {"ols": {}, "nlls": {}},
}
SWEEP_1M = {
    "experiment": "sweep1m",
    "seed": 1,
    "replicates": 1_000_000,
    "batch_size": 1000,
    "plot_fits": False,
    "problems": {"cosine_series": {"settings": {"n_modes": 4}, "methods": ["ols"]}},
    "methods": {"ols": {}},
}
SWEEP_2K = {
    "experiment": "sweep2k",
    "seed": 1,
    "replicates": 200,
    "batch_size": 100,
    "plot_fits": False,
    "problems": {
        "cosine_series": {
            "settings": {"n_modes": 4},
            "methods": ["ols"],
            "sweep": {"noise": [0.01, 0.03, 0.1, 0.3, 1.0], "n_samples": [20, 40]},
        }
    },
    "methods": {"ols": {}},
}


def snakemake(workdir, config, *args):
    path = Path(workdir) / f"{config['experiment']}.yaml"
    path.write_text(yaml.safe_dump(config))
    return run_workflow(workdir, path, *args)


SWEEP_100K = {
    "experiment": "sweep100k",
    "seed": 1,
    "replicates": 10_000,
    "batch_size": 250,
    "plot_fits": False,
    "store": "compact",
    "chunks": 16,
    "problems": {
        "cosine_series": {
            "settings": {"n_modes": 4},
            "methods": ["ols"],
            "sweep": {"noise": [0.01, 0.03, 0.1, 0.3, 1.0], "n_samples": [20, 40]},
        }
    },
    "methods": {"ols": {}},
}


def large_sweep():
    """The 100,000-fit compact sweep: wall time, report time and size, files, peak memory."""
    with tempfile.TemporaryDirectory() as workdir:
        wall = snakemake(workdir, SWEEP_100K)
        root = Path(workdir) / "results" / SWEEP_100K["experiment"]
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "fitflow", "report", str(root)], check=True, capture_output=True)
        report = time.perf_counter() - start
        files = sum(1 for p in root.rglob("*") if p.is_file())
        size = (root / "report.html").stat().st_size / 1e6
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # kB on Linux
    print(f"100,000-fit sweep, store: compact, chunks: 16: {wall:7.1f} s end to end, {files} files")
    print(f"  report regenerated in {report:.1f} s (target < 60 s), {size:.1f} MB (target < 20 MB)")
    print(f"  peak memory of any job: {peak:.0f} MB (target < 2048 MB)")


def files_per_1000(workdir, config, n_fits):
    root = Path(workdir) / "results" / config["experiment"]
    return 1000 * sum(1 for p in root.rglob("*") if p.is_file()) / n_fits


def plain_loop(workdir, config):
    """The same jobs' work, called one after another in this process (with ``store:
    compact``, the one chunk's work: every unit staged in memory and packed)."""
    from fitflow.report import write_report
    from fitflow.run.aggregate import write_experiment_tables
    from fitflow.run.chunks import run_chunk
    from fitflow.run.experiment import batches, build_plan
    from fitflow.run.jobs import evaluate_batch, fit_batch, generate_batch
    from fitflow.run.layout import Layout

    start = time.perf_counter()
    plan = build_plan(config)
    layout = Layout(Path(workdir) / "results" / plan.name)
    metrics = []
    if plan.store == "compact":
        run_chunk(plan, layout.root, 0)
        metrics = [layout.chunk_manifest(0)]
    else:
        n_batches = len(batches(plan.replicates, plan.batch_size))
        for case in plan.problems:
            for b in range(n_batches):
                generate_batch(plan, layout.root, case.label, case.sid, b)
        for pair in plan.pairs:
            for b in range(n_batches):
                fit_batch(plan, layout.root, pair.key, b, plot=plan.plot_fits)
                evaluate_batch(plan, layout.root, pair.key, b)
                metrics.append(layout.metrics_batch(*pair.key, b))
    table = write_experiment_tables(plan, layout, metrics)
    write_report(layout.root, figures_dir=layout.root / "figures")
    return time.perf_counter() - start, len(table)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--large", action="store_true", help="also run the 100,000-fit sweep (about 15 minutes)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        dry = snakemake(workdir, SWEEP_10K, "-n")
    print(f"snakemake -n, 10,000-fit sweep (503 jobs): {dry:6.2f} s   (target < 30 s)")

    with tempfile.TemporaryDirectory() as workdir:
        dry = snakemake(workdir, {**SWEEP_1M, "chunks": 8}, "-n")
    print(f"snakemake -n, 1,000,000-fit sweep, chunks: 8: {dry:6.2f} s   (target < 60 s)")

    compact = {**SWEEP_2K, "chunks": 2, "store": "compact"}
    pooled = {"chunks": 1, "chunk_workers": 2}
    with (
        tempfile.TemporaryDirectory() as loop_dir,
        tempfile.TemporaryDirectory() as flow_dir,
        tempfile.TemporaryDirectory() as chunk_dir,
        tempfile.TemporaryDirectory() as compact_dir,
        tempfile.TemporaryDirectory() as compact_loop_dir,
        tempfile.TemporaryDirectory() as pool_dir,
        tempfile.TemporaryDirectory() as compact_pool_dir,
    ):
        loop, n_fits = plain_loop(loop_dir, SWEEP_2K)
        compact_loop, _ = plain_loop(compact_loop_dir, {**compact, "chunks": 1})
        flow = snakemake(flow_dir, SWEEP_2K)
        noop = snakemake(flow_dir, SWEEP_2K)
        chunked = snakemake(chunk_dir, {**SWEEP_2K, "chunks": 2})
        packed = snakemake(compact_dir, compact)
        workers = snakemake(pool_dir, {**SWEEP_2K, **pooled})
        packed_workers = snakemake(compact_pool_dir, {**compact, **pooled})
        files = {
            "folders": files_per_1000(flow_dir, SWEEP_2K, n_fits),
            "compact": files_per_1000(compact_dir, compact, n_fits),
        }
    print(f"{n_fits}-fit sweep, plain loop in one process: {loop:6.2f} s")
    print(f"{n_fits}-fit sweep, snakemake --cores 2:        {flow:6.2f} s   ratio {flow / loop:.2f} (target <= 1.5)")
    print(
        f"{n_fits}-fit sweep, --cores 2, chunks: 2:       {chunked:6.2f} s   ratio {chunked / loop:.2f} (target <= 0.65)"
    )
    print(
        f"{n_fits}-fit sweep, chunks: 2, store: compact:  {packed:6.2f} s   ratio {packed / loop:.2f} (target <= 0.65)"
    )
    print(f"   against the plain loop in the compact store ({compact_loop:.2f} s): ratio {packed / compact_loop:.2f}")
    print(
        f"{n_fits}-fit sweep, chunks: 1, chunk_workers: 2: {workers:6.2f} s   ratio {workers / loop:.2f} (target <= 0.65)"
    )
    print(
        f"   the same, store: compact:               {packed_workers:6.2f} s   ratio {packed_workers / loop:.2f}; "
        f"against the compact plain loop {packed_workers / compact_loop:.2f}"
    )
    print(f"files per 1,000 fits: folders {files['folders']:.0f}, compact {files['compact']:.0f} (target <= 50)")
    print(f"no-op rerun of that sweep:                  {noop:6.2f} s   (target < 10 s)")
    if args.large:
        large_sweep()


if __name__ == "__main__":
    main()
