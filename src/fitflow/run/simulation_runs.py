"""Simulation runs as jobs: for problems whose data come from runs of the user's code.

A problem opts in by implementing ``runs() -> [(key, params)]``, ``run_id(params)``,
``run(params, workdir) -> record`` and ``dataset_from_runs({key: record})`` (the
built-in ``simulation`` problem does). The workflow then runs each run as its own
job, writing ``runs/<problem>/<run-id>/run.json``, and the problem's generate job
assembles its dataset from those records instead of calling ``generate``.
"""

import hashlib
import time

from ..core.artefacts import read_json, write_json
from ..core.pipeline import validated_dataset
from ..core.registry import problems
from ..inputs.external import default_timeout
from .layout import Layout

__all__ = ["has_runs", "run_paths", "run_simulation", "dataset_from_run_files"]


def has_runs(problem):
    return hasattr(problem, "runs") and hasattr(problem, "dataset_from_runs")


def run_paths(layout, label, problem):
    """``{key: run.json path}`` of every run of ``problem`` (the problem entry ``label``)."""
    return {key: layout.run_file(label, problem.run_id(params)) for key, params in problem.runs()}


def run_simulation(plan, root, label, run_id, log=None):
    """The job of one run: find its parameters in the plan, run it in its folder, record it."""
    layout = Layout(root)
    for case in plan.problems:
        if case.label != label:
            continue
        problem = case.instance(problems())
        for key, params in problem.runs():
            if problem.run_id(params) == run_id:
                path = layout.run_file(label, run_id)
                runtime = ((case.entry or {}).get("resources") or {}).get("runtime")
                default_timeout(getattr(problem, "runner", None), runtime or problem.resource_hints()["runtime"])
                start = time.perf_counter()
                record = problem.run(params, path.parent / "work")
                if log is not None and record["status"] != "ok":
                    print(f"run {key} failed: {record['reason']}", file=log)
                write_json(path.parent / "timing.json", {"wall_time_s": time.perf_counter() - start})
                write_json(path, record)
                return
    raise KeyError(f"no run {run_id} of problem {label!r} in this plan")


def dataset_from_run_files(problem, layout, label):
    """``(dataset, digest)``: the dataset assembled from the run records, checked against
    the problem's capabilities, and a digest of the records (a changed run regenerates)."""
    paths = run_paths(layout, label, problem)
    records = {key: read_json(path) for key, path in paths.items()}
    digest = hashlib.sha256()
    for key in sorted(paths):
        digest.update(paths[key].read_bytes())
    return validated_dataset(problem, problem.dataset_from_runs(records)), digest.hexdigest()
