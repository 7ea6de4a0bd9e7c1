"""Provenance records: enough to say exactly how an artefact was made.

A record names the config slice, the seeds, the plugin and its distribution,
the versions of Python and the key packages, the hashes of the input files and
the git commit of the working tree when there is one. Versions come from
package metadata, so recording them imports nothing heavy.
"""

from functools import lru_cache
from importlib import metadata
import platform
import subprocess

__all__ = ["package_versions", "git_commit", "provenance_record", "KEY_PACKAGES"]

KEY_PACKAGES = (
    "fitflow",
    "numpy",
    "scipy",
    "emcee",
    "scikit-learn",
    "pandas",
    "matplotlib",
    "snakemake",
    "jax",  # the jax extra: automatic derivatives and the nuts method
    "jaxlib",
    "blackjax",
    "arviz-stats",
)


@lru_cache(maxsize=1)
def package_versions():
    """Python and key package versions (``None`` for a package not installed)."""
    versions = {"python": platform.python_version()}
    for name in KEY_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


@lru_cache(maxsize=1)
def git_commit():
    """``{"commit", "dirty"}`` of the git working tree here, or ``None`` outside one."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True, timeout=10
        ).stdout.strip()
        status = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return {"commit": commit, "dirty": bool(status.strip())}


def plugin_record(plugin, registry):
    """Name, version and distribution of a plugin instance."""
    return {
        "name": plugin.name,
        "version": plugin.version,
        "class": f"{type(plugin).__module__}.{type(plugin).__qualname__}",
        "distribution": registry.distribution(plugin.name),
        "settings": plugin.get_settings(),
    }


def provenance_record(*, config_slice, seeds, plugins, inputs):
    """Assemble a provenance record (a JSON-able dict)."""
    return {
        "config": config_slice,
        "seeds": seeds,
        "plugins": plugins,
        "inputs": inputs,
        "versions": package_versions(),
        "git": git_commit(),
    }
