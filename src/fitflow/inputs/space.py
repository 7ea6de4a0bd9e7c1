"""A search space: named parameters with bounds, continuous, integer or a choice.

An optimiser works in the unit cube; the space maps points to and from the
user's units. Integer parameters are rounded on the way out, so the surrogate
is always trained on the values that were really evaluated (rounding inside
the user's function would hide plateaus from it and report unrounded optima).

A choice among k options is its index 0 .. k-1, each index owning an equal
slice of the unit interval; the function, the command line and the logs see the
option itself. A surrogate sees it one-hot (:meth:`SearchSpace.unit_features`; a
regression on a design's runs, :meth:`SearchSpace.features`), since an index
would make option 2 lie between options 1 and 3.

Written in a config or a campaign file as::

    parameters:
      power: [0.5, 2.0]                       # continuous
      shots: {bounds: [1, 10], type: int}     # integer, both ends included
      gas: {choices: [helium, argon, neon]}   # one of these
      rate: {bounds: [1e-4, 1e-1], scale: log}  # spans decades: uniform in its logarithm

A ``log`` parameter (positive bounds, float or int) maps the unit interval to the
logarithm of its value, so that an optimiser's first draws and its surrogate's length
scale treat 1e-4 .. 1e-3 like 1e-2 .. 1e-1, as a scientist means a knob that spans decades.
"""

from dataclasses import dataclass
import math

import numpy as np

from ..core.errors import ConfigError
from .tables import cell_number

__all__ = ["Parameter", "SearchSpace"]

KINDS = ("float", "int")
SCALES = ("linear", "log")


@dataclass(frozen=True)
class Parameter:
    """One named coordinate; a ``choice`` spans the indices 0 .. len(choices) - 1."""

    name: str
    lower: float
    upper: float
    kind: str = "float"
    choices: tuple = None
    log: bool = False

    def value(self, coordinate):
        """The user's value at a coordinate: a float, an int, or the chosen option."""
        if self.kind == "choice":
            return self.choices[int(round(coordinate))]
        return int(round(coordinate)) if self.kind == "int" else float(coordinate)

    def coordinate(self, text):
        """The coordinate of a value written as text (a log's cell): ``ValueError`` if none."""
        if self.kind == "choice":
            for index, option in enumerate(self.choices):
                if str(option) == text:
                    return float(index)
            raise ValueError(f"{text!r} is not one of the choices {list(self.choices)}")
        return cell_number(text)

    def text(self, coordinate, digits=15):
        """The coordinate written for a log or a table (``coordinate`` reads it back)."""
        if self.kind == "float":
            return f"{coordinate:.{digits}g}"
        return str(self.value(coordinate))


class SearchSpace:
    """Parameters in a fixed order, with maps between their box and the unit cube."""

    def __init__(self, parameters):
        self.parameters = tuple(parameters)
        if not self.parameters:
            raise ValueError("a search space needs at least one parameter")
        self.names = tuple(p.name for p in self.parameters)
        self.lower = np.array([p.lower for p in self.parameters], dtype=float)
        self.upper = np.array([p.upper for p in self.parameters], dtype=float)
        self.integer = np.array([p.kind != "float" for p in self.parameters])
        self.log = np.array([p.log for p in self.parameters])
        # A choice's indices own equal slices of the unit interval (its ends too), so that
        # uniform draws in the cube pick every option equally often.
        pad = np.array([0.5 if p.kind == "choice" else 0.0 for p in self.parameters])
        self._unit_lower, self._unit_upper = self._warp(self.lower - pad), self._warp(self.upper + pad)

    def _warp(self, x):
        """Values -> the axis the unit cube is linear in: the logarithm of a log parameter."""
        x = np.asarray(x, dtype=float)
        if not self.log.any():
            return x
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(self.log, np.log(np.where(self.log, x, 1.0)), x)

    @classmethod
    def from_config(cls, mapping, source="<config>", key="parameters"):
        """Parse ``{name: [lo, hi] | {bounds: [lo, hi], type: float|int} | {choices: [...]}}``,
        naming any bad entry."""
        if not isinstance(mapping, dict) or not mapping:
            raise ConfigError(
                "give the parameters as a mapping name: [lower, upper]", source=source, key=key, value=mapping
            )
        parameters = []
        for name, spec in mapping.items():
            where = f"{key}.{name}"
            if not isinstance(name, str) or not name.isidentifier():
                raise ConfigError("a parameter name must be an identifier", source=source, key=where, value=name)
            kind = "float"
            if isinstance(spec, dict) and "choices" in spec:
                parameters.append(_choice(name, spec, source, where))
                continue
            scale = "linear"
            if isinstance(spec, dict):
                unknown = set(spec) - {"bounds", "type", "scale"}
                if unknown:
                    raise ConfigError(
                        f"unknown keys {sorted(unknown)}; allowed: bounds, type, scale (or choices)",
                        source=source,
                        key=where,
                    )
                kind = spec.get("type", "float")
                if kind not in KINDS:
                    raise ConfigError(f"type must be one of {KINDS}", source=source, key=f"{where}.type", value=kind)
                scale = spec.get("scale", "linear")
                if scale not in SCALES:
                    raise ConfigError(
                        f"scale must be one of {SCALES}", source=source, key=f"{where}.scale", value=scale
                    )
                spec = spec.get("bounds")
            if isinstance(spec, np.ndarray):
                spec = spec.tolist()
            if not isinstance(spec, (list, tuple)) or len(spec) != 2:
                raise ConfigError("bounds must be a list [lower, upper]", source=source, key=where, value=spec)
            try:
                lower, upper = (float(b) for b in spec)
            except (TypeError, ValueError):
                raise ConfigError("bounds must be numbers", source=source, key=where, value=spec) from None
            if not (math.isfinite(lower) and math.isfinite(upper)):
                raise ConfigError("bounds must be finite", source=source, key=where, value=spec)
            if lower >= upper:
                raise ConfigError(f"lower bound {lower:g} is not below upper bound {upper:g}", source=source, key=where)
            if kind == "int" and (lower != round(lower) or upper != round(upper)):
                raise ConfigError("an integer parameter needs integer bounds", source=source, key=where, value=spec)
            if scale == "log" and lower <= 0:
                raise ConfigError("a log-scale parameter needs bounds above 0", source=source, key=where, value=spec)
            parameters.append(Parameter(name, lower, upper, kind, log=scale == "log"))
        return cls(parameters)

    @classmethod
    def box(cls, names, lower, upper):
        """A continuous space from names and two bound arrays."""
        return cls(Parameter(n, float(lo), float(hi)) for n, lo, hi in zip(names, lower, upper))

    def to_config(self):
        """The inverse of :meth:`from_config` (JSON-ready)."""
        out = {}
        for p in self.parameters:
            if p.kind == "choice":
                out[p.name] = {"choices": list(p.choices)}
                continue
            bounds = [int(p.lower), int(p.upper)] if p.kind == "int" else [p.lower, p.upper]
            out[p.name] = {"bounds": bounds, "type": p.kind} if p.kind != "float" or p.log else bounds
            if p.log:
                out[p.name]["scale"] = "log"
        return out

    @property
    def dim(self):
        return len(self.parameters)

    def from_unit(self, unit):
        """Points of the unit cube -> the box, integer coordinates rounded."""
        x = self.scale(unit)
        return np.where(self.integer, np.clip(np.round(x), self.lower, self.upper), x)

    def scale(self, unit):
        """Points of the unit cube -> the box, nothing rounded (a continuous axis for plots)."""
        warped = self._unit_lower + np.asarray(unit, dtype=float) * (self._unit_upper - self._unit_lower)
        if not self.log.any():
            return warped
        return np.where(self.log, np.clip(np.exp(warped), self.lower, self.upper), warped)

    def to_unit(self, x):
        return (self._warp(x) - self._unit_lower) / (self._unit_upper - self._unit_lower)

    def snap_unit(self, unit):
        """Unit-cube points moved to where they really get evaluated (integers rounded)."""
        return self.to_unit(self.from_unit(np.clip(unit, 0.0, 1.0)))

    def lattice_neighbours(self, unit):
        """The unit points one lattice step from ``unit`` (d,): each integer coordinate
        moved by -1 or +1 (inside its bounds), each choice set to every other option; the
        continuous coordinates kept. Empty (0, d) for a continuous space. An optimiser
        walks these to move an integer or a choice on purpose, rather than by rounding a
        continuous optimum that may never cross a half-integer."""
        x = self.from_unit(np.clip(unit, 0.0, 1.0))
        out = []
        for j, p in enumerate(self.parameters):
            if p.kind == "float":
                continue
            values = np.arange(p.lower, p.upper + 1) if p.kind == "choice" else (x[j] - 1, x[j] + 1)
            for value in values:
                if value != x[j] and p.lower <= value <= p.upper:
                    moved = x.copy()
                    moved[j] = value
                    out.append(moved)
        return self.to_unit(np.reshape(out, (-1, self.dim)))

    @property
    def has_choices(self):
        """Whether any parameter is a choice among options."""
        return any(p.kind == "choice" for p in self.parameters)

    @property
    def n_combinations(self):
        """How many combinations of options the choices make (1 without choices)."""
        return int(np.prod([len(p.choices) for p in self.parameters if p.kind == "choice"]))

    def unit_features(self, unit):
        """:meth:`features` of unit points (n, d), the rest of the cube as it is: what an
        optimiser's GP sees, each choice one-hot, since an option's index says nothing
        about how alike two options are (as a number, option 2 would lie between 1 and 3).
        A space without choices is its own feature space."""
        unit = np.atleast_2d(np.asarray(unit, dtype=float))
        if not self.has_choices:
            return unit
        index = self.from_unit(np.clip(unit, 0.0, 1.0))
        columns = []
        for j, p in enumerate(self.parameters):
            if p.kind == "choice":
                columns.append(index[:, j : j + 1] == np.arange(len(p.choices)))
            else:
                columns.append(unit[:, j : j + 1])
        return np.hstack(columns).astype(float)

    def unit_grid(self, j, n):
        """``n`` evenly spaced unit coordinates along axis ``j``; for a choice, the middle of
        each option's slice only (between options a surrogate's value means nothing)."""
        p = self.parameters[j]
        if p.kind == "choice":
            return (np.arange(len(p.choices)) + 0.5) / len(p.choices)
        return np.linspace(0.0, 1.0, n)

    def cover_choices(self, unit):
        """A design (n, d) in the unit cube whose choice coordinates are re-binned by rank, so
        that every option gets n / k of its points (the first k points alone may not show
        them all; a surrogate never tries an option it has not seen). Other coordinates, and
        the design's order along each choice axis, are kept."""
        unit = np.array(unit, dtype=float)
        n = len(unit)
        for j, p in enumerate(self.parameters):
            if p.kind == "choice" and n:
                k = len(p.choices)
                ranks = np.argsort(np.argsort(unit[:, j], kind="stable"), kind="stable")
                unit[:, j] = (np.floor(ranks * k / n) + 0.5) / k
        return unit

    def outside(self, x, rtol=1e-12):
        """Indices of coordinates of the point ``x`` outside the box (or not integer where they must be)."""
        x = np.asarray(x, dtype=float)
        slack = rtol * (self.upper - self.lower)
        bad = (x < self.lower - slack) | (x > self.upper + slack) | ~np.isfinite(x)
        bad |= self.integer & (np.abs(x - np.round(x)) > 1e-9)
        return np.flatnonzero(bad)

    def as_dict(self, x):
        """``{name: value}`` with integer parameters as Python ints and choices as the option."""
        return {p.name: p.value(v) for p, v in zip(self.parameters, np.asarray(x, dtype=float))}

    def feature_names(self):
        """The columns of :meth:`features`: a number's name, or ``name=option`` for each
        option of a choice."""
        return [
            f"{p.name}={option}" if p.kind == "choice" else p.name
            for p in self.parameters
            for option in (p.choices or (None,))
        ]

    def features(self, points):
        """Regression inputs (n, f) from points given as ``{name: value}``: a number as it
        is, a choice one-hot (a column per option, 1 for the chosen one). A regression
        method then sees no order among the options, which an option's index would impose."""
        rows = []
        for point in points:
            row = []
            for p in self.parameters:
                if p.kind == "choice":
                    row.extend(np.eye(len(p.choices))[int(p.coordinate(str(point[p.name])))])
                else:
                    row.append(float(point[p.name]))
            rows.append(row)
        return np.array(rows, dtype=float).reshape(len(rows), len(self.feature_names()))

    def describe(self, x, digits=4):
        """``"name = value, ..."`` for a message or a printed recommendation."""
        return ", ".join(f"{p.name} = {p.text(v, digits)}" for p, v in zip(self.parameters, np.asarray(x, dtype=float)))

    def __eq__(self, other):
        return isinstance(other, SearchSpace) and self.parameters == other.parameters

    def __repr__(self):
        return f"SearchSpace({self.to_config()})"


def _choice(name, spec, source, where):
    """A choice parameter from ``{choices: [...]}``: at least two options, distinct as text
    (a log stores them as text), each a string, a number or a boolean."""
    unknown = set(spec) - {"choices"}
    if unknown:
        raise ConfigError(f"unknown keys {sorted(unknown)} beside choices", source=source, key=where)
    options = spec["choices"]
    if not isinstance(options, (list, tuple)) or len(options) < 2:
        raise ConfigError(
            "choices must be a list of at least two options", source=source, key=f"{where}.choices", value=options
        )
    for option in options:
        if not isinstance(option, (str, int, float, bool)) or (isinstance(option, float) and not math.isfinite(option)):
            raise ConfigError(
                "each choice must be a string, a finite number or a boolean",
                source=source,
                key=f"{where}.choices",
                value=option,
            )
    texts = [str(option) for option in options]
    if len(set(texts)) != len(texts):
        repeated = sorted({t for t in texts if texts.count(t) > 1})
        raise ConfigError(f"the choices repeat {repeated}", source=source, key=f"{where}.choices", value=options)
    return Parameter(name, 0.0, float(len(options) - 1), "choice", tuple(options))
