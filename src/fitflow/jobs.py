"""The work behind each Snakemake rule, one function per stage.

Each job handles a *batch* of replicates, so that one process start-up (about
0.2 s, more with heavy libraries) is shared by many cheap fits, while every
replicate still gets its own artefact folder. A batch writes its per-replicate
files first and its batch manifest (the rule's declared output) last, each
atomically: a job killed half-way leaves no manifest, so Snakemake reruns it.
"""

from pathlib import Path

from .api import generate, safe_fit
from .artefacts import (
    read_dataset,
    read_json,
    read_result,
    sha256_file,
    write_bytes,
    write_dataset,
    write_json,
    write_result,
)
from .evaluate import evaluate
from .experiment import batches
from .layout import Layout
from .provenance import plugin_record, provenance_record
from .registry import methods, problems
from .seeding import make_rng

__all__ = [
    "dataset_identity",
    "fit_identity",
    "generate_batch",
    "fit_batch",
    "evaluate_batch",
    "batch_replicates",
]

DATASET_FILES = ("dataset.npz", "dataset.json")


def dataset_identity(case, rep):
    """What names a dataset's random stream: problem, its settings, replicate."""
    return ["dataset", case.plugin, case.settings, rep]


def fit_identity(pcase, mcase, rep):
    """What names a fit's random stream: the dataset's identity, method and its settings."""
    return ["fit", pcase.plugin, pcase.settings, rep, mcase.plugin, mcase.settings]


def batch_replicates(n_replicates, batch_size, batch):
    """Replicate indices of batch number ``batch``."""
    return batches(n_replicates, batch_size)[int(batch)]


def _log(log, text):
    if log is not None:
        log.write(text)
        log.flush()


def generate_batch(plan, root, problem_label, psid, batch, log=None):
    """Generate and write the datasets of one batch of replicates."""
    layout = Layout(root)
    case = plan.problem_case(problem_label, psid)
    problem = case.instance(problems())
    problem.import_requirements()
    manifest = []
    for rep in batch_replicates(plan.replicates, plan.batch_size, batch):
        folder = layout.dataset_dir(problem_label, psid, rep)
        identity = dataset_identity(case, rep)
        dataset = generate(problem, make_rng(plan.seed, identity))
        write_dataset(dataset, folder, {"replicate": rep, "seed": {"base": plan.seed, "identity": identity}})
        manifest.append({"replicate": rep, "files": {n: sha256_file(folder / n) for n in DATASET_FILES}})
        _log(log, f"generated {folder}\n")
    write_json(layout.dataset_batch(problem_label, psid, batch), {"problem": problem_label, "psid": psid, "replicates": manifest})


def fit_batch(plan, root, key, batch, log=None, plot=True):
    """Fit one batch of replicates of one (problem, method) pair and write every artefact."""
    problem_label, psid, method_label, msid = key
    layout = Layout(root)
    pcase = plan.problem_case(problem_label, psid)
    mcase = plan.method_case(method_label, msid)
    method = mcase.instance(methods())
    method.import_requirements()  # so that no fit's timing includes an import
    manifest = []
    for rep in batch_replicates(plan.replicates, plan.method_batch_size(method_label), batch):
        data_dir = layout.dataset_dir(problem_label, psid, rep)
        folder = layout.fit_dir(problem_label, psid, method_label, msid, rep)
        dataset = read_dataset(data_dir)
        identity = fit_identity(pcase, mcase, rep)
        result, timing, fit_log = safe_fit(method, dataset, make_rng(plan.seed, identity))
        write_result(result, folder, {"method": method.name, "replicate": rep})
        write_json(folder / "timing.json", timing)
        write_bytes(folder / "fit.log", fit_log.encode())
        write_json(
            folder / "provenance.json",
            provenance_record(
                config_slice={
                    "experiment": plan.name,
                    "seed": plan.seed,
                    "replicate": rep,
                    "problem": {"label": problem_label, "settings_id": psid, "entry": pcase.entry},
                    "method": {"label": method_label, "settings_id": msid, "entry": mcase.entry},
                },
                seeds={
                    "base": plan.seed,
                    "dataset_identity": dataset_identity(pcase, rep),
                    "fit_identity": identity,
                },
                plugins={
                    "problem": plugin_record(dataset.problem, problems()),
                    "method": plugin_record(method, methods()),
                },
                inputs={str(data_dir / n): sha256_file(data_dir / n) for n in DATASET_FILES},
            ),
        )
        if plot:
            from .plots import plot_fit, save_method_figures

            plot_fit(dataset, result, folder / "fit.png", title=f"{problem_label} / {method_label} / rep {rep}")
            if result.ok:
                save_method_figures(method, dataset, result, folder)
        manifest.append({"replicate": rep, "status": result.status})
        _log(log, f"rep {rep}: {result.status} {result.message}\n{fit_log}")
    write_json(layout.fit_batch(*key, batch), {"key": list(key), "replicates": manifest})


def evaluate_batch(plan, root, key, batch, log=None):
    """Evaluate one batch of fits against the truth; write per-fit and batch metrics."""
    problem_label, psid, method_label, msid = key
    layout = Layout(root)
    rows = []
    for rep in batch_replicates(plan.replicates, plan.method_batch_size(method_label), batch):
        folder = layout.fit_dir(*key, rep)
        dataset = read_dataset(layout.dataset_dir(problem_label, psid, rep))
        result = read_result(folder)
        metrics = evaluate(dataset, result)
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
    write_json(layout.metrics_batch(*key, batch), {"key": list(key), "rows": rows})


def read_timing(root, fit_dir):
    return read_json(Path(root) / fit_dir / "timing.json")
