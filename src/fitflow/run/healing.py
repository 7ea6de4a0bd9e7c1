"""A results folder that heals: damaged or missing artefacts are rebuilt by the next run.

Snakemake reruns a job whose declared output is missing or older than its inputs. It does
not see an artefact whose bytes changed (a flipped bit, a truncated copy, an edit), nor
rebuild an intermediate file deleted after the report that read it. So each job records,
once its last manifest is written, every file it wrote (:func:`record_written`: size,
modification time and SHA-256, in ``logs/written/<manifest path>``, beside the logs, so that
the artefacts themselves stay byte-identical from run to run), and :func:`heal`, called by the Snakefile before it builds the DAG, checks
them: a file whose size or time differs from the record is hashed, and a damaged or missing
one is removed with the job's outputs and the report. The Snakefile calls it, through
:func:`heal_before_dag`, as its first step; ``fitflow heal CONFIG`` runs the same step alone. Snakemake then reruns exactly that
job and what follows it, to the same bytes (every artefact is deterministic). An unchanged
file costs one ``stat``; the compact store's archives are checked the same way
(:func:`fitflow.run.archive.heal_chunks`).
"""

import functools
import os
from pathlib import Path

from ..core.artefacts import read_json, sha256_file
from ..core.errors import ArtefactError
from .experiment import batch_replicates, n_batches
from .layout import Layout

__all__ = [
    "record_written",
    "written_record",
    "folder_files",
    "damaged_files",
    "heal",
    "heal_before_dag",
    "unit_folders",
    "is_dry_run",
    "REPORT_RECORD",
]

#: The report job's record of its own outputs, below the experiment folder.
REPORT_RECORD = "logs/report-outputs.json"


def folder_files(folders):
    """The files directly in each of ``folders`` (missing folders hold none), sorted."""
    files = []
    for folder in folders:
        try:
            files += sorted(p for p in Path(folder).iterdir() if p.is_file() and not p.name.startswith("."))
        except FileNotFoundError:
            continue
    return files


def written_record(root, files):
    """``{path below root: [size, mtime_ns, sha256]}`` of ``files``, as a manifest keeps it."""
    root = Path(root)
    record = {}
    for path in files:
        info = os.stat(path)
        record[Path(path).relative_to(root).as_posix()] = [info.st_size, info.st_mtime_ns, sha256_file(path)]
    return record


def record_written(root, manifest, files):
    """Record ``files``, written by the job whose last output is ``manifest`` (the manifest
    among them), for :func:`heal`: called once the manifest is written (a job killed in
    between leaves a manifest without a record, which is trusted as written)."""
    from ..core.artefacts import write_json

    write_json(_record_path(root, manifest), {"written": written_record(root, files)})


def _record_path(root, manifest):
    return Path(root) / "logs" / "written" / Path(manifest).relative_to(root)


#: Why a job's files are rebuilt when nothing records what it wrote.
UNRECORDED = "nothing records what its job wrote (logs/written/), so nothing vouches for its files"


def damaged_files(root, record, full=False):
    """``[(path, reason)]`` of the files of ``record`` that are missing or whose bytes changed.
    A file whose size and modification time are those recorded is taken as unchanged unless
    ``full`` (then every file is hashed: an edit that keeps both, or bit rot, is found)."""
    damaged = []
    for relative, (size, mtime_ns, digest) in (record or {}).items():
        path = Path(root) / relative
        try:
            info = os.stat(path)
        except FileNotFoundError:
            damaged.append((path, "missing"))
            continue
        if info.st_size == size and info.st_mtime_ns == mtime_ns and not full:
            continue
        if info.st_size != size or sha256_file(path) != digest:
            damaged.append((path, "its bytes differ from those written"))
    return damaged


def unit_folders(plan, layout, case, batch):
    """``(dataset folders, fit folders)`` of one (problem case, dataset batch) unit: what a
    chunk writes for it."""
    reps = batch_replicates(plan.replicates, plan.batch_size, batch)
    keys = [pair.key for pair in plan.pairs if pair.problem == case]
    datasets = [layout.dataset_dir(case.label, case.sid, r) for r in reps]
    return datasets, [layout.fit_dir(*key, r) for key in keys for r in reps]


def _jobs(plan, layout):
    """``[(outputs, manifest, downstream, folders)]`` of every fit-experiment job: its declared
    outputs, the one that records what it wrote (its last), the outputs of the jobs that read
    it (a generate job's fit jobs), which must go too (Snakemake does not rebuild a missing
    intermediate file whose consumers' outputs are all there), and ``folders()``, the folders
    it writes: called only for a job without a record, since every run lists every job."""
    if plan.chunks:
        return [
            ([m], m, [], functools.partial(_chunk_folders, plan, layout, units))
            for m, units in ((layout.chunk_manifest(i), units) for i, units in enumerate(plan.chunk_units()))
        ]
    fits = {}
    for pair in plan.pairs:
        size = plan.method_batch_size(pair.method.label)
        for batch in range(n_batches(plan.replicates, size)):
            outputs = [layout.fit_batch(*pair.key, batch), layout.metrics_batch(*pair.key, batch)]
            folders = functools.partial(_replicate_folders, layout.fit_dir, pair.key, plan.replicates, size, batch)
            fits.setdefault(pair.problem, []).append((outputs, folders))
    jobs = []
    for case in plan.problems:
        downstream = [p for outputs, _ in fits.get(case, []) for p in outputs]
        for batch in range(n_batches(plan.replicates, plan.batch_size)):
            manifest = layout.dataset_batch(case.label, case.sid, batch)
            key = (case.label, case.sid)
            folders = functools.partial(
                _replicate_folders, layout.dataset_dir, key, plan.replicates, plan.batch_size, batch
            )
            jobs.append(([manifest], manifest, downstream, folders))
    jobs += [(outputs, outputs[1], [], folders) for group in fits.values() for outputs, folders in group]
    return jobs


def _replicate_folders(folder, key, replicates, batch_size, batch):
    return [folder(*key, r) for r in batch_replicates(replicates, batch_size, batch)]


def _chunk_folders(plan, layout, units):
    return [f for unit in units for group in unit_folders(plan, layout, *unit) for f in group]


def heal(plan, root, dry_run=False, say=print, full=False):
    """Remove what must be rebuilt (see the module's doc); returns the number of jobs to
    rerun. A dry run only says what a run would rebuild. A job whose record is missing is
    rebuilt: nothing vouches for its files. ``full``: hash every recorded file, not only
    those whose size or time changed (``fitflow heal --full``)."""
    from .archive import heal_chunks

    layout = Layout(root)
    if plan.store == "compact":
        return len(heal_chunks(root, len(plan.chunk_units()), dry_run=dry_run, say=say, full=full))
    if not layout.report_html.exists():
        return 0  # nothing was finished: Snakemake's own checks suffice
    stale, removed = 0, set()
    for outputs, manifest, downstream, folders in _jobs(plan, layout):
        if removed.intersection(outputs):
            continue  # removed here, as downstream of a damaged job
        if not all(p.exists() for p in outputs):
            reasons = [(manifest, "missing")]
        else:
            record = _record_path(layout.root, manifest)
            try:
                reasons = (
                    damaged_files(layout.root, read_json(record).get("written"), full)
                    if record.exists()
                    else [(manifest, UNRECORDED)] + [(f, UNRECORDED) for f in folder_files(folders())]
                )
            except (ArtefactError, TypeError, KeyError, AttributeError, ValueError) as exc:
                # A record that cannot be read vouches for nothing: its job is rebuilt.
                reasons = [(record, f"its record of what the job wrote is damaged ({exc})")]
        if not reasons:
            continue
        stale += 1
        path, reason = reasons[0]
        more = f" and {len(reasons) - 1} more" if len(reasons) > 1 else ""
        say(f"fitflow: {path}: {reason}{more}; " + ("a real run rebuilds its job" if dry_run else "its job is rebuilt"))
        if not dry_run:
            for damaged, _ in reasons:
                damaged.unlink(missing_ok=True)  # so that no fit reuses it
            for output in outputs + downstream:  # the fits that read it rerun (reusing what is intact)
                output.unlink(missing_ok=True)
            removed.update(downstream)
    report = _report_damage(layout, full)
    if report:
        say(
            f"fitflow: {report[0][0]}: {report[0][1]}; "
            + ("a real run redoes the report" if dry_run else "the report is redone")
        )
    if (stale or report) and not dry_run:
        layout.report_html.unlink(missing_ok=True)
    return stale + bool(report)


def _report_damage(layout, full=False):
    path = layout.root / REPORT_RECORD
    try:
        return (
            damaged_files(layout.root, read_json(path).get("written"), full) if path.exists() else [(path, UNRECORDED)]
        )
    except (ArtefactError, TypeError, KeyError, AttributeError, ValueError) as exc:
        return [(path, f"its record of what the report wrote is damaged ({exc})")]


def is_dry_run(workflow, argv):
    """Whether Snakemake was asked for a dry run (``-n``, ``--dry-run``). While the Snakefile
    is parsed, Snakemake's own ``workflow.dryrun`` is not yet set (it knows once the DAG is
    built), so its command line ``argv`` is read too."""
    flags = [a for a in argv[1:] if a.startswith("-")]
    return bool(workflow.dryrun) or any(
        a in ("--dry-run", "--dryrun", "--dry_run") or (not a.startswith("--") and "n" in a[1:] and a[1:].isalpha())
        for a in flags
    )


def heal_before_dag(plan, root, dry_run, say=print):
    """The workflow's first step: :func:`heal` the results folder ``root`` before Snakemake
    builds its DAG, so that the DAG holds the jobs that rebuild what was damaged. A dry run
    removes nothing, so Snakemake's own list of jobs cannot show those: it is said so."""
    stale = heal(plan, root, dry_run=dry_run, say=say)
    if stale and dry_run:
        say(
            f"fitflow: a real run rebuilds the {stale} damaged job(s) named above and what follows them; "
            "this dry run removed nothing, so Snakemake's job list below leaves them out "
            "(`fitflow heal CONFIG` removes them now, and a dry run after it lists them)"
        )
    return stale
