"""Every registered plugin, built-in or third-party, passes the generic conformance checks."""

from fitflow.core.registry import methods, problems
from fitflow.testing import parametrize_with_checks


def registered_classes():
    classes = []
    for registry in (problems(), methods()):
        loaded, errors = registry.load_all()
        assert not errors, f"plugins failed to load: {errors}"
        classes += list(loaded.values())
    return classes


@parametrize_with_checks(registered_classes())
def test_plugin_conformance(check):
    check()
