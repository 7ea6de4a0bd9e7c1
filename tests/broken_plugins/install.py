"""Make ``fitflow-broken`` an installed distribution inside a folder, without pip.

A ``*.dist-info`` folder with ``METADATA`` and ``entry_points.txt`` beside the
package is all ``importlib.metadata`` needs: put the folder on ``sys.path`` (or
``PYTHONPATH`` for a subprocess) and the plugins are discovered like any
pip-installed ones, while the test environment's own registry stays clean.
"""

from pathlib import Path
import shutil

HERE = Path(__file__).parent


def install(target):
    """Copy the package into ``target`` and register its entry points there; return ``target``."""
    import sys

    sys.path.insert(0, str(HERE))
    try:
        from fitflow_broken import METHODS, PROBLEMS
    finally:
        sys.path.remove(str(HERE))
    target = Path(target)
    shutil.copytree(HERE / "fitflow_broken", target / "fitflow_broken")
    info = target / "fitflow_broken-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: fitflow-broken\nVersion: 0.1\n")
    lines = ["[fitflow.methods]"] + [f"{c.name} = fitflow_broken:{c.__name__}" for c in METHODS]
    lines += ["", "[fitflow.problems]"] + [f"{c.name} = fitflow_broken:{c.__name__}" for c in PROBLEMS]
    (info / "entry_points.txt").write_text("\n".join(lines) + "\n")
    return target


def run_with_broken_plugins(tmp_path_factory, config, before=None):
    """Run the workflow on ``config`` with ``fitflow-broken`` installed beside it (never
    stopping at a failure); ``before(workdir)`` may add files first. Returns
    ``(completed process, experiment folder)``."""

    from conftest import run_snakemake, write_config

    site = install(tmp_path_factory.mktemp("site"))
    workdir = tmp_path_factory.mktemp("run")
    if before is not None:
        before(workdir)
    proc = run_snakemake(
        workdir, configfile=write_config(config, workdir / "config.yaml"), env={"PYTHONPATH": str(site)}, check=False
    )
    return proc, workdir / "results" / config["experiment"]
