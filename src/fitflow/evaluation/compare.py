"""Every method that can on one dataset, in one table: the report's leaderboard for a notebook.

:func:`compare` fits a dataset (built in or your own, see :func:`fitflow.measurement`)
with each installed method that serves it, evaluates each fit as the workflow does
(on measured data with the k-fold cross-validated prediction error, every method on
the same folds) and returns one row per method. A method that cannot fit the data is
a row saying why; one that fails or raises is a row with its reason, never an
exception: the table is the answer to "which method can I trust here?".

A comparison has a wall-clock budget (:data:`DEFAULT_BUDGET_S`), so that the plain call
finishes on a large file too. Methods run cheapest first (by their declared runtime), and
each fit may take its share of the time left: that time over one plus the number of
cross-validation refits to follow. Time JAX spends tracing and compiling is not charged to
the share (it is done once: the refits run the program compiled for the fit), only to the
budget, and ``compile_s`` reports it apart from ``wall_time_s``, which includes it. A fit that runs past its share cannot finish with its
cross-validation, so it is stopped and its row says so, with the settings that would let it
run. Cross-validation stops once the folds left would run past the budget at the pace of
those done; the row then keeps the fit and says why its cross-validated error is missing.
"""

import time

import numpy as np

__all__ = ["compare", "DEFAULT_BUDGET_S"]

#: The wall-clock budget of one comparison, seconds (``budget_s``; ``--budget``): with
#: Python's start-up, the imports and the file read, ``fitflow compare`` ends within a minute.
DEFAULT_BUDGET_S = 55.0

#: The columns a comparison leads with; every metric follows.
LEADING = ["method", "status", "message", "wall_time_s"]


def compare(
    dataset,
    methods=None,
    seed=0,
    progress=None,
    timeout_s=None,
    budget_s=DEFAULT_BUDGET_S,
    after_each=None,
    started=None,
    **settings,
):
    """One row per method on ``dataset``: status, reason, wall time, metrics, estimates and
    their standard errors (``param.<name>``, ``stderr.<name>``).

    ``methods``: names (or instances) to compare; default every installed method that
    serves the dataset. ``settings``: ``{method name: {setting: value}}`` for named
    methods. ``progress``: a text stream told of each method as it starts and ends.
    ``timeout_s``: the wall-clock limit of one fit (and of its cross-validation), as the
    workflow's ``fit_timeout_s``; default each method's runtime hint. ``budget_s``: the
    wall-clock budget of the whole comparison (see the module's doc; ``None``: none). Each method's
    libraries are imported before its fit is timed: ``setup_s`` is that one-off cost,
    ``wall_time_s`` the fit alone. Interrupted (Ctrl-C), the methods done so far are
    returned, with a row saying where it stopped. ``after_each``, a function, is handed the
    table of the methods done so far after each one (``fitflow compare --csv`` writes it, so
    that a crash in native code loses nothing done). ``started``, a ``time.perf_counter``
    value, starts the budget earlier (``fitflow compare`` counts reading the file and checking
    the model). Returns a pandas DataFrame,
    best-first by the dataset's natural error (RMSE against a truth, else
    cross-validated error, else regret), failures last.
    """
    import pandas as pd

    from ..core.registry import methods as installed

    registry = installed()
    wanted = methods if methods is not None else sorted(registry.names(), key=lambda n: _declared_runtime(registry, n))
    budget = _Budget(budget_s, started)
    rows, running, interrupted = [], None, False
    try:
        for entry in wanted:
            running = entry if isinstance(entry, str) else getattr(entry, "name", str(entry))
            rows += _compare_one(dataset, entry, methods is not None, seed, progress, timeout_s, budget, settings)
            if after_each is not None and rows:
                after_each(_ordered(pd.DataFrame(rows)))
        running = None
        _say(
            progress,
            f"compared in {budget.spent():.1f} s" + (f" (budget {budget.seconds:g} s)" if budget.seconds else ""),
        )
    except KeyboardInterrupt:
        interrupted = True
        stopped = running or "(before any method)"
        rows.append(
            {"method": stopped, "status": "skipped", "message": "stopped by Ctrl-C while it ran; the rest not run"}
        )
        _say(progress, f"interrupted during {stopped}: the methods done so far follow")
    table = _best_first(_ordered(pd.DataFrame(rows)))
    table.attrs["interrupted"] = interrupted  # the command exits 130, the convention for Ctrl-C
    return table


def _ordered(table):
    """The table's columns, the leading ones first."""
    return table[[c for c in LEADING if c in table] + [c for c in table if c not in LEADING]]


def _declared_runtime(registry, name):
    """A method's declared runtime (minutes), the order of a default comparison; unknown last."""
    try:
        return float(registry.get(name).resource_hints()["runtime"])
    except Exception:  # a plugin that cannot even be loaded is reported by its own row
        return np.inf


class _Budget:
    """The wall-clock budget of one comparison: ``seconds`` (None: unlimited), started now."""

    def __init__(self, seconds, started=None):
        self.seconds = None if seconds is None or seconds <= 0 else float(seconds)
        self.started = time.perf_counter() if started is None else started
        self.before_methods = time.perf_counter() - self.started  # spent before compare was called

    def spent(self):
        return time.perf_counter() - self.started

    def deadline(self):
        """The ``time.perf_counter`` value the budget ends at, or None."""
        return None if self.seconds is None else self.started + self.seconds

    def left(self):
        """Seconds left (at least 0.01, so that a limit set from it is a limit), or None without a
        budget."""
        return None if self.seconds is None else max(0.01, self.seconds - self.spent())

    def advice(self, folds):
        """The settings that give a method more room, as one clause."""
        if self.seconds and self.before_methods > 0.5 * self.seconds:
            return (
                f"reading the data and checking the model took {self.before_methods:.3g} s of it (JAX traces and "
                "compiles a model for its check: a Python loop it unrolls traces slowly, lax.scan or lax.fori_loop "
                "does not, and JAX's compilation cache serves the next run); to run it, raise the budget (now "
                f"{self.seconds:g} s: --budget on the command line, budget_s in Python)"
            )
        fewer_folds = f", cross-validate on fewer folds (cv_folds, now {folds})" if folds > 2 else ""
        return (
            f"to run it, raise the budget (now {self.seconds:g} s: --budget on the command line, budget_s "
            f"in Python), or fit fewer points{fewer_folds}"
        )


def _tighter(*limits):
    """The smallest of the limits that are set (None or 0: none); None if none is."""
    set_limits = [limit for limit in limits if limit]
    return min(set_limits) if set_limits else None


def _compare_one(dataset, entry, named, seed, progress, timeout_s, budget, settings):
    """The rows (none or one) of one method in :func:`compare`."""
    from ..core.pipeline import as_rng, make_method, safe_fit
    from ..core.timelimit import TimedOut, time_limit
    from .crossval import cross_validate, follows_noise_warning
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
    folds = int(dataset.meta.get("cv_folds") or 0) if dataset.meta.get("measured") else 0
    left = budget.left()
    if left is not None and left <= 0.01:
        message = f"not started: the {budget.seconds:g} s budget is spent; {budget.advice(folds)}"
        _say(progress, f"{method.name}: {message}")
        return [{**row, "status": "skipped", "message": message}]
    started = time.perf_counter()
    method.import_requirements()  # a one-off cost, not the fit's
    setup = time.perf_counter() - started
    # The fit's share of what is left after its imports: it and its cross-validation refits must all fit.
    left = budget.left()
    if left is not None and left <= 0.01:
        message = (
            f"not started: importing its libraries took {setup:.3g} s, the rest of the {budget.seconds:g} s budget; "
            f"{budget.advice(folds)}"
        )
        _say(progress, f"{method.name}: {message}")
        return [{**row, "status": "skipped", "message": message, "setup_s": setup}]
    # JAX's tracing and compiling is done once for the fit and its refits (each fold runs the
    # program compiled for the whole dataset), so the share is of fitting time; compiling may
    # take what is left.
    share = None if left is None else left / (1 + folds)
    fit_limit = _tighter(limit, share)
    _say(progress, f"{method.name}: fitting ({f'limit {fit_limit:.3g} s' if fit_limit else 'no limit'}) ...", end="")
    result, timing, _ = safe_fit(method, dataset, as_rng(seed), seconds=fit_limit, compiling_within=left)
    compiling = timing["compile_s"]
    fitting = timing["wall_time_s"] - compiling
    if share is not None and share < (limit or np.inf) and not result.ok and "timed out" in (result.message or ""):
        message = _over_budget(share, left, folds, fitting, compiling, budget)
        _say(progress, f" stopped: {message}")
        return [
            {
                **row,
                "status": "skipped",
                "message": message,
                "wall_time_s": timing["wall_time_s"],
                "compile_s": compiling,
            }
        ]
    if result.ok and folds:
        # The same folds for every method (seeded by the comparison, not the method).
        try:
            with time_limit(_tighter(limit, budget.left())):
                result.diagnostics.update(
                    cross_validate(
                        method, dataset, as_rng(seed), folds, np.random.default_rng([seed, 1]), budget.deadline()
                    )
                )
        except TimedOut as exc:
            result.diagnostics["cv_rmse"], result.diagnostics["cv_note"] = None, f"cross-validation {exc}"
    metrics = evaluate(dataset, result)
    noisy = follows_noise_warning(metrics.get("residual_rms"), metrics.get("cv_rmse"))
    if noisy:
        result.warnings.append(noisy)
    # Each estimate beside its standard error (a posterior sd for a sampler), in the
    # order the model names its parameters.
    stderr = result.stderr or {}
    estimates = {}
    for name, value in (result.params or {}).items():
        estimates[f"param.{name}"] = value
        estimates[f"stderr.{name}"] = stderr.get(name, np.nan)
    spent = time.perf_counter() - started
    _say(progress, f" {metrics['status']} in {spent:.2f} s" + _compiling_part(compiling, spent))
    return [
        {
            **row,
            "status": metrics.pop("status"),
            "message": result.message or _missing_cv_note(result),
            "warnings": "; ".join(result.warnings) if result.ok else "",
            "wall_time_s": timing["wall_time_s"],
            "compile_s": compiling,
            "setup_s": setup,
            **{k: v for k, v in metrics.items() if not _missing(v)},
            **estimates,
        }
    ]


def _over_budget(share, left, folds, fitting, compiling, budget):
    """Why a fit stopped by its share of the budget was skipped, and what would let it run."""
    if compiling >= 0.5 * (fitting + compiling):
        return (
            f"would not finish in the budget: tracing and compiling your model with JAX took {compiling:.3g} s of "
            f"the {left:.3g} s left, and the fit had not ended; a model whose trace is slow (a Python loop JAX "
            "unrolls: use lax.scan or lax.fori_loop) compiles faster, and JAX's compilation cache serves the "
            f"compiled program to the next run; or raise the budget (now {budget.seconds:g} s)"
        )
    if folds:
        return (
            f"would not finish in the budget: its fit ran past {share:.3g} s, its share of the {left:.3g} s left "
            f"(the fit and {folds} cross-validation refits), besides {compiling:.3g} s of compiling; "
            f"{budget.advice(folds)}"
        )
    return f"would not finish in the budget: its fit ran past the {share:.3g} s left; {budget.advice(folds)}"


def _compiling_part(compiling, spent):
    """``" (JAX compiling: N s of it)"`` where compiling took a noticeable part, else ''."""
    return f" (JAX compiling: {compiling:.2f} s of it)" if compiling >= max(0.1, 0.05 * spent) else ""


def _missing_cv_note(result):
    """Why an ok fit has no cross-validated error (skipped or timed out), else ''."""
    diagnostics = result.diagnostics or {}
    if result.ok and _missing(diagnostics.get("cv_rmse")) and diagnostics.get("cv_note"):
        return str(diagnostics["cv_note"])
    return ""


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
