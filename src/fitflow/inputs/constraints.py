"""Output constraints of an optimisation: limits on named quantities the objective returns.

A laser-plasma campaign maximises one quantity while keeping others inside limits (beam
charge at least 50 pC, energy spread at most 5%). The objective then returns its value and
those quantities by name (``{"value": 1.3, "charge": 62.0, "spread": 0.04}``), and the
config states the limits::

    constraints: {charge: ">= 50", spread: "<= 0.05"}

An evaluation is *feasible* when every named quantity is inside its limit. Infeasible
evaluations are kept (they teach the optimiser where the limits lie); the recommendation is
a feasible one.
"""

from dataclasses import dataclass
import math
import re

from ..core.errors import ConfigError

__all__ = ["Constraint", "parse_constraints", "RESERVED_OUTPUTS"]

#: Keys of an objective's result that are not constraint quantities.
RESERVED_OUTPUTS = ("value", "error")

_LIMIT = re.compile(r"^\s*(>=|<=|>|<)\s*(\S+)\s*$")


@dataclass(frozen=True)
class Constraint:
    """``name op limit`` with ``op`` ``>=`` or ``<=`` (``>`` and ``<`` read as these: a
    measured quantity never sits exactly on its limit)."""

    name: str
    op: str
    limit: float

    def slack(self, value):
        """How far inside the limit ``value`` is (negative outside, NaN where unknown)."""
        return value - self.limit if self.op == ">=" else self.limit - value

    def __str__(self):
        return f"{self.name} {self.op} {self.limit:g}"


def parse_constraints(mapping, source="<config>", key="constraints"):
    """Constraints from ``{name: ">= limit" | "<= limit"}`` (``None`` or ``{}``: none),
    naming the key and value of any bad entry."""
    if mapping is None:
        return ()
    if not isinstance(mapping, dict):
        raise ConfigError(
            'give the constraints as a mapping name: ">= limit" or "<= limit"', source=source, key=key, value=mapping
        )
    out = []
    for name, text in mapping.items():
        where = f"{key}.{name}"
        if not isinstance(name, str) or not name.isidentifier():
            raise ConfigError("a constrained output's name must be an identifier", source=source, key=where, value=name)
        if name in RESERVED_OUTPUTS:
            raise ConfigError(
                f"{name!r} is the objective's own {name}; constrain another output", source=source, key=where
            )
        match = _LIMIT.match(text) if isinstance(text, str) else None
        try:
            limit = float(match.group(2)) if match else math.nan
        except ValueError:
            limit = math.nan
        if not math.isfinite(limit):
            raise ConfigError('a constraint reads ">= number" or "<= number"', source=source, key=where, value=text)
        out.append(Constraint(name, match.group(1)[0] + "=", limit))
    return tuple(out)
