"""A wall-clock limit on one plugin call, so a hung fit becomes a failed fit.

:func:`time_limit` arms ``SIGALRM`` (through ``setitimer``) around a block; when
it fires, :class:`TimedOut` is raised inside the running Python code, which
unwinds the plugin's call and leaves the rest of the batch to go on.
``TimedOut`` derives from ``BaseException``, so a plugin's own ``except
Exception`` cannot swallow it. Limits: signals are delivered only to the main
thread, between Python bytecodes: a call stuck inside one long C routine ends
when that routine returns (the job's own ``runtime`` limit on a cluster remains
the backstop); elsewhere (another thread, a platform without ``SIGALRM``) no
limit is applied.

The stop is cooperative where native code is involved: while JAX is lowering or
compiling a program (:data:`COMPILING` on the stack), the time-out waits, re-armed every
:data:`DEFERRED_S`, until that is done. An exception raised into JAX's compiler
(``backend_compile_and_load``) once crashed ``fitflow compare`` with a segmentation
fault, and lost its table.

``not_counting`` excludes time from the limit: ``fitflow compare`` passes the
seconds JAX spent compiling, so a fit's share of the budget is spent on fitting, and
a compile, done once for the fit and its cross-validation refits, is not charged
once per refit.
"""

import contextlib
import functools
import signal
import sys
import threading
import time

__all__ = ["TimedOut", "time_limit", "COMPILING"]

#: JAX's modules that lower and compile a program: a time-out is not raised while one of them
#: is on the stack.
COMPILING = frozenset({"jax._src.compiler", "jax._src.interpreters.mlir", "jax._src.interpreters.pxla"})

#: While a time-out waits for control to leave native-driving code, the timer is re-armed at
#: this interval.
DEFERRED_S = 0.01


class TimedOut(BaseException):
    """Raised in the main thread when a :func:`time_limit` expires; ``seconds`` is the limit."""

    def __init__(self, seconds):
        self.seconds = seconds
        super().__init__(f"timed out after {seconds:g} s")


#: After a limit expires, the signal repeats at this interval until the block is left. A
#: TimedOut raised where Python ignores exceptions (a garbage-collection callback such as
#: JAX's, a ``__del__``) is printed and dropped; the next one lands in the plugin's code.
#: Without it, a variational network given 0.3 s ran for 239 s.
REPEAT_S = 0.25


@contextlib.contextmanager
def time_limit(seconds, not_counting=None, at_most=None):
    """Raise :class:`TimedOut` in this block after ``seconds`` (``None`` or 0: no limit). An
    enclosing limit's timer is restored, less the time spent here, when the block is left.
    ``not_counting``, a function, gives the seconds spent so far in the block that the limit
    does not count (the time-out is put off by as much, but never past ``at_most`` seconds)."""
    usable = seconds and hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
    if not usable:
        yield
        return
    entered = time.monotonic()

    def expire(signum, frame):
        if _in_native_driver(frame):
            signal.setitimer(signal.ITIMER_REAL, DEFERRED_S, REPEAT_S)
            return
        if not_counting is not None:
            # a trace under way is not yet reported, so a model's own Python is stopped at the limit:
            # once XLA compiles what it traced, nothing can stop it (an unrolled loop: minutes)
            allowed = min(seconds + not_counting(), at_most or float("inf"))
            remaining = allowed - (time.monotonic() - entered)
            if remaining > DEFERRED_S:
                signal.setitimer(signal.ITIMER_REAL, min(remaining, REPEAT_S), REPEAT_S)
                return
        raise TimedOut(seconds)

    previous = signal.signal(signal.SIGALRM, expire)
    previous_hook = sys.unraisablehook
    sys.unraisablehook = functools.partial(_quiet_about_time_outs, previous_hook)
    outer_delay, outer_interval = signal.setitimer(signal.ITIMER_REAL, float(seconds), REPEAT_S)
    try:
        yield
    finally:
        _disarm()
        signal.signal(signal.SIGALRM, previous)
        sys.unraisablehook = previous_hook
        if outer_delay > 0:
            remaining = outer_delay - (time.monotonic() - entered)
            signal.setitimer(signal.ITIMER_REAL, max(remaining, 1e-3), outer_interval)


def _in_native_driver(frame):
    """True while JAX is lowering or compiling: a frame of ``frame``'s stack belongs to one of
    :data:`COMPILING` (between compiled calls, in JAX's dispatch, a time-out is raised as
    anywhere: deferring there starved the limit of a training loop of compiled calls)."""
    while frame is not None:
        if frame.f_globals.get("__name__", "") in COMPILING:
            return True
        frame = frame.f_back
    return False


def _quiet_about_time_outs(hook, unraisable):
    """An unraisable-exception hook that drops the TimedOut Python could not raise (it is raised
    again, see REPEAT_S) and passes anything else to ``hook``: no traceback on the terminal."""
    if not isinstance(unraisable.exc_value, TimedOut):
        hook(unraisable)


def _disarm():
    """Stop the timer, though a repeat of it may land while this runs."""
    while True:
        try:
            signal.setitimer(signal.ITIMER_REAL, 0)
            return
        except TimedOut:
            continue
