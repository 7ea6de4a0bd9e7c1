"""`fitflow compare` on a large file with the default methods: does it end within a minute?

    .venv/bin/python benchmarks/bench_compare.py

Issue 35's target: on a 2,000-point file the default methods finish under a stated budget
(<= 60 s on 2 cores), with a line per method. Runs the command as a user would (a fresh
process, the default budget) on

* a seeded 2,000-point series: a quadratic trend over 40 years plus an annual sine, noise 0.5;
* statsmodels' weekly Mauna Loa CO2 (2,225 rows once the 59 missing are dropped), when
  statsmodels is installed;

and prints the command's wall time against the 60 s target, and each method's line.
"""

from pathlib import Path
import subprocess
import sys
import tempfile
import time

import numpy as np

REPO = Path(__file__).resolve().parents[1]
TARGET_S = 60.0
MODEL = ["--model", "a + b*t + c*t**2 + d*sin(2*pi*t) + f*cos(2*pi*t)", "--params", "a", "b", "c", "d", "f"]


def synthetic(folder):
    rng = np.random.default_rng(0)
    t = np.linspace(0, 40, 2000)
    y = 320 + 1.2 * t + 0.01 * t**2 + 3 * np.sin(2 * np.pi * t) + np.cos(2 * np.pi * t)
    path = Path(folder) / "series.csv"
    np.savetxt(path, np.column_stack([t, y + rng.normal(0, 0.5, t.size)]), delimiter=",", header="t,co2", comments="")
    return path


def mauna_loa(folder):
    try:
        import statsmodels.api as sm
    except ImportError:
        return None
    data = sm.datasets.co2.load_pandas().data.dropna()
    t = (data.index - data.index[0]).days / 365.25
    path = Path(folder) / "co2.csv"
    np.savetxt(path, np.column_stack([t, data["co2"]]), delimiter=",", header="t,co2", comments="")
    return path


def run(path):
    command = [str(Path(sys.executable).with_name("fitflow")), "compare", str(path), "--x", "t", "--y", "co2", *MODEL]
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, cwd=REPO)
    return time.perf_counter() - started, done


def main():
    with tempfile.TemporaryDirectory() as folder:
        cases = {"2,000-point series": synthetic(folder), "Mauna Loa weekly CO2": mauna_loa(folder)}
        for name, path in cases.items():
            if path is None:
                print(f"{name}: skipped (statsmodels is not installed)")
                continue
            wall, done = run(path)
            print(f"{name}: {wall:.1f} s, {wall / TARGET_S:.2f} x the {TARGET_S:g} s target (exit {done.returncode})")
            for line in done.stderr.splitlines():
                if ": fitting" in line or line.startswith(("compared in", "interrupted")):
                    print("   ", line[:150])


if __name__ == "__main__":
    main()
