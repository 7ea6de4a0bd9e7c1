"""The ``fitflow`` command line.

``fitflow plugins``          list every discovered plugin with its settings
``fitflow check NAME``       run the conformance checks on one plugin
``fitflow plan CONFIG``      what an experiment config will fit, and what it leaves out and why
``fitflow report DIR``       re-render DIR/report.html from its artefacts
``fitflow suggest CAMPAIGN``  append the next points to measure to a campaign's log (ask/tell)
``fitflow show DIR FIT_ID``   one fit's result, metrics, provenance and timing, as JSON
``fitflow compare FILE``      every method on one data file, one row each (no config, no workflow)
"""

import argparse
import sys
import time

from .core.errors import ConfigError, FitflowError
from .core.registry import methods, problems
from .evaluation.compare import DEFAULT_BUDGET_S
from .inputs.tables import formats

__all__ = ["main"]


def _format_setting(name, spec):
    text = f"{name}: {spec.type_name} = {spec.default!r}"
    if spec.choices:
        text += f" (one of {', '.join(map(str, spec.choices))})"
    return text + (f"  -- {spec.doc}" if spec.doc else "")


def list_plugins(out=sys.stdout):
    """Print every plugin of both groups; return the number that failed to load."""
    failures = 0
    for registry in (problems(), methods()):
        classes, errors = registry.load_all()
        for name in registry.names():
            dist = registry.distribution(name)
            if name in errors:
                failures += 1
                out.write(f"{registry.group}  {name}  [{dist}]  FAILED TO LOAD: {errors[name]}\n\n")
                continue
            cls = classes[name]
            out.write(f"{registry.group}  {name} {cls.version}  [{dist}]\n")
            out.write(f"    {cls.description}\n")
            if cls.unavailable():
                out.write(f"    UNAVAILABLE here: {cls.unavailable()}\n")
            out.write(f"    capabilities: {', '.join(sorted(cls.capabilities))}\n")
            if registry is problems() and "model" in cls.settings:
                out.write(
                    "    (an instance is 'parametric' only with a model, and 'linear' only when that model is "
                    "linear in its parameters, decided exactly; 'fitflow plan CONFIG' says why for yours)\n"
                )
            if getattr(cls, "requirements", None):
                out.write(f"    requires: {', '.join(sorted(cls.requirements))}\n")
            hints = cls.resource_hints()
            out.write(
                f"    resources: threads={hints['threads']} mem_mb={hints['mem_mb']} runtime={hints['runtime']} min\n"
            )
            if cls.settings:
                out.write("    settings:\n")
                for key, spec in cls.settings.items():
                    out.write(f"      {_format_setting(key, spec)}\n")
            out.write("\n")
    return failures


def check_plugin(name, out=sys.stdout, problem=None):
    """Run the conformance checks on the plugin ``name``, each on its own; return the number failed.

    ``problem`` restricts a method's checks to that registered problem.
    """
    from .core.errors import PluginNotFoundError
    from .testing import run_checks, serving_problems

    if name in problems():
        cls = problems().get(name)
    elif name in methods():
        cls = methods().get(name)
    else:
        raise PluginNotFoundError("fitflow.problems or fitflow.methods", name, problems().names() + methods().names())
    targets = None
    if cls.group == methods().group:
        targets, cannot = serving_problems(cls, [problem] if problem else None)
        for skipped, reason in cannot.items():
            out.write(f"SKIP {skipped}: {cls.label()} {reason}\n")
        if problem and not targets and not cannot:
            raise PluginNotFoundError("fitflow.problems served by " + cls.label(), problem, problems().names())
    counts = {}
    for check, outcome, detail in run_checks(cls, targets):
        counts[outcome] = counts.get(outcome, 0) + 1
        out.write(f"{outcome} {check}" + (f": {detail}" if detail else "") + "\n")
    summary = [f"{counts.get('PASS', 0)} passed", f"{counts.get('FAIL', 0)} failed"]
    summary += [f"{counts[k]} {k.lower()}" for k in ("XFAIL", "XPASS") if k in counts]
    out.write(f"{cls.label()}: {', '.join(summary)}\n")
    return counts.get("FAIL", 0)


def show_plan(configfile, out=sys.stdout):
    """Print what ``configfile`` fits and what it leaves out, with the reasons."""
    from .run.config_file import read_config
    from .run.experiment import build_plan

    plan = build_plan(read_config(configfile), source=str(configfile))
    out.write(f"experiment {plan.name}: {len(plan.pairs)} (problem, method) pairs x {plan.replicates} replicates\n")
    from .run.estimate import estimate_lines

    for line in estimate_lines(plan, f"results/{plan.name}"):
        out.write(f"{line}\n")
    for case, note in plan.notes.items():
        out.write(f"  {case}: {note}\n")
    for pair in plan.pairs:
        out.write(f"fit  {pair.problem.label} [{pair.problem.sid}] with {pair.method.label} [{pair.method.sid}]\n")
    for skipped in plan.skipped:
        out.write(f"skip {skipped['problem']} with {skipped['method']}: {skipped['reason']}\n")
    for run in plan.campaigns:
        out.write(
            f"campaign {run.campaign} with {run.method.label}: {run.n_evaluations} evaluations in "
            f"{len(run.rounds)} rounds ({' + '.join(map(str, run.rounds))}), each evaluation a job\n"
        )
    if plan.chunks:
        workers = f", each on up to {plan.chunk_workers} worker processes" if plan.chunk_workers > 1 else ""
        n = len(plan.chunk_units())
        out.write(f"chunks: {n} {'job does' if n == 1 else 'jobs do'} all the generate/fit/evaluate work{workers}\n")
        if plan.store == "compact":
            out.write("store: compact (each chunk's datasets and fits in one archive, chunks/chunk-<i>.zip)\n")
    return 0


def compare_file(args, out=None):
    """Fit one data file with every method that can (or ``--methods``); print the table."""
    import pandas as pd

    from .core.pipeline import generate, make_problem
    from .evaluation.compare import compare

    out = out or sys.stdout

    settings = {
        "file": args.file,
        "x": args.x,
        "y": args.y,
        "sigma": args.sigma,
        "model": args.model,
        "params": args.params or [],
        "p0": _by_name(args.p0) or [],
        "lower": _by_name(args.lower),
        "upper": _by_name(args.upper),
        "cv_folds": args.cv_folds,
        "missing": args.missing,
    }
    started = time.perf_counter()  # the budget counts reading the file and checking the model
    problem = make_problem("table", **{k: v for k, v in settings.items() if v is not None})
    for said in getattr(problem, "assumptions", ()):
        sys.stderr.write(f"assumed: {said}\n")
    dataset = generate(problem)
    checked = time.perf_counter() - started
    if checked > 5:
        sys.stderr.write(
            f"reading the file and checking the model took {checked:.1f} s (a model in JAX is traced and compiled "
            "for its check); the budget counts it\n"
        )
    from .core.artefacts import write_bytes

    def write_csv(table):
        write_bytes(args.csv, table.to_csv(index=False).encode())

    table = compare(
        dataset,
        methods=args.methods.split(",") if args.methods else None,
        seed=args.seed,
        progress=sys.stderr,
        timeout_s=args.timeout,
        budget_s=args.budget,
        after_each=write_csv if args.csv else None,  # the methods done so far, should a later one crash
        started=started,
    )
    if args.csv:
        write_csv(table)
    shown = [
        c
        for c in (
            "method",
            "status",
            "wall_time_s",
            "chi2_dof",
            "chi2_p",
            "cv_rmse",
            "cv_rmse_se",
            "residual_rms",
            "aic",
        )
        if c in table
    ] + [c for c in table if c.startswith(("param.", "stderr."))]
    with pd.option_context("display.width", 200, "display.max_columns", 30, "display.float_format", "{:.4g}".format):
        out.write(table[shown].to_string(index=False) + "\n")
    for row in table.itertuples():
        if row.status != "ok" or (isinstance(row.message, str) and row.message):
            out.write(f"{row.method}: {row.status}: {row.message}\n")
        for warning in str(getattr(row, "warnings", "") or "").split("; ") if row.status == "ok" else ():
            if warning and warning != "nan":
                out.write(f"{row.method}: warning: {warning}\n")
    from .report.verdict import table_verdict, verdict_text

    for line in verdict_text(table_verdict(table)):
        out.write(f"verdict: {line}\n")
    return 130 if table.attrs.get("interrupted") else 0


def _number_or_none(text):
    """A bound on the command line: a number, or none/null for no bound."""
    return None if text.lower() in ("none", "null") else float(text)


def _named_or_number(text):
    """One value of --p0, --lower or --upper: ``2.5``, or ``name=2.5`` (none: no bound)."""
    name, sep, value = text.partition("=")
    if not sep:
        return _number_or_none(text)
    if not name.isidentifier():
        raise argparse.ArgumentTypeError(f"{text!r}: write a parameter value as name=number")
    return (name, _number_or_none(value))


def _by_name(values):
    """Values from the command line as the setting takes them: a list, or ``{name: value}``
    when given as name=value (all or none of them)."""
    if not values:
        return values
    named = [isinstance(v, tuple) for v in values]
    if all(named):
        return dict(values)
    if any(named):
        raise ConfigError("give every value by name (P=1 d=2) or none of them", value=values)
    return values


def heal_results(configfile, dry_run=False, full=False, out=sys.stdout):
    """The workflow's healing step alone (:func:`fitflow.run.healing.heal`), on the results of
    ``configfile``: run from the directory snakemake runs in. Returns 0."""
    from pathlib import Path

    from .run.config_file import read_config
    from .run.experiment import build_plan
    from .run.healing import heal

    plan = build_plan(read_config(configfile), source=str(configfile))
    root = Path("results") / plan.name
    if not root.is_dir():
        out.write(f"fitflow: {root} holds no run yet: nothing to heal\n")
        return 0
    stale = heal(plan, root, dry_run=dry_run, say=lambda text: out.write(text + "\n"), full=full)
    if not stale:
        out.write(f"fitflow: every recorded artefact of results/{plan.name} is as its job wrote it\n")
    elif not dry_run:
        out.write(f"fitflow: {stale} job(s) removed; run snakemake to rebuild them\n")
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(prog="fitflow", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("plugins", help="list every discovered problem and method plugin")
    check = commands.add_parser("check", help="run the conformance checks on a plugin")
    check.add_argument("name")
    check.add_argument("--problem", help="check a method on this registered problem only")
    plan = commands.add_parser("plan", help="list the fits an experiment config asks for, and those it skips")
    plan.add_argument("configfile")
    heal = commands.add_parser(
        "heal",
        help="remove the damaged or missing artefacts of a config's results, with what depends on them, "
        "so that the next snakemake run rebuilds them (snakemake runs this step itself first)",
    )
    heal.add_argument("configfile")
    heal.add_argument("--dry-run", "-n", action="store_true", help="say what is damaged; remove nothing")
    heal.add_argument(
        "--full",
        action="store_true",
        help="hash every recorded file, also those whose size and modification time are as recorded "
        "(finds an edit that kept both, and bit rot; snakemake's own step hashes only changed files)",
    )
    report = commands.add_parser("report", help="render RESULTS_DIR/report.html from its artefacts")
    report.add_argument("results_dir")
    suggest = commands.add_parser("suggest", help="append the next points to measure to a campaign's log")
    suggest.add_argument("campaign", help="the campaign file (YAML: parameters, direction, log, seed)")
    suggest.add_argument(
        "--n",
        type=int,
        default=None,
        help="how many points to suggest (0: print the recommendation alone; without --n: list the pending rows "
        "if there are some, else suggest 1)",
    )
    show = commands.add_parser("show", help="print one fit's result, metrics, provenance and timing as JSON")
    show.add_argument("results_dir")
    show.add_argument("fit_id", help="problem/problem-settings/method/method-settings/rep-k, or problem/method/k")
    show.add_argument("--figure", metavar="PNG", help="also draw the fit (data, truth, fit and band) to this file")
    one = commands.add_parser("compare", help="fit one data file with every method that can; print one row each")
    one.add_argument("file", help=f"a {formats()} file (.txt/.dat: columns separated by spaces, or a NIST StRD file)")
    one.add_argument("--x", nargs="+", default=["x"], help="predictor column(s) (default x)")
    one.add_argument("--y", default="y", help="response column (default y)")
    one.add_argument("--sigma", help="column of per-point standard errors (default: unknown)")
    one.add_argument(
        "--model",
        help="an expression in the parameters and x columns, or a function: path/file.py:function or package.module:function",
    )
    one.add_argument("--params", nargs="+", help="parameter names (default: read from the model)")
    one.add_argument(
        "--p0",
        nargs="+",
        type=_named_or_number,
        help="starting values, in order or by name: --p0 P=1 d=2 (linear: none)",
    )
    one.add_argument(
        "--lower", nargs="+", type=_named_or_number, help="lower bounds, in order or by name (none: no bound)"
    )
    one.add_argument(
        "--upper", nargs="+", type=_named_or_number, help="upper bounds, in order or by name (none: no bound)"
    )
    one.add_argument("--methods", help="comma-separated method names (default: every method that serves the data)")
    one.add_argument("--seed", type=int, default=0)
    one.add_argument(
        "--timeout", type=float, help="wall-clock limit of one method's fit, seconds (default: its runtime hint)"
    )
    one.add_argument(
        "--budget",
        type=float,
        default=DEFAULT_BUDGET_S,
        help=f"wall-clock budget of the whole comparison, seconds (default {DEFAULT_BUDGET_S:g}; 0: none); "
        "a method that cannot finish in it is skipped with the reason",
    )
    one.add_argument("--cv-folds", type=int, help="cross-validation folds (default 5; 0: none)")
    one.add_argument(
        "--missing", choices=["error", "drop"], help="a row with an empty cell: an error (default), or dropped"
    )
    one.add_argument("--csv", metavar="OUT", help="also write the whole table (every metric) to this CSV")
    args = parser.parse_args(argv)
    try:
        if args.command == "plugins":
            return 1 if list_plugins() else 0
        if args.command == "check":
            return 1 if check_plugin(args.name, problem=args.problem) else 0
        if args.command == "plan":
            return show_plan(args.configfile)
        if args.command == "heal":
            return heal_results(args.configfile, dry_run=args.dry_run, full=args.full)
        if args.command == "suggest":
            from .campaigns.measurement_log import suggest as suggest_points

            suggest_points(args.campaign, args.n, out=sys.stdout)
            return 0
        if args.command == "show":
            import json

            from .run.lookup import show_fit

            print(json.dumps(show_fit(args.results_dir, args.fit_id), indent=2, sort_keys=True))
            if args.figure:
                from .run.lookup import draw_fit

                if not draw_fit(args.results_dir, args.fit_id, args.figure):
                    print(f"fitflow: {args.fit_id} has nothing to draw (no dataset, or x is not 1-D)", file=sys.stderr)
                    return 1
            return 0
        if args.command == "compare":
            return compare_file(args)
        if args.command == "report":
            from .report import write_report

            write_report(args.results_dir)
            print(f"{args.results_dir}/report.html")
            return 0
    except FitflowError as exc:
        print(f"fitflow: error: {exc}", file=sys.stderr)
        return 2
    return 0


def console_main():
    """The ``fitflow`` command: :func:`main`, and then the process ends at once once JAX is
    loaded. ``compare`` stops fits that overrun its budget; a JAX computation they dispatched
    (asynchronously) may still be running, and a normal interpreter exit waits for it: 9 s
    after a stopped ``nuts`` on 2,000 points. Output is flushed first."""
    code = main()
    if "jax" in sys.modules:
        import os

        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return code


if __name__ == "__main__":
    sys.exit(console_main())
