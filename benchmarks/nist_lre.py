"""NIST StRD nonlinear regression: log relative errors (LRE) of fitflow's nlls.

Every set is fitted from both certified starting points through the user-facing
path: a CSV file plus an expression model in the ``table`` problem, fitted with
the ``nlls`` plugin. LRE is about the number of correct significant digits
(capped at 15). Targets: parameters and standard deviations >= 6, residual sum
of squares >= 8. Prints the minimum LRE over the parameters of each fit.

    .venv/bin/python benchmarks/nist_lre.py
"""

from pathlib import Path
import sys
import tempfile
import time

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "nist"))

from strd import NIST_DIR, all_problems, nlls_lre, write_csv  # noqa: E402


def main():
    if not NIST_DIR.is_dir():
        print(f"NIST StRD folder not found at {NIST_DIR}; nothing to measure")
        return 1
    print(f"{'dataset':10s} {'start':>5s} {'LRE params':>10s} {'LRE sd':>7s} {'LRE RSS':>8s} {'nfev':>5s}  algorithm")
    worst = {"params": 15.0, "sd": 15.0, "rss": 15.0}
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        for problem in all_problems():
            csv = write_csv(problem, folder)
            for start in (0, 1):
                lres, result = nlls_lre(problem, csv, start)
                if lres is None:
                    print(f"{problem.name:10s} {start + 1:5d}  FAILED: {result.message}")
                    worst = {k: 0.0 for k in worst}
                    continue
                row = {"params": lres["params"].min(), "sd": lres["sd"].min(), "rss": lres["rss"]}
                worst = {k: min(worst[k], row[k]) for k in worst}
                print(
                    f"{problem.name:10s} {start + 1:5d} {row['params']:10.1f} {row['sd']:7.1f} {row['rss']:8.1f} "
                    f"{result.n_evaluations:5d}  {result.diagnostics['algorithm']}"
                )
        elapsed = time.perf_counter() - started
    print(
        f"worst: params {worst['params']:.1f}, sd {worst['sd']:.1f}, RSS {worst['rss']:.1f} "
        f"({elapsed:.1f} s for 40 fits)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
