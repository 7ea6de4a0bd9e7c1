"""Own data, the first hour (issue 35): starting values and bounds by name, standard errors
in `compare`'s table, rows with missing values dropped on request, and the current
recommendation of an ask/tell campaign without appending rows."""

import io
import time

import numpy as np
import pytest
import scipy.optimize

import fitflow
from fitflow import SettingsError
from fitflow.cli import main
from fitflow.core.pipeline import make_method, safe_fit
from fitflow_plugins.methods.least_squares.nlls import NonLinearLeastSquares

T = np.linspace(0, 4, 60)


def periodic(t, A, P, d):
    return A * np.sin(2 * np.pi * t / P) + d


def periodic_csv(tmp_path, missing_rows=()):
    rng = np.random.default_rng(5)
    y = periodic(T, 1.5, 1.3, 2.0) + rng.normal(0, 0.05, T.size)
    lines = ["t,y"]
    for i, (t, v) in enumerate(zip(T, y)):
        lines.append(f"{float(t)!r}," + ("" if i in missing_rows else f"{float(v)!r}"))
    path = tmp_path / "periodic.csv"
    path.write_text("\n".join(lines) + "\n")
    return path, y


MODEL = {"x": ["t"], "y": "y", "model": "A*sin(2*pi*t/P) + d", "params": ["A", "P", "d"], "cv_folds": 0}


def test_p0_by_name_is_put_in_the_models_order(tmp_path):
    path, y = periodic_csv(tmp_path)
    by_name = fitflow.generate("table", file=str(path), **MODEL, p0={"d": 2.0, "P": 1.2, "A": 1.0})
    assert by_name.problem.values["p0"] == [1.0, 1.2, 2.0]  # A, P, d: the order of params
    result = fitflow.fit("nlls", by_name)
    reference, _ = scipy.optimize.curve_fit(periodic, T, y, p0=[1.0, 1.2, 2.0])
    # The least-squares optimum from the same start: curve_fit and nlls agree to 1e-6.
    np.testing.assert_allclose([result.params[k] for k in ("A", "P", "d")], reference, rtol=1e-6)


def test_bounds_by_name_leave_out_what_has_no_bound(tmp_path):
    path, _ = periodic_csv(tmp_path)
    data = fitflow.generate("table", file=str(path), **MODEL, p0={"A": 1, "P": 1.2, "d": 2}, lower={"P": 0.5})
    assert data.problem.values["lower"] == [None, 0.5, None]
    result = fitflow.fit("nlls", data)
    assert result.ok and result.params["P"] > 0.5


@pytest.mark.parametrize(
    "p0, fragment",
    [({"A": 1, "P": 1.2}, "gives no value for d"), ({"A": 1, "P": 1, "d": 2, "e": 0}, "'e' is not a parameter")],
)
def test_p0_by_name_must_name_each_parameter_once(tmp_path, p0, fragment):
    path, _ = periodic_csv(tmp_path)
    with pytest.raises(SettingsError, match=fragment):
        fitflow.generate("table", file=str(path), **MODEL, p0=p0)


def test_compare_on_the_command_line_takes_p0_by_name_and_shows_standard_errors(tmp_path):
    path, y = periodic_csv(tmp_path)
    csv = tmp_path / "table.csv"
    argv = ["compare", str(path), "--x", "t", "--y", "y", "--model", "A*sin(2*pi*t/P) + d"]
    argv += ["--params", "A", "P", "d", "--p0", "P=1.2", "d=2", "A=1", "--methods", "nlls", "--csv", str(csv)]
    assert main(argv) == 0
    import pandas as pd

    table = pd.read_csv(csv)
    row = table[table.method == "nlls"].iloc[0]
    _, covariance = scipy.optimize.curve_fit(periodic, T, y, p0=[1.0, 1.2, 2.0])
    # Standard errors as curve_fit's (its covariance scaled by the residual variance): 1e-4.
    np.testing.assert_allclose(
        [row["stderr.A"], row["stderr.P"], row["stderr.d"]], np.sqrt(np.diag(covariance)), rtol=1e-4
    )


def test_rows_with_a_missing_value_are_an_error_unless_dropped(tmp_path):
    path, y = periodic_csv(tmp_path, missing_rows=(3, 17, 40))
    with pytest.raises(
        fitflow.DataError, match=r"column 'y', row 4: is not a number \(a missing value: set 'missing: drop'"
    ):
        fitflow.generate("table", file=str(path), **MODEL, p0=[1, 1.2, 2])
    data = fitflow.generate("table", file=str(path), **MODEL, p0=[1, 1.2, 2], missing="drop")
    assert data.n_points == T.size - 3 and data.meta["dropped_rows"] == [4, 18, 41]
    keep = np.setdiff1d(np.arange(T.size), [3, 17, 40])
    reference, _ = scipy.optimize.curve_fit(periodic, T[keep], y[keep], p0=[1.0, 1.2, 2.0])
    result, _, log = safe_fit(make_method("nlls"), data, np.random.default_rng(0))
    np.testing.assert_allclose([result.params[k] for k in ("A", "P", "d")], reference, rtol=1e-6)
    assert "3 data row(s) with a missing value were left out (rows 4, 18, 41)" in log


def test_a_bad_cell_after_dropped_rows_is_named_by_its_row_in_the_file(tmp_path):
    path, _ = periodic_csv(tmp_path, missing_rows=(1,))
    lines = path.read_text().splitlines()
    lines[6] = lines[6].split(",")[0] + ",abc"  # data row 6
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(fitflow.DataError, match=r"column 'y', row 6: is not a number"):
        fitflow.generate("table", file=str(path), **MODEL, p0=[1, 1.2, 2], missing="drop")


def test_suggest_n_0_prints_the_recommendation_and_leaves_the_log(tmp_path, capsys):
    campaign = tmp_path / "campaign.yaml"
    campaign.write_text("parameters: {x: [0, 1]}\nlog: shots.csv\nseed: 1\nnoise_sd: 0.0\n")
    assert main(["suggest", str(campaign), "--n", "0"]) == 0
    assert "nothing to recommend" in capsys.readouterr().out
    log = tmp_path / "shots.csv"
    log.write_text("x,value,error\n" + "".join(f"{x},{(x - 0.3) ** 2},\n" for x in (0.0, 0.2, 0.5, 0.8, 1.0)))
    before = log.read_bytes()
    assert main(["suggest", str(campaign), "--n", "0"]) == 0
    printed = capsys.readouterr().out
    assert "recommended so far: x = " in printed and "measure next" not in printed
    assert log.read_bytes() == before


class _Sleeps(NonLinearLeastSquares):
    """nlls that never returns on its own (for the time limit)."""

    name = "sleeps"

    def fit(self, dataset, rng):
        while True:
            time.sleep(0.01)


class _Interrupted(NonLinearLeastSquares):
    """nlls during which the user presses Ctrl-C."""

    name = "interrupted"

    def fit(self, dataset, rng):
        raise KeyboardInterrupt


def test_compare_says_what_it_does_limits_each_fit_and_survives_ctrl_c(tmp_path):
    path, _ = periodic_csv(tmp_path)
    data = fitflow.generate("table", file=str(path), **MODEL, p0=[1, 1.2, 2])
    progress = io.StringIO()
    start = time.perf_counter()
    table = fitflow.compare(
        data, methods=["nlls", _Sleeps(), _Interrupted(), "emcee"], progress=progress, timeout_s=0.5
    )
    assert time.perf_counter() - start < 30
    rows = table.set_index("method")
    assert rows.loc["nlls", "status"] == "ok" and rows.loc["nlls", "setup_s"] >= 0
    assert rows.loc["sleeps", "status"] == "failed" and "timed out after 0.5 s" in rows.loc["sleeps", "message"]
    assert "stopped by Ctrl-C" in rows.loc["interrupted", "message"] and "emcee" not in rows.index
    assert table.attrs["interrupted"]  # the command exits 130
    lines = progress.getvalue().splitlines()
    assert (
        lines[0].startswith("nlls: fitting (limit 0.5 s) ... ok in ") and "interrupted during interrupted" in lines[-1]
    )


def test_ctrl_c_in_the_compare_command_names_the_method_and_exits_130(tmp_path):
    """It exited 0 and named the stopped method "(interrupted)" (issue 57)."""
    import os
    import signal
    import subprocess
    import sys

    path, _ = periodic_csv(tmp_path)
    command = [sys.executable, "-m", "fitflow", "compare", str(path), "--x", "t", "--y", "y", "--model", MODEL["model"],
               "--params", "A", "P", "d", "--p0", "1", "1.2", "2", "--methods", "nlls,emcee", "--budget", "0",
               "--cv-folds", "0"]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    said = b""
    while b"emcee: fitting" not in said:  # the progress line ends only when the fit does
        chunk = os.read(process.stderr.fileno(), 4096)
        assert chunk, said.decode()
        said += chunk
    time.sleep(0.3)
    process.send_signal(signal.SIGINT)
    out, err = (part.decode() for part in process.communicate(timeout=60))
    err = said.decode() + err
    assert process.returncode == 130, out + err
    assert "emcee: skipped: stopped by Ctrl-C while it ran" in out and "interrupted during emcee" in err


def _delayed(name, seconds):
    """An nlls method called ``name`` that waits ``seconds`` before each fit."""

    class Delayed(NonLinearLeastSquares):
        def fit(self, dataset, rng):
            time.sleep(seconds)
            return super().fit(dataset, rng)

    Delayed.name = name
    return Delayed()


def test_compare_keeps_to_its_budget_and_says_what_would_let_a_slow_method_run(tmp_path):
    # A 3 s budget with 2-fold cross-validation: each fit may take a third of what is left.
    # The slow method's fit is stopped at its share (about 1 s), not at its own 10 s, and the
    # methods after it still run and are cross-validated.
    path, _ = periodic_csv(tmp_path)
    data = fitflow.generate("table", file=str(path), **{**MODEL, "cv_folds": 2}, p0=[1, 1.2, 2])
    progress = io.StringIO()
    start = time.perf_counter()
    table = fitflow.compare(data, methods=["nlls", _delayed("slow", 10.0), "spline"], progress=progress, budget_s=3.0)
    elapsed = time.perf_counter() - start
    assert elapsed < 3.0 + 0.5, progress.getvalue()  # the budget, plus the table's own bookkeeping
    rows = table.set_index("method")
    assert rows.loc["slow", "status"] == "skipped"
    message = rows.loc["slow", "message"]
    assert "would not finish in the budget" in message and "--budget" in message and "budget_s" in message
    assert rows.loc["slow", "wall_time_s"] < 1.2  # its share: a third of the ~3 s left
    for name in ("nlls", "spline"):
        assert rows.loc[name, "status"] == "ok" and np.isfinite(rows.loc[name, "cv_rmse"])
    assert progress.getvalue().splitlines()[-1].startswith("compared in ")


def test_cross_validation_stops_when_the_folds_left_would_run_past_the_deadline(tmp_path):
    from fitflow.evaluation.crossval import cross_validation_rmse

    path, _ = periodic_csv(tmp_path)
    data = fitflow.generate("table", file=str(path), **MODEL, p0=[1, 1.2, 2])
    started = time.perf_counter()
    rmse, note = cross_validation_rmse(
        _delayed("steady", 0.3), data, np.random.default_rng(0), 5, deadline=started + 1.0
    )
    # at 0.3 s a fold, five need 1.5 s: it stops after fold 1, 2 or 3, as soon as it can tell
    assert np.isnan(rmse) and "stopped after" in note and "of 5 folds" in note, note
    assert time.perf_counter() - started < 1.0
    rmse, note = cross_validation_rmse(
        _delayed("steady", 0.3), data, np.random.default_rng(0), 5, deadline=started + 60.0
    )
    assert np.isfinite(rmse) and "stopped" not in note


@pytest.mark.parametrize(
    "spec", ["models/periodic.py:wave", "mywaves:wave"], ids=["file.py:function", "module:function"]
)
def test_a_table_model_may_be_a_function_in_a_file_or_a_module_here(tmp_path, monkeypatch, spec):
    path, y = periodic_csv(tmp_path)
    source = "import numpy as np\n\ndef wave(t, A, P, d):\n    return A * np.sin(2 * np.pi * t / P) + d\n"
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "periodic.py").write_text(source)
    (tmp_path / "mywaves.py").write_text(source)
    monkeypatch.chdir(tmp_path)  # where a job runs: no PYTHONPATH needed for either form
    monkeypatch.setattr("sys.path", [p for p in __import__("sys").path if p not in ("", str(tmp_path))])
    settings = {"x": ["t"], "y": "y", "model": spec, "p0": {"A": 1, "P": 1.2, "d": 2}, "cv_folds": 0}
    data = fitflow.generate("table", file="periodic.csv", **settings)
    assert data.problem.values["params"] == ["A", "P", "d"]  # read from the function's arguments
    result = fitflow.fit("nlls", data)
    reference, _ = scipy.optimize.curve_fit(periodic, T, y, p0=[1.0, 1.2, 2.0])
    np.testing.assert_allclose([result.params[k] for k in ("A", "P", "d")], reference, rtol=1e-6)
    expected = ["periodic.csv"] + (["models/periodic.py"] if spec.startswith("models/") else [])
    assert data.problem.input_files() == expected  # editing the model's file reruns its fits
