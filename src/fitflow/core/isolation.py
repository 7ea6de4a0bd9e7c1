"""Run a job so that user code that takes its process down costs only its own unit.

A plugin or a user's callable can do what no ``try`` catches: crash in compiled code
(a segmentation fault), call ``os._exit`` or ``sys.exit``, or swallow the
:class:`~fitflow.core.timelimit.TimedOut` meant to stop it. :func:`supervised` runs a
job's function in a forked child and watches it; the child brackets each risky unit
(one fit, one dataset, one evaluation) with :func:`guarded`, which tells the parent,
through a pipe, the unit's token and its time limit as it starts and that it ended.

When the child dies inside a unit, or overruns a unit's limit and is killed, the parent
records that unit's token with the reason (``killed by signal 11 (SIGSEGV)``, ``exit
status 3``, ``timed out ... and was killed``) and runs the function again in a fresh
child, where ``guarded`` raises :class:`ProcessDied` for that unit at once: the caller
turns it into one failed fit or evaluation, and the rest of the job completes. A unit
killed by SIGKILL, which comes from outside (a person, a scheduler, the kernel's
out-of-memory killer), is tried once more before it is blamed. Work the
dead child finished is redone (fits are deterministic, so byte for byte the same), or
reused where the caller keeps finished artefacts. A retry runs its units one at a time
(see :func:`retrying`), so that a crash among parallel workers is attributed to one unit.

Outside :func:`supervised` (the Python API, a notebook), :func:`guarded` does nothing.
Needs ``os.fork`` (POSIX); elsewhere the function runs in this process as before.
"""

import contextlib
import os
import select
import signal
import sys
import time

__all__ = ["ProcessDied", "guarded", "supervised", "retrying", "exit_description", "fork_is_safe"]

#: A unit's hard limit is its own limit plus this share of it and these seconds: the
#: in-process ``time_limit`` fires first whenever the code lets it.
GRACE_FRACTION, GRACE_SECONDS = 0.1, 10.0


class ProcessDied(Exception):
    """A unit whose process died (or was killed) in an earlier attempt; ``reason`` says how."""

    def __init__(self, reason):
        self.reason = reason
        super().__init__(reason)


class _State:
    channel = None  # the pipe's write end, in a supervised child
    dead = {}  # token -> reason, for units that took an earlier child down
    retry = False  # a child started again: units one at a time


_state = _State()


def retrying():
    """True in a child started again after a unit killed its predecessor: run units serially."""
    return _state.retry


@contextlib.contextmanager
def guarded(token, seconds=None):
    """Bracket one unit of risky work named ``token`` (unique within the job), whose own
    limit is ``seconds`` (``None`` or 0: none). Raises :class:`ProcessDied` when this unit
    took down an earlier attempt of the job."""
    if _state.channel is None:
        yield
        return
    token = str(token)
    if token in _state.dead:
        raise ProcessDied(_state.dead[token])
    _send(f"B\t{os.getpid()}\t{float(seconds or 0)!r}\t{token}")
    try:
        yield
    except SystemExit as exit_:  # the unit ends its process: the parent records it
        _send(f"R\tit called sys.exit({exit_.code!r})")
        _flush(sys.stdout, sys.stderr)
        os._exit(exit_.code if isinstance(exit_.code, int) and exit_.code else 1)
    finally:
        _send(f"E\t{os.getpid()}")


def _send(line):
    data = (line.replace("\n", " ") + "\n").encode()
    os.write(_state.channel, data)  # under PIPE_BUF: one atomic write, even from several workers


def supervised(function, *args, **kwargs):
    """``function(*args, **kwargs)`` in a watched child process (see the module's doc).

    Returns ``None`` (jobs write their results to disk). Raises ``RuntimeError`` when the
    child fails outside any unit: a genuine job error, whose traceback the child wrote to
    ``stderr``. A ``log`` keyword (the job's log file) is passed on to ``function``, and
    also flushed before forking and told of each dead unit."""
    if not hasattr(os, "fork") or _state.channel is not None:
        return function(*args, **kwargs)
    log = kwargs.get("log")
    dead, serial, retried = {}, False, set()
    while True:
        child, code, open_units, killed = _attempt(function, args, kwargs, dead, serial or bool(dead), log)
        if code == 0 and not open_units:
            return None
        if killed is not None:
            token, reason = killed
        elif len(open_units) == 1 and open_units[0][0] == child:
            _, token, reason = open_units[0]
        elif open_units and not serial:  # a worker of the child died: again, one unit at a time
            serial = True
            continue
        else:
            raise RuntimeError(f"the job's process failed ({exit_description(code)}); the lines above say why")
        if token in dead:
            raise RuntimeError(f"{token} took the job's process down again ({reason})")
        if killed is None and code == -signal.SIGKILL and token not in retried:
            # SIGKILL comes from outside (a person, a scheduler, the OOM killer): tried once
            # more before the unit is blamed, so a stray kill costs no fit.
            retried.add(token)
            continue
        if token in retried:
            reason += ", twice (out of memory?)"
        dead[token] = reason
        if log is not None:
            log.write(f"failed: {token}: {reason}; the job goes on in a fresh process\n")
            log.flush()


def _flush(*streams):
    for stream in streams:
        if stream is not None:
            with contextlib.suppress(ValueError, OSError):
                stream.flush()


def _attempt(function, args, kwargs, dead, serial, log):
    """One child: ``(its pid, its exit code, [(pid, token, reason)] of the units open when it
    ended, (token, reason) of a unit killed for overrunning its limit, or None)``. The exit
    code and the reason are the child's, so they are the unit's only when the child itself
    ran it (not one of its worker processes)."""
    _flush(log, sys.stdout, sys.stderr)  # else the child writes the parent's buffered lines again
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: its own process group, so that it is killed with its workers
        os.setpgid(0, 0)
        die_with_parent()
        os.close(read_end)
        _state.channel, _state.dead, _state.retry = write_end, dict(dead), serial
        code = 0
        try:
            function(*args, **kwargs)
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) and exit_.code else 1
        except BaseException:
            import traceback

            traceback.print_exc()
            code = 1
        _flush(log, sys.stdout, sys.stderr)
        os._exit(code)  # not Python's exit handlers: they are the parent's
    os.close(write_end)
    previous = {s: signal.signal(s, _stopper(pid)) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        return (pid, *_watch(pid, read_end))
    finally:
        os.close(read_end)
        for number, handler in previous.items():
            signal.signal(number, handler)


def fork_is_safe():
    """Whether this process may fork workers that go on computing: not once JAX has started
    its runtime here (its thread pools do not survive a fork, and a forked worker that uses
    them deadlocks, as a report job did). Importing JAX alone starts nothing."""
    bridge = sys.modules.get("jax._src.xla_bridge")
    return not (bridge is not None and getattr(bridge, "_backends", None))


def die_with_parent(parent=None):
    """On Linux, have the kernel kill this forked child when its parent dies (a job killed
    with SIGKILL cannot stop it, and its output would land after Snakemake gave up on the
    job; a pool's worker would wait forever on a queue whose other end it holds itself).
    ``parent``: the pid the child was forked from; if that parent is already gone, exit now."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            import ctypes

            PR_SET_PDEATHSIG = 1
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if parent is not None and os.getppid() != parent:  # orphaned before the request took hold
        os._exit(1)


def _stopper(pid):
    """When Snakemake or SLURM stops this job, stop the child and its workers too."""

    def stop(signum, frame):
        _kill_group(pid)
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)

    return stop


def _kill_group(pid):
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


def _watch(pid, read_end):
    """Follow the child's units until it exits; kill it when a unit overruns its hard limit."""
    units, pending, killed, said = {}, b"", None, None  # units: worker pid -> (token, started, hard limit)
    while True:
        now = time.monotonic()
        wait = min([0.05, *(start + limit - now for _, start, limit in units.values() if limit)])
        if select.select([read_end], [], [], max(0.0, wait))[0]:
            chunk = os.read(read_end, 65536)
            *lines, pending = (pending + chunk).split(b"\n")
            said = _record(lines, units) or said
        now = time.monotonic()
        overrun = [(token, limit) for token, start, limit in units.values() if limit and now - start > limit]
        if overrun and killed is None:
            token, limit = overrun[0]
            killed = (token, f"timed out: still running {limit:.0f} s after it started, so its process was killed")
            _kill_group(pid)
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            _kill_group(pid)  # workers or daemons the child left behind
            os.set_blocking(read_end, False)
            with contextlib.suppress(BlockingIOError):
                while chunk := os.read(read_end, 65536):
                    pending += chunk
            said = _record(pending.split(b"\n"), units) or said
            code = os.waitstatus_to_exitcode(status)
            reason = said or (
                "it ended its process (os._exit(0))" if code == 0 else f"its process died: {exit_description(code)}"
            )
            return code, [(worker, token, reason) for worker, (token, _, _) in units.items()], killed


def _record(lines, units):
    """Apply the child's messages to ``units``; return the reason it gave for exiting, if any."""
    said = None
    for raw in lines:
        fields = raw.decode(errors="replace").split("\t", 3)
        if fields[0] == "B" and len(fields) == 4:
            limit = float(fields[2])
            hard = limit * (1 + GRACE_FRACTION) + GRACE_SECONDS if limit > 0 else 0.0
            units[int(fields[1])] = (fields[3], time.monotonic(), hard)
        elif fields[0] == "E" and len(fields) == 2:
            units.pop(int(fields[1]), None)
        elif fields[0] == "R" and len(fields) == 2:
            said = fields[1]
    return said


def exit_description(code):
    """``exit status 3``, or ``killed by signal 11 (SIGSEGV)`` for a negative code."""
    if code < 0:
        try:
            name = f" ({signal.Signals(-code).name})"
        except ValueError:
            name = ""
        return f"killed by signal {-code}{name}"
    return f"exit status {code}"
