"""Write the reference pages from the code that defines them, at every docs build.

Run by mkdocs-gen-files (``mkdocs.yml``); nothing it writes is kept in the repository, so the
pages cannot drift from:

* ``reference/settings.md``: every installed plugin's ``Setting`` declarations, by family;
* ``reference/config-keys.md``: the config schema (``workflow/schemas/config.schema.yaml``),
  the formats a data file may have (``fitflow.inputs.tables.READERS``) and the keys of a
  ``fitflow suggest`` campaign file (``fitflow.campaigns.measurement_log.CAMPAIGN_KEYS``).

``tests/unit/test_docs.py`` imports :func:`settings_page` and :func:`config_keys_page` and
checks them against the same sources.
"""

from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
SCHEMA = REPO / "workflow" / "schemas" / "config.schema.yaml"


def _cell(text):
    """``text`` on one line, safe in a Markdown table cell (no pipe, no tag)."""
    return " ".join(str(text).split()).replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")


def _allowed(spec):
    if spec.choices:
        return ", ".join(f"`{c}`" for c in spec.choices)
    bounds = []
    if spec.minimum is not None:
        bounds.append(f"≥ {spec.minimum:g}")
    if spec.maximum is not None:
        bounds.append(f"≤ {spec.maximum:g}")
    return ", ".join(bounds)


def _family(cls):
    """``methods/least_squares``: where the plugin's module lives, below its top package."""
    parts = cls.__module__.split(".")
    return "/".join(parts[1:-1]) or parts[0]


def settings_page():
    """Markdown: every installed plugin, grouped by family, with a table of its settings."""
    from fitflow.core.registry import methods, problems

    lines = [
        "# Plugin settings",
        "",
        "Generated at each docs build from the plugins' `Setting` declarations (`fitflow plugins` prints the same).",
        "A setting goes under `settings:` of a problem, method or campaign entry of the config.",
        "",
    ]
    for title, registry in (("Problems", problems()), ("Methods", methods())):
        classes, errors = registry.load_all()
        lines += [f"## {title}", ""]
        by_family = {}
        for name in registry.names():
            if name in classes:
                by_family.setdefault(_family(classes[name]), []).append(name)
        for family in sorted(by_family):
            lines += [f"### {family}", ""]
            for name in by_family[family]:
                cls = classes[name]
                lines += [f"#### `{name}`", "", f"{_cell(cls.description)} (version {cls.version}).", ""]
                if not cls.settings:
                    lines += ["No settings.", ""]
                    continue
                lines += ["| setting | type | default | allowed | meaning |", "|---|---|---|---|---|"]
                for key, spec in cls.settings.items():
                    default = "required" if spec.required else f"`{spec.default!r}`"
                    lines.append(f"| `{key}` | {spec.type_name} | {default} | {_allowed(spec)} | {_cell(spec.doc)} |")
                lines.append("")
        for name, error in sorted(errors.items()):
            lines += [f"`{name}` could not be loaded here: {_cell(error)}", ""]
    return "\n".join(lines)


def _type(node):
    if "$ref" in node:
        return node["$ref"].rsplit("/", 1)[-1]
    if "enum" in node:
        return " or ".join(f"`{v}`".lower() for v in node["enum"])
    if "oneOf" in node:
        return " or ".join(_type(n) for n in node["oneOf"])
    if "const" in node:
        return f"`{node['const']}`"
    kind = node.get("type", "any")
    kind = " or ".join(k for k in kind if k != "null") if isinstance(kind, list) else kind
    limits = []
    if "minimum" in node:
        limits.append(f"≥ {node['minimum']}")
    if kind == "object" and "additionalProperties" in node and isinstance(node["additionalProperties"], dict):
        inner = node["additionalProperties"]
        kind = f"label → {_type(inner)}" if "$ref" in inner else kind
    return kind + (f" {' '.join(limits)}" if limits else "")


def _schema_rows(properties, required=(), prefix="", definitions=None):
    """A table row per key, and one per key of a nested mapping (``cluster.slurm_account``,
    ``methods.<label>.plugin``); a bare ``$ref`` takes its definition's description."""
    rows = []
    for key, node in properties.items():
        if "$ref" in node and "description" not in node and definitions:
            node = {**node, "description": definitions[node["$ref"].rsplit("/", 1)[-1]].get("description", "")}
        default = f"`{node['default']}`".lower() if "default" in node else ("required" if key in required else "")
        rows.append(f"| `{prefix}{key}` | {_type(node)} | {default} | {_cell(node.get('description', ''))} |")
        if "properties" in node:
            rows += _schema_rows(node["properties"], node.get("required", ()), f"{prefix}{key}.", definitions)
        inner = node.get("additionalProperties")
        if isinstance(inner, dict) and "properties" in inner:
            rows += _schema_rows(inner["properties"], inner.get("required", ()), f"{prefix}{key}.<label>.", definitions)
    return rows


def _schema_table(properties, required=(), definitions=None):
    header = ["| key | type | default | meaning |", "|---|---|---|---|"]
    return header + _schema_rows(properties, required, "", definitions)


def config_keys_page():
    """Markdown: every key of the config schema, the input formats and the campaign file's keys."""
    from fitflow.campaigns.measurement_log import CAMPAIGN_KEYS
    from fitflow.inputs.tables import READERS

    schema = yaml.safe_load(SCHEMA.read_text())
    lines = [
        "# Config keys",
        "",
        "Generated at each docs build from `workflow/schemas/config.schema.yaml`, the schema",
        "`snakemake` and `fitflow plan` check a config against; [the config guide](../config.md)",
        "explains how they work together.",
        "",
        "## The top level",
        "",
        *_schema_table(schema["properties"], schema.get("required", ()), schema["$defs"]),
        "",
    ]
    for name, node in schema["$defs"].items():
        if "properties" not in node:
            lines += [f"## `{name}`", "", _cell(node.get("description", "")), ""]
            continue
        lines += [f"## A `{name}` entry", ""]
        if node.get("description"):
            lines += [_cell(node["description"]), ""]
        lines += [*_schema_table(node["properties"], node.get("required", ()), schema["$defs"]), ""]
    lines += [
        "## Data file formats",
        "",
        "A `file` setting (the `table`, `simulate` and `blurred_measurement` problems) and",
        "`fitflow compare` read:",
        "",
        "| suffix | read as |",
        "|---|---|",
        *(f"| {', '.join(f'`{s}`' for s in r.suffixes)} | {_cell(r.description)} |" for r in READERS),
        "",
        "## A `fitflow suggest` campaign file",
        "",
        "| key | meaning |",
        "|---|---|",
        *(f"| `{key}` | {_cell(doc)} |" for key, doc in CAMPAIGN_KEYS.items()),
        "",
    ]
    return "\n".join(lines)


def main():
    import mkdocs_gen_files

    for path, text in (("reference/settings.md", settings_page()), ("reference/config-keys.md", config_keys_page())):
        with mkdocs_gen_files.open(path, "w") as handle:
            handle.write(text)


if __name__ in ("__main__", "<run_path>"):
    main()
