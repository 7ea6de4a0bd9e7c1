"""Every deliberately broken plugin is caught: the checker FAILs it naming the check, and a
fit through the workflow's own path (safe_fit, generate) fails naming the plugin."""

import sys

import numpy as np
import pytest

import fitflow
from fitflow.core import registry
from fitflow.core.errors import ConfigError
from fitflow.core.pipeline import safe_fit
from fitflow.run.experiment import build_plan
from fitflow.testing import run_checks

sys.path.insert(0, str(__import__("pathlib").Path(__file__).parents[1] / "broken_plugins"))
from install import install  # noqa: E402


@pytest.fixture(scope="module")
def broken(tmp_path_factory):
    """The installed distribution's registries (the module-wide ones are reset around the tests)."""
    folder = install(tmp_path_factory.mktemp("site"))
    sys.path.insert(0, str(folder))
    saved = dict(registry._registries)
    registry._registries.clear()
    yield registry
    registry._registries.clear()
    registry._registries.update(saved)
    sys.path.remove(str(folder))
    for name in [m for m in sys.modules if m.startswith("fitflow_broken")]:
        del sys.modules[name]


@pytest.mark.parametrize(
    "name, check, fragment",
    [
        ("wrong_covariance_shape", "check_fit_result_fields", "covariance has shape (5, 5); expected (4, 4)"),
        ("short_prediction", "check_fit_result_fields", "y_fit has shape"),
        ("missing_stderr", "check_fit_result_fields", "stderr is given for"),
        ("nan_covariance_ok", "check_fit_result_fields", "covariance is not finite"),
        ("raises_in_fit", "check_fit_result_fields", "RuntimeError: deliberate failure inside fit"),
        ("raises_in_init", "check_settings_roundtrip", "RuntimeError: deliberate failure in __init__"),
        ("raises_in_figures", "check_figures", "RuntimeError: deliberate failure drawing a figure"),
        ("false_linear", "check_dataset_fields", "claims 'linear' but its model gives no design matrix"),
        ("wrong_jacobian", "check_model_jacobian", "differs from central differences"),
        ("raises_in_generate", "check_generate_deterministic", "RuntimeError: deliberate failure in generate"),
        ("returns_no_dataset", "check_dataset_fields", "not a fitflow.Dataset"),
    ],
)
def test_the_checker_fails_each_broken_plugin_and_runs_every_other_check(broken, name, check, fragment):
    reg = broken.problems() if name in broken.problems().names() else broken.methods()
    cls = reg.get(name)
    problems = [broken.problems().get("gaussian_peak")()] if reg is broken.methods() else None
    outcomes = run_checks(cls, problems)
    failed = {n.split("[")[0]: d for n, outcome, d in outcomes if outcome == "FAIL"}
    assert check in failed and fragment in failed[check], outcomes
    assert len(outcomes) >= 4  # one failure never stops the others from running
    assert any(outcome == "PASS" for _, outcome, _ in outcomes) or name == "raises_in_init"


@pytest.mark.parametrize(
    "name, fragment",
    [
        ("wrong_covariance_shape", "covariance has shape (5, 5); expected (4, 4)"),
        ("short_prediction", "y_fit has shape (99,); expected (100,)"),
        ("missing_stderr", "stderr is given for"),
        ("nan_covariance_ok", "covariance is not finite"),
        ("raises_in_fit", "raised RuntimeError in fit: deliberate failure inside fit"),
    ],
)
def test_safe_fit_turns_each_broken_result_into_a_failed_fit_naming_plugin_and_distribution(broken, name, fragment):
    data = fitflow.generate("gaussian_peak", seed=1)
    method = broken.methods().get(name)()
    result, _, _ = safe_fit(method, data, np.random.default_rng(0), key=f"methods.{name}")
    assert not result.ok
    assert f"method '{name}'" in result.message and "fitflow-broken" in result.message
    assert f"methods.{name}" in result.message and fragment in result.message


def test_the_checker_fails_a_hanging_fit_after_its_time_limit(broken):
    outcomes = run_checks(broken.methods().get("hangs"), [broken.problems().get("gaussian_peak")()], seconds=0.5)
    failed = {n: d for n, outcome, d in outcomes if outcome == "FAIL"}
    assert "timed out after 0.5 s" in failed["check_fit_result_fields[gaussian_peak]"]
    assert any(outcome == "PASS" for _, outcome, _ in outcomes)


def test_a_hung_fit_times_out_as_a_failed_fit(broken):
    data = fitflow.generate("gaussian_peak", seed=1)
    result, timing, _ = safe_fit(
        broken.methods().get("hangs")(), data, np.random.default_rng(0), key="methods.hangs", seconds=0.5
    )
    assert not result.ok and "timed out after 0.5 s" in result.message
    assert 0.5 <= timing["wall_time_s"] < 5


def test_a_plugin_raising_in_init_is_named_with_distribution_and_config_key(broken):
    config = {"problems": {"gaussian_peak": {}}, "methods": {"bad": {"plugin": "raises_in_init"}}}
    with pytest.raises(ConfigError) as info:
        build_plan(config, source="exp.yaml")
    message = str(info.value)
    assert "exp.yaml" in message and "methods.bad" in message and "method 'raises_in_init'" in message
    assert "fitflow-broken" in message and "deliberate failure in __init__" in message


def test_a_false_linear_problem_is_blamed_not_ols(broken):
    with pytest.raises(fitflow.FitflowError) as info:
        fitflow.generate("false_linear", seed=0)
    assert "problem 'false_linear'" in str(info.value) and "design" in str(info.value)


def test_a_problem_that_cannot_generate_does_not_stop_the_plan(broken):
    # Checking a method's requirements needs a dataset; a problem that raises in generate
    # keeps its pairs, and its fits fail at run time naming it (see the workflow test).
    assert "black_box" in broken.problems().get("raises_in_generate").capabilities
    plan = build_plan({"problems": {"raises_in_generate": {}}, "methods": {"random_search": {}, "nlls": {}}})
    assert {p.method.label for p in plan.pairs} == {"nlls", "random_search"} and not plan.skipped
