"""No process forks workers once JAX runs in it (issue 55): JAX's thread pools do not survive a
fork, and a report job that forked its figure workers after loading a JAX model hung for good."""

import multiprocessing
import subprocess
import sys

import pytest

pytest.importorskip("jax", reason="needs the jax extra (pip install -e '.[jax]')")


def test_forking_is_safe_until_jax_computes_something():
    code = (
        "from fitflow.core.isolation import fork_is_safe\n"
        "import jax, jax.numpy as jnp\n"
        "print(fork_is_safe())\n"
        "jnp.zeros(1).block_until_ready()\n"
        "print(fork_is_safe())\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["True", "False"]


@pytest.fixture
def no_fork(monkeypatch):
    """JAX running here, and any fork a failure."""
    import jax.numpy as jnp

    jnp.zeros(1).block_until_ready()
    real = multiprocessing.get_context

    def guarded(method=None):
        if method == "fork":
            raise AssertionError("forked with JAX running")
        return real(method)

    monkeypatch.setattr(multiprocessing, "get_context", guarded)


def test_a_chunk_runs_its_units_in_its_own_process_once_jax_runs(no_fork):
    from fitflow.run.chunks import _unit_results

    class Plan:
        @staticmethod
        def unit_cost(case, batch):
            return 1.0

    units = [("case", b) for b in range(4)]
    assert list(_unit_results(lambda unit: unit[1] * 10, Plan(), units, None, workers=2, threads=2)) == [0, 10, 20, 30]


def test_the_report_draws_its_figures_in_its_own_process_once_jax_runs(tiny_run, no_fork):
    from fitflow.report import render_report

    html = render_report(tiny_run, workers=2)
    assert '<img alt="fits on ' in html and "could not be drawn" not in html
