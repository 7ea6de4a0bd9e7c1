"""The fitflow command line: check (every check on its own, a summary, --problem, unknown
names), plan (what is fitted and what is skipped, with reasons)."""

import io

import pytest

from conftest import write_config
from fitflow.cli import check_plugin, main, show_plan
from fitflow.core.errors import PluginNotFoundError


def test_check_reports_every_check_and_ends_with_a_summary():
    out = io.StringIO()
    failed = check_plugin("ols", out=out)
    lines = out.getvalue().splitlines()
    assert failed == 0
    assert any(line.startswith("XFAIL check_fit_result_fields[blurred_signal]") for line in lines)
    assert any(line.startswith("PASS check_fit_result_fields[cosine_series]") for line in lines)
    assert lines[-1].startswith("method 'ols': ") and "0 failed" in lines[-1] and "1 xfail" in lines[-1]


def test_check_on_one_problem_and_skips_with_the_reason():
    out = io.StringIO()
    assert check_plugin("nlls", out=out, problem="gaussian_peak") == 0
    names = [line.split()[1] for line in out.getvalue().splitlines() if line.startswith("PASS")]
    assert "check_fit_result_fields[gaussian_peak]" in names
    assert not any("[table]" in n for n in names)


def test_check_of_an_unknown_name_says_neither_a_method_nor_a_problem(capsys):
    with pytest.raises(PluginNotFoundError) as info:
        check_plugin("nosuch", out=io.StringIO())
    assert "fitflow.problems or fitflow.methods" in str(info.value) and "nosuch" in str(info.value)
    assert main(["check", "nosuch"]) == 2
    assert "no fitflow.problems or fitflow.methods plugin named 'nosuch'" in capsys.readouterr().err


def test_plan_lists_fits_and_skipped_pairs_with_reasons(tmp_path):
    config = {
        "experiment": "plan",
        "seed": 0,
        "replicates": 1,
        "problems": {"peak": {"plugin": "gaussian_peak"}, "curve": {"plugin": "smooth_function"}},
        "methods": {"ols": {}, "nlls": {}, "gp": {}},
    }
    path = tmp_path / "c.yaml"
    write_config(config, path)
    out = io.StringIO()
    assert show_plan(str(path), out=out) == 0
    text = out.getvalue()
    assert "fit  peak [default] with nlls [default]" in text
    assert "skip peak with ols: the method serves ['linear']" in text


def test_plan_says_why_a_model_is_linear(tmp_path):
    data = tmp_path / "d.csv"
    data.write_text("x,y\n0,1\n1,3.1\n2,4.9\n3,7.2\n")
    config = {
        "experiment": "plan",
        "seed": 0,
        "replicates": 1,
        "problems": {
            "line": {
                "plugin": "table",
                "settings": {"file": str(data), "model": "a + b*x", "params": ["a", "b"], "p0": [0, 0], "cv_folds": 0},
            }
        },
        "methods": {"ols": {}},
    }
    path = tmp_path / "c.yaml"
    write_config(config, path)
    out = io.StringIO()
    show_plan(str(path), out=out)
    assert "line/default: the model is linear in its parameters" in out.getvalue()
    assert "fit  line [default] with ols [default]" in out.getvalue()


def test_show_prints_one_fit_by_its_identity(tmp_path, capsys):
    import json

    import fitflow
    from fitflow.core.artefacts import write_json, write_result

    data = fitflow.generate("gaussian_peak", seed=1)
    result = fitflow.fit("nlls", data, seed=1)
    folder = tmp_path / "fits" / "gaussian_peak" / "default" / "nlls" / "default" / "rep-3"
    write_result(result, folder)
    metrics = fitflow.evaluate(data, result)
    write_json(folder / "metrics.json", metrics)
    assert main(["show", str(tmp_path), "gaussian_peak/nlls/3"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["id"] == "gaussian_peak/default/nlls/default/rep-3"
    assert shown["result"]["params"]["mu"] == pytest.approx(result.params["mu"])
    assert shown["metrics"]["chi2_dof"] == pytest.approx(metrics["chi2_dof"])
    assert main(["show", str(tmp_path), "gaussian_peak/nlls/4"]) == 2
    assert (
        "no fit gaussian_peak/default/nlls/default/rep-4; fits here: gaussian_peak/default/nlls/default/rep-3"
        in capsys.readouterr().err
    )


def test_show_draws_a_fit_on_demand_as_the_fit_job_would(tmp_path, capsys):
    import fitflow
    from fitflow.core.artefacts import write_dataset, write_result
    from fitflow.evaluation.plots import plot_fit

    data = fitflow.generate("gaussian_peak", seed=1)
    result = fitflow.fit("nlls", data, seed=1)
    write_dataset(data, tmp_path / "datasets" / "gaussian_peak" / "default" / "rep-2")
    write_result(result, tmp_path / "fits" / "gaussian_peak" / "default" / "nlls" / "default" / "rep-2")
    assert main(["show", str(tmp_path), "gaussian_peak/nlls/2", "--figure", str(tmp_path / "drawn.png")]) == 0
    plot_fit(data, result, tmp_path / "job.png", title="gaussian_peak / nlls / rep 2")  # what the job draws
    assert (tmp_path / "drawn.png").read_bytes() == (tmp_path / "job.png").read_bytes()
    # A fit whose dataset is gone: a clear error naming the missing file, and no figure.
    write_result(result, tmp_path / "fits" / "gaussian_peak" / "default" / "nlls" / "default" / "rep-5")
    capsys.readouterr()
    assert main(["show", str(tmp_path), "gaussian_peak/nlls/5", "--figure", str(tmp_path / "none.png")]) == 2
    assert "datasets/gaussian_peak/default/rep-5/dataset.json" in capsys.readouterr().err
    assert not (tmp_path / "none.png").exists()


def test_compare_fits_one_file_with_every_method_asked_and_writes_the_table(tmp_path, capsys):
    import numpy as np
    import pandas as pd

    import fitflow

    rng = np.random.default_rng(3)
    t = np.linspace(0, 5, 25)
    signal = 2.5 * (1 - np.exp(-0.45 * t)) + 0.05 * rng.standard_normal(25)
    data = tmp_path / "sat.csv"
    pd.DataFrame({"t": t, "signal": signal, "error": 0.05}).to_csv(data, index=False)
    out = tmp_path / "table.csv"
    code = main(
        [
            "compare",
            str(data),
            "--x",
            "t",
            "--y",
            "signal",
            "--sigma",
            "error",
            "--model",
            "b1*(1 - exp(-b2*t))",
            "--p0",
            "1",
            "1",
            "--lower",
            "0",
            "none",
            "--methods",
            "nlls,spline,ols",
            "--csv",
            str(out),
        ]
    )
    printed = capsys.readouterr().out
    assert code == 0 and "ols: skipped: serves ['linear']" in printed
    table = pd.read_csv(out).set_index("method")
    # The same fit as the Python API's, on the same file.
    direct = fitflow.fit(
        "nlls", fitflow.measurement(t, signal, np.full(25, 0.05), columns=["t"], model="b1*(1 - exp(-b2*t))", p0=[1, 1])
    )
    assert table.loc["nlls", "param.b1"] == pytest.approx(direct.params["b1"], rel=1e-9)
    assert list(table.status) == ["ok", "ok", "skipped"]


def test_compare_names_what_is_missing(tmp_path, capsys):
    data = tmp_path / "d.csv"
    data.write_text("x,y\n0,1\n1,2\n2,4\n3,8\n")
    assert main(["compare", str(data), "--model", "a*exp(b*x)"]) == 2
    assert "give 'p0' with one value for each of a, b" in capsys.readouterr().err
