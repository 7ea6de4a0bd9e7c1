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


def compare(dataset, methods=None, seed=0, **settings):
    """One row per method on ``dataset``: status, reason, wall time, metrics, estimates and
    their standard errors (``param.<name>``, ``stderr.<name>``).

    ``methods``: names (or instances) to compare; default every installed method that
    serves the dataset. ``settings``: ``{method name: {setting: value}}`` for named
    methods. Returns a pandas DataFrame, best-first by the dataset's natural error
    (RMSE against a truth, else cross-validated error, else regret), failures last.
    """
    import pandas as pd

    from ..core.pipeline import as_rng, make_method, safe_fit
    from ..core.registry import methods as installed
    from .crossval import cross_validation_rmse
    from .evaluate import evaluate

    wanted = methods if methods is not None else installed().names()
    folds = int(dataset.meta.get("cv_folds") or 0) if dataset.meta.get("measured") else 0
    rows = []
    for entry in wanted:
        method = make_method(entry, **settings.get(entry, {})) if isinstance(entry, str) else entry
        row = {"method": method.name}
        if not method.serves(dataset.capabilities):
            if methods is not None:  # asked for by name: say why it is not here
                rows.append(
                    {
                        **row,
                        "status": "skipped",
                        "message": f"serves {sorted(method.capabilities)}; the data are {sorted(dataset.capabilities)}",
                    }
                )
            continue
        reason = method.can_fit(dataset)
        if reason:
            rows.append({**row, "status": "skipped", "message": reason})
            continue
        result, timing, _ = safe_fit(method, dataset, as_rng(seed))
        if result.ok and folds:
            # The same folds for every method (seeded by the comparison, not the method).
            result.diagnostics["cv_rmse"], result.diagnostics["cv_note"] = cross_validation_rmse(
                method, dataset, as_rng(seed), folds, fold_rng=np.random.default_rng([seed, 1])
            )
        metrics = evaluate(dataset, result)
        # Each estimate beside its standard error (a posterior sd for a sampler), in the
        # order the model names its parameters.
        stderr = result.stderr or {}
        estimates = {}
        for name, value in (result.params or {}).items():
            estimates[f"param.{name}"] = value
            estimates[f"stderr.{name}"] = stderr.get(name, np.nan)
        rows.append(
            {
                **row,
                "status": metrics.pop("status"),
                "message": result.message or "",
                "wall_time_s": timing["wall_time_s"],
                **{k: v for k, v in metrics.items() if not _missing(v)},
                **estimates,
            }
        )
    table = pd.DataFrame(rows)
    table = table[[c for c in LEADING if c in table] + [c for c in table if c not in LEADING]]
    return _best_first(table)


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
