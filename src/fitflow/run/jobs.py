"""The work behind each Snakemake rule, one function per stage.

Each job handles a *batch* of replicates, so that one process start-up (Python and
the libraries a method imports) is shared by many cheap fits, while every
replicate still gets its own artefact folder. A batch writes its per-replicate
files first and its batch manifest (the rule's declared output) last, each
atomically: a job killed half-way leaves no manifest, so Snakemake reruns it.
"""

from pathlib import Path

from ..core.artefacts import (
    artefact_exists,
    dataset_failure,
    durable_on_exit,
    normalised_json,
    read_dataset,
    read_json,
    read_result,
    sha256_file,
    write_bytes,
    write_dataset,
    write_failed_dataset,
    write_json,
    write_result,
)
from ..core.errors import ArtefactError, FitflowError
from ..core.isolation import ProcessDied, guarded
from ..core.pipeline import generate, safe_fit
from ..core.registry import methods, problems
from ..core.result import FitResult
from ..core.seeding import make_rng
from ..core.validation import plugin_origin
from ..evaluation.evaluate import evaluate
from .experiment import batch_replicates
from .healing import folder_files, record_written
from .layout import Layout
from .provenance import plugin_record, provenance_record
from .simulation_runs import dataset_from_run_files, has_runs

__all__ = [
    "dataset_identity",
    "fit_identity",
    "generate_batch",
    "fit_batch",
    "evaluate_batch",
    "batch_replicates",
    "input_hashes",
]

DATASET_FILES = ("dataset.npz", "dataset.json")
#: The replicate whose diagnostics and figures the report shows.
REPRESENTATIVE_REPLICATE = 0


def dataset_identity(case, rep):
    """What names a dataset's random stream: problem, its settings, replicate."""
    return ["dataset", case.plugin, case.settings, rep]


def fit_identity(pcase, mcase, rep):
    """What names a fit's random stream: the dataset's identity, method and its settings."""
    return ["fit", pcase.plugin, pcase.settings, rep, mcase.plugin, mcase.settings]


def _log(log, text):
    if log is not None:
        log.write(text)
        log.flush()


@durable_on_exit()
def generate_batch(plan, root, problem_label, psid, batch, log=None):
    """Generate and write the datasets of one batch of replicates."""
    layout = Layout(root)
    case = plan.problem_case(problem_label, psid)
    problem = case.instance(problems())
    problem.import_requirements()
    make = generate
    inputs = input_hashes(problem)
    if has_runs(problem):  # the data are the records of its simulation runs (each run a job)
        make, inputs["runs"] = _from_runs(problem, layout, problem_label)
    manifest = []
    for rep in batch_replicates(plan.replicates, plan.batch_size, batch):
        folder = layout.dataset_dir(problem_label, psid, rep)
        identity = dataset_identity(case, rep)
        meta = {"replicate": rep, "seed": {"base": plan.seed, "identity": identity}, "inputs": inputs}
        if not (plan.reuse_fits and _dataset_current(folder, problem, meta)):
            _generate_into(problem, case, make_rng(plan.seed, identity), folder, meta, log, make)
        manifest.append({"replicate": rep, "files": {n: sha256_file(folder / n) for n in DATASET_FILES}})
        _log(log, f"generated {folder}\n")
    _check_unchanged(problem, inputs)
    output = layout.dataset_batch(problem_label, psid, batch)
    write_json(output, {"problem": problem_label, "psid": psid, "replicates": manifest})
    if not plan.chunks:  # what this job wrote, checked by the next run (a chunk records its own)
        reps = batch_replicates(plan.replicates, plan.batch_size, batch)
        files = folder_files(layout.dataset_dir(problem_label, psid, r) for r in reps)
        record_written(layout.root, output, [*files, output])


def _from_runs(problem, layout, label):
    """``(make, digest)``: a dataset maker for a problem whose data are its runs' records,
    and the records' digest. When too few runs succeeded, every replicate becomes a failed
    dataset saying so."""
    try:
        dataset, digest = dataset_from_run_files(problem, layout, label)
    except Exception as exc:
        error = exc

        def make(problem, rng):
            raise error

        return make, None

    def make(problem, rng):  # the same data for every replicate
        return dataset

    return make, digest


def _generate_into(problem, case, rng, folder, meta, log, make=generate):
    """Generate (with ``make(problem, rng)``) and write one dataset; a plugin error or an
    invalid dataset is written as a failed dataset that names the problem plugin, so its
    fits fail and the run goes on."""
    import traceback

    try:
        with guarded(folder):
            dataset = make(problem, rng)
    except ProcessDied as died:
        message = f"{plugin_origin(problem, case.key)}: {died.reason}"
    except FitflowError as exc:
        message = str(exc) if plugin_origin(problem) in str(exc) else f"{plugin_origin(problem, case.key)}: {exc}"
    except Exception as exc:
        message = f"{plugin_origin(problem, case.key)} raised {type(exc).__name__} in generate: {exc}"
        _log(log, traceback.format_exc())
    else:
        write_dataset(dataset, folder, meta)
        return
    _log(log, f"failed: {message}\n")
    write_failed_dataset(folder, problem, message, meta)


def input_hashes(problem, digest=sha256_file):
    """SHA-256 of every file the problem reads, by path (empty for synthetic problems);
    ``digest`` hashes one path (the Snakefile passes a cached one)."""
    return {str(path): digest(str(path)) for path in problem.input_files()}


def _check_unchanged(problem, before):
    """Refuse datasets whose input files changed while they were generated: the bytes read
    are then those hashed before and after, and the hash recorded in each dataset.json
    (and carried from there into every fit's provenance) is the one of the data used."""
    after = input_hashes(problem)
    changed = [path for path in after if after[path] != before.get(path)]
    if changed:
        raise ArtefactError(
            f"{changed[0]} changed while its datasets were being generated (SHA-256 {before.get(changed[0])} "
            f"before, {after[changed[0]]} after); nothing of this batch is kept: run again"
        )


def _provenance(plan, pcase, mcase, rep, problem, method, data_dir):
    return provenance_record(
        config_slice={
            "experiment": plan.name,
            "seed": plan.seed,
            "replicate": rep,
            "problem": {"label": pcase.label, "settings_id": pcase.sid, "entry": pcase.entry},
            "method": {"label": mcase.label, "settings_id": mcase.sid, "entry": mcase.entry},
        },
        seeds={
            "base": plan.seed,
            "dataset_identity": dataset_identity(pcase, rep),
            "fit_identity": fit_identity(pcase, mcase, rep),
        },
        plugins={"problem": plugin_record(problem, problems()), "method": plugin_record(method, methods())},
        # The input files' hashes the dataset recorded when it read them: never hashed again
        # here, where the file may since have changed (its dataset is then regenerated).
        inputs={**{str(data_dir / n): sha256_file(data_dir / n) for n in DATASET_FILES}, **_recorded_inputs(data_dir)},
    )


def _recorded_inputs(data_dir):
    """The input-file hashes ``dataset.json`` recorded (empty for a synthetic problem)."""
    try:
        return dict(read_json(data_dir / "dataset.json").get("inputs") or {})
    except (ArtefactError, FileNotFoundError):
        return {}


def _reusable(folder, files, record):
    """True when ``folder`` already holds ``files`` made exactly as ``record`` describes.

    Generation and fitting are deterministic, so an artefact with an identical
    provenance record (seeds, settings, plugin and package versions, git state,
    input hashes) is byte for byte what recomputing would give: a batch that
    grows (more replicates) then refits only its new replicates.
    """
    provenance = folder / "provenance.json"
    if not artefact_exists(provenance) or not all(artefact_exists(folder / f) for f in files):
        return False
    try:
        return read_json(provenance) == normalised_json(record)
    except ArtefactError:
        return False


def _dataset_current(folder, problem, meta):
    """True when ``folder`` holds the dataset this problem, settings and seed would generate."""
    if not all(artefact_exists(folder / n) for n in DATASET_FILES):
        return False
    try:
        info = read_json(folder / "dataset.json")
    except ArtefactError:
        return False
    expected = normalised_json(
        {"problem": problem.name, "problem_version": problem.version, "settings": problem.get_settings(), **meta}
    )
    return all(info.get(k) == v for k, v in expected.items())


def _cross_validate(method, dataset, result, timing, rng, fold_rng, folds, limit=None):
    """Add the k-fold CV error to a fit of measured data (timed apart from the fit, and
    under the same wall-clock limit: a CV that times out leaves the fit without it)."""
    import time

    from ..core.timelimit import TimedOut, time_limit
    from ..evaluation.crossval import cross_validate

    started = time.perf_counter()
    try:
        with time_limit(limit):
            result.diagnostics.update(cross_validate(method, dataset, rng, folds, fold_rng))
    except TimedOut as exc:
        result.diagnostics["cv_rmse"], result.diagnostics["cv_note"] = None, f"cross-validation {exc}"
    timing["cv_wall_time_s"] = time.perf_counter() - started


def _plot(method, mcase, dataset, result, folder, title):
    """Draw the fit and the method's own figures; a figure that fails is a logged warning."""
    import traceback

    from ..evaluation.plots import plot_fit, save_method_figures

    if dataset is None:  # the problem produced no data: nothing to draw
        return ""
    try:
        plot_fit(dataset, result, folder / "fit.png", title=title)
        if result.ok:
            save_method_figures(method, dataset, result, folder)
    except Exception as exc:  # a figure must never cost the fit
        return (
            f"warning: {plugin_origin(method, mcase.key)}: a figure failed: {type(exc).__name__}: {exc}\n"
            + traceback.format_exc()
        )
    return ""


@durable_on_exit()
def fit_batch(plan, root, key, batch, log=None, plot=True):
    """Fit one batch of replicates of one (problem, method) pair and write every artefact."""
    problem_label, psid, method_label, msid = key
    layout = Layout(root)
    pcase = plan.problem_case(problem_label, psid)
    mcase = plan.method_case(method_label, msid)
    problem = pcase.instance(problems())
    method = mcase.instance(methods())
    method.import_requirements()  # so that no fit's timing includes an import
    limit = plan.fit_timeout(method_label)
    manifest = []
    for rep in batch_replicates(plan.replicates, plan.method_batch_size(method_label), batch):
        data_dir = layout.dataset_dir(problem_label, psid, rep)
        folder = layout.fit_dir(problem_label, psid, method_label, msid, rep)
        record = _provenance(plan, pcase, mcase, rep, problem, method, data_dir)
        # The figures of the replicate the report shows, or of every one with plot_fits: all
        # (fit.png costs 0.1-0.3 s, a diagnostic figure up to a second: most of a cheap fit).
        draw = plot == "all" or (bool(plot) and rep == REPRESENTATIVE_REPLICATE)
        needed = ["result.json", "result.npz", "timing.json", "fit.log"] + (["fit.png"] if draw else [])
        if plan.reuse_fits and _reusable(folder, needed, record):
            manifest.append({"replicate": rep, "status": read_json(folder / "result.json")["status"]})
            _log(log, f"rep {rep}: reused (identical provenance)\n")
            continue
        try:
            # A plugin that takes its process down costs this fit only (see fitflow.core.isolation).
            with guarded(folder, seconds=3 * limit if limit else None):
                dataset, result, timing, fit_log = _fit_replicate(plan, pcase, mcase, method, rep, data_dir, limit)
                if draw:
                    title = f"{problem_label} / {method_label} / rep {rep}"
                    fit_log += _plot(method, mcase, dataset, result, folder, title)
        except ProcessDied as died:
            result = FitResult.failed(f"{plugin_origin(method, mcase.key)}: {died.reason}")
            timing, fit_log = {"wall_time_s": 0.0, "cpu_time_s": 0.0}, f"failed: {result.message}\n"
        write_result(result, folder, {"method": method.name, "replicate": rep})
        write_json(folder / "timing.json", timing)
        write_bytes(folder / "fit.log", fit_log.encode())
        # Written last: a fit killed before this point is never taken as reusable.
        write_json(folder / "provenance.json", record)
        manifest.append({"replicate": rep, "status": result.status})
        _log(log, f"rep {rep}: {result.status}\n{fit_log}")  # a failure's message is in its fit log
    write_json(layout.fit_batch(*key, batch), {"key": list(key), "replicates": manifest})


def _fit_replicate(plan, pcase, mcase, method, rep, data_dir, limit):
    """``(dataset, result, timing, log)`` of one replicate's fit (dataset None when the
    problem made none), with its cross-validation error when the dataset asks for one."""
    failure = dataset_failure(data_dir)
    if failure:
        result = FitResult.failed(f"no dataset to fit: {failure}")
        return None, result, {"wall_time_s": 0.0, "cpu_time_s": 0.0}, f"failed: {result.message}\n"
    dataset = read_dataset(data_dir)
    rng = make_rng(plan.seed, fit_identity(pcase, mcase, rep))
    result, timing, fit_log = safe_fit(method, dataset, rng, key=mcase.key, seconds=limit)
    edited = _edited_model_file(data_dir)
    if edited:
        result = FitResult.failed(edited)
        return dataset, result, timing, f"failed: {result.message}\n"
    folds = int(dataset.meta.get("cv_folds") or 0)
    if result.ok and folds >= 2:
        _cross_validate(
            method,
            dataset,
            result,
            timing,
            make_rng(plan.seed, [*fit_identity(pcase, mcase, rep), "cv"]),
            make_rng(plan.seed, [*dataset_identity(pcase, rep), "cv-folds"]),
            folds,
            limit,
        )
    return dataset, result, timing, fit_log


def _edited_model_file(data_dir):
    """Why a fit must not stand when a model file it imported differs from the one its dataset
    recorded (the file was edited while the run was under way: the fit ran the edited model on
    data made with the old), else ''. An edited data file fails its generate job the same way
    (:func:`_check_unchanged`); the next run reruns both, the file being an input of their jobs."""
    from pathlib import Path

    from ..inputs.external import imported_file_digests

    imported = imported_file_digests()
    for path, recorded in _recorded_inputs(data_dir).items():
        read = imported.get(str(Path(path).resolve()))
        if path.endswith(".py") and read is not None and read != recorded:
            return (
                f"the model file {path} changed after its datasets were generated (SHA-256 {recorded[:12]}... "
                f"recorded, {read[:12]}... imported by this fit): nothing of this fit is kept; run again, and "
                "every job that reads the file reruns"
            )
    return ""


def _safe_evaluate(data_dir, result):
    """Metrics of one fit; a failed fit needs no dataset, and an error evaluating a fit
    (a plugin's result that slipped past validation) makes it a failed fit."""
    if not result.ok:
        return evaluate(None, result)
    try:
        return evaluate(read_dataset(data_dir), result)
    except Exception as exc:
        result.status, result.message = "failed", f"evaluation failed: {type(exc).__name__}: {exc}"
        return evaluate(None, result)


@durable_on_exit()
def evaluate_batch(plan, root, key, batch, log=None):
    """Evaluate one batch of fits against the truth; write per-fit and batch metrics."""
    problem_label, psid, method_label, msid = key
    layout = Layout(root)
    rows = []
    for rep in batch_replicates(plan.replicates, plan.method_batch_size(method_label), batch):
        folder = layout.fit_dir(*key, rep)
        result = read_result(folder)
        metrics = _safe_evaluate(layout.dataset_dir(problem_label, psid, rep), result)
        write_json(folder / "metrics.json", metrics)
        rows.append(
            {
                "problem": problem_label,
                "problem_settings": psid,
                "method": method_label,
                "method_settings": msid,
                "replicate": rep,
                "message": result.message,
                "n_warnings": len(result.warnings),
                "fit_dir": str(Path(folder).relative_to(layout.root)),
                **metrics,
            }
        )
        _log(log, f"evaluated {folder}: {metrics['status']}\n")
    output = layout.metrics_batch(*key, batch)
    write_json(output, {"key": list(key), "rows": rows})
    if not plan.chunks:  # what the fit job wrote, checked by the next run (a chunk records its own)
        reps = batch_replicates(plan.replicates, plan.method_batch_size(method_label), batch)
        files = folder_files(layout.fit_dir(*key, rep) for rep in reps)
        record_written(layout.root, output, [*files, layout.fit_batch(*key, batch), output])
