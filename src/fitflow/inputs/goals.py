"""Several objectives of one optimisation: named outputs to maximise or minimise together.

A laser-plasma campaign wants the beam charge high and its energy spread low, and no single
setting gives both at their best: the answer is the set of trade-offs no other setting beats
on every objective (the Pareto front). The objective then returns each quantity by name
(``{"charge": 62.0, "spread": 0.04}``) and the config says which way each should go::

    objectives: {charge: maximise, spread: minimise}
"""

from dataclasses import dataclass

from ..core.errors import ConfigError
from .constraints import RESERVED_OUTPUTS

__all__ = ["Goal", "parse_goals"]

_SENSES = {"maximise": -1.0, "maximize": -1.0, "minimise": 1.0, "minimize": 1.0}


@dataclass(frozen=True)
class Goal:
    """One objective: the output ``name`` and its ``sign`` (+1 minimised, -1 maximised), so
    that ``sign * value`` is always minimised."""

    name: str
    sign: float

    @property
    def sense(self):
        return "minimise" if self.sign > 0 else "maximise"

    def __str__(self):
        return f"{self.sense} {self.name}"


def parse_goals(mapping, source="<config>", key="objectives"):
    """Goals from ``{name: maximise | minimise}`` (``None`` or ``{}``: none), naming the key and
    value of any bad entry. Two at least: one objective is an ordinary optimisation."""
    if mapping is None or mapping == {}:
        return ()
    if not isinstance(mapping, dict):
        raise ConfigError(
            "give the objectives as a mapping name: maximise | minimise", source=source, key=key, value=mapping
        )
    goals = []
    for name, sense in mapping.items():
        where = f"{key}.{name}"
        if not isinstance(name, str) or not name.isidentifier() or name in RESERVED_OUTPUTS:
            raise ConfigError(
                f"an objective's name must be an identifier other than {' or '.join(RESERVED_OUTPUTS)}",
                source=source,
                key=where,
                value=name,
            )
        if sense not in _SENSES:
            raise ConfigError("an objective is maximise or minimise", source=source, key=where, value=sense)
        goals.append(Goal(name, _SENSES[sense]))
    if len(goals) < 2:
        raise ConfigError(
            "several objectives need two or more; for one, optimise it (maximise: true if it should be high)",
            source=source,
            key=key,
            value=mapping,
        )
    return tuple(goals)
