"""What a plan will cost before it runs: files, disk and core-hours, with the setting that helps.

``fitflow plan`` prints :func:`estimate_lines`. The figures are estimates from what one fit
leaves on disk in each store (measured on the default experiment, see the constants) and from
the methods' runtime hints, which are resource *requests*: upper bounds, often far above what
a fit takes. The warnings name the limit and the setting that brings the plan under it:

* a ``folders`` store past :data:`MANY_FILES` files: ``store: compact`` (one archive per chunk);
* more disk than the results folder's file system has free: fewer replicates, ``store: compact``
  or ``plot_fits: false``;
* requests past a day of every core of this machine: run on a cluster (the slurm profile), or
  fewer replicates.
"""

import os
import shutil

from ..core.registry import methods as method_registry
from .experiment import n_batches

__all__ = ["estimate", "estimate_lines", "measured_fit_bytes", "MANY_FILES"]

#: Files one fit leaves in a ``folders`` store (result.json and .npz, metrics, provenance,
#: timing, the fit's log) and one replicate's dataset (its .npz and .json).
FILES_PER_FIT, FILES_PER_DATASET = 6, 2
#: Bytes on disk of one fit and one dataset in a ``folders`` store: six small files take a
#: file-system block (4 KiB) each; a compact store keeps their bytes (about 5 KiB a fit).
FIT_BYTES_FOLDERS, FIT_BYTES_COMPACT, DATASET_BYTES = 6 * 4096, 5_500, 2 * 4096
#: One drawn fit (``fit.png`` and a method's figures), for replicate 0 of each pair by default.
FIGURE_BYTES = 60_000
#: Past this many files, a folders store burdens the file system (and a cluster's quota).
MANY_FILES = 200_000


def measured_fit_bytes(results_dir):
    """``{method label: mean bytes of one fit's folder}`` over the fits already in a folders
    store at ``results_dir`` (figures left out), or ``{}``: what each method keeps (emcee its
    samples, tikhonov its matrices) varies far more than the files every fit writes."""
    root = os.path.join(results_dir, "fits")
    sizes = {}
    if not os.path.isdir(root):
        return {}
    for folder, _, names in os.walk(root):
        parts = os.path.relpath(folder, root).split(os.sep)
        if len(parts) != 5 or not parts[-1].startswith("rep-"):
            continue
        total = sum(os.path.getsize(os.path.join(folder, n)) for n in names if not n.endswith(".png"))
        sizes.setdefault(parts[2], []).append(total)
    return {method: sum(values) / len(values) for method, values in sizes.items()}


def estimate(plan, results_dir=None):
    """``{"fits", "files", "bytes", "core_hours", "measured"}`` of ``plan`` (see the module's
    doc); with ``results_dir``, each method's bytes per fit are those measured on the fits
    already there where there are some (``measured``: how many methods)."""
    registry = method_registry()
    fits = plan.n_fits
    datasets = len(plan.problems) * plan.replicates
    plotted = {True: len(plan.pairs), "all": fits}.get(plan.plot_fits, 0)
    measured = measured_fit_bytes(results_dir) if results_dir else {}
    base = FIT_BYTES_COMPACT if plan.store == "compact" else FIT_BYTES_FOLDERS
    fit_bytes = sum(max(measured.get(pair.method.label, 0.0), base) * plan.replicates for pair in plan.pairs)
    if plan.store == "compact":
        files = max(plan.chunks, 1) + plotted
        size = fit_bytes + datasets * DATASET_BYTES // 2
    else:
        files = fits * FILES_PER_FIT + datasets * FILES_PER_DATASET + plotted
        size = fit_bytes + datasets * DATASET_BYTES
    size = int(size + plotted * FIGURE_BYTES)
    minutes = 0.0
    for pair in plan.pairs:
        hints = registry.get(pair.method.plugin).resource_hints()
        jobs = n_batches(plan.replicates, plan.method_batch_size(pair.method.label))
        minutes += jobs * float(hints["runtime"]) * max(1, int(hints.get("threads", 1)))
    methods = {pair.method.label for pair in plan.pairs}
    return {
        "fits": fits,
        "files": files,
        "bytes": size,
        "core_hours": minutes / 60.0,
        "measured": len(methods & set(measured)),
        "methods": len(methods),
    }


def _hours(hours):
    return f"{hours:,.0f}" if hours >= 100 else f"{hours:.2g}"


def _size(n_bytes):
    for unit, scale in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n_bytes >= scale:
            return f"{n_bytes / scale:.3g} {unit}"
    return f"{n_bytes} B"


def estimate_lines(plan, results_dir="results", cores=None):
    """The estimate as lines of text, then a ``warning:`` line per limit it passes."""
    found = estimate(plan, results_dir)
    basis = (
        f"bytes per fit measured on the fits in {results_dir} for {found['measured']} of {found['methods']} methods"
        if found["measured"]
        else "a method that keeps samples or matrices (emcee, tikhonov) stores more: run a few replicates first "
        "and plan again to measure them"
    )
    lines = [
        f"estimate: {found['fits']:,} fits, about {found['files']:,} files and {_size(found['bytes'])} on disk "
        f"({plan.store} store; {basis}); the methods' runtime hints request up to {_hours(found['core_hours'])} "
        "core-hours (upper bounds: fits usually take far less)"
    ]
    if plan.store == "folders" and found["files"] > MANY_FILES:
        lines.append(
            f"warning: {found['files']:,} files in a folders store burden the file system: set store: compact "
            "(each chunk's datasets and fits in one archive)"
        )
    existing = next(p for p in (results_dir, os.path.dirname(os.path.abspath(results_dir)), ".") if os.path.isdir(p))
    free = shutil.disk_usage(existing).free
    if found["bytes"] > free:
        lines.append(
            f"warning: about {_size(found['bytes'])} needed, {_size(free)} free where the results go: fewer "
            "replicates, store: compact, or plot_fits: false"
        )
    cores = cores or os.cpu_count() or 1
    if found["core_hours"] > 24 * cores:
        lines.append(
            f"warning: the requests add up to more than a day of all {cores} cores of this machine: run on a "
            "cluster (--workflow-profile workflow/profiles/slurm), or fewer replicates"
        )
    return lines
