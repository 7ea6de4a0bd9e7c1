"""The HTML comparison report: one self-contained file per experiment.

:func:`write_report` reads an experiment folder's artefacts (never refitting),
draws summary figures, and renders ``templates/report.html`` with jinja2 into
``report.html``: every figure is an inline PNG, the style and the small
table-sorting script are inline, no URL is referenced. The key figures are
also written to ``figures/`` for Snakemake's own ``--report``. The same
artefacts give the same bytes.
"""

import contextlib
import functools
from pathlib import Path
import re

import numpy as np
import yaml

from ..core.artefacts import read_json, read_npz, sha256_file, write_bytes
from ..evaluation.uncertainty import correlation_matrix
from . import figures, interactive
from .campaigns import campaign_sections
from .data import (
    METRICS,
    calibration_rows,
    calibration_verdicts,
    error_metric,
    has_truth,
    leaderboard,
    load_experiment,
    metric_spec,
)
from .verdict import case_verdict

__all__ = ["render_report", "write_report", "KEY_FIGURES"]

#: Figures also written to ``<experiment>/figures/`` (Snakemake ``report()`` outputs).
KEY_FIGURES = ("calibration.png", "cost_accuracy.png")
MANIFEST_ROWS_SHOWN = 1000


def _environment():
    from jinja2 import Environment, PackageLoader, select_autoescape

    env = Environment(
        loader=PackageLoader("fitflow.report", "templates"),
        autoescape=select_autoescape(),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["num"] = _format_number
    env.tests["not_drawn"] = lambda value: isinstance(value, figures.NotDrawn)
    return env


def _built(name, build, fallback, not_built):
    """``build()``, or ``fallback`` when it raises: the report says which part is missing
    and why, the traceback goes to stderr (the report job's log), the rest is written."""
    try:
        return build()
    except Exception as exc:  # any artefact a section reads may be odd: report it, go on
        not_built.append(
            {"name": name, "reason": figures.logged_failure(f"the section '{name}' could not be built", exc)}
        )
        return fallback


def _format_number(value):
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return "–"
    if isinstance(value, (str, bool, int, np.integer)):  # an option of a choice parameter, or a count
        return str(value)
    return f"{value:.3g}"


def _scalar_diagnostics(diagnostics):
    """The short, readable entries of a result's diagnostics."""
    out = {}
    for key, value in sorted(diagnostics.items()):
        if isinstance(value, (int, float, str, bool)) or value is None:
            out[key] = value
        elif isinstance(value, list) and len(value) <= 8 and all(isinstance(v, (int, float)) for v in value):
            out[key] = ", ".join(_format_number(v) for v in value)
        elif isinstance(value, dict) and len(value) <= 8:
            out[key] = ", ".join(f"{k} {_format_number(v)}" for k, v in value.items())
    return out


def _diagnostics(experiment, rep=0):
    """Per method: for each problem it fitted, replicate ``rep``'s diagnostics and figures."""
    sections = {}
    table = experiment.table
    keys = table[["method", "method_settings", "problem", "problem_settings"]].drop_duplicates()
    for method, msid, problem, psid in keys.itertuples(index=False):
        folder = experiment.fit_dir(problem, psid, method, msid, rep)
        info = read_json(folder / "result.json")
        entry = {
            "case": experiment.case_label(problem, psid),
            "settings": msid,
            "status": info["status"],
            "message": info.get("message", ""),
            "warnings": info.get("warnings", []),
            "diagnostics": _scalar_diagnostics(info.get("diagnostics") or {}),
            "figures": [
                (p.stem.removeprefix("fig-"), figures.png_data_uri(p.read_bytes()))
                for p in sorted(folder.glob("fig-*.png"))
            ],
            "correlation": None,
        }
        names = info.get("param_names") or []
        if 1 < len(names) <= 12 and info["status"] == "ok":
            arrays = read_npz(folder / "result.npz")
            if "covariance" in arrays:
                entry["correlation"] = {"names": names, "matrix": correlation_matrix(arrays["covariance"]).tolist()}
        sections.setdefault(method, []).append(entry)
    return sections


def _versions(experiment):
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


def _failed_runs(experiment, problem, psid):
    """The simulation runs of a case that failed and were left out (``[]`` for other problems)."""
    path = experiment.dataset_dir(problem, psid, 0) / "dataset.json"
    if not path.exists():
        return []
    meta = read_json(path).get("meta") or {}
    return [dict(run, n_runs=meta.get("n_runs")) for run in meta.get("failed_runs") or []]


def _reproduce_commands(name, configfiles):
    """The commands that rerun the experiment from the repository root and redraw this report."""
    config = "".join(f" --configfile {f}" for f in configfiles)
    return [
        f"snakemake --cores 2 --workflow-profile workflow/profiles/default{config}",
        f"fitflow report results/{name}",
    ]


def _manifest(root):
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


def grouped_failures(failed):
    """Failed fits, one row per (problem, method, settings, reason) with its replicates
    (``"0-9"``, ``"2, 5"``) and the log of the first: ten identical reasons read as one.
    Reasons that differ only in their numbers (a chi-square, an evaluation count) share a
    row, which quotes the first replicate's and says the numbers vary."""
    keys = ["problem", "problem_settings", "method", "method_settings"]
    failed = failed.assign(_reason=failed.message.fillna("").map(_reason_shape))
    rows = []
    for key, group in failed.groupby([*keys, "_reason"], sort=False, dropna=False):
        group = group.sort_values("replicate")
        replicates = [int(r) for r in group.replicate]
        contiguous = replicates == list(range(replicates[0], replicates[-1] + 1))
        shown = (
            f"{replicates[0]}–{replicates[-1]}"
            if contiguous and len(replicates) > 2
            else ", ".join(map(str, replicates))
        )
        message = group.message.iloc[0]
        if group.message.nunique(dropna=False) > 1:
            message = f"{message} [replicate {replicates[0]}; the numbers vary between replicates]"
        rows.append(
            {
                **dict(zip(keys, key)),
                "message": message,
                "replicate": shown,
                "count": len(replicates),
                "fit_dir": group.fit_dir.iloc[0],
            }
        )
    return rows


_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")


def _reason_shape(message):
    """A failure's reason with every number replaced by ``#``."""
    return _NUMBER.sub("#", str(message))


def per_output_table(rows):
    """``(outputs, [(method, settings, {output: (rmse median, 95% band coverage median)})])``
    for a case whose response has several outputs (``rmse.<output>`` columns), else None."""
    import numpy as np

    outputs = [c.split(".", 1)[1] for c in rows.columns if c.startswith("rmse.") and rows[c].notna().any()]
    if not outputs:
        return None
    ok = rows[rows.status == "ok"]
    table = []
    for (method, msid), group in ok.groupby(["method", "method_settings"], sort=True):
        cells = {}
        for name in outputs:
            coverage = group.get(f"band_coverage95.{name}")
            cells[name] = (
                float(np.nanmedian(group[f"rmse.{name}"])),
                float(np.nanmedian(coverage)) if coverage is not None and coverage.notna().any() else None,
            )
        table.append((method, msid, cells))
    return outputs, table


def _case_figures(experiment, problem, psid, colours):
    """The four figures of one problem case, as data URIs (None where one does not apply,
    :class:`~fitflow.report.figures.NotDrawn` where one raised)."""
    label = experiment.case_label(problem, psid)
    return {
        "fits": figures.drawn(f"fits of {label}", figures.fits_figure, experiment, problem, psid, colours),
        "forest": figures.drawn(f"estimates of {label}", figures.forest_figure, experiment, problem, psid, colours),
        "pulls": figures.drawn(f"pulls of {label}", figures.pulls_figure, experiment.rows(problem, psid), colours),
        "optimisation": figures.drawn(
            f"optimisation of {label}", figures.optimisation_figure, experiment, problem, psid, colours
        ),
        "fits_explorer": figures.drawn(
            f"interactive fits of {label}",
            interactive.fits_explorer,
            experiment,
            problem,
            psid,
            colours,
            encode=interactive.spec_json,
        ),
        "recovery_explorer": figures.drawn(
            f"interactive pulls of {label}",
            interactive.recovery_explorer,
            experiment,
            problem,
            psid,
            colours,
            encode=interactive.spec_json,
        ),
    }


_FORKED = {}


def _draw(task):
    """One figure task of :func:`_figures_drawn_meanwhile`, drawn from the state it left in ``_FORKED``."""
    kind, *args = task
    experiment, colours = _FORKED["experiment"], _FORKED["colours"]
    if kind == "case":
        return _case_figures(experiment, *args, colours)
    if kind == "sweep":
        return figures.drawn(f"sweep of {args[0]}", figures.sweep_figure, experiment, *args, colours)
    if kind == "calibration":
        return figures.drawn(
            "calibration",
            figures.calibration_figure,
            _FORKED["calibration"],
            colours,
            path=_FORKED["save"]("calibration.png"),
        ), figures.drawn(
            "interactive calibration",
            interactive.calibration_explorer,
            _FORKED["calibration"],
            colours,
            encode=interactive.spec_json,
        )
    return figures.drawn(
        "cost against accuracy",
        figures.cost_accuracy_figure,
        experiment,
        colours,
        path=_FORKED["save"]("cost_accuracy.png"),
    ), figures.drawn(
        "every fit's cost and error", interactive.cost_explorer, experiment, colours, encode=interactive.spec_json
    )


@contextlib.contextmanager
def _figures_drawn_meanwhile(experiment, colours, calibration, save, workers):
    """Every figure of the report, drawn by ``workers`` forked processes while the caller
    assembles the rest (tables, manifest checksums): yields a function that waits for
    them and returns ``{task: data URI or None}``, for each case's four figures, each
    swept problem's, the calibration and the cost-accuracy figure. Figures are most of a
    report's time; the same bytes come out in any process. The two summary figures, the
    slowest single tasks, go first."""
    tasks = [("calibration",), ("cost",)]
    tasks += [("case", problem, psid) for problem, psid in experiment.cases()]
    tasks += [("sweep", problem) for problem in sorted(experiment.table.problem.unique())]
    workers = min(int(workers or 1), len(tasks))
    _FORKED.update(experiment=experiment, colours=colours, calibration=calibration, save=save)
    try:
        if workers <= 1:
            yield lambda: {task: _draw(task) for task in tasks}
            return
        import multiprocessing

        figures._pyplot()  # imported once here, not once in each worker (0.3-0.5 s each)
        with multiprocessing.get_context("fork").Pool(workers, initializer=experiment.store.forget_handles) as pool:
            pending = pool.map_async(_draw, tasks, chunksize=1)
            yield lambda: dict(zip(tasks, pending.get()))
    finally:
        _FORKED.clear()


def render_report(root, figures_dir=None, workers=1):
    """The report's HTML for the experiment folder ``root``; ``workers`` processes draw
    its figures meanwhile."""
    experiment = load_experiment(root)
    colours = figures.method_colours(experiment.methods)
    configfiles = experiment.info.get("configfiles") or []
    save = (lambda name: Path(figures_dir) / name) if figures_dir else (lambda name: None)
    calibration = calibration_rows(experiment)
    not_built = []
    with _figures_drawn_meanwhile(experiment, colours, calibration, save, workers) as figures_drawn:
        campaigns = _built(
            "campaigns",
            lambda: campaign_sections(root, experiment.info, configfiles, figures.method_colours),
            [],
            not_built,
        )
        context = _context(experiment, colours, calibration, campaigns, configfiles, not_built)
        drawn = figures_drawn()
    for case in context["cases"]:
        case.update(drawn[("case", case["problem"], case["psid"])])
    context["sweeps"] = [
        {"problem": problem, "figure": drawn[("sweep", problem)]}
        for problem in sorted(experiment.table.problem.unique())
        if drawn[("sweep", problem)]
    ]
    context["calibration_figure"], context["calibration_explorer"] = drawn[("calibration",)]
    context["cost_figure"], context["cost_explorer"] = drawn[("cost",)]
    specs = [context["calibration_explorer"], context["cost_explorer"]]
    specs += [case[key] for case in context["cases"] for key in ("fits_explorer", "recovery_explorer")]
    context["explorers"] = any(isinstance(spec, str) for spec in specs)
    context["plotly_bundle"] = interactive.plotly_bundle() if context["explorers"] else ""
    context["max_replicates"] = interactive.MAX_REPLICATES
    if figures_dir:
        _ensure_key_figures(figures_dir)
    return _environment().get_template("report.html").render(**context)


def _context(experiment, colours, calibration, campaigns, configfiles, not_built):
    """Everything the report's template shows but the figures; a part that raises is
    left out and listed in ``not_built``."""
    table = experiment.table
    cases = []
    verdicts = {v["case"]: v for v in calibration_verdicts(calibration)}
    for problem, psid in experiment.cases():
        rows = experiment.rows(problem, psid)
        columns, entries = leaderboard(rows)
        metric = error_metric(rows)
        label = experiment.case_label(problem, psid)
        verdict = _built(
            f"verdict on {label}",
            functools.partial(
                case_verdict,
                entries,
                metric,
                METRICS.get(metric, (metric,))[0],
                not has_truth(rows),
                verdicts.get(label),
            ),
            None,
            not_built,
        )
        cases.append(
            {
                "problem": problem,
                "psid": psid,
                "label": experiment.case_label(problem, psid),
                "anchor": f"{problem}-{psid}".replace(".", "_"),
                "columns": [(c, *metric_spec(c)) for c in columns],
                "measured": not has_truth(rows),
                "note": (experiment.info.get("notes") or {}).get(f"{problem}/{psid}", ""),
                "failed_runs": _failed_runs(experiment, problem, psid),
                "outputs": per_output_table(rows),
                "entries": entries,
                "verdict": verdict,
            }
        )
    failed = table[table.status != "ok"]
    per_method_time = table.groupby("method")["wall_time_s"].sum().sort_values(ascending=False)
    versions, git, plugins = _built("provenance", lambda: _versions(experiment), ({}, None, []), not_built)
    manifest = _built("manifest", lambda: _manifest(experiment.root), [], not_built)
    info = experiment.info
    return {
        "campaigns": campaigns,
        "compact_store": experiment.store.compact,
        "root_name": f"results/{experiment.root.name}",
        "experiment": experiment.name,
        "date": experiment.date,
        "seed": info.get("seed"),
        "n_problems": table.problem.nunique(),
        "n_cases": len(cases),
        "n_methods": len(experiment.methods),
        "replicates": int(table.replicate.nunique()),
        "n_fits": len(table),
        "failed": _built("failed fits", lambda: grouped_failures(failed), [], not_built),
        "n_failed": len(failed),
        "skipped": info.get("skipped") or [],
        "total_time": float(table.wall_time_s.sum()),
        "cv_time": float(table["cv_wall_time_s"].sum()) if "cv_wall_time_s" in table else 0.0,
        "method_times": [(m, float(t), colours[m]) for m, t in per_method_time.items()],
        "colours": colours,
        "cases": cases,
        "calibration": calibration,
        "verdicts": calibration_verdicts(calibration),
        "diagnostics": _built("diagnostics", lambda: _diagnostics(experiment), {}, not_built),
        "not_built": not_built,
        "config_yaml": yaml.safe_dump(info.get("config", {}), sort_keys=False) if info else "",
        "versions": versions,
        "git": git,
        "plugins": plugins,
        "manifest": manifest[:MANIFEST_ROWS_SHOWN],
        "manifest_total": len(manifest),
        "commands": _reproduce_commands(experiment.name, configfiles),
    }


def _ensure_key_figures(figures_dir):
    """Snakemake expects every declared figure: write a placeholder where nothing applied."""
    plt = figures._pyplot()
    for name in KEY_FIGURES:
        path = Path(figures_dir) / name
        if not path.exists():
            fig, ax = plt.subplots(figsize=(4, 1))
            ax.axis("off")
            ax.text(0.5, 0.5, "not applicable to this experiment", ha="center", va="center")
            figures.data_uri(fig, path)


def write_report(root, path=None, figures_dir=None, workers=1):
    """Render and atomically write the report (default ``root/report.html``)."""
    root = Path(root)
    html = render_report(root, figures_dir=figures_dir, workers=workers)
    write_bytes(path or root / "report.html", html.encode())
