"""Dress rehearsal: data drawn from the user's own model, to check each method first.

Same model settings as the ``table`` problem, plus the parameter values to
simulate from (``truth``, typically the best fit to the measurement) and the
noise: one level (``noise``), the file's own error column (``sigma``), or Poisson counts
(``likelihood: poisson``). The predictors come from the measurement file (the same ``x`` as
the real data) or from an even grid. Replicates then show whether each
method's intervals are calibrated on this model, at these parameters, before
its answer on the measurement is trusted.
"""

from types import MappingProxyType

import numpy as np

from fitflow.plugin import (
    MODEL_SETTINGS,
    DataError,
    Dataset,
    Setting,
    SettingsError,
    build_model,
    check_model_output,
    in_parameter_order,
    model_capabilities,
    model_files,
    read_observations,
    require_increasing,
)

from .table import EXAMPLE_FILE, FILE_SETTINGS, UserModelProblem, check_column_names, dense_grid

__all__ = ["Simulate"]


class Simulate(UserModelProblem):
    name = "simulate"
    version = "1.0"
    description = "data simulated from a user model at given parameters, with Gaussian noise or Poisson counts (a dress rehearsal)"
    capabilities = frozenset({"regression", "parametric", "linear"})
    settings = {
        **MODEL_SETTINGS,
        "model": Setting(None, str, MODEL_SETTINGS["model"].doc, nullable=False),
        "truth": Setting(
            None, list, "parameter values to simulate from, one per parameter, or by name", nullable=False, by_name=True
        ),
        "noise": Setting(
            None,
            float,
            "standard error of every simulated point (or give 'sigma', a column of the file; counts need neither)",
            minimum=0.0,
        ),
        "sigma": Setting(
            None,
            str,
            "column of the file holding each point's standard error: the rehearsal scatters as the measurement does",
        ),
        **FILE_SETTINGS,
        "x_min": Setting(0.0, float, "left end of an even grid of x (when no file is given)"),
        "x_max": Setting(1.0, float, "right end of the grid"),
        "n_points": Setting(50, int, "points of the grid", minimum=2, maximum=1_000_000),
        "grid_points": Setting(400, int, "points of the dense truth grid", minimum=2, maximum=100_000),
    }
    fast_settings = {
        "model": "b1*(1 - exp(-b2*t))",
        "params": ["b1", "b2"],
        "p0": [1.0, 1.0],
        "truth": [2.5, 0.45],
        "noise": 0.03,
        "file": EXAMPLE_FILE,
        "x": ["t"],
    }

    def check_settings(self):
        v = self.values
        check_column_names(self, v["x"])
        v = self.check_model()
        if isinstance(v["truth"], dict):

            def fail(key, message):
                raise SettingsError(f"{self.label()}: {message}", plugin=self.name, key=key, value=v[key])

            self.values = v = MappingProxyType(
                {**v, "truth": in_parameter_order(v["truth"], v["params"], "truth", fail)}
            )
        if len(v["truth"]) != len(v["params"]):
            raise SettingsError(
                f"{self.label()}: 'truth' needs one value per parameter ({len(v['params'])})",
                plugin=self.name,
                key="truth",
                value=v["truth"],
            )
        self._check_scatter(v)
        if v["file"] is None:
            if len(v["x"]) != 1:
                raise SettingsError(
                    f"{self.label()}: several x columns need a 'file' to read them from",
                    plugin=self.name,
                    key="x",
                    value=v["x"],
                )
            require_increasing(self, v, "x_min", "x_max")
        self.capabilities, self.capability_note = model_capabilities(v, v["x"], {"regression"})

    def _check_scatter(self, v):
        """Exactly one way to scatter the simulated points: ``noise``, a ``sigma`` column, or counts."""

        def fail(key, message):
            raise SettingsError(f"{self.label()}: {message}", plugin=self.name, key=key, value=v[key])

        if v["likelihood"] == "poisson":
            for key in ("noise", "sigma"):
                if v[key] is not None:
                    fail(key, f"counts (likelihood: poisson) scatter as sqrt of their mean; leave '{key}' out")
            return
        if v["noise"] is None and v["sigma"] is None:
            fail("noise", "give 'noise' (one standard error for every point) or 'sigma' (a column of the file)")
        if v["noise"] is not None and v["sigma"] is not None:
            fail("sigma", "give 'noise' or 'sigma', not both")
        if v["sigma"] is not None and v["file"] is None:
            fail("sigma", "'sigma' names a column of the file: give 'file'")
        if v["noise"] is not None and v["noise"] <= 0:
            fail("noise", "'noise' must be > 0")

    def input_files(self):
        return ([self.values["file"]] if self.values["file"] else []) + model_files(self.values)

    def predictors(self):
        return self._design()[0]

    def _design(self):
        """``(x, sigma)`` from one read of the file: the predictors, and each simulated point's
        standard error (``noise``, or the file's ``sigma`` column; None for counts)."""
        v = self.values
        if v["file"] is None:
            x, data = np.linspace(v["x_min"], v["x_max"], v["n_points"]), None
        else:
            # Only the predictors (and a sigma column) are used; the response is read for its checks only.
            data = read_observations(v["file"], v["x"], v["x"][0], [v["sigma"]] if v["sigma"] is not None else None)
            x = data.x.copy()
        if v["likelihood"] == "poisson":
            return x, None
        if v["sigma"] is not None:
            return x, data.sigma.reshape(len(x)).copy()
        return x, np.full(len(x), v["noise"])

    def check_inputs(self):
        v = self.values
        x = self.predictors()
        truth_model = build_model(v, v["x"], p0=v["truth"])
        self.model_warnings = check_model_output(truth_model, x, v["model"])

    def generate(self, rng):
        v = self.values
        x, sigma = self._design()
        truth = np.asarray(v["truth"], dtype=float)
        model = build_model(v, v["x"], p0=truth)
        mean = model(x, truth)
        if v["likelihood"] == "poisson":
            negative = np.flatnonzero(~(mean >= 0))
            if negative.size:
                raise DataError(
                    f"the model's mean at the truth is {mean[negative[0]]:.4g} at x = {x[negative[0]].tolist()}: "
                    "a count's mean cannot be negative",
                    file=v["file"] or "(the grid of x)",
                    key="truth",
                    value=list(v["truth"]),
                )
            y = rng.poisson(mean).astype(float)
        else:
            y = mean + sigma * rng.standard_normal(len(x))
        grid = dense_grid(x, v["grid_points"])
        return Dataset(
            problem=self,
            x=x,
            y=y,
            sigma=sigma,
            truth_params=dict(zip(v["params"], truth)),
            grid_x=grid,
            grid_y=model(grid, truth),
            meta={
                "rehearsal": True,
                "capability_note": self.capability_note,
                "assumptions": list(self.assumptions),
                "model_warnings": list(self.model_warnings),
                "columns": {"x": v["x"], "y": "simulated y"},
                "likelihood": v["likelihood"],
            },
        )
