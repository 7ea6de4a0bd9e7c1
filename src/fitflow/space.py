"""A search space: named parameters with bounds, continuous or integer.

An optimiser works in the unit cube; the space maps points to and from the
user's units. Integer parameters are rounded on the way out, so the surrogate
is always trained on the values that were really evaluated (rounding inside
the user's function would hide plateaus from it and report unrounded optima).

Written in a config or a campaign file as::

    parameters:
      power: [0.5, 2.0]                       # continuous
      shots: {bounds: [1, 10], type: int}     # integer, both ends included
"""

import math
from dataclasses import dataclass

import numpy as np

from .errors import ConfigError

__all__ = ["Parameter", "SearchSpace"]

KINDS = ("float", "int")


@dataclass(frozen=True)
class Parameter:
    name: str
    lower: float
    upper: float
    kind: str = "float"


class SearchSpace:
    """Parameters in a fixed order, with maps between their box and the unit cube."""

    def __init__(self, parameters):
        self.parameters = tuple(parameters)
        if not self.parameters:
            raise ValueError("a search space needs at least one parameter")
        self.names = tuple(p.name for p in self.parameters)
        self.lower = np.array([p.lower for p in self.parameters], dtype=float)
        self.upper = np.array([p.upper for p in self.parameters], dtype=float)
        self.integer = np.array([p.kind == "int" for p in self.parameters])

    @classmethod
    def from_config(cls, mapping, source="<config>", key="parameters"):
        """Parse ``{name: [lo, hi] | {bounds: [lo, hi], type: float|int}}``, naming any bad entry."""
        if not isinstance(mapping, dict) or not mapping:
            raise ConfigError("give the parameters as a mapping name: [lower, upper]", source=source, key=key, value=mapping)
        parameters = []
        for name, spec in mapping.items():
            where = f"{key}.{name}"
            if not isinstance(name, str) or not name.isidentifier():
                raise ConfigError("a parameter name must be an identifier", source=source, key=where, value=name)
            kind = "float"
            if isinstance(spec, dict):
                unknown = set(spec) - {"bounds", "type"}
                if unknown:
                    raise ConfigError(f"unknown keys {sorted(unknown)}; allowed: bounds, type", source=source, key=where)
                kind = spec.get("type", "float")
                if kind not in KINDS:
                    raise ConfigError(f"type must be one of {KINDS}", source=source, key=f"{where}.type", value=kind)
                spec = spec.get("bounds")
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
            parameters.append(Parameter(name, lower, upper, kind))
        return cls(parameters)

    @classmethod
    def box(cls, names, lower, upper):
        """A continuous space from names and two bound arrays."""
        return cls(Parameter(n, float(lo), float(hi)) for n, lo, hi in zip(names, lower, upper))

    def to_config(self):
        """The inverse of :meth:`from_config` (JSON-ready)."""
        out = {}
        for p in self.parameters:
            bounds = [int(p.lower), int(p.upper)] if p.kind == "int" else [p.lower, p.upper]
            out[p.name] = {"bounds": bounds, "type": p.kind} if p.kind != "float" else bounds
        return out

    @property
    def dim(self):
        return len(self.parameters)

    def from_unit(self, unit):
        """Points of the unit cube -> the box, integer coordinates rounded."""
        x = self.lower + np.asarray(unit, dtype=float) * (self.upper - self.lower)
        return np.where(self.integer, np.round(x), x)

    def to_unit(self, x):
        return (np.asarray(x, dtype=float) - self.lower) / (self.upper - self.lower)

    def snap_unit(self, unit):
        """Unit-cube points moved to where they really get evaluated (integers rounded)."""
        return self.to_unit(self.from_unit(np.clip(unit, 0.0, 1.0)))

    def outside(self, x, rtol=1e-12):
        """Indices of coordinates of the point ``x`` outside the box (or not integer where they must be)."""
        x = np.asarray(x, dtype=float)
        slack = rtol * (self.upper - self.lower)
        bad = (x < self.lower - slack) | (x > self.upper + slack) | ~np.isfinite(x)
        bad |= self.integer & (np.abs(x - np.round(x)) > 1e-9)
        return np.flatnonzero(bad)

    def as_dict(self, x):
        """``{name: value}`` with integer parameters as Python ints."""
        return {
            p.name: int(round(v)) if p.kind == "int" else float(v)
            for p, v in zip(self.parameters, np.asarray(x, dtype=float))
        }

    def __eq__(self, other):
        return isinstance(other, SearchSpace) and self.parameters == other.parameters

    def __repr__(self):
        return f"SearchSpace({self.to_config()})"
