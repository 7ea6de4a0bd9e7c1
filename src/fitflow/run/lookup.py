"""Find one fit of an experiment by its identity: ``fitflow show`` and :func:`show_fit`.

It works in both stores: a folder per fit, or the compact store's chunk archives.
A fit's identity is ``problem/problem-settings/method/method-settings/rep-k`` (the
path of its folder below ``fits/``, as the ``fit_dir`` column of ``fits.csv``
gives it); a shorter ``problem/method/k`` is accepted when the settings are the
defaults. What comes back is everything recorded about it: the result's scalars,
its metrics, its provenance and its timing; :func:`draw_fit` draws its figure on demand,
as the fit job draws it for the replicates it plots.
"""

from pathlib import Path

from ..core.artefacts import read_json
from ..core.errors import ArtefactError
from .archive import ArtefactStore

__all__ = ["show_fit", "fit_folder", "draw_fit"]


def fit_folder(root, fit_id, store=None):
    """The folder of fit ``fit_id`` in the experiment folder ``root``, or an ArtefactError
    that lists what exists there. In the compact store the folder is a temporary copy
    that lives as long as ``store`` (an :class:`~fitflow.run.archive.ArtefactStore`)."""
    root = Path(root)
    parts = [p for p in str(fit_id).strip("/").split("/") if p]
    if len(parts) == 3:  # problem/method/k with default settings
        problem, method, rep = parts
        parts = [problem, "default", method, "default", rep]
    if len(parts) != 5:
        raise ArtefactError(
            f"a fit id is problem/problem-settings/method/method-settings/rep-k (or problem/method/k); got {fit_id!r}"
        )
    if not parts[4].startswith("rep-"):
        parts[4] = f"rep-{parts[4]}"
    store = store or ArtefactStore(root)
    folder = store.folder("fits/" + "/".join(parts))
    if not (folder / "result.json").exists():
        known = store.fit_ids()
        hint = ", ".join(known[:5]) + (f" and {len(known) - 5} more" if len(known) > 5 else "")
        raise ArtefactError(f"{root}: no fit {'/'.join(parts)}; fits here: {hint or 'none'}")
    return folder


def show_fit(root, fit_id):
    """``{"id", "result", "metrics", "provenance", "timing"}`` of one fit (in the compact
    store, its timing comes from its chunk's manifest)."""
    store = ArtefactStore(root)
    folder = fit_folder(root, fit_id, store)
    fit_id = "/".join(folder.parts[-5:])
    record = {"id": fit_id}
    for name in ("result", "metrics", "provenance", "timing"):
        path = folder / f"{name}.json"
        record[name] = read_json(path) if path.exists() else None
    if record["timing"] is None and store.compact:  # kept in the manifest beside its archive
        archive = store.locate(f"fits/{fit_id}")
        manifest = archive.with_suffix(".json") if archive else None
        if manifest and manifest.exists():
            record["timing"] = read_json(manifest).get("timings", {}).get(f"fits/{fit_id}")
    return record


def draw_fit(root, fit_id, path):
    """Draw ``fit.png`` of fit ``fit_id`` (data, truth and fit with its 95% band) to ``path``,
    from its stored dataset and result: the same picture, byte for byte, as the fit job draws
    under ``plot_fits``. False when there is nothing to draw (no dataset, or x not 1-D)."""
    from ..core.artefacts import dataset_failure, read_dataset, read_result
    from ..evaluation.plots import plot_fit

    store = ArtefactStore(root)
    folder = fit_folder(root, fit_id, store)
    problem, psid, method, _, rep = folder.parts[-5:]
    data_dir = store.folder(f"datasets/{problem}/{psid}/{rep}")
    if dataset_failure(data_dir):
        return False
    title = f"{problem} / {method} / rep {rep.removeprefix('rep-')}"
    return plot_fit(read_dataset(data_dir), read_result(folder), Path(path), title=title)
