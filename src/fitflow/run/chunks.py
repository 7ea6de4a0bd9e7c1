"""Chunk jobs: generate, fit and evaluate many (problem case, batch) units in one job.

A chunk job (``chunks: N``) runs the work of its units through the same functions the
per-batch jobs call, so the artefacts are the same bytes; one process start-up serves
many cheap fits. With ``chunk_workers: W`` the job forks W worker processes after its
imports and hands them the units costliest first, each worker taking the next unit
when it is done (longest-processing-time order, balanced as it goes, where static
chunks are balanced only by the runtime hints). The results are gathered in the units'
own order, so the manifest, the archive and every artefact are the same bytes whatever
the number of workers or the order in which units finish.
"""

import contextlib
import os

from ..core.artefacts import durable_on_exit, read_json, write_json
from ..core.isolation import die_with_parent, fork_is_safe, retrying
from .healing import folder_files, record_written, unit_folders
from .jobs import evaluate_batch, fit_batch, generate_batch
from .layout import Layout

__all__ = ["run_chunk", "worker_count"]


def worker_count(plan, n_units, threads=None):
    """Worker processes of a chunk with ``n_units`` units whose job holds ``threads``
    cores: ``chunk_workers``, at most one per unit and per core (``threads`` None: as
    many as the job asks cores for); one in a job started again after a unit took its
    process down (see :mod:`fitflow.core.isolation`)."""
    if retrying():
        return 1
    return max(1, min(plan.chunk_workers, n_units, plan.chunk_workers if threads is None else int(threads)))


@durable_on_exit()
def run_chunk(plan, root, chunk, log=None, threads=1):
    """All the work of one chunk: for each of its (problem case, batch) units, generate
    the dataset batch, then fit and evaluate it with every method of the case, on
    :func:`worker_count` processes. With ``store: compact`` each finished unit is packed
    into the chunk's archive from memory (see :mod:`fitflow.archive`), and the manifest
    carries the metrics rows and timings the tables need."""
    layout = Layout(root)
    units = plan.chunk_units()[int(chunk)]
    manifest = {"chunk": int(chunk), "units": [[c.label, c.sid, b] for c, b in units]}
    workers = worker_count(plan, len(units), threads)
    if plan.store == "compact":
        manifest.update(_run_compact_chunk(plan, layout, chunk, units, log, workers, threads))
        write_json(layout.chunk_manifest(chunk), manifest)
        return

    def run(unit):  # the folder layout: artefacts go straight to disk
        _run_unit(plan, layout.root, *unit, log)

    for _ in _unit_results(run, plan, units, log, workers, threads):
        pass
    write_json(layout.chunk_manifest(chunk), manifest)
    # What this chunk wrote, checked by the next run (see fitflow.run.healing).
    files = [layout.chunk_manifest(chunk)]
    for unit in units:
        datasets, fits, batches = _unit_paths(plan, layout, *unit)
        files += folder_files(layout.root / p for p in datasets + fits) + [layout.root / p for p in batches]
    record_written(layout.root, layout.chunk_manifest(chunk), files)


def _run_unit(plan, root, case, batch, log):
    generate_batch(plan, root, case.label, case.sid, batch, log=log)
    for pair in plan.pairs:
        if pair.problem == case:
            fit_batch(plan, root, pair.key, batch, log=log, plot=plan.plot_fits)
            evaluate_batch(plan, root, pair.key, batch, log=log)


class _CompactUnit:
    """One unit's work in the compact store, staged in memory: returns the stage, the
    paths to pack from it (in order), the unit's metrics rows and its fits' timings."""

    def __init__(self, plan, layout, log):
        from .aggregate import recorded_timings
        from .archive import ArtefactStore

        self.plan, self.layout, self.log = plan, layout, log
        self.previous = ArtefactStore(layout.root, compact=True) if plan.reuse_fits else None
        self.old_timings = recorded_timings(layout.root) if plan.reuse_fits else {}

    def __call__(self, unit):
        from ..core.staging import staged

        layout, root = self.layout, self.layout.root
        datasets, fits, batches = _unit_paths(self.plan, layout, *unit)
        rows, timings = [], {}
        with staged(root / p for p in datasets + fits + batches) as stage:
            for folder in datasets + fits:
                if (
                    self.previous is not None
                    and self.previous.restore(folder, stage, root)
                    and str(folder) in self.old_timings
                ):
                    write_json(root / folder / "timing.json", self.old_timings[str(folder)])
            _run_unit(self.plan, root, *unit, self.log)
            for path in batches:
                if path.name.startswith("metrics-"):
                    rows += read_json(root / path)["rows"]
            for folder in fits:
                timings[str(folder)] = read_json(root / folder / "timing.json")
        return stage, datasets + fits + batches, rows, timings


def _unit_paths(plan, layout, case, batch):
    """``(dataset paths, fit folders, batch files)`` a unit writes, relative to the root."""
    keys = [pair.key for pair in plan.pairs if pair.problem == case]
    datasets, fits = unit_folders(plan, layout, case, batch)
    batches = [layout.dataset_batch(case.label, case.sid, batch)]
    batches += [f(*key, batch) for key in keys for f in (layout.fit_batch, layout.metrics_batch)]
    return [[p.relative_to(layout.root) for p in paths] for paths in (datasets, fits, batches)]


def _run_compact_chunk(plan, layout, chunk, units, log, workers, threads):
    """Run the units of a compact chunk, packing each into the archive, in the units'
    order, as soon as it and every unit before it are done.

    A unit's files are staged in memory (see :mod:`fitflow.staging`) and never touch the
    disk but in the archive, which alone is written atomically and durably. With
    ``reuse_fits``, a unit's folders are first restored into the stage from whichever
    archive holds them (with their timings from the last ``timings.csv``), so the usual
    provenance check keeps what is unchanged."""
    from .archive import archive_record, archive_writer

    rows, timings = [], {}
    with archive_writer(layout.root, layout.chunk_archive(chunk)) as archive:
        for stage, paths, unit_rows, unit_timings in _unit_results(
            _CompactUnit(plan, layout, log), plan, units, log, workers, threads
        ):
            rows += unit_rows
            timings.update(unit_timings)
            for path in paths:
                archive.pack(path, stage)
    # What readers check the archive against, and the Snakefile heals it from.
    return {"rows": rows, "timings": timings, "archive": archive_record(layout.chunk_archive(chunk))}


#: What the forked workers need, left here by the parent before it forks (nothing is pickled
#: but a unit's index on the way out and its result on the way back).
_FORKED = {}


def _unit_results(run, plan, units, log, workers, threads):
    """``run(unit)`` for every unit, yielded in the units' order.

    One worker: in this process, one unit after another. More: in that many forked
    processes, fed the costliest units first; a result is yielded as soon as it and all
    before it are in, so a compact archive fills while the workers go on."""
    if workers > 1 and not fork_is_safe():
        if log is not None:
            print("fitflow: JAX is running in this process, so the units run here, not in forked workers", file=log)
        workers = 1
    if workers <= 1:
        for unit in units:
            yield run(unit)
        return
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
    from concurrent.futures.process import BrokenProcessPool
    import multiprocessing

    order = sorted(range(len(units)), key=lambda i: (-plan.unit_cost(*units[i]), i))
    _FORKED.update(run=run, units=units, log=log, threads=max(1, int(threads) // workers), parent=os.getpid())
    if log is not None:
        log.flush()  # a forked worker would otherwise write the parent's buffered lines again
    # concurrent.futures, not multiprocessing.Pool: a worker killed by a signal (a crash in
    # a compiled library, the kernel's OOM killer) fails the chunk instead of hanging it.
    try:
        with ProcessPoolExecutor(
            workers, mp_context=multiprocessing.get_context("fork"), initializer=_start_worker
        ) as pool:
            pending = {pool.submit(_run_forked, i) for i in order}  # queued, and taken, costliest first
            done, next_index = {}, 0
            try:
                while pending:
                    finished, pending = wait(pending, return_when=FIRST_COMPLETED)
                    for future in finished:
                        try:
                            index, result = future.result()
                        except BrokenProcessPool:
                            raise RuntimeError(
                                "a worker process of this chunk died (killed by a signal, or out "
                                "of memory); its log ends where it stopped"
                            ) from None
                        if isinstance(result, _FailedUnit):
                            result.reraise()
                        done[index] = result
                    while next_index in done:
                        yield done.pop(next_index)
                        next_index += 1
            except BaseException:
                for future in pending:  # the units not started: the chunk has failed
                    future.cancel()
                raise
    finally:
        _FORKED.clear()


def _start_worker():
    """Cap each worker's BLAS and OpenMP threads at its share of the job's threads, and have
    the worker die with the chunk's process (killed, it would leave the workers waiting)."""
    from .snakemake_job import limit_threads

    die_with_parent(_FORKED["parent"])
    limit_threads(_FORKED["threads"])


def _run_forked(index):
    """One unit in a worker: ``(index, result)``, with the log flushed so that lines of
    different workers interleave whole. A unit that raises sends back a
    :class:`_FailedUnit` (its traceback goes to the log): an exception whose class cannot
    be rebuilt from its pickle would otherwise hang the pool's result thread."""
    log = _FORKED["log"]
    try:
        return index, _FORKED["run"](_FORKED["units"][index])
    except BaseException as error:  # noqa: BLE001 - re-raised in the parent
        import traceback

        traceback.print_exc(file=log)
        return index, _FailedUnit(error)
    finally:
        if log is not None:
            with contextlib.suppress(ValueError):
                log.flush()


class _FailedUnit:
    """A unit's exception on its way from a worker to the parent: the exception itself
    when it survives pickling, else its class name and message."""

    def __init__(self, error):
        import pickle

        try:
            pickle.loads(pickle.dumps(error))
            self.error = error
        except Exception:  # noqa: BLE001 - any failure to round-trip
            self.error = RuntimeError(f"{type(error).__name__}: {error}")

    def reraise(self):
        raise self.error
