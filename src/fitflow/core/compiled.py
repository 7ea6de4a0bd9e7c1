"""Compile once, fit many: JAX programs kept for the life of the process, data of one shape
for every fit of a dataset, and the time JAX spends compiling, measured apart.

Why. ``jax.jit`` keeps a compiled program per function object and per shape of its
arguments. A method that wraps its program in a new closure on every fit traces and
compiles it again on every fit, in each cross-validation refit and in each replicate of a
chunk: on a small model the compile, not the fit, is the cost (docs/benchmarks.md, "Compile
once, fit many"). Three pieces remove that:

- :func:`compiled_once` keeps what a ``build`` returns (a jitted function) under a key the
  method chooses: the model's :attr:`~fitflow.core.model.ParametricModel.jax_key` and
  whatever its program fixes at trace time (settings, bounds). The next fit with the same
  key calls the same jitted function, which JAX serves from memory for the same shapes.
- :func:`rows_for_compiling` fixes the shape: cross-validation fits its folds, and
  predicts its held-out points, inside ``with rows_for_compiling(n)`` where ``n`` is the
  dataset's own size. :func:`padded_rows` then answers ``n`` for any smaller set, and
  :func:`pad_rows` repeats the last row up to it, with zero weight. Every fold of a dataset
  runs the program compiled for the dataset. The padding depends on the dataset alone, never
  on what ran before in the process, so a fold's numbers are the same in every process.
- :func:`compile_clock` reads JAX's own monitoring events (trace, lowering, XLA compile),
  so the time a fit spends compiling is reported apart from the time it spends fitting.
"""

import contextlib
import contextvars
import threading

import numpy as np

__all__ = ["compiled_once", "rows_for_compiling", "padded_rows", "pad_rows", "compile_clock", "CompileClock"]

_PROGRAMS = {}
_LOCK = threading.Lock()


def compiled_once(key, build):
    """What ``build()`` returns, built once per process for each hashable ``key``.

    ``key`` must name everything the program fixes when it is traced: the model (its
    ``jax_key``), the likelihood, settings that set loop lengths, bounds. Data belong in the
    program's arguments, never in its key or its constants."""
    with _LOCK:
        if key not in _PROGRAMS:
            _PROGRAMS[key] = build()
        return _PROGRAMS[key]


_ROWS = contextvars.ContextVar("fitflow_rows_for_compiling", default=None)


@contextlib.contextmanager
def rows_for_compiling(n_rows):
    """Within this block, data of at most ``n_rows`` rows are padded to ``n_rows`` before a
    compiled program sees them (see :func:`padded_rows`)."""
    token = _ROWS.set(int(n_rows))
    try:
        yield
    finally:
        _ROWS.reset(token)


def padded_rows(n_rows):
    """The number of rows a compiled program should be given for ``n_rows`` rows of data:
    the enclosing :func:`rows_for_compiling` size where there is one and ``n_rows`` fits in
    it, else ``n_rows`` itself."""
    target = _ROWS.get()
    return target if target is not None and 0 < n_rows <= target else n_rows


def pad_rows(*arrays, weight_of_padding=0.0):
    """``(padded arrays..., weight)``: each array (first axis: the rows) extended to
    :func:`padded_rows` rows by repeating its last row, and a weight per row, 1 for the data
    and ``weight_of_padding`` for the repeats. A repeated row keeps the model's value finite
    where it is evaluated; its zero weight keeps it out of every sum."""
    n = len(arrays[0])
    target = padded_rows(n)
    weight = np.ones(target)
    weight[n:] = weight_of_padding
    if target == n:
        return (*(np.asarray(a) for a in arrays), weight)
    padded = []
    for array in arrays:
        array = np.asarray(array)
        repeat = np.repeat(array[-1:], target - n, axis=0)
        padded.append(np.concatenate([array, repeat], axis=0))
    return (*padded, weight)


class CompileClock:
    """Seconds JAX spent tracing, lowering and compiling, and the XLA compilations done,
    since it started: ``with compile_clock() as clock: ...`` then ``clock.seconds``,
    ``clock.compilations`` (a compilation served by the persistent cache counts too: it is
    the lowering and the look-up that cost)."""

    def __init__(self):
        self._start = _totals()
        self.seconds, self.trace_seconds, self.compilations = 0.0, 0.0, 0

    def read(self):
        now = _totals()
        self.seconds = now["seconds"] - self._start["seconds"]
        self.trace_seconds = now["trace_seconds"] - self._start["trace_seconds"]
        self.compilations = now["compilations"] - self._start["compilations"]
        return self


@contextlib.contextmanager
def compile_clock():
    """A :class:`CompileClock` over the block (all zero where JAX never runs)."""
    clock = CompileClock()
    try:
        yield clock
    finally:
        clock.read()


_TOTALS = {"seconds": 0.0, "trace_seconds": 0.0, "compilations": 0}
_TRACE = "/jax/core/compile/jaxpr_trace_duration"
_STEPS = (_TRACE, "/jax/core/compile/jaxpr_to_mlir_module_duration", "/jax/core/compile/backend_compile_duration")


def _totals():
    return dict(_TOTALS)


def listen_to_jax(monitoring):
    """Register the listener that feeds :class:`CompileClock` (called once, when JAX is first
    set up by :func:`fitflow.core.autodiff.jax_modules`)."""

    def heard(event, duration, **_):
        if event in _STEPS:
            _TOTALS["seconds"] += duration
            if event == _TRACE:
                _TOTALS["trace_seconds"] += duration
            elif event == _STEPS[-1]:
                _TOTALS["compilations"] += 1

    monitoring.register_event_duration_secs_listener(heard)
