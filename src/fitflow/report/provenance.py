"""The report's provenance: how to reproduce the experiment, the versions and plugins that
made it, its config, and a checksum of every artefact."""

from pathlib import Path

import yaml

from ..core.artefacts import read_json, sha256_file
from .figures import built

__all__ = ["provenance_context", "versions_of", "reproduce_commands", "manifest", "MANIFEST_ROWS_SHOWN"]

#: Rows of the artefact manifest the page lists (it says how many there are in all).
MANIFEST_ROWS_SHOWN = 1000


def provenance_context(experiment, configfiles, not_built):
    """The provenance section's context (:class:`fitflow.report.sections.Section` ``build``)."""
    versions, git, plugins = built("provenance", lambda: versions_of(experiment), ({}, None, []), not_built)
    rows = built("manifest", lambda: manifest(experiment.root), [], not_built)
    info = experiment.info
    return {
        "versions": versions,
        "git": git,
        "plugins": plugins,
        "manifest": rows[:MANIFEST_ROWS_SHOWN],
        "manifest_total": len(rows),
        "config_yaml": yaml.safe_dump(info.get("config", {}), sort_keys=False) if info else "",
        "commands": reproduce_commands(experiment.name, configfiles),
    }


def versions_of(experiment):
    """Package versions, git state and plugin versions, from the provenance records of
    the fits and of each campaign's first proposal."""
    table = experiment.table
    plugins, versions, git = {}, {}, None
    records = [
        experiment.fit_dir(problem, psid, method, msid, 0) / "provenance.json"
        for (problem, psid, method, msid), _ in table.groupby(
            ["problem", "problem_settings", "method", "method_settings"], sort=True
        )
    ]
    records += sorted(experiment.root.glob("campaigns/*/*/round-0/proposal.json"))
    for path in records:
        record = read_json(path)
        record = record.get("provenance", record)
        versions, git = record["versions"], record["git"]
        for role in ("problem", "method"):
            p = record["plugins"][role]
            plugins[(role, p["name"])] = {
                "role": role,
                "name": p["name"],
                "version": p["version"],
                "distribution": p["distribution"],
            }
    return versions, git, [plugins[k] for k in sorted(plugins)]


def reproduce_commands(name, configfiles):
    """The commands that rerun the experiment from the repository root and redraw this report."""
    config = "".join(f" --configfile {f}" for f in configfiles)
    return [
        f"snakemake --cores 2 --workflow-profile workflow/profiles/default{config}",
        f"fitflow report results/{name}",
    ]


def manifest(root):
    """(path, SHA-256, bytes) of every artefact below ``root``, except what the report
    itself writes (the page, its figures) and the logs (the report's own is still open)."""
    rows = []
    for path in sorted(Path(root).rglob("*")):
        rel = path.relative_to(root).as_posix()
        if rel == "report.html" or rel.startswith(("figures/", "logs/")) or path.name.startswith("."):
            continue
        if path.is_file():
            rows.append((rel, sha256_file(path), path.stat().st_size))
    return rows
