"""The shared opening of every Snakemake ``script:`` job.

:func:`job` opens the rule's log file, sends ``stderr`` (warnings, tracebacks)
there, caps BLAS/OpenMP threads at the job's ``threads`` so parallel jobs do
not oversubscribe the cores, and takes the experiment plan the Snakefile built
(:func:`share_plan`), or rebuilds it from the config Snakemake passes in; it
also finds the experiment folder from the job's output. Each script under
``workflow/scripts/`` is then a few lines.
"""

import contextlib
import functools
import hashlib
import json
import os
from pathlib import Path
import pickle
import sys

from ..inputs.expression import adopt_compiled_expressions, compiled_expressions
from .experiment import build_plan
from .layout import Layout

__all__ = [
    "job",
    "thread_limit",
    "limit_threads",
    "cancel_pending_timers",
    "share_plan",
    "shared_plan",
    "file_digest",
]

#: Where the Snakefile leaves its plan for the jobs, relative to the working directory
#: (Snakemake's own metadata folder: never among the results).
PLAN_FOLDER = Path(".snakemake") / "fitflow-plans"

#: What the BLAS and OpenMP runtimes read when they load: scipy and scikit-learn bring their
#: own copies (scipy's OpenBLAS, scikit-learn's libgomp), loaded only when a plugin first
#: imports them, after threadpoolctl has limited the ones already loaded.
_THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS")


@contextlib.contextmanager
def job(smk, output_template):
    """Context for one job: yields ``(plan, root, log_file)``.

    ``root`` is the experiment folder, derived from the job's first output and
    the layout template it follows, so no rule hard-codes a path prefix.
    """
    with open(smk.log[0], "w") as log, contextlib.redirect_stderr(log), thread_limit(int(smk.threads)):
        try:
            yield shared_plan(smk.config), Layout.from_output(smk.output[0], output_template).root, log
        except BaseException:
            import traceback

            traceback.print_exc(file=log)
            raise
        finally:
            sys.stderr.flush()


@contextlib.contextmanager
def thread_limit(threads):
    """Cap every BLAS and OpenMP thread pool of this process at ``threads``: those loaded
    now (threadpoolctl) and those loaded later (their environment variables). Without the
    second half, scipy's own OpenBLAS and scikit-learn's OpenMP ran two threads each inside
    one-thread jobs, so two jobs on two cores spun four threads."""
    import os

    saved = {name: os.environ.get(name) for name in _THREAD_VARIABLES}
    try:
        with limit_threads(threads):
            yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def limit_threads(threads):
    """Cap the BLAS and OpenMP thread pools of this process at ``threads``, for good: those
    loaded now and those loaded later. Returns threadpoolctl's limiter, whose ``with``
    block undoes the first half (:func:`thread_limit` undoes the second)."""
    import os

    from threadpoolctl import threadpool_limits

    os.environ.update({name: str(threads) for name in _THREAD_VARIABLES})
    return threadpool_limits(threads)


def cancel_pending_timers():
    """Cancel the ``threading.Timer`` threads still waiting in this process.

    Called by the Snakefile's ``onsuccess``/``onerror`` hooks, when Snakemake's scheduler
    has returned. Its job-rate limiter (``--max-jobs-per-timespan``, 100/1s by default)
    starts a one-second, non-daemon Timer at every scheduling round to wake the
    scheduler; the last one outlives the run, and Python waits for it before exiting:
    every run ended up to a second after its last job (measured: 1.0 s of a 6.5 s
    workflow). Nothing is left for a timer to wake once the scheduler has returned."""
    import threading

    for thread in threading.enumerate():
        if isinstance(thread, threading.Timer):
            thread.cancel()


def _config_digest(config):
    return hashlib.sha256(json.dumps(config, sort_keys=True, default=repr).encode()).hexdigest()


def share_plan(plan, config):
    """Leave ``plan``, built from ``config``, for this run's jobs (see :func:`shared_plan`).

    Building a plan validates every problem and method: it reads the user's data
    files and compiles their model expressions with sympy, 0.2-0.7 s that every
    job repeated for a plan the Snakefile had already built. The compiled
    expressions go with it, as generated numpy code, so a job need not import
    sympy either. Plans of other configs are removed. Best effort: where the
    folder cannot be written, jobs build their own plan as before."""
    from ..core.artefacts import write_bytes

    digest = _config_digest(config)
    path = PLAN_FOLDER / f"{digest}.pickle"
    try:
        PLAN_FOLDER.mkdir(parents=True, exist_ok=True)
        shared = {"plan": plan, "expressions": compiled_expressions()}
        write_bytes(path, pickle.dumps(shared, protocol=pickle.HIGHEST_PROTOCOL))
        for other in PLAN_FOLDER.glob("*.pickle"):
            if other != path:
                other.unlink(missing_ok=True)
    except (OSError, pickle.PicklingError, TypeError, AttributeError):
        pass


def shared_plan(config):
    """The plan the Snakefile built from this very ``config`` (:func:`share_plan`), or,
    if there is none or it cannot be read, one built here."""
    try:
        shared = pickle.loads((PLAN_FOLDER / f"{_config_digest(config)}.pickle").read_bytes())
        adopt_compiled_expressions(shared["expressions"])
        return shared["plan"]
    except Exception:  # missing, unreadable or from another version: build it
        pass
    return build_plan(config)


@functools.cache
def _digest(path, size, mtime_ns):
    from ..core.artefacts import sha256_file

    return sha256_file(path)


def file_digest(path):
    """SHA-256 of the file ``path`` (missing: ``None``), hashed once per state of the file in
    this process: the Snakefile asks for it once per job that reads the file."""
    try:
        info = os.stat(path)
    except OSError:
        return None
    return _digest(path, info.st_size, info.st_mtime_ns)
