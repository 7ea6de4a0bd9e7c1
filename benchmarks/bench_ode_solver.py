"""Which ODE solver for a differentiable simulation: fixed-step RK4 in ``jax.lax.scan``
(examples/lotka_volterra/model.py, no dependency) against diffrax's adaptive Tsit5 (with
its rtol = atol = 1e-10), both fitted by ``nlls`` with the exact Jacobian through the solver
to the lynx-hare pelts, against scipy's ``solve_ivp`` + ``least_squares`` in the same run:
agreement of the six parameters (smallest number of matching significant digits), time of
the first fit in a process (compile included) and of a second fit (compiled).

    .venv/bin/python benchmarks/bench_ode_solver.py /path/to/model_written_with_diffrax.py

diffrax is not a dependency: install it beside (``pip install --target DIR diffrax`` and put
DIR on PYTHONPATH) and pass a model file with the signature of the shipped one.
"""

from pathlib import Path
import sys
import time

import numpy as np

import fitflow

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "tests"), str(REPO / "tests" / "jax")]

from test_lotka_volterra import FOLDER, lynx_hare, scipy_fit  # noqa: E402


def timed_fit(model_file):
    started = time.perf_counter()
    data = lynx_hare(model_file)
    result = fitflow.fit("nlls", data)
    first = time.perf_counter() - started
    started = time.perf_counter()
    again = fitflow.fit("nlls", data)
    second = time.perf_counter() - started
    assert result.ok and again.ok, result.message
    return result, first, second, data


def main():
    solvers = {"RK4 in lax.scan": FOLDER / "model.py"}
    if len(sys.argv) > 1:
        solvers["diffrax Tsit5"] = Path(sys.argv[1]).resolve()
    reference = None
    print(f"{'solver':18} {'digits vs scipy':>15} {'first fit [s]':>14} {'second fit [s]':>15}")
    for name, path in solvers.items():
        result, first, second, data = timed_fit(path)
        if reference is None:
            started = time.perf_counter()
            reference = scipy_fit(data)
            scipy_time = time.perf_counter() - started
        relative = np.abs(result.estimate_vector() - reference.x) / np.abs(reference.x)
        digits = float(-np.log10(max(relative.max(), 1e-16)))
        print(f"{name:18} {digits:15.1f} {first:14.2f} {second:15.2f}", flush=True)
    print(f"{'solve_ivp + least_squares':26} {scipy_time:21.2f}")


if __name__ == "__main__":
    main()
