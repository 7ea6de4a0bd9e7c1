"""The documentation's examples run, and its complete plugin is the one the tests install."""

import doctest
import pathlib
import re

from conftest import REPO
import fitflow.api


def code_blocks(path, language):
    return re.findall(rf"```{language}\n(.*?)```", path.read_text(), flags=re.S)


def test_api_docstring_example_runs():
    assert doctest.testmod(fitflow.api, raise_on_error=True).attempted > 0


def test_plugins_doc_api_example_runs():
    blocks = code_blocks(REPO / "docs" / "plugins.md", "python")
    exec(compile(blocks[-1], "docs/plugins.md", "exec"), {})


def test_plugins_doc_shows_the_tested_external_plugin_verbatim():
    doc = REPO / "docs" / "plugins.md"
    plugin = REPO / "tests" / "external_plugin"
    assert (plugin / "src" / "fitflow_ridge_example" / "__init__.py").read_text() in code_blocks(doc, "python")
    assert (plugin / "pyproject.toml").read_text() in code_blocks(doc, "toml")


def _schema_keys(node, keys):
    """Every property name anywhere in a JSON schema (nested objects, items, combinators)."""
    if isinstance(node, dict):
        for key, sub in (node.get("properties") or {}).items():
            keys.add(key)
            _schema_keys(sub, keys)
        for sub in [node.get("additionalProperties"), node.get("items")]:
            _schema_keys(sub, keys)
        for group in ("definitions", "$defs", "patternProperties"):
            for sub in (node.get(group) or {}).values():
                _schema_keys(sub, keys)
        for group in ("oneOf", "anyOf", "allOf"):
            for sub in node.get(group) or []:
                _schema_keys(sub, keys)
    return keys


def test_config_reference_documents_every_schema_key():
    """docs/config.md cannot drift from workflow/schemas/config.schema.yaml: each key is named there."""
    import yaml

    schema = yaml.safe_load((REPO / "workflow" / "schemas" / "config.schema.yaml").read_text())
    keys = _schema_keys(schema, set())
    assert {"experiment", "problems", "methods", "campaigns", "chunks", "resources"} <= keys
    doc = (REPO / "docs" / "config.md").read_text()
    undocumented = sorted(key for key in keys if f"`{key}`" not in doc)
    assert not undocumented, f"keys of the config schema missing from docs/config.md: {undocumented}"


def test_docs_build_with_warnings_as_errors(tmp_path):
    """mkdocs.yml sets strict: a broken link, a missing page or a docstring mkdocstrings cannot
    render fails the build, and so this test."""
    import subprocess
    import sys

    mkdocs = pathlib.Path(sys.executable).with_name("mkdocs")
    proc = subprocess.run(
        [str(mkdocs), "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert (tmp_path / "site" / "api" / "index.html").read_text().count("doc-heading") > 20


def test_readme_is_a_front_door():
    """At most 250 lines, with the two fresh-machine commands CI and a newcomer run."""
    readme = (REPO / "README.md").read_text()
    assert len(readme.splitlines()) <= 250
    assert "make experiment" in readme and "make test" in readme
