"""Measurements from a file: fit a scientist's own data with every method.

The config names a CSV/TSV/NPZ file and its columns: one or more predictors
``x``, the response ``y`` and optionally per-point standard errors ``sigma``.
With a ``model`` (an expression or a ``package.module:function``) the problem is
``parametric`` as well as ``regression``, so parametric methods fit the model
and non-parametric ones fit the data. The data have no truth: evaluation reports
chi2/dof, residual spread, AIC/BIC and ``cv_folds``-fold cross-validated error
instead (see :mod:`fitflow.evaluate`).
"""

from pathlib import Path
from types import MappingProxyType

import numpy as np

from fitflow.plugin import (
    MODEL_SETTINGS,
    DataError,
    Dataset,
    Problem,
    Setting,
    SettingsError,
    build_model,
    check_model_output,
    check_model_settings,
    chi_square_objective,
    count_problem,
    formats,
    model_assumptions,
    model_capabilities,
    model_files,
    observations_from_arrays,
    read_observations,
)

__all__ = ["Table", "UserModelProblem", "EXAMPLE_FILE", "dense_grid"]

#: A small measurement shipped with fitflow (columns t, signal, error).
EXAMPLE_FILE = str(Path(__file__).resolve().parents[2] / "data" / "saturation.csv")
#: The ``file`` of a table built from arrays in memory, as errors name it.
ARRAYS = "<arrays>"

#: Settings naming a data file and its columns (shared with the simulate problem).
FILE_SETTINGS = {
    "file": Setting(None, str, f"path of a {formats()} file, relative to the working directory"),
    "x": Setting(["x"], list, "predictor column(s)", item_type=str),
}


def dense_grid(x, n_points):
    """Where fitted curves are drawn and non-parametric methods predict: a dense grid
    over a single predictor's range, or the observed points themselves for several."""
    if x.ndim == 1:
        return np.linspace(x.min(), x.max(), n_points)
    return x


def check_column_names(plugin, columns):
    if not columns or len(set(columns)) != len(columns):
        raise SettingsError(
            f"{plugin.label()}: 'x' must name one or more distinct columns", plugin=plugin.name, key="x", value=columns
        )


def _column_list(plugin, key, value):
    """A column name or a non-empty list of distinct ones, as a list."""
    columns = [value] if isinstance(value, str) else value
    if (
        not isinstance(columns, list)
        or not columns
        or not all(isinstance(c, str) and c for c in columns)
        or len(set(columns)) != len(columns)
    ):
        raise SettingsError(
            f"{plugin.label()}: '{key}' must name a column or a list of distinct columns; got {value!r}",
            plugin=plugin.name,
            key=key,
            value=value,
        )
    return columns


class UserModelProblem(Problem):
    """A problem whose model is the user's own (``MODEL_SETTINGS``): it serves that model
    and, when every parameter is bounded, its chi-square as a black box for optimisers."""

    #: What the settings left to fitflow (:func:`fitflow.plugin.model_assumptions`), and what the
    #: model's output at its start already warns of (set when the inputs are checked).
    assumptions = ()
    model_warnings = ()

    def model(self, dataset):
        return build_model(self.values, self.values["x"])

    def check_model(self):
        """Check the model settings against the x columns and keep them completed
        (``params`` and ``p0`` read from the model where not given); return the values."""
        given = self.values
        self.values = MappingProxyType(check_model_settings(self, given, given["x"]))
        self.assumptions = model_assumptions(given, self.values, given["x"])
        return self.values

    def objective(self, dataset):
        return chi_square_objective(dataset) if "black_box" in self.capabilities else None


class Table(UserModelProblem):
    name = "table"
    version = "1.0"
    description = "measurements read from a CSV/TSV/NPZ file, optionally with a user model (no truth)"
    capabilities = frozenset({"regression", "parametric", "linear"})
    deterministic = True
    settings = {
        **FILE_SETTINGS,
        "file": Setting(
            None,
            str,
            f"path of a {formats()} file, relative to the working directory",
            nullable=False,
        ),
        "y": Setting("y", object, "response column, or a list of columns for several outputs"),
        "sigma": Setting(
            None,
            object,
            "column of per-point standard errors (a list, one per y column, for several outputs; default: unknown)",
        ),
        **MODEL_SETTINGS,
        "cv_folds": Setting(
            5,
            int,
            "folds of the cross-validated prediction error (0: none; capped at the number of points: leave-one-out)",
            minimum=0,
        ),
        "cv_scheme": Setting(
            "auto",
            str,
            "how the folds are cut: contiguous blocks of x (a time series or a scan, whose neighbours share "
            "their noise), random, or auto (blocks where x is one column)",
            choices=("auto", "blocks", "random"),
        ),
        "grid_points": Setting(400, int, "points of the grid fitted curves are drawn on", minimum=2, maximum=100_000),
        "missing": Setting(
            "error",
            str,
            "a row with a missing value (empty cell, NA, NaN): error, or drop it (the fits say how many)",
            choices=("error", "drop"),
        ),
    }
    fast_settings = {
        "file": EXAMPLE_FILE,
        "x": ["t"],
        "y": "signal",
        "sigma": "error",
        "model": "b1*(1 - exp(-b2*t))",
        "params": ["b1", "b2"],
        "p0": [1.0, 1.0],
        "cv_folds": 3,
    }

    def check_settings(self):
        v = self.values
        check_column_names(self, v["x"])
        self.y_columns = _column_list(self, "y", v["y"])
        self.sigma_columns = None if v["sigma"] is None else _column_list(self, "sigma", v["sigma"])
        if self.sigma_columns is not None and len(self.sigma_columns) != len(self.y_columns):
            raise SettingsError(
                f"{self.label()}: give one sigma column per y column ({len(self.y_columns)}); "
                f"got {len(self.sigma_columns)}",
                plugin=self.name,
                key="sigma",
                value=v["sigma"],
            )
        taken = {c: "an x column" for c in v["x"]}
        for key, columns in (("y", self.y_columns), ("sigma", self.sigma_columns or [])):
            for column in columns:
                if column in taken:
                    raise SettingsError(
                        f"{self.label()}: '{key}' names the column {column!r}, which is already "
                        f"{taken[column]}; every role needs its own column",
                        plugin=self.name,
                        key=key,
                        value=column,
                    )
                taken[column] = "y" if key == "y" else "a sigma column"
        if len(self.y_columns) > 1 and v["model"] is not None:
            raise SettingsError(
                f"{self.label()}: a model predicts one response; with several y columns "
                f"({', '.join(self.y_columns)}) leave 'model' out and compare gp and mlp",
                plugin=self.name,
                key="model",
                value=v["model"],
            )
        v = self.check_model()
        if v["likelihood"] == "poisson" and v["sigma"] is not None:
            raise SettingsError(
                f"{self.label()}: counts (likelihood: poisson) carry their own errors, sqrt of the mean; "
                "leave 'sigma' out",
                plugin=self.name,
                key="sigma",
                value=v["sigma"],
            )
        if v["cv_folds"] == 1:
            raise SettingsError(
                f"{self.label()}: cv_folds must be 0 (none) or at least 2", plugin=self.name, key="cv_folds", value=1
            )
        self.capabilities, self.capability_note = model_capabilities(v, v["x"], {"regression"})

    #: The observations of :meth:`from_arrays`, held in memory instead of read from ``file``.
    _arrays = None

    @classmethod
    def from_arrays(cls, x, y, sigma=None, /, **settings):
        """The problem on arrays a notebook holds (``fitflow.measurement``): ``x`` (n,) or
        (n, k) named by the ``x`` setting, ``y``, optional ``sigma``; checked as a file's
        columns are. Through the Python API only: a workflow reads files."""
        names = {"y": "y", **({"sigma": "sigma"} if sigma is not None else {}), **settings}
        problem = cls(file=ARRAYS, **names)
        problem._arrays = observations_from_arrays(
            x, y, sigma, problem.values["x"], problem.y_columns, problem.sigma_columns
        )
        return problem

    def input_files(self):
        return ([] if self._arrays is not None else [self.values["file"]]) + model_files(self.values)

    def observations(self):
        if self._arrays is not None:
            return self._arrays
        v = self.values
        return read_observations(v["file"], v["x"], self.y_columns, self.sigma_columns, missing=v["missing"])

    def check_inputs(self):
        data = self.observations()
        v = self.values
        n_params = len(v["params"])
        # With errors given, as many rows as parameters determine them; without, one more
        # is needed to estimate the scatter from the residuals.
        needed = max(n_params, 1) + (0 if data.sigma is not None else 1)
        if data.n_points < needed:
            why = " (no errors are given, so one more than the parameters, to estimate the scatter)"
            raise DataError(
                f"has {data.n_points} data rows; at least {needed} are needed"
                + (f" to fit {n_params} parameters" if n_params else "")
                + (why if data.sigma is None and n_params else ""),
                file=v["file"],
                value=data.n_points,
            )
        if v["likelihood"] == "poisson":
            _check_counts(data, v)
        model = build_model(v, v["x"])
        if model is not None:
            self.model_warnings = check_model_output(model, data.x, v["model"])

    def generate(self, rng):
        self.check_inputs()
        data = self.observations()
        v = self.values
        return Dataset(
            problem=self,
            x=data.x.copy(),
            y=data.y.copy(),
            sigma=None if data.sigma is None else data.sigma.copy(),
            grid_x=dense_grid(data.x, v["grid_points"]),
            # More folds than points is leave-one-out.
            meta={
                "measured": True,
                "capability_note": self.capability_note,
                "assumptions": list(self.assumptions),
                "model_warnings": list(self.model_warnings),
                "likelihood": v["likelihood"],
                "cv_folds": min(v["cv_folds"], data.n_points),
                "cv_scheme": v["cv_scheme"],
                "columns": {"x": v["x"], "y": v["y"], "sigma": v["sigma"]},
                **({"dropped_rows": list(data.dropped_rows)} if data.dropped_rows else {}),
                **({"outputs": list(self.y_columns)} if len(self.y_columns) > 1 else {}),
            },
        )


def _check_counts(data, values):
    """A DataError naming the file, column, row and value of the first y that is not a count."""
    found = count_problem(data.y)
    if found is None:
        return
    index, value = found
    dropped = sorted(data.dropped_rows or ())
    row = index + 1
    for skipped in dropped:  # the row in the file: count the rows left out before it
        if skipped <= row:
            row += 1
    raise DataError(
        "is not a count (a whole number >= 0), and likelihood: poisson needs counts",
        file=values["file"],
        key=values["y"],
        row=row,
        value=value,
    )
