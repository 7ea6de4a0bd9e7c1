"""Fault injection, configs and input sizes (issue 34, items 9-10): limits are checked before
anything is allocated, and `fitflow plan` refuses what the Snakefile refuses, with the file
and key named, never a traceback."""

import resource
import time
import zipfile

import numpy as np
import pytest

from conftest import run_snakemake, write_config
from fitflow.cli import main
from fitflow.core.errors import ConfigError, DataError
from fitflow.inputs.tables import read_observations
from fitflow.run.config_file import read_config
from fitflow.run.experiment import MAX_FITS, build_plan

GOOD = {
    "experiment": "x",
    "seed": 1,
    "replicates": 2,
    "problems": {"gaussian_peak": {"methods": ["nlls"]}},
    "methods": {"nlls": {}},
}


def fake_npz(path, **headers):
    """An NPZ whose members carry only an array header (shape, dtype) and a few bytes: what a
    reader that trusts the data would try to allocate in full."""
    with zipfile.ZipFile(path, "w") as archive:
        for name, (shape, dtype) in headers.items():
            header = {"descr": np.lib.format.dtype_to_descr(np.dtype(dtype)), "fortran_order": False, "shape": shape}
            with archive.open(f"{name}.npy", "w") as member:
                np.lib.format.write_array_header_1_0(member, header)
                member.write(b"\0" * 64)
    return path


def measurement(tmp_path, n=20):
    path = tmp_path / "m.csv"
    path.write_text("x,y,e\n" + "".join(f"{i},{1.0},0.01\n" for i in range(n)))
    return path


def deconvolution_plan(tmp_path, response):
    config = {
        "problems": {"m": {"plugin": "blurred_measurement", "settings": {"file": str(measurement(tmp_path))}}},
        "methods": {"tikhonov": {}},
    }
    config["problems"]["m"]["settings"]["response_file"] = str(response)
    return build_plan(config, source="exp.yaml")


def peak_memory_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# -- item 9: limits before allocation ---------------------------------------------------------


def test_a_huge_response_matrix_of_the_wrong_shape_is_refused_from_its_header(tmp_path):
    before = peak_memory_mb()
    with pytest.raises(ConfigError, match=r"R.npz.*'R'.*\(20000, 20000\).*one row per measurement \(20\)"):
        deconvolution_plan(tmp_path, fake_npz(tmp_path / "R.npz", R=((20000, 20000), "f8")))
    assert peak_memory_mb() - before < 500  # the 3.2 GB matrix was never read


def test_a_response_matrix_too_big_for_this_machine_is_refused_with_the_estimate(tmp_path):
    with pytest.raises(ConfigError, match=r"'R'.*has shape \(20, 10000000000\): 1600.0 GB as float64, more than half"):
        deconvolution_plan(tmp_path, fake_npz(tmp_path / "R.npz", R=((20, 10**10), "f8")))


@pytest.mark.parametrize(
    "dtype, fragment",
    [("c16", "complex numbers"), ("O", "Python objects"), ("U5", "text, not numbers"), ("M8[s]", "dates")],
)
def test_complex_object_and_text_arrays_are_refused_by_name(tmp_path, dtype, fragment):
    with pytest.raises(ConfigError, match=rf"R.npz.*'R'.*{fragment}"):
        deconvolution_plan(tmp_path, fake_npz(tmp_path / "R.npz", R=((20, 5), dtype)))
    np.savez(tmp_path / "t.npz", x=np.arange(3.0), y=np.arange(3) * (1 + 1j))
    with pytest.raises(DataError, match=r"t.npz.*'y'.*complex numbers"):
        read_observations(tmp_path / "t.npz", ["x"], "y")


def test_a_billion_replicates_are_refused_at_once(tmp_path):
    start = time.perf_counter()
    with pytest.raises(ConfigError, match=r"key 'replicates'.*1,000,000,000 replicates is more than the 10,000,000"):
        build_plan({**GOOD, "replicates": 10**9}, source="exp.yaml")
    assert time.perf_counter() - start < 5


def test_a_sweep_whose_fits_exceed_the_limit_is_refused_with_the_count():
    config = {**GOOD, "replicates": MAX_FITS // 2, "problems": {"gaussian_peak": {"sweep": {"noise": [0.1, 0.2, 0.3]}}}}
    with pytest.raises(ConfigError, match=r"asks for 15,000,000 fits \(3 \(problem, method\) pairs"):
        build_plan(config, source="exp.yaml")


# -- item 10: one schema for plan and snakemake ----------------------------------------------


@pytest.mark.parametrize(
    "change, key, fragment",
    [
        ({"fit_timeout_s": -1}, "fit_timeout_s", "less than the minimum of 0"),
        ({"methods": {"nlls": {"resources": {"threads": 0}}}}, "methods.nlls.resources.threads", "minimum of 1"),
        ({"problmes": {}}, None, "'problmes' was unexpected"),
        ({"chunks": "many"}, "chunks", "many"),
    ],
)
def test_plan_refuses_what_the_schema_refuses_naming_the_key(tmp_path, capsys, change, key, fragment):
    path = tmp_path / "c.yaml"
    write_config({**GOOD, **change}, path)
    with pytest.raises(ConfigError) as info:
        read_config(path)
    assert info.value.source == str(path) and info.value.key == key and fragment in str(info.value)
    assert main(["plan", str(path)]) == 2
    assert fragment in capsys.readouterr().err


@pytest.mark.parametrize(
    "text, fragment",
    [("- a\n- b\n", "a mapping of keys"), ("", "the config is empty"), ("a: [b\n", "not valid YAML")],
)
def test_plan_names_a_yaml_file_that_is_a_list_empty_or_broken(tmp_path, capsys, text, fragment):
    path = tmp_path / "c.yaml"
    path.write_text(text)
    assert main(["plan", str(path)]) == 2
    err = capsys.readouterr().err
    assert str(path) in err and fragment in err and "Traceback" not in err


@pytest.mark.slow
def test_snakemake_refuses_the_same_config_with_the_same_message(tmp_path):
    path = tmp_path / "c.yaml"
    write_config({**GOOD, "fit_timeout_s": -1}, path)
    proc = run_snakemake(tmp_path, "-n", configfile=path, check=False)
    assert proc.returncode != 0
    assert "key 'fit_timeout_s': -1 is less than the minimum of 0" in proc.stderr + proc.stdout


@pytest.mark.parametrize(
    "method, settings",
    [
        ("vnn", {"learning_rate": 0}),  # trained nothing for 134 s and came back ok
        ("gradient_descent", {"learning_rate": 0}),
        ("nuts", {"max_divergent_fraction": 2.0}),
        ("nuts", {"init_scale": 0}),  # every chain from one point: R-hat compares nothing
    ],
)
def test_meaningless_method_settings_are_refused_naming_the_key(method, settings):
    """Issue 57: each was accepted."""
    import fitflow

    key = next(iter(settings))
    with pytest.raises(fitflow.SettingsError, match=f"'{key}' setting of method '{method}'"):
        fitflow.make_method(method, **settings)


@pytest.mark.parametrize("key, value", [("mem_mb", 999_999_999), ("runtime", 99_999_999), ("threads", 100_000)])
def test_resources_no_scheduler_grants_are_refused_naming_the_key(key, value):
    """Issue 57: mem_mb 999999999 reached SLURM as 1000 TB."""
    from fitflow import ConfigError
    from fitflow.run.config_file import validate_config

    config = {
        "experiment": "big",
        "seed": 0,
        "replicates": 1,
        "problems": {"cosine_series": {}},
        "methods": {"ols": {"resources": {key: value}}},
    }
    with pytest.raises(ConfigError, match=rf"key 'methods\.ols\.resources\.{key}'.*greater than the maximum"):
        validate_config(config)
