"""Read and check an experiment config: one reader and one schema for every entry point.

``fitflow plan``, ``fitflow run`` and the Snakefile all go through
:func:`validate_config` against ``config.schema.yaml`` (shipped in this package; the
workflow's ``workflow/schemas/config.schema.yaml`` is a link to it), so what one accepts
the others accept. Defaults the schema declares are filled in, as Snakemake's own
``validate`` does. The plugins, their settings and the sizes a config asks for are then
checked by :func:`fitflow.run.experiment.build_plan`.
"""

import functools
from pathlib import Path

import yaml

from ..core.errors import ConfigError

__all__ = ["SCHEMA_FILE", "read_config", "validate_config"]

SCHEMA_FILE = Path(__file__).with_name("config.schema.yaml")


def read_config(path):
    """The config in the YAML file ``path``, validated (see :func:`validate_config`); a file
    that is missing, not YAML, empty or not a mapping is a ConfigError naming it."""
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError("config file not found", source=source) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read the config: {exc}", source=source) from None
    try:
        config = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"not valid YAML: {exc}", source=source) from None
    if config is None:
        raise ConfigError(
            "the config is empty: it needs at least 'problems' and 'methods', or 'campaigns'", source=source
        )
    return validate_config(config, source)


def validate_config(config, source="<config>"):
    """``config`` checked against the config schema, with the schema's defaults filled in
    (in place); the first error is a ConfigError naming the key (``methods.nlls.threads``)
    and the value."""
    if not isinstance(config, dict):
        raise ConfigError(
            f"a config is a mapping of keys (experiment, problems, methods, ...), not a {type(config).__name__}",
            source=source,
        )
    error = _deepest(_validator().iter_errors(config))
    if error is not None:
        key = ".".join(str(part) for part in error.absolute_path) or None
        message = error.message
        if error.validator == "additionalProperties":
            allowed = sorted(error.schema.get("properties", {}))
            message += f"; allowed: {', '.join(allowed)}" if allowed else ""
        raise ConfigError(message, source=source, key=key)
    return config


def _deepest(errors):
    """The error to show: the one deepest in the config, looking inside ``anyOf``/``oneOf``
    (whose own message, "is not valid under any of the given schemas", names nothing)."""
    leaves = []

    def collect(error):
        if error.context:
            for inner in error.context:
                collect(inner)
        else:
            leaves.append(error)

    for error in errors:
        collect(error)
    if not leaves:
        return None
    return max(leaves, key=lambda e: (len(e.absolute_path), e.validator != "required"))


@functools.cache
def _validator():
    """A Draft 2020-12 validator that also fills in each property's ``default``."""
    from jsonschema import Draft202012Validator, validators

    validate_properties = Draft202012Validator.VALIDATORS["properties"]

    def properties_with_defaults(validator, properties, instance, schema):
        if isinstance(instance, dict):
            for name, subschema in properties.items():
                if isinstance(subschema, dict) and "default" in subschema:
                    instance.setdefault(name, subschema["default"])
        yield from validate_properties(validator, properties, instance, schema)

    schema = yaml.safe_load(SCHEMA_FILE.read_text())
    return validators.extend(Draft202012Validator, {"properties": properties_with_defaults})(schema)
