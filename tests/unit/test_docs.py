"""The documentation's examples run, and its complete plugin is the one the tests install."""

import doctest
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
