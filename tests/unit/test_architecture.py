"""The package's shape: the public names, the layers and the contract that keeps them."""

import importlib
import pathlib
import subprocess
import sys

import fitflow

SRC = pathlib.Path(fitflow.__file__).parent
LAYERS = ("core", "inputs", "evaluation", "campaigns", "run", "report")
TOP_MODULES = {"__init__.py", "__main__.py", "api.py", "cli.py", "plugin.py", "testing.py"}
REPO = SRC.parents[1]

PUBLIC = {
    # the plugin contract and its data types
    "Problem",
    "Method",
    "Setting",
    "Dataset",
    "ParametricModel",
    "FitResult",
    "Objective",
    # errors
    "FitflowError",
    "ConfigError",
    "DataError",
    "SettingsError",
    "ArtefactError",
    "IncompatiblePairError",
    "PluginLoadError",
    "PluginNotFoundError",
    # plugin lookup and the pipeline
    "get_problem",
    "get_method",
    "make_problem",
    "make_method",
    "generate",
    "measurement",
    "fit",
    "evaluate",
    "compare",
    "verdict",
    "minimise",
    "maximise",
    "pareto",
    # artefacts
    "read_dataset",
    "read_result",
    "write_dataset",
    "write_result",
    "read_table",
}


def test_the_public_names_are_exactly_those_documented():
    assert set(fitflow.__all__) == PUBLIC
    for name in PUBLIC:
        assert getattr(fitflow, name) is not None, name
    assert fitflow.fit is fitflow.api.fit and fitflow.compare is fitflow.api.compare


def test_every_module_lives_in_a_layer_named_by_its_folder():
    loose = {p.name for p in SRC.glob("*.py")} - TOP_MODULES
    assert not loose, f"modules outside a layer: {sorted(loose)}"
    folders = {p.name for p in SRC.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert folders == set(LAYERS)
    for layer in LAYERS:
        module = importlib.import_module(f"fitflow.{layer}")
        assert module.__doc__ and module.__doc__.strip(), f"fitflow.{layer} says what it holds"


def test_the_import_contract_holds():
    """`lint-imports` reads the layers from pyproject.toml; a lower layer importing a higher one fails here."""
    root = SRC.parents[1]
    lint = pathlib.Path(sys.executable).with_name("lint-imports")
    proc = subprocess.run(
        [str(lint), "--config", str(root / "pyproject.toml")], cwd=root, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert "0 broken" in proc.stdout


def test_ruff_lint_and_format_are_clean():
    """The same checks as `make lint`, so CI's test command keeps them."""
    root = SRC.parents[1]
    ruff = pathlib.Path(sys.executable).with_name("ruff")
    for args in (["check", "--output-format", "concise", "."], ["format", "--check", "."]):
        proc = subprocess.run([str(ruff), *args], cwd=root, capture_output=True, text=True)
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]


def test_the_plugin_surface_is_the_one_the_plugin_guide_documents():
    """Every name of ``fitflow.plugin.__all__`` resolves and is named in docs/plugins.md's section on
    it, and that section names nothing else."""
    import re

    import fitflow.plugin

    names = set(fitflow.plugin.__all__)
    assert len(names) == len(fitflow.plugin.__all__)
    for name in names:
        assert getattr(fitflow.plugin, name) is not None, name
    doc = (REPO / "docs" / "plugins.md").read_text()
    section = doc.split("## What a plugin may import", 1)[1].split("\n## ", 1)[0]
    documented = set(re.findall(r"`([A-Za-z_][A-Za-z0-9_]*)`", section)) - {"fitflow", "plugin"}
    assert names <= documented, f"in fitflow.plugin but not documented: {sorted(names - documented)}"
    assert documented <= names | set(fitflow.__all__), f"documented, not exported: {sorted(documented - names)}"


def _fitflow_imports(path):
    """``(line, module)`` of every import of a fitflow module in the Python file ``path``."""
    import ast

    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules = [node.module]
        elif isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        else:
            continue
        found += [(node.lineno, m) for m in modules if m == "fitflow" or m.startswith("fitflow.")]
    return found


def test_examples_and_third_party_plugins_import_only_the_public_surface():
    """What a user copies (examples/, the tested external plugin) holds to ``fitflow`` and
    ``fitflow.plugin``; ``fitflow_plugins`` is held to them by the import-linter contract."""
    files = [*(REPO / "examples").rglob("*.py"), *(REPO / "tests" / "external_plugin" / "src").rglob("*.py")]
    assert files
    beyond = [
        f"{path.relative_to(REPO)}:{line}: {module}"
        for path in files
        for line, module in _fitflow_imports(path)
        if module not in ("fitflow", "fitflow.plugin")
    ]
    assert not beyond, beyond
