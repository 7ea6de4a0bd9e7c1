"""Every method that can on one dataset, in one table: the report's leaderboard for a notebook.

:func:`compare` fits a dataset (built in or your own, see :func:`fitflow.measurement`)
with each installed method that serves it, evaluates each fit as the workflow does
(on measured data with the k-fold cross-validated prediction error, every method on
the same folds) and returns one row per method. A method that cannot fit the data is
a row saying why; one that fails or raises is a row with its reason, never an
exception: the table is the answer to "which method can I trust here?".
"""

import numpy as np

__all__ = ["compare"]

#: The columns a comparison leads with; every metric follows.
LEADING = ["method", "status", "message", "wall_time_s"]


def compare(dataset, methods=None, seed=0, progress=None, timeout_s=None, **settings):
    """One row per method on ``dataset``: status, reason, wall time, metrics, estimates and
    their standard errors (``param.<name>``, ``stderr.<name>``).

    ``methods``: names (or instances) to compare; default every installed method that
    serves the dataset. ``settings``: ``{method name: {setting: value}}`` for named
    methods. ``progress``: a text stream told of each method as it starts and ends.
    ``timeout_s``: the wall-clock limit of one fit (and of its cross-validation), as the
    workflow's ``fit_timeout_s``; default each method's runtime hint. Each method's
    libraries are imported before its fit is timed: ``setup_s`` is that one-off cost,
    ``wall_time_s`` the fit alone. Interrupted (Ctrl-C), the methods done so far are
    returned, with a row saying where it stopped. Returns a pandas DataFrame,
    best-first by the dataset's natural error (RMSE against a truth, else
    cross-validated error, else regret), failures last.
    """
    import pandas as pd

    from ..core.registry import methods as installed

    wanted = methods if methods is not None else installed().names()
    rows = []
    try:
        for entry in wanted:
            rows += _compare_one(dataset, entry, methods is not None, seed, progress, timeout_s, settings)
    except KeyboardInterrupt:
        rows.append({"method": "(interrupted)", "status": "skipped", "message": "stopped by Ctrl-C; the rest not run"})
        _say(progress, "interrupted: the methods done so far follow")
    table = pd.DataFrame(rows)
    table = table[[c for c in LEADING if c in table] + [c for c in table if c not in LEADING]]
    return _best_first(table)


def _compare_one(dataset, entry, named, seed, progress, timeout_s, settings):
    """The rows (none or one) of one method in :func:`compare`."""
    import time

    from ..core.pipeline import as_rng, make_method, safe_fit
    from ..core.timelimit import TimedOut, time_limit
    from .crossval import cross_validation_rmse
    from .evaluate import evaluate

    method = make_method(entry, **settings.get(entry, {})) if isinstance(entry, str) else entry
    row = {"method": method.name}
    if not method.serves(dataset.capabilities):
        if not named:
            return []
        message = f"serves {sorted(method.capabilities)}; the data are {sorted(dataset.capabilities)}"
        return [{**row, "status": "skipped", "message": message}]
    reason = method.unavailable() or method.can_fit(dataset)
    if reason:
        return [{**row, "status": "skipped", "message": reason}]
    limit = timeout_s if timeout_s is not None else 60.0 * method.resource_hints()["runtime"]
    _say(progress, f"{method.name}: fitting (limit {limit:g} s) ...", end="")
    started = time.perf_counter()
    method.import_requirements()  # a one-off cost, not the fit's
    setup = time.perf_counter() - started
    result, timing, _ = safe_fit(method, dataset, as_rng(seed), seconds=limit or None)
    folds = int(dataset.meta.get("cv_folds") or 0) if dataset.meta.get("measured") else 0
    if result.ok and folds:
        # The same folds for every method (seeded by the comparison, not the method).
        try:
            with time_limit(limit or None):
                result.diagnostics["cv_rmse"], result.diagnostics["cv_note"] = cross_validation_rmse(
                    method, dataset, as_rng(seed), folds, fold_rng=np.random.default_rng([seed, 1])
                )
        except TimedOut as exc:
            result.diagnostics["cv_rmse"], result.diagnostics["cv_note"] = None, f"cross-validation {exc}"
    metrics = evaluate(dataset, result)
    # Each estimate beside its standard error (a posterior sd for a sampler), in the
    # order the model names its parameters.
    stderr = result.stderr or {}
    estimates = {}
    for name, value in (result.params or {}).items():
        estimates[f"param.{name}"] = value
        estimates[f"stderr.{name}"] = stderr.get(name, np.nan)
    _say(progress, f" {metrics['status']} in {time.perf_counter() - started:.2f} s")
    return [
        {
            **row,
            "status": metrics.pop("status"),
            "message": result.message or "",
            "wall_time_s": timing["wall_time_s"],
            "setup_s": setup,
            **{k: v for k, v in metrics.items() if not _missing(v)},
            **estimates,
        }
    ]


def _say(stream, text, end="\n"):
    if stream is not None:
        stream.write(text + end)
        stream.flush()


def _missing(value):
    return value is None or (isinstance(value, float) and np.isnan(value))


def _best_first(table):
    """Ok fits first, each group ordered by the first natural error metric the table has."""
    import pandas as pd

    if table.empty:
        return table
    metric = next((m for m in ("rmse", "param_rms_error", "cv_rmse", "regret") if m in table), None)
    keys = pd.DataFrame({"failed": table["status"] != "ok", "error": table[metric] if metric else 0.0})
    order = keys.sort_values(["failed", "error"], kind="stable", na_position="last").index
    return table.loc[order].reset_index(drop=True)
