"""The Python API: every public function in one place, for notebooks and scripts.

>>> import fitflow
>>> data = fitflow.generate("gaussian_peak", seed=1)
>>> result = fitflow.fit("nlls", data, seed=1)
>>> metrics = fitflow.evaluate(data, result)
>>> round(metrics["param.mu.estimate"], 2)
0.25

The functions live in the layer that owns them (see ``docs/architecture.md``);
this module only gathers them.
"""

from .campaigns.campaign import maximise, minimise
from .campaigns.pareto import pareto
from .core.artefacts import read_dataset, read_result, write_dataset, write_result
from .core.pipeline import fit, generate, make_method, make_problem, measurement
from .evaluation.compare import compare
from .evaluation.evaluate import evaluate

__all__ = [
    "compare",
    "evaluate",
    "fit",
    "generate",
    "make_method",
    "make_problem",
    "maximise",
    "measurement",
    "minimise",
    "pareto",
    "read_dataset",
    "read_result",
    "read_table",
    "verdict",
    "write_dataset",
    "write_result",
]


def read_table(root, with_timings=True):
    """The aggregate table of an experiment folder (see :mod:`fitflow.run.aggregate`)."""
    from .run.aggregate import read_table as _read_table

    return _read_table(root, with_timings=with_timings)


def verdict(table):
    """The method to trust on a :func:`compare` table, the runner-up and those to avoid, each
    comparison with its uncertainty (the report's verdict, :mod:`fitflow.report.verdict`):
    ``{"trust", "runner_up", "same", "avoid", "note", "rule"}``, or None when no method has an
    error to compare on."""
    from .report.verdict import table_verdict

    return table_verdict(table)
