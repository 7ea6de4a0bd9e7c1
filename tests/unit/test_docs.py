"""The documentation's examples run, and its complete plugin is the one the tests install."""

import doctest
import importlib.util
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


def _schema_properties(node, path, found):
    """``{dotted path: property schema}`` for every property anywhere in a JSON schema."""
    if isinstance(node, dict):
        for key, sub in (node.get("properties") or {}).items():
            found[f"{path}.{key}"] = sub
            _schema_properties(sub, f"{path}.{key}", found)
        for sub in [node.get("additionalProperties"), node.get("items")]:
            _schema_properties(sub, f"{path}.*", found)
        for group in ("$defs", "patternProperties"):
            for name, sub in (node.get(group) or {}).items():
                _schema_properties(sub, f"{group}.{name}", found)
        for group in ("oneOf", "anyOf", "allOf"):
            for sub in node.get(group) or []:
                _schema_properties(sub, path, found)
    return found


def _reference_generator():
    spec = importlib.util.spec_from_file_location("gen_reference", REPO / "docs" / "gen_reference.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_config_key_says_what_it_means_and_is_in_the_generated_reference():
    """The config reference is generated from the schema, so a key is documented only if its schema
    entry has a description (a bare ``$ref`` takes its definition's)."""
    import yaml

    schema = yaml.safe_load((REPO / "workflow" / "schemas" / "config.schema.yaml").read_text())
    found = _schema_properties(schema, "", {})
    assert {".experiment", ".problems", "$defs.resources.runtime", "$defs.campaign.resources"} <= set(found)
    silent = sorted(p for p, node in found.items() if not node.get("description") and set(node) != {"$ref"})
    assert not silent, f"config schema keys without a description: {silent}"
    page = _reference_generator().config_keys_page()
    for path in found:
        assert re.search(rf"`([^`| ]*\.)?{re.escape(path.rsplit('.', 1)[-1])}` \|", page), path


def test_every_plugin_setting_has_a_doc_string_and_is_in_the_generated_reference():
    """A Setting added without its one-line doc fails here; the generated page lists each one."""
    from fitflow.core.registry import methods, problems

    page = _reference_generator().settings_page()
    for registry in (problems(), methods()):
        classes, errors = registry.load_all()
        assert not errors
        for name, cls in classes.items():
            assert f"#### `{name}`" in page
            for key, spec in cls.settings.items():
                assert spec.doc and spec.doc.strip(), f"{registry.group} {name}: setting {key!r} has no doc string"
                assert f"| `{key}` |" in page, (name, key)


def test_the_generated_reference_lists_every_input_format_and_campaign_file_key():
    from fitflow.campaigns.measurement_log import CAMPAIGN_KEYS
    from fitflow.inputs.tables import READERS

    page = _reference_generator().config_keys_page()
    for reader in READERS:
        for suffix in reader.suffixes:
            assert f"`{suffix}`" in page
    for key, doc in CAMPAIGN_KEYS.items():
        assert doc and f"| `{key}` |" in page


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
    settings = (tmp_path / "site" / "reference" / "settings" / "index.html").read_text()
    assert "gradient_descent" in settings and "<table>" in settings


def test_readme_is_a_front_door():
    """At most 250 lines, with the two fresh-machine commands CI and a newcomer run."""
    readme = (REPO / "README.md").read_text()
    assert len(readme.splitlines()) <= 250
    assert "make experiment" in readme and "make test" in readme


#: What a measured figure looks like in prose: a timing, a speed ratio, a count of runs out of
#: many, effective samples per second, a seed range. (``1/2`` or ``(6x - 2)`` are maths, not figures.)
MEASURED_FIGURE = re.compile(
    r"\b\d+(\.\d+)?\s?(ms|s|min|minutes|seconds)\b"
    r"|\d[x×]\s+(a|the|cheaper|faster|slower|more|less|as)\b"
    r"|\b\d+\s?/\s?\d{2,}\b"
    r"|ESS/s"
    r"|\bseeds?\s\d"
)


def test_no_module_docstring_holds_a_measured_figure():
    """A module docstring says what the module does, its contract, its choices and a citation;
    the measurements behind the choices live in docs/benchmarks.md, which it may link."""
    import ast

    found = []
    for root in ("src", "plugins"):
        for path in sorted((REPO / root).rglob("*.py")):
            doc = ast.get_docstring(ast.parse(path.read_text())) or ""
            found += [f"{path.relative_to(REPO)}: {m.group(0)!r}" for m in MEASURED_FIGURE.finditer(doc)]
    assert not found, found


def test_the_measured_figure_pattern_catches_what_it_is_for():
    for figure in ("took 13.8 s", "0.0015 s against", "1.3x a curve_fit call", "~20x cheaper", "in 21/40 runs"):
        assert MEASURED_FIGURE.search(figure), figure
    for maths in ("(6x - 2)**2", "a weight of 1/2", "the 5/2 Matern kernel", "2 x parameters + 2"):
        assert not MEASURED_FIGURE.search(maths), maths
