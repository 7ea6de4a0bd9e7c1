"""Which library drives gradient_descent: optax's L-BFGS (zoom line search, the method's
own compiled while-loop) against optimistix's LBFGS and BFGS (``optimistix.minimise``), on
the same negative log-likelihood in the same unconstrained coordinates, in one run:
final loss above the best of the three, steps, and time of the first (compile included)
and of a second, compiled, minimisation.

    PYTHONPATH=DIR .venv/bin/python benchmarks/bench_gradient_library.py

optimistix is not a dependency: install it beside (``pip install --target DIR optimistix``).
Problems: the lynx-hare Lotka-Volterra fit (6 parameters, errors unknown) and the
closure_learning problem (2 closure parameters through a PDE solver, seed 0).
"""

from pathlib import Path
import sys
import time

import numpy as np

import fitflow

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "tests"), str(REPO / "tests" / "jax"), str(REPO / "plugins")]

from test_lotka_volterra import lynx_hare  # noqa: E402

from fitflow_plugins.methods.least_squares.gradient_descent import _descend, _inside  # noqa: E402
from fitflow_plugins.methods.sampling.likelihood import Unconstrained, log_likelihood  # noqa: E402


def problems():
    yield "Lotka-Volterra (lynx-hare)", lynx_hare()
    yield "closure_learning (seed 0)", fitflow.generate("closure_learning", seed=0)


def setup(data):
    model = data.model
    known = data.sigma is not None
    whiten = 1.0 / data.sigma if known else np.ones_like(data.y)
    arrays = tuple(np.asarray(a, dtype=float) for a in (data.x, data.y, whiten))
    space = Unconstrained(*model.bounds)
    start = np.clip(model.p0, *_inside(model.bounds, model.p0))
    return log_likelihood(model, known), space, start, arrays


def with_optax(likelihood, space, start, arrays):
    theta, loss, _, steps, _ = _descend(likelihood, space, start, arrays, "lbfgs", 0.0, 10_000, 1e-8)
    return loss, steps


def with_optimistix(solver_class):
    def run(likelihood, space, start, arrays):
        import optimistix

        import jax

        def loss(z, data):
            return -likelihood(space.parameters(z)[0], *data)

        solver = solver_class(rtol=1e-12, atol=1e-12)

        def minimise(z0, data):
            solution = optimistix.minimise(loss, solver, z0, args=data, max_steps=10_000, throw=False)
            return solution.value, solution.stats["num_steps"]

        value, steps = jax.jit(minimise)(space.unconstrained(start), arrays)
        return float(loss(value, arrays)), int(steps)

    return run


def main():
    import optimistix

    engines = {
        "optax L-BFGS (shipped)": with_optax,
        "optimistix LBFGS": with_optimistix(optimistix.LBFGS),
        "optimistix BFGS": with_optimistix(optimistix.BFGS),
    }
    print(f"{'problem':28} {'engine':24} {'loss - best':>12} {'steps':>6} {'first [s]':>10} {'again [s]':>10}")
    for label, data in problems():
        rows = []
        for name, engine in engines.items():
            args = setup(data)
            started = time.perf_counter()
            loss, steps = engine(*args)
            first = time.perf_counter() - started
            started = time.perf_counter()
            engine(*args)
            again = time.perf_counter() - started
            rows.append((name, loss, steps, first, again))
        best = min(row[1] for row in rows)
        for name, loss, steps, first, again in rows:
            print(f"{label:28} {name:24} {loss - best:12.3g} {steps:6d} {first:10.2f} {again:10.3f}", flush=True)


if __name__ == "__main__":
    main()
