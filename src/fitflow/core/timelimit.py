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
"""

import contextlib
import functools
import signal
import sys
import threading
import time

__all__ = ["TimedOut", "time_limit"]


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
def time_limit(seconds):
    """Raise :class:`TimedOut` in this block after ``seconds`` (``None`` or 0: no limit). An
    enclosing limit's timer is restored, less the time spent here, when the block is left."""
    usable = seconds and hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
    if not usable:
        yield
        return

    def expire(signum, frame):
        raise TimedOut(seconds)

    previous = signal.signal(signal.SIGALRM, expire)
    previous_hook = sys.unraisablehook
    sys.unraisablehook = functools.partial(_quiet_about_time_outs, previous_hook)
    entered = time.monotonic()
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
