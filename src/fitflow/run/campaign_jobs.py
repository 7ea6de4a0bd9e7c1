"""The three jobs of an optimisation campaign in the workflow.

* :func:`propose_round` reads every evaluation of the earlier rounds, asks the
  optimiser for this round's points and writes ``proposal.json``;
* :func:`evaluate_point` evaluates one proposed point, in its own folder, and
  writes ``evaluation.json`` (plus ``timing.json``): a failed evaluation is a
  record with its reason, never a failed job;
* :func:`summarise_campaign` writes the recommendation, the history
  (``history.csv``) and what the report draws.

Round ``k`` draws from ``round_rng(seed, k)`` and sees exactly the evaluations
of rounds ``< k``, so a campaign killed at any point and rerun gives the same
artefacts as one never interrupted, and the in-process loop
(:func:`fitflow.campaigns.campaign.run_in_process`) proposes the same points.
"""

import csv
import io
import math
import time

import numpy as np

from ..campaigns.campaign import History, in_callers_sign, no_answer, observation_from_record, recommend, round_rng
from ..campaigns.progress import limits_at
from ..core.artefacts import read_json, write_bytes, write_json
from ..core.pipeline import generate
from ..core.registry import methods, problems
from ..core.seeding import make_rng
from ..inputs.external import default_timeout
from .layout import Layout
from .provenance import plugin_record, provenance_record

__all__ = ["campaign_objective", "read_history", "propose_round", "evaluate_point", "summarise_campaign"]

SLICE_POINTS = 60
#: Random candidates (and as many around the measured front) for an optimiser's predicted
#: Pareto front, and the most of its points kept for the report.
PREDICTED_FRONT_CANDIDATES, PREDICTED_FRONT_POINTS = 1000, 100


def campaign_objective(run):
    """``(problem, objective)`` of a campaign run: the same in every job."""
    problem = run.problem.instance(problems())
    dataset = generate(
        problem, make_rng(run.seed, ["campaign", run.campaign, run.problem.plugin, run.problem.settings])
    )
    return problem, dataset.objective


def read_history(layout, run, objective, rounds=None):
    """The history of ``run`` from its evaluation artefacts of the first ``rounds`` rounds."""
    rounds = len(run.rounds) if rounds is None else rounds
    history = History(
        objective.space, noise_sd=objective.noise_sd, constraints=objective.constraints, goals=objective.goals
    )
    for k, i in run.evaluations():
        if k >= rounds:
            break
        record = read_json(layout.evaluation(run.campaign, run.method.label, k, i))
        history.add(np.asarray(record["x"], dtype=float), observation_from_record(record))
    return history


def _provenance(run, method, problem, extra):
    return provenance_record(
        config_slice={"campaign": run.campaign, "problem": run.problem.settings, "method": run.method.settings},
        seeds={"campaign": run.seed, **extra},
        plugins={"problem": plugin_record(problem, problems()), "method": plugin_record(method, methods())},
        inputs={},
    )


def _checked_points(points, size, space):
    """The optimiser's points as an (size, d) array inside the box, or a reason they are not."""
    try:
        points = np.asarray(points, dtype=float).reshape(size, space.dim)
    except (TypeError, ValueError) as exc:
        return None, f"suggest returned {type(points).__name__} that is not ({size}, {space.dim}) numbers: {exc}"
    for row in points:
        bad = space.outside(row)
        if len(bad):
            return None, f"suggest proposed {space.names[bad[0]]} = {row[bad[0]]!r}, outside its bounds or type"
    return points, None


def propose_round(plan, root, campaign, method_label, k, log=None):
    """Write round ``k``'s proposal: the optimiser's points given rounds ``< k``.

    An optimiser that raises or proposes points outside the box gets this
    round drawn uniformly at random instead, with the reason in the proposal's
    warnings: a misbehaving plugin costs the campaign efficiency, not its run.
    """
    k = int(k)
    layout = Layout(root)
    run = plan.campaign_run(campaign, method_label)
    problem, objective = campaign_objective(run)
    history = read_history(layout, run, objective, rounds=k)
    method = run.method.instance(methods())
    size, rng = run.rounds[k], round_rng(run.seed, k)
    warnings = []
    try:
        points, problem_with_them = _checked_points(method.suggest(history, size, rng), size, objective.space)
    except Exception as exc:  # a plugin bug: this round goes random, the campaign goes on
        points, problem_with_them = None, f"suggest raised {type(exc).__name__}: {exc}"
    if points is None:
        warnings.append(f"{method.label()}: {problem_with_them}; round {k} drawn at random instead")
        points = objective.space.from_unit(round_rng(run.seed, k).uniform(size=(size, objective.space.dim)))
        if log:
            print(f"warning: {warnings[-1]}", file=log)
    write_json(
        layout.proposal(campaign, method_label, k),
        {
            "campaign": campaign,
            "method": method_label,
            "round": k,
            "x": points,
            "points": [objective.space.as_dict(x) for x in points],
            "warnings": warnings,
            "provenance": _provenance(run, method, problem, {"round": k}),
        },
    )


def evaluate_point(plan, root, campaign, method_label, k, index, log=None):
    """Evaluate point ``index`` of round ``k`` in its own folder; record any failure."""
    layout = Layout(root)
    run = plan.campaign_run(campaign, method_label)
    proposal = read_json(layout.proposal(campaign, method_label, k))
    x = np.asarray(proposal["x"][int(index)], dtype=float)
    problem, objective = campaign_objective(run)
    params = objective.space.as_dict(x)
    path = layout.evaluation(campaign, method_label, k, index)
    start = time.perf_counter()
    stderr = ""
    if hasattr(problem, "run_point"):
        default_timeout(getattr(problem, "runner", None), run.resources.get("runtime"))
        observation, record = problem.run_point(params, path.parent / "work")
        stderr = record.stderr
    else:
        observation = objective.observe(x)
    seconds = time.perf_counter() - start
    if log and not observation.ok:
        print(f"evaluation {observation.status}: {observation.reason}", file=log)
    minimised = observation.value if observation.ok and math.isfinite(observation.value) else None
    write_json(
        path,
        {
            "campaign": campaign,
            "method": method_label,
            "round": int(k),
            "index": int(index),
            "x": x,
            "params": params,
            "status": observation.status,
            "reason": observation.reason,
            "value": None if minimised is None else in_callers_sign(objective.sign, minimised),
            "objective": minimised,
            "error": observation.error,
            "outputs": observation.outputs,
            "stderr": stderr[-2000:],
        },
    )
    write_json(path.parent / "timing.json", {"wall_time_s": seconds})


def summarise_campaign(plan, root, campaign, method_label, log=None):
    """Write ``summary.json`` and ``history.csv`` of one optimiser's campaign."""
    layout = Layout(root)
    run = plan.campaign_run(campaign, method_label)
    problem, objective = campaign_objective(run)
    history = read_history(layout, run, objective)
    method = run.method.instance(methods())
    sign, space = objective.sign, objective.space
    best = recommend(method, history)
    rounds = np.array([k for k, _ in run.evaluations()])
    summary = {
        "campaign": campaign,
        "method": method_label,
        "plugin": run.method.plugin,
        # several objectives each have their own sense ("objectives" below), not one direction
        **({} if history.goals else {"direction": "maximise" if sign < 0 else "minimise"}),
        "parameters": space.to_config(),
        "names": list(space.names),
        "rounds": list(run.rounds),
        "n_evaluations": len(history),
        "n_failed": history.n_failed,
        "constraints": [str(c) for c in history.constraints],
        "n_infeasible": history.n_infeasible,
        "history": {
            "round": rounds,
            "x": history.x,
            "status": list(history.status),
            "feasible": history.feasible,
            "outputs": {name: history.outputs[:, j] for j, name in enumerate(history.output_names)},
            "value": in_callers_sign(sign, history.y),
            "best_so_far": in_callers_sign(sign, history.best_so_far()),
        },
        "failures": [
            {
                "round": int(rounds[i]),
                "index": int(i - np.flatnonzero(rounds == rounds[i])[0]),
                "params": space.as_dict(history.x[i]),
                "status": history.status[i],
                "reason": history.reasons[i],
            }
            for i in np.flatnonzero(~history.ok)
        ],
        "recommended": None,
        "no_answer": None if best is not None else no_answer(history),
        "optimum_value": None if objective.optimum_value is None else in_callers_sign(sign, objective.optimum_value),
    }
    if history.goals:
        summary.update(_pareto_summary(history))
        if hasattr(method, "predicted_front") and history.feasible.sum() >= 2:
            summary["predicted_front"] = _report_view("predicted front", log, _predicted_front, method, history)
    if best is not None:
        summary["recommended"] = {
            "params": space.as_dict(best.x),
            "x": best.x,
            "value": in_callers_sign(sign, best.mean),
            "sd": best.sd,
            "evaluation": best.index,
            "limits": limits_at(history, best),
        }
        true_value = objective.true_value(best.x)
        if true_value is not None:
            summary["recommended"]["true_value"] = in_callers_sign(sign, true_value)
        if objective.optimum_value is not None:
            reference = true_value if true_value is not None else best.mean
            summary["recommended"]["regret"] = reference - objective.optimum_value
        if hasattr(method, "surrogate_slices") and history.ok.sum() >= 2:
            summary["slices"] = _report_view("surrogate slices", log, _slices, method, history, best.x, sign)
    write_json(layout.campaign_summary(campaign, method_label), summary)
    write_bytes(
        layout.campaign_summary(campaign, method_label).with_name("history.csv"),
        history_csv(history, rounds, sign).encode(),
    )


def _pareto_summary(history):
    """With several objectives: their senses, the evaluations on the Pareto front, the
    reference point (the user's sign) and the hypervolume after each evaluation."""
    from ..campaigns.pareto import ParetoResult, reference_point

    feasible = history.goal_values()[history.feasible]
    if not len(feasible):
        return {"objectives": {g.name: g.sense for g in history.goals}, "front": [], "hypervolume": []}
    result = ParetoResult(history, reference_point(feasible))
    return {
        "objectives": {g.name: g.sense for g in history.goals},
        "front": [int(i) for i in np.flatnonzero(result.on_front)],
        "reference": result.reference,
        "hypervolume": result.hypervolume(),
        "no_answer": None,
    }


def _report_view(name, log, view, *args):
    """``view(*args)``, an optimiser's view for the report; None (and a warning in the log)
    where the plugin raises: a view never fails the campaign."""
    try:
        return view(*args)
    except Exception as error:  # noqa: BLE001 - any plugin error
        if log:
            print(f"warning: no {name}: {type(error).__name__}: {error}", file=log)
        return None


def _slices(method, history, x, sign):
    """The surrogate along each parameter through ``x``, values in the user's sign."""
    slices = method.surrogate_slices(history, x, SLICE_POINTS)
    return [
        {"name": name, "grid": s["grid"], "mean": in_callers_sign(sign, s["mean"]), "sd": s["sd"]}
        for name, s in slices.items()
    ]


def _predicted_front(method, history):
    """The optimiser's predicted Pareto front in the user's units: ``{params, mean, sd}``
    (``mean`` and ``sd`` by objective), at most ``PREDICTED_FRONT_POINTS`` spread along it."""
    front = method.predicted_front(history, PREDICTED_FRONT_CANDIDATES)
    if not len(front["x"]):
        return None
    keep = np.unique(np.linspace(0, len(front["x"]) - 1, PREDICTED_FRONT_POINTS).round().astype(int))
    x, mean, sd = (np.asarray(front[key], dtype=float)[keep] for key in ("x", "mean", "sd"))
    return {
        "params": [history.space.as_dict(row) for row in x],
        "mean": {g.name: mean[:, j] * g.sign for j, g in enumerate(history.goals)},
        "sd": {g.name: sd[:, j] for j, g in enumerate(history.goals)},
    }


def history_csv(history, rounds, sign):
    """The evaluations as CSV text: round, parameters, value (the user's sign), error, any
    constrained outputs and whether the evaluation kept them all, status, reason."""

    def cell(number):
        return "" if not math.isfinite(number) else repr(float(number))

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    constrained = list(history.output_names)
    feasible = ["feasible"] if history.constraints else []
    writer.writerow(["round", *history.space.names, "value", "error", *constrained, *feasible, "status", "reason"])
    for i, (k, x, y, e) in enumerate(zip(rounds, history.x, history.y, history.error)):
        params = history.space.as_dict(x)
        writer.writerow(
            [
                k,
                *(repr(v) if isinstance(v, float) else v for v in params.values()),
                "" if not math.isfinite(y) else repr(in_callers_sign(sign, y)),
                cell(e),
                *(cell(v) for v in history.outputs[i]),
                *([str(bool(history.feasible[i])).lower()] if history.constraints else []),
                history.status[i],
                history.reasons[i],
            ]
        )
    return out.getvalue()
