"""Declared, typed plugin settings and their validation.

A plugin lists its settings as a mapping of name to :class:`Setting`. The same
declaration drives validation (at DAG time and in notebooks), defaults, the
``fitflow plugins`` listing and the conformance checks, so a setting is described
exactly once.
"""

from dataclasses import dataclass, field
import math

from .errors import SettingsError

__all__ = ["Setting", "validate_settings", "require_increasing"]

_TYPE_NAMES = {int: "int", float: "float", bool: "bool", str: "str", list: "list", dict: "dict", object: "any"}


@dataclass(frozen=True)
class Setting:
    """One declared setting of a plugin.

    Parameters
    ----------
    default
        Value used when the config does not give one. ``None`` means "no value",
        which the plugin must handle (for example "choose automatically").
    type
        One of ``int``, ``float``, ``bool``, ``str``, ``list`` (a list of
        ``item_type``) or ``dict`` (names to ``item_type`` values); ``object``
        (or ``item_type=object``) passes any JSON value on, for the plugin's
        ``check_settings`` to validate. An ``int`` is accepted where a ``float`` is declared, and a
        string such as ``"1e-3"`` (which YAML 1.1 reads as text) is read as a float.
    doc
        One line for ``fitflow plugins`` and the docs.
    choices
        Allowed values, for a setting that is an enumeration.
    minimum, maximum
        Inclusive bounds for numbers (and for the items of a numeric list).
    item_type
        Type of the items of a ``list`` setting. A list of ``str`` also takes one
        string, as the list of that string.
    nullable
        Whether ``None`` is accepted (default: when the default is ``None``).
    finite
        Whether numbers must be finite. ``False`` (for bounds) admits ``null``,
        ``.inf`` and ``-.inf``, all read as ``None``, "no bound" (so the value
        round-trips through JSON); never NaN.
    by_name
        For a ``list``: also accept a mapping of names to items (``{b1: 2.5, b2: 0.5}``),
        kept as a mapping for the plugin to put in its own order (one value per model
        parameter, say), where a list's order is easy to get wrong.
    """

    default: object
    type: type
    doc: str = ""
    choices: tuple = None
    minimum: float = None
    maximum: float = None
    item_type: type = float
    nullable: bool = field(default=None)
    finite: bool = True
    by_name: bool = False

    def __post_init__(self):
        if self.type not in _TYPE_NAMES:
            raise TypeError(f"Setting type must be one of {list(_TYPE_NAMES.values())}; got {self.type!r}")
        if self.nullable is None:
            object.__setattr__(self, "nullable", self.default is None)

    @property
    def required(self):
        """A setting without a default that must be given (default ``None``, not nullable)."""
        return self.default is None and not self.nullable

    @property
    def type_name(self):
        if self.type in (list, dict):
            return f"{_TYPE_NAMES[self.type]}[{_TYPE_NAMES[self.item_type]}]"
        return _TYPE_NAMES[self.type]

    def coerce(self, value, *, plugin, key):
        """Return ``value`` converted to this setting's type, or raise SettingsError."""
        if value is None:
            if self.nullable:
                return None
            if self.required:
                raise SettingsError(
                    f"the '{key}' setting of {plugin} is required (a {self.type_name}); it has no default",
                    plugin=plugin,
                    key=key,
                    value=value,
                )
            raise SettingsError(
                f"the '{key}' setting of {plugin} must be a {self.type_name}; got None",
                plugin=plugin,
                key=key,
                value=value,
            )
        if self.type is list and self.by_name and isinstance(value, dict):
            return Setting(None, dict, item_type=self.item_type, finite=self.finite).coerce(
                value, plugin=plugin, key=key
            )
        if self.type is list:
            if self.item_type is str and isinstance(value, str):
                value = [value]  # `x: time` means the one column `x: [time]`, as a user writes it
            if not isinstance(value, (list, tuple)):
                raise SettingsError(
                    f"the '{key}' setting of {plugin} must be a {self.type_name}; "
                    f"got {value!r} ({type(value).__name__})",
                    plugin=plugin,
                    key=key,
                    value=value,
                )
            return [self._coerce_scalar(v, self.item_type, plugin=plugin, key=key) for v in value]
        if self.type is dict:
            if not isinstance(value, dict) or not all(isinstance(k, str) and k.isidentifier() for k in value):
                raise SettingsError(
                    f"the '{key}' setting of {plugin} must be a mapping of names to {_TYPE_NAMES[self.item_type]}; "
                    f"got {value!r}",
                    plugin=plugin,
                    key=key,
                    value=value,
                )
            return {k: self._coerce_scalar(v, self.item_type, plugin=plugin, key=key) for k, v in value.items()}
        return self._coerce_scalar(value, self.type, plugin=plugin, key=key)

    def _coerce_scalar(self, value, kind, *, plugin, key):
        if not self.finite and (value is None or (isinstance(value, float) and math.isinf(value))):
            return None
        converted = _convert(value, kind)
        if converted is None:
            raise SettingsError(
                f"the '{key}' setting of {plugin} must be a {_TYPE_NAMES[kind]}; "
                f"got {value!r} ({type(value).__name__})",
                plugin=plugin,
                key=key,
                value=value,
            )
        if self.choices is not None and converted not in self.choices:
            raise SettingsError(
                f"the '{key}' setting of {plugin} must be one of {list(self.choices)}; got {value!r}",
                plugin=plugin,
                key=key,
                value=value,
            )
        if kind in (int, float):
            if self.minimum is not None and converted < self.minimum:
                raise SettingsError(
                    f"the '{key}' setting of {plugin} must be >= {self.minimum}; got {value!r}",
                    plugin=plugin,
                    key=key,
                    value=value,
                )
            if self.maximum is not None and converted > self.maximum:
                raise SettingsError(
                    f"the '{key}' setting of {plugin} must be <= {self.maximum}; got {value!r}",
                    plugin=plugin,
                    key=key,
                    value=value,
                )
        return converted


def _convert(value, kind):
    """Convert a config value to ``kind`` without silent truncation; None if impossible."""
    if kind is object:
        return value
    if kind is bool:
        return value if isinstance(value, bool) else None
    if isinstance(value, bool):  # bool is an int subclass: never a number here
        return None
    if kind is int:
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        return None
    if kind is float:
        if isinstance(value, (int, float)):
            number = float(value)
        elif isinstance(value, str):
            try:
                number = float(value)
            except ValueError:
                return None
        else:
            return None
        return number if math.isfinite(number) else None
    if kind is str:
        return value if isinstance(value, str) else None
    return None


def validate_settings(plugin_name, declared, given):
    """Merge ``given`` over the declared defaults, checking every key and type.

    Returns a new dict holding every declared setting. Raises
    :class:`~fitflow.core.errors.SettingsError` naming the plugin, the key and the
    value for an unknown key or a value of the wrong type or range.
    """
    given = dict(given or {})
    unknown = sorted(set(given) - set(declared))
    if unknown:
        key = unknown[0]
        raise SettingsError(
            f"{plugin_name} has no setting '{key}' (got {key}={given[key]!r}); "
            f"its settings are: {', '.join(sorted(declared)) or '(none)'}",
            plugin=plugin_name,
            key=key,
            value=given[key],
        )
    resolved = {}
    for key, spec in declared.items():
        value = given.get(key, spec.default)
        resolved[key] = spec.coerce(value, plugin=plugin_name, key=key)
    return resolved


def require_increasing(plugin, values, *keys):
    """Raise SettingsError unless ``values[keys[0]] < values[keys[1]] < ...`` (for ranges).

    ``plugin`` is the plugin instance, whose label names it in the message.
    """
    for low, high in zip(keys, keys[1:]):
        if not values[low] < values[high]:
            raise SettingsError(
                f"{plugin.label()} needs {low} < {high}; got {low}={values[low]!r}, {high}={values[high]!r}",
                plugin=plugin.name,
                key=high,
                value=values[high],
            )
