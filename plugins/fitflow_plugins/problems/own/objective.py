"""The user's own objective: a Python callable or an external program to optimise.

Parameters are named with bounds (``{power: [0.5, 2.0], shots: {bounds: [1, 8],
type: int}}``); the value is minimised or maximised. See :mod:`fitflow.external`
for how a callable is called and how a program's value is read (one number, or
a value and its standard error, or a JSON object with ``value`` and any constrained
outputs: ``constraints: {charge: ">= 50"}``). An evaluation that fails (raises, exits
non-zero, times out, prints no number) or returns inf/NaN is recorded with its
reason and kept out of the surrogate; the optimisation goes on.

In an experiment the optimiser evaluates the objective inside its fit job,
which suits a cheap function. For an expensive one, run it as a *campaign*
(``campaigns:`` in the config): every evaluation is then its own job.
"""

from pathlib import Path
import tempfile

import numpy as np

from fitflow.plugin import (
    ConfigError,
    Dataset,
    Objective,
    Observation,
    Problem,
    SearchSpace,
    Setting,
    SettingsError,
    parse_constraints,
    parse_goals,
    parse_observation,
)

__all__ = ["UserObjective", "RUNNER_SETTINGS", "observation_from_run", "runner_from_settings", "runner_input_files"]

RUNNER_SETTINGS = {
    "parameters": Setting(
        None,
        object,
        "named parameters and bounds: {name: [lower, upper]} or {name: {bounds: [lower, upper], type: int}}",
        nullable=False,
    ),
    "function": Setting(None, str, "a Python callable 'package.module:function' or 'path/file.py:function'"),
    "command": Setting(None, object, "a program: a list of arguments (or one string) with {parameter} placeholders"),
    "output_file": Setting(
        None, str, "read the program's result from this file in its folder (default: last line of stdout)"
    ),
    "timeout_s": Setting(None, float, "wall-clock limit of one run; past it the run is failed", minimum=0.001),
}


def runner_from_settings(plugin):
    """``(space, runner)`` from a plugin's RUNNER_SETTINGS; a bad entry is a SettingsError
    naming its key."""
    from fitflow.plugin import make_runner

    try:
        space = SearchSpace.from_config(plugin.values["parameters"], source=plugin.label())
        return space, make_runner(plugin.values, space.names, source=plugin.label())
    except ConfigError as error:
        raise SettingsError(str(error), plugin=plugin.name, key=error.key or "parameters", value=error.value) from None


def runner_input_files(values):
    """The user's script (``file.py:function``) or program, when it is a file here: inputs
    of the jobs that run it, so editing it reruns them."""
    files = []
    if values["function"] and ".py:" in values["function"]:
        files.append(values["function"].split(":")[0])
    command = values["command"]
    if command:
        arguments = command if isinstance(command, list) else command.split()
        files += [a for a in arguments if Path(a).is_file()]
    return files


def observation_from_run(record, sign, constraints=(), goals=()):
    """An Observation from a :class:`~fitflow.inputs.external.RunRecord` of an objective:
    one number, ``[value, standard error]``, or ``{value: ..., error: ...}`` with any
    constrained outputs by name; with several objectives, each of them by name."""
    if record.status != "ok":
        reason = record.reason + (f"; stderr: {record.stderr.strip()[-300:]}" if record.stderr.strip() else "")
        return Observation(np.nan, status="failed", reason=reason)
    outputs = record.outputs
    if isinstance(outputs, dict) or goals:
        return parse_observation(outputs, sign, constraints, goals)
    if len(outputs) not in (1, 2):
        return Observation(
            np.nan,
            status="failed",
            reason=f"expected one number (or value and standard error); got {len(outputs)}: {outputs}",
        )
    return parse_observation(outputs[0] if len(outputs) == 1 else tuple(outputs), sign, constraints)


class UserObjective(Problem):
    name = "objective"
    version = "1.0"
    description = "your own objective to optimise: a Python callable or an external program"
    capabilities = frozenset({"black_box"})
    deterministic = True
    settings = {
        **RUNNER_SETTINGS,
        "direction": Setting("minimise", str, "minimise or maximise the value", choices=("minimise", "maximise")),
        "noise_sd": Setting(
            None, float, "known noise of one evaluation (0: exact; unset: learned from the data)", minimum=0.0
        ),
        "constraints": Setting(
            None,
            object,
            'limits on named outputs the objective returns beside its value: {charge: ">= 50", spread: "<= 0.05"}',
        ),
        "objectives": Setting(
            None,
            object,
            "several objectives, returned by name in place of one value: {charge: maximise, spread: minimise} "
            "(the answer is their Pareto front; direction is then unused)",
        ),
    }
    fast_settings = {
        "parameters": {"x": [0.0, 1.0]},
        "function": "fitflow_plugins.problems.synthetic.black_box:forrester_by_name",
        "noise_sd": 0.0,
    }

    def check_settings(self):
        self.space, self.runner = runner_from_settings(self)
        try:
            self.constraints = parse_constraints(self.values["constraints"], source=self.label())
            self.goals = parse_goals(self.values["objectives"], source=self.label())
        except ConfigError as error:
            raise SettingsError(str(error), plugin=self.name, key=error.key, value=error.value) from None

    def input_files(self):
        """The user's script or program, when it is a file here: editing it reruns the optimisation."""
        return runner_input_files(self.values)

    @property
    def sign(self):
        return -1.0 if self.values["direction"] == "maximise" else 1.0

    def generate(self, rng):
        return Dataset(
            problem=self,
            x=np.empty((0, self.space.dim)),
            y=np.empty(0),
            meta={"parameters": self.space.to_config(), "direction": self.values["direction"]},
        )

    def run_point(self, params, workdir):
        """One evaluation at ``params`` (by name) in the folder ``workdir``: an Observation
        in the minimising sign, and the run's record (timing, stderr)."""
        record = self.runner.run(params, workdir)
        return observation_from_run(record, self.sign, self.constraints, self.goals), record

    def objective(self, dataset):
        space = self.space
        folder = {}

        def evaluate(x):
            # In-process use: each run gets its own folder under one temporary directory.
            if "root" not in folder:
                folder["root"] = tempfile.TemporaryDirectory(prefix="fitflow-objective-")
            folder["runs"] = folder.get("runs", 0) + 1
            return self.run_point(space.as_dict(x), Path(folder["root"].name) / f"run-{folder['runs']}")[0]

        return Objective(
            evaluate,
            space.names,
            (space.lower, space.upper),
            noise_sd=self.values["noise_sd"],
            space=space,
            sign=self.sign,
            constraints=self.constraints,
            goals=self.goals,
        )
