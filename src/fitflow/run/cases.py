"""A config entry expanded into its cases: one per point of its sweep grid.

Both the experiment plan (problems and methods) and the campaign plan expand
entries the same way, so this lives below both of them.
"""

from dataclasses import dataclass, field
import itertools
import re

from ..core.errors import ConfigError, FitflowError, SettingsError

__all__ = ["Case", "construct", "expand_entry", "settings_id"]

_LABEL = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class Case:
    """One problem or method entry of the config at one point of its sweep."""

    label: str
    plugin: str
    settings: dict = field(hash=False)
    sid: str
    entry: dict = field(hash=False, repr=False)
    swept: dict = field(hash=False, default_factory=dict)
    kind: str = "problems"

    @property
    def key(self):
        """The config key of this entry: ``problems.<label>`` or ``methods.<label>``."""
        return f"{self.kind}.{self.label}"

    def instance(self, registry):
        return construct(registry.get(self.plugin), self.settings, key=self.key)


def construct(cls, settings, key=None):
    """``cls(**settings)``; any error but a SettingsError names the plugin, its distribution and the key."""
    try:
        return cls(**settings)
    except SettingsError:
        raise
    except Exception as exc:
        from ..core.validation import plugin_origin

        raise ConfigError(f"{plugin_origin(cls)} raised {type(exc).__name__} when constructed: {exc}", key=key) from exc


def _format_value(value):
    text = repr(value) if isinstance(value, float) else str(value)
    return re.sub(r"[^A-Za-z0-9.+-]", "_", text)


def settings_id(swept):
    """A readable, path-safe id of one sweep point: ``noise-0.05__n_samples-50``."""
    if not swept:
        return "default"
    return "__".join(f"{key}-{_format_value(value)}" for key, value in sorted(swept.items()))


def expand_entry(kind, label, entry, registry, source):
    """The cases of one config entry: its settings at each point of its sweep grid."""
    where = f"{kind}.{label}"
    if not _LABEL.match(label):
        raise ConfigError(
            "labels must start with a letter and hold only letters, digits and '_'",
            source=source,
            key=where,
            value=label,
        )
    for key, value in [
        (where, entry),
        *((f"{where}.{k}", (entry or {}).get(k)) for k in ("settings", "sweep") if isinstance(entry, dict)),
    ]:
        if value is not None and not isinstance(value, dict):
            raise ConfigError(
                f"must be a mapping (key: value), not a {type(value).__name__}", source=source, key=key, value=value
            )
    entry = dict(entry or {})
    plugin = entry.get("plugin", label)
    try:
        cls = registry.get(plugin)
    except FitflowError as exc:
        raise ConfigError(str(exc), source=source, key=f"{where}.plugin", value=plugin) from exc
    settings = dict(entry.get("settings") or {})
    sweep = dict(entry.get("sweep") or {})
    for key, values in sweep.items():
        if key not in cls.settings:
            raise ConfigError(
                f"cannot sweep '{key}': {cls.label()} has no such setting; its settings are: "
                f"{', '.join(sorted(cls.settings))}",
                source=source,
                key=f"{where}.sweep.{key}",
                value=values,
            )
        if not isinstance(values, list) or not values:
            raise ConfigError(
                "a sweep must be a non-empty list of values",
                source=source,
                key=f"{where}.sweep.{key}",
                value=values,
            )
        if key in settings:
            raise ConfigError(
                f"'{key}' is both set and swept; keep one",
                source=source,
                key=f"{where}.sweep.{key}",
                value=values,
            )
    keys = sorted(sweep)
    cases = []
    for point in itertools.product(*(sweep[k] for k in keys)):
        swept = dict(zip(keys, point))
        try:
            resolved = construct(cls, {**settings, **swept}, key=where).get_settings()
        except SettingsError as exc:
            section = "sweep" if exc.key in swept else "settings"
            raise ConfigError(str(exc), source=source, key=f"{where}.{section}.{exc.key}", value=exc.value) from exc
        except ConfigError as exc:
            raise ConfigError(exc.reason, source=source, key=where) from exc
        cases.append(Case(label, plugin, resolved, settings_id(swept), entry, swept, kind))
    sids = [c.sid for c in cases]
    if len(set(sids)) != len(sids):
        raise ConfigError("sweep values collide after formatting", source=source, key=f"{where}.sweep", value=sweep)
    return cases
