"""A measured signal seen through a known instrument response: deconvolve your own data.

``y_i = sum_j R_ij f_j + noise``: the measurement (``file``: x, y, optional
errors) is the blurred image of an unknown signal ``f`` on a grid. The grid is
the measurement's own x by default; ``grid_points`` spreads that many points
evenly over the measured range instead, and a response matrix file may carry a
``grid`` of its own. The response is given in one of three ways:

``kernel``
    an expression of the offset ``u = x - s`` (``exp(-0.5*(u/0.3)**2)``),
    parsed safely like every model expression;
``kernel_file``
    the sampled response, a CSV/TSV/NPZ with columns ``kernel_x`` (offsets,
    increasing, spanning 0) and ``kernel_y``; linearly interpolated, zero outside;
``response_file``
    the full response matrix ``R`` (measurements x grid) in an NPZ, optionally
    with the ``grid`` it acts on.

A kernel becomes ``R_ij = k(x_i - s_j) w_j`` with ``w_j`` the trapezoid
weights of the grid, so ``R f`` approximates the convolution integral; with
``normalise`` (default) the kernel is scaled to unit area first, so blurring
conserves the signal's integral. The problem is ``deconvolution`` and ``linear``:
``tikhonov`` regularises it, ``ols`` shows why that is needed. A ``truth``
column (a rehearsal file made from a known signal) is scored like a built-in
problem's truth.
"""

import numpy as np

from fitflow.plugin import (
    DataError,
    Dataset,
    ParametricModel,
    Problem,
    Setting,
    SettingsError,
    formats,
    npz_array,
    read_observations,
)

__all__ = ["BlurredMeasurement", "kernel_response"]


def _trapezoid_weights(grid):
    if grid.size == 1:
        return np.ones(1)
    steps = np.diff(grid)
    return np.concatenate([[steps[0]], steps[:-1] + steps[1:], [steps[-1]]]) / 2


def kernel_response(x, grid, kernel, normalise=True, area=None):
    """``R[i, j] = k(x_i - grid_j) w_j`` for a vectorised kernel ``k`` of the offset.

    ``area`` is the kernel's integral (computed on a fine grid over its support
    when normalising); the response is divided by it when ``normalise``.
    """
    offsets = np.subtract.outer(np.asarray(x, dtype=float), grid)
    response = kernel(offsets) * _trapezoid_weights(grid)
    return response / area if normalise else response


class BlurredMeasurement(Problem):
    name = "blurred_measurement"
    version = "1.0"
    description = "your measured signal and your instrument's response (kernel or matrix): deconvolution"
    capabilities = frozenset({"deconvolution", "linear"})
    deterministic = True
    settings = {
        "file": Setting(None, str, f"measurement file ({formats()})", nullable=False),
        "x": Setting("x", str, "column of the measurement positions"),
        "y": Setting("y", str, "column of the measured values"),
        "sigma": Setting(None, str, "column of per-point standard errors (default: unknown)"),
        "truth": Setting(None, str, "column of the true signal, for a rehearsal file made from a known signal"),
        "kernel": Setting(None, str, "response as an expression of the offset u = x - s, e.g. 'exp(-0.5*(u/0.3)**2)'"),
        "kernel_file": Setting(None, str, "sampled response: a file with offset and response columns"),
        "kernel_x": Setting("offset", str, "offset column of kernel_file"),
        "kernel_y": Setting("response", str, "response column of kernel_file"),
        "response_file": Setting(
            None, str, "NPZ with the response matrix 'R' (measurements x grid) and optionally its 'grid'"
        ),
        "normalise": Setting(True, bool, "scale a kernel to unit area (blurring conserves the integral)"),
        "grid_points": Setting(
            None,
            int,
            "unknowns evenly spread over the measured range (default: the measurement's own x)",
            minimum=2,
            maximum=5_000,
        ),
    }
    fast_settings = {}  # set below, once the example files' paths are known

    def check_settings(self):
        v = self.values
        given = [k for k in ("kernel", "kernel_file", "response_file") if v[k] is not None]
        if len(given) != 1:
            raise SettingsError(
                f"{self.label()}: give exactly one of kernel, kernel_file and response_file; got {given or 'none'}",
                plugin=self.name,
                key="kernel",
                value=given,
            )
        if v["kernel"] is not None:
            self._kernel_function()  # a bad expression stops the plan with its own message
        if v["response_file"] is not None and v["grid_points"] is not None:
            raise SettingsError(
                f"{self.label()}: a response matrix fixes its grid; leave out grid_points",
                plugin=self.name,
                key="grid_points",
                value=v["grid_points"],
            )
        self.capability_note = "linear in the unknown signal (y = R f): a deconvolution"

    def input_files(self):
        v = self.values
        return [v["file"]] + [v[k] for k in ("kernel_file", "response_file") if v[k] is not None]

    # -- reading ------------------------------------------------------------------

    def observations(self):
        v = self.values
        data = read_observations(v["file"], [v["x"]], v["y"], v["sigma"])
        if np.any(np.diff(data.x) <= 0):
            row = int(np.flatnonzero(np.diff(data.x) <= 0)[0]) + 2
            raise DataError(
                "must increase strictly from row to row (a measurement grid)",
                file=v["file"],
                key=v["x"],
                row=row,
                value=float(data.x[row - 1]),
            )
        return data

    def _kernel_function(self):
        from fitflow.plugin import ExpressionError, compile_expression

        text = self.values["kernel"]
        try:
            compiled = compile_expression(text, (), ("u",))
        except ExpressionError as exc:
            raise SettingsError(f"{self.label()}: {exc}", plugin=self.name, key="kernel", value=text) from exc

        def kernel(u):
            return np.broadcast_to(np.asarray(compiled.value(u), dtype=float), np.shape(u))

        return kernel

    def _sampled_kernel(self):
        v = self.values
        samples = read_observations(v["kernel_file"], [v["kernel_x"]], v["kernel_y"])
        u, k = samples.x, samples.y
        if u.size < 3:
            raise DataError(f"has {u.size} samples; a response needs at least 3", file=v["kernel_file"])
        if np.any(np.diff(u) <= 0):
            row = int(np.flatnonzero(np.diff(u) <= 0)[0]) + 2
            raise DataError(
                "offsets must increase strictly",
                file=v["kernel_file"],
                key=v["kernel_x"],
                row=row,
                value=float(u[row - 1]),
            )
        if not u[0] <= 0 <= u[-1]:
            raise DataError(
                f"offsets span [{u[0]:g}, {u[-1]:g}], which does not include 0: give them relative "
                f"to the response's centre",
                file=v["kernel_file"],
                key=v["kernel_x"],
            )
        return u, k

    def _kernel_and_area(self):
        """The kernel as a function of the offset, and its area (for normalising)."""
        v = self.values
        if v["kernel_file"] is not None:
            u, k = self._sampled_kernel()
            area = float(np.trapezoid(k, u))
            where, what = v["kernel_file"], v["kernel_y"]
            kernel = lambda offsets: np.interp(offsets, u, k, left=0.0, right=0.0)  # noqa: E731
        else:
            kernel = self._kernel_function()
            x = self.observations().x
            span = x[-1] - x[0]
            fine = np.linspace(-span, span, 20001)
            with np.errstate(all="ignore"):
                values = kernel(fine)
            if not np.all(np.isfinite(values)):
                bad = fine[~np.isfinite(values)][0]
                raise DataError(
                    f"the kernel is not finite at u = {bad:g}", file="<config>", key="kernel", value=v["kernel"]
                )
            area = float(np.trapezoid(values, fine))
            where, what = "<config>", "kernel"
        if v["normalise"] and not (np.isfinite(area) and abs(area) > 0):
            raise DataError(
                f"the response sums to {area:g} over its support, so it cannot be normalised to "
                f"unit area (set normalise: false if that is intended)",
                file=where,
                key=what,
            )
        return kernel, area

    def _matrix(self, n_measurements):
        import zipfile

        v = self.values

        path = v["response_file"]
        if not zipfile.is_zipfile(path):
            raise DataError("is not an NPZ (zip) archive", file=path)
        # Each array's type and shape are checked from its header before it is read.
        with np.load(path, allow_pickle=False) as archive:
            matrix = npz_array(archive, path, "R", ndim=2, rows=n_measurements)
            grid = npz_array(archive, path, "grid", ndim=1) if "grid" in archive.files else None
        if grid is not None and grid.shape != (matrix.shape[1],):
            raise DataError(
                f"'grid' has shape {grid.shape} but 'R' has {matrix.shape[1]} columns", file=path, key="grid"
            )
        bad = np.argwhere(~np.isfinite(matrix))
        if bad.size:
            raise DataError(f"'R' is not finite at row {bad[0][0] + 1}, column {bad[0][1] + 1}", file=path, key="R")
        if not np.any(matrix):
            raise DataError("'R' is all zeros", file=path, key="R")
        return matrix, grid

    def unknown_grid(self, x):
        """Where the unknown signal lives: the response matrix's ``grid`` (or its column
        indices), else the measurement's x or ``grid_points`` points spread over it."""
        if self.values["response_file"] is not None:
            matrix, grid = self._matrix(len(x))
            return np.arange(matrix.shape[1], dtype=float) if grid is None else grid
        points = self.values["grid_points"]
        return x.copy() if points is None else np.linspace(x[0], x[-1], points)

    def response(self):
        """``(R, grid, design)``: the response matrix, the grid of the unknowns, and
        ``design(x)`` giving R's rows at any measured positions."""
        data = self.observations()
        if self.values["response_file"] is not None:
            matrix, grid = self._matrix(data.n_points)  # loaded once: grid as unknown_grid gives it
            grid = np.arange(matrix.shape[1], dtype=float) if grid is None else grid

            def design(x):
                rows = np.searchsorted(data.x, x)
                rows = np.clip(rows, 0, data.n_points - 1)
                if not np.array_equal(data.x[rows], np.asarray(x, dtype=float)):
                    raise ValueError("a response matrix gives rows only at the measured positions")
                return matrix[rows]

            return matrix, grid, design
        kernel, area = self._kernel_and_area()
        grid = self.unknown_grid(data.x)
        normalise = self.values["normalise"]

        def design(x):
            return kernel_response(x, grid, kernel, normalise, area)

        matrix = design(data.x)
        if not np.all(np.isfinite(matrix)) or not np.any(matrix):
            raise DataError(
                "the response is zero or not finite on this grid: is the kernel far narrower than the "
                "grid spacing, or centred away from 0?",
                file=self.values["kernel_file"] or "<config>",
                key="kernel",
            )
        return matrix, grid, design

    def check_inputs(self):
        self.response()

    # -- the problem --------------------------------------------------------------

    def generate(self, rng):
        v = self.values
        data = self.observations()
        grid = self.unknown_grid(data.x)  # the response itself is built by model(), once
        truth = None
        if v["truth"] is not None:
            column = read_observations(v["file"], [v["x"]], v["truth"]).y
            if grid.shape != data.x.shape or not np.array_equal(grid, data.x):
                raise DataError(
                    "a truth column needs the unknowns on the measurement grid (leave out grid_points)",
                    file=v["file"],
                    key=v["truth"],
                )
            truth = column
        return Dataset(
            problem=self,
            x=data.x.copy(),
            y=data.y.copy(),
            sigma=None if data.sigma is None else data.sigma.copy(),
            grid_x=grid,
            grid_y=truth,
            meta={"measured": truth is None, "columns": {"x": [v["x"]], "y": v["y"], "sigma": v["sigma"]}},
        )

    def model(self, dataset):
        _, grid, design = self.response()
        p = grid.size
        return ParametricModel(
            function=lambda x, f: design(x) @ f,
            param_names=tuple(f"f{j}" for j in range(p)),
            p0=np.zeros(p),
            design=design,
            signal=lambda grid_x, f: f,
            signal_design=lambda grid_x: np.eye(p),
            linearity="linear in the unknown signal: y = R f",
        )


def _example_files():
    from pathlib import Path

    data = Path(__file__).resolve().parents[2] / "data"
    return {
        "file": str(data / "blurred_spectrum.csv"),
        "x": "energy",
        "y": "counts",
        "sigma": "error",
        "truth": "true_counts",
        "kernel_file": str(data / "instrument_response.csv"),
    }


BlurredMeasurement.fast_settings = _example_files()
