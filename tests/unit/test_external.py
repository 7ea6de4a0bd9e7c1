"""A user's program or callable as an objective: every way it can go wrong is one failed
evaluation with its reason, and the optimisation goes on."""

import math
import sys
import textwrap

import numpy as np
import pytest

import fitflow
from fitflow.core.errors import ConfigError, SettingsError
from fitflow.inputs.external import CallableRunner, ProgramRunner, parse_output
from fitflow_plugins.problems.own.objective import observation_from_run

PY = sys.executable


def script(tmp_path, body, name="sim.py"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(body))
    return str(path)


def test_values_reach_the_program_as_separate_arguments_never_through_a_shell(tmp_path):
    sim = script(
        tmp_path,
        """
        import json, sys
        print(json.dumps(sys.argv[1:]))
        print(1.5)
    """,
    )
    runner = ProgramRunner([PY, sim, "--power", "{power}", "--tag=a b;{n}"], ["power", "n"])
    record = runner.run({"power": 0.1 + 0.2, "n": 3}, tmp_path / "run")
    assert record.status == "ok" and record.outputs == [1.5]
    argv = (tmp_path / "run" / "stdout.txt").read_text().splitlines()[0]
    # Floats round-trip exactly (repr), integers stay integers, a ';' is just a character.
    assert argv == '["--power", "0.30000000000000004", "--tag=a b;3"]'
    assert (tmp_path / "run" / "params.json").read_text().strip() == '{"n": 3, "power": 0.30000000000000004}'


def test_a_choice_reaches_the_program_as_its_option(tmp_path):
    sim = script(
        tmp_path,
        """
        import sys
        print({"argon": 0.5}[sys.argv[2]])
    """,
    )
    runner = ProgramRunner([PY, sim, "--gas", "{gas}"], ["gas"])
    assert runner.run({"gas": "argon"}, tmp_path / "run").outputs == [0.5]


def test_a_command_string_is_split_before_substitution(tmp_path):
    runner = ProgramRunner(f"{PY} -c 'import sys; print(float(sys.argv[1]) * 2)' {{x}}", ["x"])
    assert runner.run({"x": 2.5}, tmp_path / "r").outputs == [5.0]


@pytest.mark.parametrize(
    "command, names, words",
    [
        (
            [PY, "sim.py", "--power", "{power}", "--density", "{density}"],
            ["power"],
            "uses {density}, which is not a parameter",
        ),
        ([PY, "sim.py", "--power", "{power}"], ["power", "density"], "density never reach"),
        ([PY, "sim.py", "{power!r}"], ["power"], "not a parameter name"),
        ([], ["power"], "non-empty list"),
        ("sim.py 'unclosed", ["power"], "cannot split"),
    ],
)
def test_command_templates_are_checked_against_the_parameters(command, names, words):
    with pytest.raises(ConfigError, match=words):
        ProgramRunner(command, names)


@pytest.mark.parametrize(
    "body, status, words",
    [
        ("import sys; sys.exit(3)", "failed", "exit status 3"),
        ("import sys; print('boom', file=sys.stderr); sys.exit(1)", "failed", "boom"),
        ("print('no number here')", "failed", "not a number"),
        ("pass", "failed", "empty"),
        ("print('nan')", "infeasible", "nan"),
        ("print('inf')", "infeasible", "inf"),
        ("print('1 2 3')", "failed", "got 3"),
        ("import time; time.sleep(30)", "failed", "timed out after 0.5 s"),
    ],
)
def test_every_way_a_program_fails_is_one_failed_evaluation(tmp_path, body, status, words):
    sim = script(tmp_path, body)
    runner = ProgramRunner([PY, sim, "{x}"], ["x"], timeout_s=0.5)
    observation = observation_from_run(runner.run({"x": 0.5}, tmp_path / "run"), 1.0)
    assert observation.status == status
    assert words in observation.reason
    assert math.isnan(observation.value)


def test_a_missing_program_is_a_failed_evaluation(tmp_path):
    runner = ProgramRunner(["/nonexistent/simulate", "{x}"], ["x"])
    record = runner.run({"x": 1.0}, tmp_path / "run")
    assert record.status == "failed" and "program not found: '/nonexistent/simulate'" in record.reason


def test_output_file_and_json_conventions(tmp_path):
    sim = script(
        tmp_path,
        """
        import json, sys
        json.dump({"value": float(sys.argv[1]) ** 2, "error": 0.1}, open("result.json", "w"))
    """,
    )
    runner = ProgramRunner([PY, sim, "{x}"], ["x"], output_file="result.json")
    observation = observation_from_run(runner.run({"x": 3.0}, tmp_path / "run"), -1.0)
    assert observation.ok and observation.value == -9.0 and observation.error == 0.1
    missing = ProgramRunner([PY, "-c", "pass", "{x}"], ["x"], output_file="result.json").run(
        {"x": 1.0}, tmp_path / "r2"
    )
    assert missing.status == "failed" and "wrote no 'result.json'" in missing.reason


@pytest.mark.parametrize(
    "text, expected",
    [
        ("log line\n2.5\n", [2.5]),
        ("1.0, 2.0 3\n", [1.0, 2.0, 3.0]),
        ('{"width": 1.5, "shift": -0.2}', {"width": 1.5, "shift": -0.2}),
        ("[1, 2]\n\n", [1.0, 2.0]),
    ],
)
def test_parse_output(text, expected):
    assert parse_output(text, "stdout") == expected


def test_callables_by_module_or_file(tmp_path):
    path = script(
        tmp_path,
        """
        def charge(power, density):
            if power > 1.5:
                raise RuntimeError("laser tripped")
            return power * density, 0.01
    """,
        name="lab.py",
    )
    runner = CallableRunner(f"{path}:charge", ["power", "density"])
    assert runner.run({"power": 1.0, "density": 2.0}).outputs == [2.0, 0.01]
    failed = runner.run({"power": 2.0, "density": 2.0})
    assert failed.status == "failed" and "RuntimeError: laser tripped" in failed.reason
    with pytest.raises(ConfigError, match="has no function 'nope'"):
        CallableRunner(f"{path}:nope", ["power"])
    with pytest.raises(ConfigError, match="cannot import 'no_such_module_xyz'"):
        CallableRunner("no_such_module_xyz:f", ["power"])
    with pytest.raises(ConfigError, match="package.module:function"):
        CallableRunner("just_a_name", ["power"])


def test_a_hanging_callable_times_out(tmp_path):
    path = script(tmp_path, "import time\ndef slow(x):\n    time.sleep(30)\n", name="slow.py")
    record = CallableRunner(f"{path}:slow", ["x"], timeout_s=0.3).run({"x": 1.0})
    assert record.status == "failed" and "timed out after 0.3 s" in record.reason


def test_objective_problem_settings_errors_name_the_key():
    with pytest.raises(SettingsError, match="exactly one of 'function'"):
        fitflow.make_problem("objective", parameters={"x": [0, 1]})
    with pytest.raises(SettingsError, match="not below upper bound"):
        fitflow.make_problem("objective", parameters={"x": [1, 0]}, command=["prog", "{x}"])
    with pytest.raises(SettingsError, match="uses {y}"):
        fitflow.make_problem("objective", parameters={"x": [0, 1]}, command=["prog", "{x}", "{y}"])


def test_an_external_program_is_optimised_and_its_failures_kept(tmp_path):
    sim = script(
        tmp_path,
        """
        import sys
        x = float(sys.argv[1])
        if x > 0.9:
            print("unstable", file=sys.stderr)
            sys.exit(2)
        print((x - 0.3) ** 2)
    """,
    )
    data = fitflow.generate("objective", parameters={"x": [0, 1]}, command=[PY, sim, "{x}"], noise_sd=0.0)
    result = fitflow.fit("bayesopt", data, seed=0, budget=12)
    assert result.ok and result.params["x"] == pytest.approx(0.3, abs=0.02)
    failed = [w for w in result.warnings if "failed" in w]
    assert all("exit status 2; stderr: unstable" in w for w in failed)
    assert result.diagnostics["n_failed_evaluations"] == len(failed)
    assert np.isnan(result.arrays["history_y"]).sum() == len(failed)


def test_a_model_file_is_imported_once_per_process_and_again_when_edited(tmp_path, monkeypatch):
    """A compare imported a callable model's module 9 times, running its import side effects
    each time (issue 57)."""
    import os

    from fitflow.inputs.external import load_callable

    monkeypatch.chdir(tmp_path)
    module = tmp_path / "counted.py"
    module.write_text("with open('imports.log', 'a') as log:\n    log.write('x')\n\ndef f(x, a):\n    return a * x\n")
    first = load_callable("counted.py:f")
    assert load_callable("counted.py:f") is first
    assert (tmp_path / "imports.log").read_text() == "x"
    times = module.stat().st_atime_ns, module.stat().st_mtime_ns
    module.write_text(module.read_text().replace("a * x", "2 * a * x"))
    os.utime(module, ns=times)  # edited within the file system's time resolution: the same time
    assert load_callable("counted.py:f")(1.0, 1.0) == 2.0 and (tmp_path / "imports.log").read_text() == "xx"
