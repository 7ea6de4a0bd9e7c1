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

__all__ = ["job"]


@contextlib.contextmanager
def job(smk, output_template):
    """Context for one job: yields ``(plan, root, log_file)``.

    ``root`` is the experiment folder, derived from the job's first output and
    the layout template it follows, so no rule hard-codes a path prefix.
    """
    from threadpoolctl import threadpool_limits

    with open(smk.log[0], "w") as log, contextlib.redirect_stderr(log), threadpool_limits(int(smk.threads)):
        try:
            yield build_plan(smk.config), Layout.from_output(smk.output[0], output_template).root, log
        except BaseException:
            import traceback

            traceback.print_exc(file=log)
            raise
        finally:
            sys.stderr.flush()
