"""Your own simulation to emulate: a Python callable or a program with several outputs.

The simulation is run on a space-filling design of ``n_train`` points in the
parameters' box and on ``n_test`` held-out points, and the surrogates (``gp``,
``mlp``) are compared on the held-out runs exactly as on the built-in
``emulator``: RMSE per output and the coverage of their predictive bands.

Each run returns the outputs named in ``outputs``: a number per output in that
order (a line of numbers, a JSON list) or a JSON object by name (see
:mod:`fitflow.external`). A run that fails, times out, gives the wrong number
of outputs or a non-finite one is recorded with its reason and left out of the
data; the experiment goes on. A choice parameter reaches the run as its option
and the emulators as one-hot columns (``gas=argon``, ...; see
:meth:`fitflow.inputs.space.SearchSpace.features`).

In the workflow every run is its own job (``runs/<problem>/<run-id>/run.json``),
so a cluster runs them in parallel, a rerun repeats none, and the design is a
scrambled Sobol' sequence by default: its first ``n`` points are the design of
size ``n``, so a sweep over ``n_train`` reuses the runs of the smaller designs.
Through the Python API, ``generate`` runs them one after another in this process.
"""

import hashlib
import json
from pathlib import Path
import tempfile

import numpy as np

from fitflow.plugin import Dataset, Problem, Setting, SettingsError

from .objective import RUNNER_SETTINGS, runner_from_settings, runner_input_files

__all__ = ["UserSimulation", "run_outputs"]


def run_outputs(record, names):
    """``(outputs array, None)`` from a run's record, or ``(None, reason)``."""
    if record["status"] != "ok":
        stderr = (record.get("stderr") or "").strip()
        return None, record["reason"] + (f"; stderr: {stderr[-300:]}" if stderr else "")
    outputs = record["outputs"]
    if isinstance(outputs, dict):
        missing = [n for n in names if n not in outputs]
        if missing:
            return None, f"the run gave no output {missing[0]!r} (it gave {', '.join(sorted(outputs))})"
        outputs = [outputs[n] for n in names]
    if len(outputs) != len(names):
        return None, f"expected {len(names)} outputs ({', '.join(names)}); the run gave {len(outputs)}: {outputs}"
    values = np.array([np.nan if v is None else v for v in outputs], dtype=float)
    bad = np.flatnonzero(~np.isfinite(values))
    if bad.size:
        return None, f"output {names[bad[0]]!r} is {outputs[bad[0]]} (not a finite number)"
    return values, None


class UserSimulation(Problem):
    name = "simulation"
    version = "1.0"
    description = "emulate your own simulation (callable or program, several outputs), each run its own job"
    capabilities = frozenset({"regression"})
    deterministic = True
    settings = {
        **RUNNER_SETTINGS,
        "outputs": Setting(
            None, list, "names of the simulation's outputs, in the order it returns them", item_type=str, nullable=False
        ),
        "n_train": Setting(50, int, "runs in the training design", minimum=2, maximum=100_000),
        "n_test": Setting(20, int, "held-out runs the emulators are scored on", minimum=1, maximum=100_000),
        "design": Setting(
            "sobol",
            str,
            "space-filling design (sobol: nested, so growing n_train reuses runs)",
            choices=("sobol", "lhs"),
        ),
        "design_seed": Setting(0, int, "seed of the design and of the held-out points", minimum=0),
    }
    fast_settings = {
        "parameters": {"log10_density": [17.0, 19.0], "temperature": [5.0, 50.0], "velocity": [-50.0, 50.0]},
        "function": "fitflow_plugins.problems.synthetic.emulator:spectral_line_by_name",
        "outputs": ["width", "shift", "ratio"],
        "n_train": 30,
        "n_test": 10,
    }
    resources = {"threads": 1, "mem_mb": 1000, "runtime": 60}

    def check_settings(self):
        v = self.values
        self.space, self.runner = runner_from_settings(self)
        names = v["outputs"]
        if not names or len(set(names)) != len(names) or not all(n.isidentifier() for n in names):
            raise SettingsError(
                f"{self.label()}: 'outputs' must list distinct output names (identifiers)",
                plugin=self.name,
                key="outputs",
                value=names,
            )
        if v["n_train"] <= self.space.dim:
            raise SettingsError(
                f"{self.label()}: n_train = {v['n_train']} runs cannot determine a function of "
                f"{self.space.dim} parameters; use at least {self.space.dim + 1}",
                plugin=self.name,
                key="n_train",
                value=v["n_train"],
            )
        if v["n_test"] > v["n_train"]:
            raise SettingsError(
                f"{self.label()}: the held-out set (n_test = {v['n_test']}) is larger than the "
                f"design (n_train = {v['n_train']}); spend the runs on training",
                plugin=self.name,
                key="n_test",
                value=v["n_test"],
            )

    def input_files(self):
        """The user's script or program, when it is a file here: editing it reruns the runs."""
        return runner_input_files(self.values)

    # -- the runs ----------------------------------------------------------------------------

    def runs(self):
        """``[(key, params)]``: the training design then the held-out points, in order.
        ``key`` (``train-00007``) names the run's role; :meth:`run_id` its identity."""
        from scipy.stats import qmc

        v, space = self.values, self.space
        if v["design"] == "sobol":
            # The first n points of one scrambled sequence (drawn as a power-of-two block, scipy's
            # recipe): the design of size n is nested in every larger one.
            block = int(np.ceil(np.log2(v["n_train"])))
            unit = qmc.Sobol(space.dim, scramble=True, seed=v["design_seed"]).random_base2(block)[: v["n_train"]]
        else:
            unit = qmc.LatinHypercube(space.dim, seed=v["design_seed"]).random(v["n_train"])
        test = np.random.default_rng([v["design_seed"], 1]).uniform(size=(v["n_test"], space.dim))
        return [(f"train-{i:05d}", space.as_dict(space.from_unit(u))) for i, u in enumerate(unit)] + [
            (f"test-{i:05d}", space.as_dict(space.from_unit(u))) for i, u in enumerate(test)
        ]

    def run_id(self, params):
        """A run's identity: a hash of what it runs and where, so equal runs are shared
        (between sweep values) and a changed program or parameter is a new run."""
        v = self.values
        what = {
            "function": v["function"],
            "command": v["command"],
            "output_file": v["output_file"],
            "timeout_s": v["timeout_s"],
            "params": params,
        }
        return hashlib.sha256(json.dumps(what, sort_keys=True).encode()).hexdigest()[:16]

    def run(self, params, workdir):
        """One run of the simulation: its record as JSON (status, outputs, reason, stderr)."""
        return {"params": params, **self.runner.run(params, workdir).to_json()}

    def dataset_from_runs(self, records):
        """The dataset from ``{key: run record}``; failed runs are listed and left out."""
        names = self.values["outputs"]
        kept, failed = {"train": ([], []), "test": ([], [])}, []
        for key, params in self.runs():
            values, reason = run_outputs(records[key], names)
            if values is None:
                failed.append({"run": key, "params": params, "reason": reason})
                continue
            points, ys = kept[key.split("-")[0]]
            points.append(params)
            ys.append(values)
        (train, y), (test, test_y) = kept["train"], kept["test"]
        x, test_x = self.space.features(train), self.space.features(test)
        if len(x) <= self.space.dim:
            raise ValueError(
                f"only {len(x)} of {self.values['n_train']} training runs succeeded; "
                f"first failure: {failed[0]['reason'] if failed else '-'}"
            )
        if not len(test_x):
            raise ValueError("every held-out run failed; first failure: " + failed[-1]["reason"])
        inputs = self.space.feature_names()
        return Dataset(
            problem=self,
            x=x,
            y=np.array(y),
            grid_x=test_x,
            grid_y=np.array(test_y),
            meta={
                "outputs": list(names),
                "inputs": inputs,
                "held_out_test_set": True,
                "failed_runs": failed,
                "n_runs": len(self.runs()),
                "columns": {"x": inputs, "y": ", ".join(names)},
            },
        )

    def generate(self, rng):
        """All runs in this process, one after another (the workflow runs each as a job)."""
        with tempfile.TemporaryDirectory(prefix="fitflow-simulation-") as folder:
            records = {key: self.run(params, Path(folder) / key) for key, params in self.runs()}
        return self.dataset_from_runs(records)
