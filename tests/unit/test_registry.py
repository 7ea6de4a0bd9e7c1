from importlib.metadata import EntryPoint

import pytest

from fitflow import PluginLoadError, PluginNotFoundError
from fitflow.core.registry import METHODS, Registry


def fake(name, value):
    return EntryPoint(name=name, value=value, group=METHODS)


@pytest.fixture
def registry():
    return Registry(
        METHODS,
        entry_points=[
            fake("good", "fake_plugins:GoodMethod"),
            fake("broken", "module_that_does_not_exist_anywhere:Thing"),
            fake("misnamed", "fake_plugins:MisnamedMethod"),
            fake("not_a_class", "fake_plugins:NOT_A_CLASS"),
            fake("wrong_group", "fake_plugins:AProblem"),
        ],
    )


def test_names_are_listed_without_importing_anything(registry):
    assert registry.names() == ["broken", "good", "misnamed", "not_a_class", "wrong_group"]
    assert registry._loaded == {}


def test_a_good_plugin_loads_while_a_broken_one_is_reported(registry):
    classes, errors = registry.load_all()
    assert list(classes) == ["good"] and classes["good"].name == "good"
    assert set(errors) == {"broken", "misnamed", "not_a_class", "wrong_group"}
    broken = errors["broken"]
    assert isinstance(broken.__cause__, ModuleNotFoundError)
    assert "'broken'" in str(broken) and "module_that_does_not_exist_anywhere" in str(broken)


@pytest.mark.parametrize(
    "name, fragment",
    [
        ("misnamed", "declares name 'something_else'"),
        ("not_a_class", "subclass of fitflow.Method"),
        ("wrong_group", "subclass of fitflow.Method"),
    ],
)
def test_entry_points_naming_the_wrong_thing_are_load_errors(registry, name, fragment):
    with pytest.raises(PluginLoadError, match=fragment):
        registry.get(name)


def test_unknown_name_lists_the_available_ones(registry):
    with pytest.raises(PluginNotFoundError) as info:
        registry.get("goood")
    assert "goood" in str(info.value) and "good" in info.value.available


def test_installed_builtins_come_from_the_fitflow_distribution():
    from fitflow.core.registry import methods, problems

    assert {"ols", "nlls"} <= set(methods().names())
    assert {"cosine_series", "gaussian_peak"} <= set(problems().names())
    assert methods().distribution("ols") == "fitflow"
