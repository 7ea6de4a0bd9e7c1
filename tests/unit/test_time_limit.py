"""The wall-clock limit on a plugin call (fitflow.core.timelimit)."""

import sys
import time

import pytest

from fitflow.core.timelimit import TimedOut, time_limit


def _swallows_the_first_time_out(until):
    """Code that drops the first TimedOut, as Python does when it lands in a garbage-collection
    callback (JAX's) or a ``__del__``, then works on until ``until``."""
    try:
        while time.monotonic() < until:
            time.sleep(0.005)
    except BaseException:
        pass
    while time.monotonic() < until:
        time.sleep(0.005)


def test_a_swallowed_time_out_is_raised_again():
    # The limit is 0.2 s; the repeat (REPEAT_S, 0.25 s) must end the block well before the
    # 5 s the code would otherwise run. Before the repeat, it ran to the end.
    started = time.monotonic()
    with pytest.raises(TimedOut):
        with time_limit(0.2):
            _swallows_the_first_time_out(started + 5.0)
    assert time.monotonic() - started < 2.0


def test_a_time_out_python_could_not_raise_prints_nothing(monkeypatch):
    class Drops:
        def __del__(self):
            time.sleep(0.3)  # the limit expires in here: Python prints and drops what __del__ raises

    reported = []
    monkeypatch.setattr(sys, "unraisablehook", reported.append)
    started = time.monotonic()
    with pytest.raises(TimedOut):
        with time_limit(0.1):
            Drops()
            while time.monotonic() - started < 5.0:
                time.sleep(0.005)
    assert not [r for r in reported if isinstance(r.exc_value, TimedOut)]


def test_an_inner_limit_leaves_the_outer_one_running():
    started = time.monotonic()
    with pytest.raises(TimedOut) as raised:
        with time_limit(0.6):
            with time_limit(5.0):
                time.sleep(0.05)
            while time.monotonic() - started < 5.0:
                time.sleep(0.005)
    assert raised.value.seconds == 0.6
    assert time.monotonic() - started < 2.0


def test_no_signal_is_left_behind():
    with time_limit(0.05):
        pass
    time.sleep(0.4)  # a timer left armed, or repeating, would raise here


def _busy_in_module(module_name, seconds):
    """A function whose frames belong to ``module_name`` (as JAX's own would), busy for ``seconds``."""
    namespace = {"__name__": module_name, "time": time}
    exec(
        "def busy(seconds):\n    end = time.monotonic() + seconds\n    while time.monotonic() < end:\n        pass\n",
        namespace,
    )
    return namespace["busy"]


def test_a_time_out_waits_until_jaxs_own_frames_are_left():
    # An exception raised into JAX's compiler once crashed fitflow compare: the limit (0.1 s)
    # expires while JAX's code is innermost, and is raised only once control is back here.
    busy = _busy_in_module("jax._src.compiler", 0.6)
    started = time.monotonic()
    left_jax_at = None
    with pytest.raises(TimedOut):
        with time_limit(0.1):
            busy(0.6)
            left_jax_at = time.monotonic() - started
            while True:
                time.sleep(0.005)
    assert left_jax_at is not None and left_jax_at >= 0.6
    assert time.monotonic() - started < left_jax_at + 0.5  # then at once (re-armed every 10 ms)


def test_time_the_limit_does_not_count_puts_the_time_out_off_up_to_its_cap():
    started = time.monotonic()
    with pytest.raises(TimedOut):
        with time_limit(0.2, not_counting=lambda: 0.4):
            time.sleep(5)
    assert 0.55 <= time.monotonic() - started < 1.5
    started = time.monotonic()
    with pytest.raises(TimedOut):
        with time_limit(0.2, not_counting=lambda: 10.0, at_most=0.4):
            time.sleep(5)
    assert 0.35 <= time.monotonic() - started < 1.2
