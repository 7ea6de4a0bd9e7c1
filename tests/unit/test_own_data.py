"""Own data and own model: what is read, and the clear error for every bad input.

Each bad input must raise fitflow's own error type with a message naming the
file (or config), the key (column or setting) and the offending value.
"""

import textwrap

import numpy as np
import pytest

import fitflow
from fitflow import ConfigError, DataError, SettingsError
from fitflow.cli import main
from fitflow.core.errors import ModelError
from fitflow.inputs.tables import read_observations
from fitflow.run.experiment import build_plan

MODEL = {"model": "a + b*x", "params": ["a", "b"], "p0": [0.0, 1.0]}


def write(tmp_path, text, name="data.csv"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text).lstrip())
    return path


def good_csv(tmp_path, name="data.csv"):
    return write(
        tmp_path,
        """
        # a comment line is skipped
        x,y,err
        0,1.0,0.1
        1,3.1,0.1
        2,4.9,0.2
        3,7.2,0.1
        4,8.8,0.1
    """,
        name,
    )


def table(path, **settings):
    return fitflow.make_problem("table", file=str(path), **{"sigma": "err", **MODEL, **settings})


# -- reading ---------------------------------------------------------------------


def test_csv_tsv_and_npz_give_the_same_observations(tmp_path):
    csv = good_csv(tmp_path)
    tsv = tmp_path / "data.tsv"
    tsv.write_text(csv.read_text().replace(",", "\t"))
    npz = tmp_path / "data.npz"
    reference = read_observations(csv, ["x"], "y", "err")
    np.savez(npz, x=reference.x, y=reference.y, err=reference.sigma)
    for path in (tsv, npz):
        again = read_observations(path, ["x"], "y", "err")
        np.testing.assert_array_equal(again.x, reference.x)
        np.testing.assert_array_equal(again.y, reference.y)
        np.testing.assert_array_equal(again.sigma, reference.sigma)
    np.testing.assert_array_equal(reference.y, [1.0, 3.1, 4.9, 7.2, 8.8])


def test_a_semicolon_separated_csv_with_decimal_commas_reads_as_the_plain_one(tmp_path):
    reference = read_observations(good_csv(tmp_path), ["x"], "y", "err")
    spreadsheet = write(
        tmp_path,
        """
        x;y;err
        0;1,0;0,1
        1;3,1;0,1
        2;4,9;2,0e-1
        3,0;7.2;,1
        4;8,8;0,1
    """,
        "export.csv",
    )
    again = read_observations(spreadsheet, ["x"], "y", "err")
    for column in ("x", "y", "sigma"):
        np.testing.assert_array_equal(getattr(again, column), getattr(reference, column))
    with pytest.raises(DataError, match=r"column 'y', row 2: is not a number; got '3,1,5'"):
        read_observations(write(tmp_path, "x;y\n0;1,0\n1;3,1,5\n", "bad.csv"), ["x"], "y")


def test_whitespace_separated_text_reads_as_the_csv_with_names_from_its_header_or_comment(tmp_path):
    reference = read_observations(good_csv(tmp_path), ["x"], "y", "err")
    rows = "0  1.0 0.1\n1\t3.1   0.1\n  2 4.9 0.2  # an end-of-line comment\n\n3 7.2 0.1\n4 8.8 0.1\n"
    rows_array = np.loadtxt(rows.splitlines(), comments="#")
    first_line = write(tmp_path, "# measured 2026-12-01\nx y err\n" + rows, "plain.txt")
    savetxt = tmp_path / "savetxt.dat"
    np.savetxt(savetxt, rows_array, header="x y err")  # '# x y err', then the numbers
    for path in (first_line, savetxt):
        again = read_observations(path, ["x"], "y", "err")
        for column in ("x", "y", "sigma"):
            np.testing.assert_array_equal(getattr(again, column), getattr(reference, column))
    unnamed = write(tmp_path, "# dumped by the instrument\n" + rows, "dump.dat")
    np.testing.assert_array_equal(read_observations(unnamed, ["col1"], "col2").y, reference.y)
    with pytest.raises(DataError, match=r"column 'x': no such column; the file has: col1, col2, col3"):
        read_observations(unnamed, ["x"], "y")
    with pytest.raises(DataError, match=r"line 3 has 2 values; the columns are 3 \(x y err\)"):
        read_observations(write(tmp_path, "x y err\n0 1 0.1\n1 3\n", "short.txt"), ["x"], "y")
    with pytest.raises(DataError, match=r"column 'y', row 2: is not a number; got '3,1'"):
        read_observations(write(tmp_path, "x y\n0 1.0\n1 3,1\n", "comma.txt"), ["x"], "y")


#: A NIST/ITL StRD file as NIST lays it out (Misra1a's first lines, its data cut to four rows):
#: a description whose own 'Data:' line is prose, then the data block the header places.
STRD = """NIST/ITL StRD
Dataset Name:  Tiny            (Tiny.dat)

File Format:   ASCII
               Data               (lines 9 to 12)

Data:          1 Response Variable  (y = volume)
Data:   y               x
      10.07E0      77.6E0
      14.73E0     114.9E0

      17.94E0     141.1E0
"""


def test_a_nist_strd_file_is_read_from_the_block_its_header_names(tmp_path):
    path = tmp_path / "Tiny.dat"
    path.write_text(STRD)
    observations = read_observations(path, ["x"], "y")
    np.testing.assert_array_equal(observations.x, [77.6, 114.9, 141.1])
    np.testing.assert_array_equal(observations.y, [10.07, 14.73, 17.94])
    # The header's own line numbers are trusted only where they fit the file.
    path.write_text(STRD.replace("(lines 9 to 12)", "(lines 9 to 40)"))
    with pytest.raises(
        DataError,
        match=r"data lines 9 to 40 do not follow a 'Data:' line of column names inside its "
        r"12 lines",
    ):
        read_observations(path, ["x"], "y")
    path.write_text(STRD.replace("(lines 9 to 12)", "(lines 1 to 2)"))
    with pytest.raises(DataError, match=r"data lines 1 to 2 do not follow a 'Data:' line"):
        read_observations(path, ["x"], "y")
    path.write_text(STRD.replace("Data               (lines 9 to 12)", "Data"))
    with pytest.raises(DataError, match=r"NIST/ITL StRD file without its 'Data \(lines a to b\)' entry"):
        read_observations(path, ["x"], "y")
    path.write_text(STRD.replace("141.1E0", "141.1E0  3.0"))
    with pytest.raises(DataError, match=r"line 12 has 3 values; the columns are 2 \(y x\)"):
        read_observations(path, ["x"], "y")


def test_several_predictor_columns_make_a_matrix(tmp_path):
    path = write(tmp_path, "u,v,y\n1,2,3\n4,5,6\n7,8,9\n")
    data = read_observations(path, ["u", "v"], "y")
    assert data.x.shape == (3, 2) and data.sigma is None
    np.testing.assert_array_equal(data.x[:, 1], [2, 5, 8])


def test_table_fit_matches_numpy_weighted_least_squares(tmp_path):
    """A straight-line model through the table: nlls equals the weighted linear solution."""
    data = fitflow.generate(table(good_csv(tmp_path)))
    result = fitflow.fit("nlls", data)
    w = 1 / data.sigma
    design = np.column_stack([np.ones_like(data.x), data.x])
    expected, *_ = np.linalg.lstsq(design * w[:, None], data.y * w, rcond=None)
    np.testing.assert_allclose(result.estimate_vector(), expected, rtol=1e-10)
    assert data.truth_params is None and data.meta["measured"] is True


def test_table_without_a_model_serves_only_non_parametric_methods(tmp_path):
    problem = fitflow.make_problem("table", file=str(good_csv(tmp_path)), sigma="err")
    assert problem.capabilities == {"regression"}
    plan = build_plan(
        {
            "problems": {"mine": {"plugin": "table", "settings": {"file": str(good_csv(tmp_path))}}},
            "methods": {"nlls": {}, "gp": {}},
        }
    )
    assert [p.method.label for p in plan.pairs] == ["gp"]


# -- bad data files -----------------------------------------------------------------


@pytest.mark.parametrize(
    "text, key, fragments",
    [
        ("", None, ["is empty"]),
        ("x,y,err\n", None, ["no data rows"]),
        ("x,yy,err\n1,2,0.1\n2,3,0.1\n3,4,0.1\n", "y", ["no such column", "yy"]),
        ("x,y,err\n1,2,0.1\n2,abc,0.1\n3,4,0.1\n", "y", ["row 2", "not a number", "'abc'"]),
        ("x,y,err\n1,2,0.1\n2,,0.1\n3,4,0.1\n", "y", ["row 2", "not a number"]),
        ("x,y,err\n1,2,0.1\n2,nan,0.1\n3,4,0.1\n", "y", ["row 2", "NaN", "'nan'"]),
        ("x,y,err\n1,2,0.1\ninf,3,0.1\n3,4,0.1\n", "x", ["row 2", "infinite", "'inf'"]),
        ("x,y,err\n1,2,0.1\n2,3,0\n3,4,0.1\n", "err", ["row 2", "must be > 0", "0.0"]),
        ("x,y,err\n1,2,0.1\n2,3,0.1\n3,4,-0.5\n", "err", ["row 3", "must be > 0", "-0.5"]),
        ('x,y,err\n1,2,0.1\n"2,3\n', None, ["not a valid"]),
    ],
    ids=[
        "empty",
        "header-only",
        "missing-column",
        "non-numeric",
        "blank-cell",
        "nan",
        "inf",
        "zero-error",
        "negative-error",
        "unbalanced-quote",
    ],
)
def test_bad_data_file_names_file_column_row_and_value(tmp_path, text, key, fragments):
    path = write(tmp_path, text)
    with pytest.raises(DataError) as info:
        read_observations(path, ["x"], "y", "err")
    message = str(info.value)
    assert str(path) in message and info.value.key == key, message
    if key:
        assert f"column '{key}'" in message
    for fragment in fragments:
        assert fragment in message, message


def test_missing_file_and_unknown_format(tmp_path):
    with pytest.raises(DataError, match="cannot be read"):
        read_observations(tmp_path / "nope.csv", ["x"], "y")
    with pytest.raises(DataError, match=r"unknown format '\.xlsx'"):
        read_observations(write(tmp_path, "x,y\n1,2\n", "data.xlsx"), ["x"], "y")


def test_npz_objects_are_never_unpickled(tmp_path):
    path = tmp_path / "evil.npz"
    np.savez(path, x=np.array([1.0, 2.0]), y=np.array([{"payload": 1}, {"payload": 2}], dtype=object))
    with pytest.raises(DataError, match="never unpickled") as info:
        read_observations(path, ["x"], "y")
    assert info.value.key == "y"


def test_fewer_points_than_parameters_is_refused_at_plan_time(tmp_path):
    """With errors given, as many rows as parameters will do; without, one more is needed to
    estimate the scatter, and the message says why (it asked 3 rows of a file with errors)."""
    with_errors = write(tmp_path, "x,y,err\n1,2,0.1\n2,3,0.1\n")
    without = tmp_path / "without.csv"
    without.write_text("x,y\n1,2\n2,3\n")
    n_params = len(MODEL["params"])

    def plan(path, **sigma):
        settings = {"file": str(path), **sigma, **MODEL}
        return build_plan(
            {"problems": {"mine": {"plugin": "table", "settings": settings}}, "methods": {"nlls": {}}}, source="my.yaml"
        )

    assert n_params == 2 and plan(with_errors, sigma="err").pairs  # 2 rows, 2 parameters, errors given
    with pytest.raises(ConfigError) as info:
        plan(without)
    message = str(info.value)
    for fragment in (
        "my.yaml",
        "problems.mine",
        str(without),
        "has 2 data rows",
        f"at least {n_params + 1}",
        "to estimate the scatter",
    ):
        assert fragment in message, message


def test_missing_data_file_names_config_key_and_path(tmp_path):
    missing = str(tmp_path / "missing.csv")
    cfg = {"problems": {"mine": {"plugin": "table", "settings": {"file": missing}}}, "methods": {"gp": {}}}
    with pytest.raises(ConfigError) as info:
        build_plan(cfg, source="my.yaml")
    assert info.value.key == "problems.mine.settings.file" and info.value.value == missing
    assert "does not exist" in str(info.value) and "my.yaml" in str(info.value)


def test_table_requires_a_file():
    with pytest.raises(SettingsError, match="'file' setting of problem 'table' is required"):
        fitflow.make_problem("table")


def test_duplicate_x_skips_a_method_that_needs_distinct_x_with_the_reason(tmp_path, monkeypatch):
    from fitflow_plugins.methods.regression.gp import GaussianProcess

    path = write(tmp_path, "x,y\n0,1\n1,2\n1,2.5\n2,3\n")
    cfg = {"problems": {"mine": {"plugin": "table", "settings": {"file": str(path)}}}, "methods": {"gp": {}, "mlp": {}}}
    assert not build_plan(cfg).skipped  # the GP copes with repeated x (it learns a noise term)
    monkeypatch.setattr(GaussianProcess, "requirements", frozenset({"distinct_x"}))
    plan = build_plan(cfg, source="my.yaml")
    assert [p.method.label for p in plan.pairs] == ["mlp"]
    (skipped,) = plan.skipped
    assert skipped["method"] == "gp" and "[1.0]" in skipped["reason"] and "needs distinct x" in skipped["reason"]
    assert plan.describe()["skipped"] == plan.skipped  # recorded for the report


# -- bad models -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "model, fragments",
    [
        ("a + b*", ["syntax error"]),
        ("a + b*z", ["unknown name 'z'"]),
        ("a + __import__('os').getpid()", ["only these functions may be called", "__import__"]),
        ("a + x.real*b", ["Attribute is not allowed", "x.real"]),
        ("a + (lambda q: q)(x)*b", ["only these functions", "lambda"]),
        ("a + sum([b for _ in x])", ["only these functions", "sum"]),
    ],
    ids=["syntax", "unknown-name", "import", "attribute", "lambda", "comprehension"],
)
def test_bad_expression_names_the_setting_and_the_offending_part(tmp_path, model, fragments):
    with pytest.raises(SettingsError) as info:
        table(good_csv(tmp_path), model=model)
    assert info.value.key == "model" and info.value.value == model
    for fragment in fragments:
        assert fragment in str(info.value), str(info.value)


def _user_module(tmp_path, monkeypatch, body):
    package = tmp_path / "mymodels.py"
    package.write_text(textwrap.dedent(body))
    monkeypatch.syspath_prepend(str(tmp_path))
    import importlib
    import sys

    sys.modules.pop("mymodels", None)
    importlib.invalidate_caches()


def test_callable_model_fits_like_the_expression(tmp_path, monkeypatch):
    _user_module(tmp_path, monkeypatch, "def line(x, a, b):\n    return a + b * x\n")
    csv = good_csv(tmp_path)
    by_callable = fitflow.fit("nlls", fitflow.generate(table(csv, model="mymodels:line")))
    by_expression = fitflow.fit("nlls", fitflow.generate(table(csv)))
    np.testing.assert_allclose(by_callable.estimate_vector(), by_expression.estimate_vector(), rtol=1e-7)
    np.testing.assert_allclose(by_callable.stderr_vector(), by_expression.stderr_vector(), rtol=1e-5)


def test_callable_that_raises_or_returns_the_wrong_shape_is_a_clear_error(tmp_path, monkeypatch):
    _user_module(
        tmp_path,
        monkeypatch,
        """
        import numpy as np
        def boom(x, a, b):
            raise RuntimeError("detector offline")
        def short(x, a, b):
            return np.ones(3)
    """,
    )
    csv = good_csv(tmp_path)
    with pytest.raises(ModelError, match="mymodels:boom.*raised RuntimeError: detector offline"):
        table(csv, model="mymodels:boom").check_inputs()
    with pytest.raises(ModelError, match=r"mymodels:short.*shape \(3,\) for 5 points"):
        table(csv, model="mymodels:short").check_inputs()
    with pytest.raises(SettingsError, match="cannot import 'nomodule'") as info:
        table(csv, model="nomodule:f")
    assert info.value.key == "model"


def test_model_settings_are_checked_against_each_other(tmp_path):
    csv = good_csv(tmp_path)
    with pytest.raises(SettingsError, match="one value per parameter") as info:
        table(csv, p0=[1.0])
    assert info.value.key == "p0"
    with pytest.raises(SettingsError, match="lower bound must be below") as info:
        table(csv, lower=[0, 5], upper=[1, 1])
    with pytest.raises(SettingsError, match="within the bounds"):
        table(csv, lower=[1, None])
    with pytest.raises(SettingsError, match="no 'model'"):
        fitflow.make_problem("table", file=str(csv), params=["a"])


def test_parameters_are_read_from_the_model_when_not_listed(tmp_path, monkeypatch):
    csv = good_csv(tmp_path)
    # An expression's names that are not columns, constants or functions, in order of appearance.
    problem = fitflow.make_problem(
        "table",
        file=str(csv),
        x="x",
        y="y",
        sigma="err",
        constants={"w": 2.0},
        model="amp*exp(-x/tau)*cos(w*x) + offset",
        p0=[1.0, 1.0, 0.0],
    )
    assert problem.values["params"] == ["amp", "tau", "offset"]
    # A callable's arguments after x, as curve_fit reads them.
    _user_module(tmp_path, monkeypatch, "def line(x, intercept, slope):\n    return intercept + slope * x\n")
    by_callable = table(csv, model="mymodels:line", params=[], p0=[0.0, 1.0])
    assert by_callable.values["params"] == ["intercept", "slope"]
    with pytest.raises(SettingsError, match="names no parameter") as info:
        table(csv, model="2*x + 3", params=[], p0=[])
    assert info.value.key == "model"


def test_e_in_a_model_whose_parameters_are_inferred_is_refused_and_pi_is_read_as_pi(tmp_path):
    """'a + b*t + e*cos(t)' once fitted four parameters, e silently Euler's number: one fewer
    than written and a wrong fit labelled ok. e is a common parameter name, so inferred
    parameters and e are refused; nobody names a parameter pi and everyone writes 2*pi, so pi
    is π, and the problem says so."""
    csv = good_csv(tmp_path)
    with pytest.raises(SettingsError, match="must be listed in 'params'") as info:
        table(csv, model="a + b*x + c*x**2 + d*sin(x) + e*cos(x)", params=[], p0=[])
    assert info.value.key == "params" and "'e' (Euler's number" in str(info.value)
    inferred = table(csv, model="a*cos(pi*x/4) + b", params=[], p0=[])
    assert inferred.values["params"] == ["a", "b"]
    assert "pi is read as the number π = 3.14159..." in inferred.assumptions
    data = fitflow.generate(inferred)
    result = fitflow.fit("ols", data)
    design = np.column_stack([np.cos(np.pi * data.x / 4), np.ones(data.n_points)])
    reference = np.linalg.lstsq(design / data.sigma[:, None], data.y / data.sigma, rcond=None)[0]
    np.testing.assert_allclose([result.params["a"], result.params["b"]], reference, rtol=1e-10)
    assert "pi is read as the number π = 3.14159..." in result.diagnostics["assumptions"]
    listed = table(csv, model="a*cos(2*pi*x)", params=["a"], p0=[1.0])
    assert listed.values["params"] == ["a"]
    with pytest.raises(SettingsError, match="reserved"):
        table(csv, model="a + e*x", params=["a", "e"], p0=[1.0, 1.0])


def test_values_given_by_position_are_echoed_name_by_name(tmp_path, capsys):
    """--p0 10 900 80 27 225 once set a4 = 80 and a3 = 27 silently (parameters are ordered by
    first appearance): what was assumed is said, in the problem, the result and on the command line."""
    csv = good_csv(tmp_path)
    problem = table(csv, model="b*x + a*exp(-c*x)", params=[], p0=[2.0, 1.0, 0.5], lower=[0, None, 0])
    assert problem.assumptions == [
        "parameters read from the model, in order of first appearance: b, a, c",
        "p0 given by position: b = 2, a = 1, c = 0.5",
        "lower given by position: b = 0, a = none, c = 0",
    ]
    by_name = table(csv, model="b*x + a*exp(-c*x)", params=["b", "a", "c"], p0={"a": 1, "b": 2, "c": 0.5})
    assert by_name.assumptions == []
    argv = ["compare", str(csv), "--x", "x", "--y", "y", "--model", "b*x + a*exp(-c*x)"]
    assert main([*argv, "--p0", "2", "1", "0.5", "--methods", "nlls"]) == 0
    assert "assumed: p0 given by position: b = 2, a = 1, c = 0.5" in capsys.readouterr().err


def test_a_linear_model_needs_no_start_and_a_nonlinear_one_is_asked_for_it(tmp_path):
    csv = good_csv(tmp_path)
    # Linear in a and b: one least-squares minimum, reached from the default start (ones, as curve_fit).
    data = fitflow.generate(fitflow.make_problem("table", file=str(csv), x="x", y="y", sigma="err", model="a + b*x"))
    assert data.problem.values["params"] == ["a", "b"] and data.problem.values["p0"] == [1.0, 1.0]
    reference = np.polyfit(data.x, data.y, 1, w=1 / data.sigma)  # weighted least squares: [b, a]
    result = fitflow.fit("nlls", data)
    np.testing.assert_allclose([result.params["b"], result.params["a"]], reference, rtol=1e-9)
    # Affine (a term without a parameter) has every second derivative zero too: one minimum, no start needed.
    affine = fitflow.make_problem("table", file=str(csv), x="x", y="y", model="a + b*x + 1")
    assert affine.values["p0"] == [1.0, 1.0]
    # A bound above 1 moves the default start inside the box.
    bounded = fitflow.make_problem("table", file=str(csv), x="x", y="y", model="a + b*x", lower=[2.0, None])
    assert bounded.values["p0"] == [2.0, 1.0]
    with pytest.raises(
        SettingsError, match="not linear in its parameters.*give 'p0' with one value for each of a, b, in this order"
    ) as info:
        fitflow.make_problem("table", file=str(csv), x="x", y="y", model="a*exp(b*x)")
    assert info.value.key == "p0"


def test_one_predictor_column_may_be_named_without_a_list(tmp_path):
    problem = fitflow.make_problem("table", file=str(good_csv(tmp_path)), x="x", y="y", **MODEL)
    assert problem.values["x"] == ["x"]


def test_fit_that_does_not_converge_is_a_failed_fit_with_the_optimisers_reason(tmp_path):
    data = fitflow.generate(table(good_csv(tmp_path), model="a*exp(b*x)", p0=[1.0, 0.1]))
    result, _, log = fitflow.core.pipeline.safe_fit(
        fitflow.make_method("nlls", max_nfev=2), data, np.random.default_rng(0)
    )
    assert result.status == "failed"
    assert "did not converge" in result.message and "maxfev" in result.message
    assert "failed:" in log


# -- dress rehearsal --------------------------------------------------------------------


def test_simulate_draws_from_the_model_at_the_given_truth():
    """Rehearsal data scatter around the model at ``truth`` with the given noise: the mean
    residual of 200 replicates at each x is within 4 standard errors of zero."""
    settings = fitflow.get_problem("simulate").fast_settings
    problem = fitflow.make_problem("simulate", **settings)
    draws = np.array([fitflow.generate(problem, seed=s).y for s in range(200)])
    data = fitflow.generate(problem, seed=0)
    expected = data.model(data.x, settings["truth"])
    error = (draws.mean(axis=0) - expected) / (settings["noise"] / np.sqrt(200))
    assert np.max(np.abs(error)) < 4.5  # 30 points: |z| > 4.5 has probability 2e-4 under the model
    assert np.std(draws - expected) == pytest.approx(settings["noise"], rel=0.05)
    assert data.truth_params == dict(zip(settings["params"], settings["truth"]))


@pytest.mark.slow
def test_nlls_intervals_are_calibrated_in_the_rehearsal():
    """Seeded: 150 replicates x 2 parameters; the 68% coverage has binomial sd 0.027,
    so it must lie within 0.68 +- 0.08 (3 sd)."""
    problem = fitflow.make_problem("simulate", **fitflow.get_problem("simulate").fast_settings)
    inside = []
    for seed in range(150):
        data = fitflow.generate(problem, seed=seed)
        inside.append(fitflow.evaluate(data, fitflow.fit("nlls", data))["coverage68"])
    assert abs(np.mean(inside) - 0.6827) < 0.08, np.mean(inside)


def test_calibration_verdict_names_calibrated_and_miscalibrated_methods():
    from fitflow.report.data import calibration_verdicts

    def level(ok):
        return {"value": 0.7, "n": 100, "low": 0.6, "high": 0.8, "ok": ok}

    rows = [
        {"case": "rehearsal", "method": "nlls", "settings": "default", "param68": level(True), "param95": level(True)},
        {"case": "rehearsal", "method": "emcee", "settings": "short", "param68": level(True), "param95": level(False)},
        {"case": "rehearsal", "method": "gp", "settings": "default", "band68": {"value": 0.7, "n": 10}},
    ]
    (verdict,) = calibration_verdicts(rows)
    assert verdict["calibrated"] == ["nlls"] and verdict["miscalibrated"] == ["emcee [short]"]
    assert verdict["without"] == ["gp"]


# -- optimisers on the user's own model ------------------------------------------


def test_a_bounded_model_is_a_black_box_and_an_open_one_says_why_not(tmp_path):
    path = good_csv(tmp_path)
    config = {
        "problems": {
            "open": {"plugin": "table", "settings": {"file": str(path), "sigma": "err", **MODEL}},
            "boxed": {
                "plugin": "table",
                "settings": {"file": str(path), "sigma": "err", **MODEL, "lower": [-10, -10], "upper": [10, 10]},
            },
        },
        "methods": {"nlls": {}, "bayesopt": {}},
    }
    plan = build_plan(config)
    assert sorted((p.problem.label, p.method.label) for p in plan.pairs) == [
        ("boxed", "bayesopt"),
        ("boxed", "nlls"),
        ("open", "nlls"),
    ]
    assert any(
        "finite lower and upper bound" in s["reason"]
        for s in plan.skipped
        if s["problem"] == "open" and s["method"] == "bayesopt"
    )
    # The objective is the chi-square that nlls minimises.
    data = fitflow.generate(table(path, lower=[-10, -10], upper=[10, 10]))
    theta = fitflow.fit("nlls", data).estimate_vector()
    chi_square = np.sum(((data.y - theta[0] - theta[1] * data.x) / data.sigma) ** 2)
    assert data.objective(theta) == pytest.approx(chi_square, rel=1e-12)


def test_an_optimiser_on_the_users_chi_square_finds_the_least_squares_answer_or_fails_saying_so(tmp_path):
    path = good_csv(tmp_path)
    # One bounded parameter: BO's 1-D search lands within a tenth of the standard error of
    # the weighted least-squares offset (0.0485 here) for every seed.
    one = fitflow.generate(table(path, model="a + 2*x", params=["a"], p0=[0.0], lower=[-5], upper=[5]))
    least_squares = fitflow.fit("nlls", one)
    for seed in range(3):
        result = fitflow.fit("bayesopt", one, seed=seed, budget=20)
        assert result.ok, result.message
        assert abs(result.params["a"] - least_squares.params["a"]) < 0.1 * least_squares.stderr_vector()[0]
    # Two parameters and 8 evaluations: the recommendation is far from the minimum, and
    # the chi-square check says so instead of labelling it ok.
    two = fitflow.generate(table(path, lower=[-10, -10], upper=[10, 10]))
    result = fitflow.fit("random_search", two, seed=0, budget=8)
    assert result.status == "failed" and "not converged: chi-square" in result.message


# -- arrays from a notebook --------------------------------------------------------


def test_a_measurement_from_arrays_is_the_table_of_the_same_file(tmp_path):
    csv = good_csv(tmp_path)
    observed = read_observations(csv, ["x"], "y", "err")
    from_file = fitflow.generate(table(csv))
    from_arrays = fitflow.measurement(observed.x, observed.y, observed.sigma, **MODEL)
    for column in ("x", "y", "sigma", "grid_x"):
        np.testing.assert_array_equal(getattr(from_arrays, column), getattr(from_file, column))
    assert from_arrays.capabilities == from_file.capabilities
    a, b = fitflow.fit("nlls", from_arrays), fitflow.fit("nlls", from_file)
    np.testing.assert_array_equal(a.estimate_vector(), b.estimate_vector())
    assert from_arrays.problem.input_files() == []


def test_a_measurement_with_several_columns_names_them_x1_x2_or_as_told():
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 1, size=(20, 2))
    y = 1.5 * x[:, 0] - 0.5 * x[:, 1] + 0.01 * rng.standard_normal(20)
    reference = np.linalg.lstsq(x, y, rcond=None)[0]  # the same unweighted least squares
    by_default = fitflow.fit("ols", fitflow.measurement(x, y, model="a*x1 + b*x2"))
    named = fitflow.fit("ols", fitflow.measurement(x, y, columns=["power", "gas"], model="a*power + b*gas"))
    np.testing.assert_allclose([by_default.params["a"], by_default.params["b"]], reference, rtol=1e-10)
    np.testing.assert_allclose([named.params["a"], named.params["b"]], reference, rtol=1e-10)


@pytest.mark.parametrize(
    "arrays, words",
    [
        ((np.arange(5.0), [1, 2, np.nan, 4, 5]), "column 'y', row 3: is NaN"),
        ((np.arange(5.0), np.arange(4.0)), "columns differ in length"),
        ((np.arange(5.0), np.arange(5.0), [1, 1, 0, 1, 1]), "column 'sigma', row 3: per-point errors must be > 0"),
        ((np.ones((5, 3)), np.arange(5.0)), "has shape (5, 3); expected (n,) or (n, 1) for the columns t"),
        ((np.arange(5.0), ["1", "2", "a", "4", "5"]), "is not an array of numbers"),
    ],
)
def test_bad_arrays_name_the_column_and_row(arrays, words):
    with pytest.raises(DataError) as info:
        fitflow.measurement(*arrays, columns=["t"])
    assert words in str(info.value) and "<arrays>" in str(info.value)


def test_a_callable_models_note_reads_as_a_sentence(tmp_path, monkeypatch):
    """It read "the model is a callable model cannot be checked for linearity" (issue 57)."""
    import fitflow

    monkeypatch.chdir(tmp_path)
    (tmp_path / "m.py").write_text("import numpy as np\n\ndef f(x, a, b):\n    return a * np.exp(-b * x)\n")
    (tmp_path / "d.csv").write_text("x,y\n0,1\n1,0.5\n2,0.25\n3,0.125\n")
    problem = fitflow.get_problem("table")(file="d.csv", model="m.py:f", p0=[1, 1])
    assert problem.capability_note.startswith("the model is not checked for linearity (a function")


@pytest.mark.parametrize("name", ["run<old>.csv", "data{1}.csv"])
def test_a_file_name_snakemake_would_misread_is_refused_at_plan_time(tmp_path, name):
    """run<old>.csv passed fitflow plan, then snakemake, even -n, stopped on an undefined
    path variable (issue 57)."""
    path = write(tmp_path, "x,y,err\n1,2,0.1\n2,3,0.1\n3,4,0.1\n", name=name)
    settings = {"file": str(path), "sigma": "err", **MODEL}
    with pytest.raises(ConfigError, match="Snakemake reads as a wildcard or a path variable.*rename the file"):
        build_plan({"problems": {"mine": {"plugin": "table", "settings": settings}}, "methods": {"nlls": {}}})
