"""The shared opening of every Snakemake ``script:`` job.

:func:`job` opens the rule's log file, sends ``stderr`` (warnings, tracebacks)
there, caps BLAS/OpenMP threads at the job's ``threads`` so parallel jobs do
not oversubscribe the cores, and rebuilds the experiment plan from the config
Snakemake passes in; it also finds the experiment folder from the job's output.
Each script under ``workflow/scripts/`` is then a few lines.
"""

import contextlib
import sys

from .experiment import build_plan
from .layout import Layout

__all__ = ["job", "thread_limit", "cancel_pending_timers"]

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
            yield build_plan(smk.config), Layout.from_output(smk.output[0], output_template).root, log
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

    from threadpoolctl import threadpool_limits

    saved = {name: os.environ.get(name) for name in _THREAD_VARIABLES}
    os.environ.update({name: str(threads) for name in _THREAD_VARIABLES})
    try:
        with threadpool_limits(threads):
            yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


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
