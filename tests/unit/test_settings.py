import pytest

from fitflow import Setting, SettingsError
from fitflow.core.settings import validate_settings

DECLARED = {
    "n": Setting(10, int, minimum=1),
    "noise": Setting(0.1, float, minimum=0.0),
    "flag": Setting(False, bool),
    "kind": Setting("a", str, choices=("a", "b")),
    "values": Setting([1.0], list),
    "budget": Setting(None, int),
}


def test_defaults_fill_missing_keys():
    assert validate_settings("p", DECLARED, {}) == {
        "n": 10,
        "noise": 0.1,
        "flag": False,
        "kind": "a",
        "values": [1.0],
        "budget": None,
    }


def test_int_is_a_float_and_yaml_text_numbers_are_read():
    resolved = validate_settings("p", DECLARED, {"noise": 1, "values": [2, "1e-3"]})
    assert resolved["noise"] == 1.0 and isinstance(resolved["noise"], float)
    assert resolved["values"] == [2.0, 0.001]


@pytest.mark.parametrize(
    "key, value",
    [
        ("n", 2.5),
        ("n", True),
        ("noise", "lots"),
        ("noise", float("nan")),
        ("flag", 1),
        ("kind", "c"),
        ("values", 3.0),
        ("n", 0),
        ("noise", -1.0),
        ("n", None),
    ],
)
def test_bad_values_name_plugin_key_and_value(key, value):
    with pytest.raises(SettingsError) as info:
        validate_settings("method 'demo'", DECLARED, {key: value})
    message = str(info.value)
    assert "method 'demo'" in message and f"'{key}'" in message and repr(value) in message
    assert info.value.key == key and info.value.plugin == "method 'demo'"


def test_unknown_key_lists_the_declared_ones():
    with pytest.raises(SettingsError, match=r"no setting 'nosie'.*noise"):
        validate_settings("problem 'x'", DECLARED, {"nosie": 0.2})


def test_nullable_setting_accepts_none_and_a_value():
    assert validate_settings("p", DECLARED, {"budget": None})["budget"] is None
    assert validate_settings("p", DECLARED, {"budget": 5})["budget"] == 5


@pytest.mark.parametrize("problem", ["gaussian_peak", "blurred_signal", "smooth_function"])
def test_a_reversed_range_names_both_ends(problem):
    import fitflow

    with pytest.raises(SettingsError) as info:
        fitflow.make_problem(problem, x_min=1.0, x_max=-1.0)
    assert "x_min < x_max" in str(info.value) and "x_max=-1.0" in str(info.value)
    assert info.value.key == "x_max" and info.value.value == -1.0
