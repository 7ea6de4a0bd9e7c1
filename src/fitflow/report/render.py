"""Assembling the report: the context every section shares, the figures drawn meanwhile, and
the page rendered from ``templates/report.html`` and one template per section
(:mod:`fitflow.report.sections`)."""

import contextlib
import functools
from pathlib import Path
import sys

from ..core.artefacts import write_bytes
from ..core.isolation import fork_is_safe
from . import figures, interactive
from .campaigns import campaign_sections
from .data import (
    METRICS,
    calibration_rows,
    calibration_verdicts,
    error_metric,
    failed_runs,
    format_number,
    has_truth,
    leaderboard,
    load_experiment,
    metric_spec,
    per_output_table,
)
from .failures import grouped_failures
from .figures import built
from .sections import shown
from .verdict import CHOICE_RULE, case_verdict

__all__ = ["render_report", "write_report", "KEY_FIGURES"]

#: Figures also written to ``<experiment>/figures/`` (Snakemake ``report()`` outputs).
KEY_FIGURES = ("calibration.png", "cost_accuracy.png")


def _environment():
    from jinja2 import Environment, PackageLoader, select_autoescape

    env = Environment(
        loader=PackageLoader("fitflow.report", "templates"),
        autoescape=select_autoescape(),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["num"] = format_number
    env.tests["not_drawn"] = lambda value: isinstance(value, figures.NotDrawn)
    return env


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
    if workers > 1 and not fork_is_safe():
        print(
            "fitflow report: JAX is running in this process, so the figures are drawn here, not in forked workers",
            file=sys.stderr,
        )
        workers = 1
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
        campaigns = built(
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
    """Everything the report's templates show but the figures: what every section shares
    (the cases, their leaderboards and verdicts, the failures), then each shown section's own
    (:data:`fitflow.report.sections.SECTIONS`); a part that raises is left out and listed in
    ``not_built``."""
    table = experiment.table
    cases = []
    verdicts = {v["case"]: v for v in calibration_verdicts(calibration)}
    for problem, psid in experiment.cases():
        rows = experiment.rows(problem, psid)
        columns, entries = leaderboard(rows)
        metric = error_metric(rows)
        label = experiment.case_label(problem, psid)
        verdict = built(
            f"verdict on {label}",
            functools.partial(
                case_verdict,
                entries,
                metric,
                METRICS.get(metric, (metric,))[0],
                not has_truth(rows),
                verdicts.get(label),
                rows,
            ),
            None,
            not_built,
        )
        cases.append(
            {
                "problem": problem,
                "psid": psid,
                "label": label,
                "anchor": f"{problem}-{psid}".replace(".", "_"),
                "columns": [(c, *metric_spec(c)) for c in columns],
                "measured": not has_truth(rows),
                "note": (experiment.info.get("notes") or {}).get(f"{problem}/{psid}", ""),
                "failed_runs": failed_runs(experiment, problem, psid),
                "outputs": per_output_table(rows),
                "entries": entries,
                "verdict": verdict,
            }
        )
    failed = table[table.status != "ok"]
    per_method_time = table.groupby("method")["wall_time_s"].sum().sort_values(ascending=False)
    info = experiment.info
    context = {
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
        "failed": built("failed fits", lambda: grouped_failures(failed), [], not_built),
        "n_failed": len(failed),
        "skipped": info.get("skipped") or [],
        "total_time": float(table.wall_time_s.sum()),
        "cv_time": float(table["cv_wall_time_s"].sum()) if "cv_wall_time_s" in table else 0.0,
        "method_times": [(m, float(t), colours[m]) for m, t in per_method_time.items()],
        "colours": colours,
        "cases": cases,
        "calibration": calibration,
        "verdicts": calibration_verdicts(calibration),
        "choice_rule": CHOICE_RULE,
        "not_built": not_built,
    }
    context["sections"] = shown(len(table), campaigns)
    for section in context["sections"]:
        if section.build:
            context.update(section.build(experiment, configfiles, not_built))
    return context


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
