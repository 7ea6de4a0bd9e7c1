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
import signal
import threading

__all__ = ["TimedOut", "time_limit"]


class TimedOut(BaseException):
    """Raised in the main thread when a :func:`time_limit` expires; ``seconds`` is the limit."""

    def __init__(self, seconds):
        self.seconds = seconds
        super().__init__(f"timed out after {seconds:g} s")


@contextlib.contextmanager
def time_limit(seconds):
    """Raise :class:`TimedOut` in this block after ``seconds`` (``None`` or 0: no limit)."""
    usable = seconds and hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
    if not usable:
        yield
        return

    def expire(signum, frame):
        raise TimedOut(seconds)

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, float(seconds))
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
