"""Input found by an adversarial probe: each must be refused at once with the project's
own error naming what is wrong, never hang, crash with a traceback or be misread."""

import signal
import time

import pytest

from fitflow.core.errors import ConfigError, DataError, FitflowError
from fitflow.inputs.expression import ExpressionError, expression_model, parse_expression
from fitflow.run.experiment import build_plan


@pytest.fixture(autouse=True)
def _no_hang():
    """Every case here must answer within 10 s; a hang fails the test instead of the suite."""

    def expire(signum, frame):
        raise TimeoutError("took more than 10 s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(10)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("10**10**10", "10**10**10"),
        ("a*9**9**9**9", "beyond double precision"),
        ("a*1e308*10", "beyond double precision"),
        ("a*x**100000", "exponent"),
        ("-" * 2000 + "a", "nested"),
        ("*".join(["a"] * 2000), ""),
        ("a + " + "9" * 5000, ""),
        ("a*x" + "+a" * 3000, "characters"),
    ],
)
def test_expressions_that_would_hang_or_crash_are_refused_quickly(text, fragment):
    started = time.perf_counter()
    with pytest.raises(ExpressionError) as info:
        parse_expression(text, ["a"], ["x"])
    assert fragment in str(info.value)
    assert time.perf_counter() - started < 2
    assert len(str(info.value)) < 600  # a message, not a traceback


def test_unicode_lookalikes_are_refused_with_their_code_points():
    with pytest.raises(ExpressionError) as info:
        parse_expression("\U0001d41b*x", ["b"], ["x"])  # mathematical bold b, which Python folds to b
    assert "U+1D41B" in str(info.value)
    with pytest.raises(ExpressionError) as info:
        parse_expression("\u00b5*x", ["\u03bc"], ["x"])  # micro sign vs Greek mu
    assert "U+00B5" in str(info.value) or "U+03BC" in str(info.value)


def test_a_parameter_named_like_a_numpy_function_works():
    # The derivative of abs is numpy's sign: a parameter called 'sign' once shadowed it.
    import numpy as np

    model = expression_model("abs(sign*x)", ["sign"], p0=[2.0])
    x = np.array([-1.0, 2.0])
    np.testing.assert_allclose(model(x, [2.0]), [2.0, 4.0])
    np.testing.assert_allclose(model.jacobian(x, np.array([2.0]))[:, 0], [1.0, 2.0])


def _table(tmp_path, text, **settings):
    path = tmp_path / "data.csv"
    path.write_text(text)
    return {
        "experiment": "t",
        "seed": 0,
        "replicates": 1,
        "problems": {"mine": {"plugin": "table", "settings": {"file": str(path), **settings}}},
        "methods": {"nlls": {}},
    }


def test_underscored_numbers_are_not_numbers(tmp_path):
    with pytest.raises(ConfigError) as info:
        build_plan(_table(tmp_path, "x,y\n1,2\n2,1_000\n3,4\n", model="a*x", params=["a"], p0=[1]))
    assert "1_000" in str(info.value) and "row 2" in str(info.value)


def test_duplicate_column_names_are_refused(tmp_path):
    with pytest.raises(ConfigError) as info:
        build_plan(_table(tmp_path, "x,y,y\n1,2,3\n2,3,4\n3,4,5\n", model="a*x", params=["a"], p0=[1]))
    assert "'y' 2 times" in str(info.value)


@pytest.mark.parametrize("roles, key", [({"sigma": "y"}, "sigma"), ({"y": "x"}, "y")])
def test_one_column_cannot_play_two_roles(tmp_path, roles, key):
    with pytest.raises(ConfigError) as info:
        build_plan(_table(tmp_path, "x,y\n1,2\n2,3\n3,4\n", **roles))
    assert info.value.key.endswith(key) and "its own column" in str(info.value)


def test_non_ascii_parameter_names_are_refused_in_the_config(tmp_path):
    with pytest.raises(ConfigError) as info:
        build_plan(_table(tmp_path, "x,y\n1,2\n2,3\n3,4\n", model="\u00b5*x", params=["\u00b5"], p0=[1]))
    assert "U+00B5" in str(info.value)


def test_constants_make_a_trigonometric_model_linear(tmp_path):
    plan = build_plan(
        _table(
            tmp_path,
            "t,y\n0,1\n1,0.2\n2,-0.5\n3,0.3\n",
            x=["t"],
            model="a*cos(w0*t) + b*sin(w0*t)",
            params=["a", "b"],
            p0=[1, 1],
            constants={"w0": 2.5},
        )
    )
    problem = plan.pairs[0].problem.instance(__import__("fitflow.core.registry").core.registry.problems())
    assert "linear" in problem.capabilities and "second derivative" in problem.capability_note


def test_a_constant_named_like_a_parameter_is_refused(tmp_path):
    with pytest.raises(FitflowError):
        build_plan(_table(tmp_path, "x,y\n1,2\n2,3\n3,4\n", model="a*x", params=["a"], p0=[1], constants={"a": 1}))


def test_huge_grid_settings_are_refused_before_any_array_is_made():
    import fitflow

    with pytest.raises(FitflowError) as info:
        fitflow.make_problem("gaussian_peak", n_points=10**8)
    assert "n_points" in str(info.value) and "<=" in str(info.value)


def test_a_bad_data_file_error_is_a_data_error_naming_file_and_column(tmp_path):
    from fitflow.inputs.tables import read_observations

    path = tmp_path / "d.csv"
    path.write_text("x,y\n1,nan\n")
    with pytest.raises(DataError) as info:
        read_observations(path, ["x"], "y")
    assert "d.csv" in str(info.value) and "'y'" in str(info.value)
