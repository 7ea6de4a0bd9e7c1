"""Property-based tests: readers and validators accept, or raise fitflow's own error.

Hypothesis throws random CSV text and random configs at ``read_observations``
and ``build_plan``. Whatever comes in, the only exception allowed out is a
:class:`~fitflow.core.errors.FitflowError` (whose message names file/key/value);
anything else (a KeyError, a pandas or numpy error leaking through) is a bug.
"""

import string

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
import numpy as np

from fitflow.core.errors import FitflowError
from fitflow.inputs.tables import read_observations
from fitflow.run.experiment import build_plan

CELLS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(-(10**6), 10**6).map(str),
    st.sampled_from(["", " ", "nan", "inf", "-inf", "1e309", "abc", '"', "'", "1,5", "#", "\\", "\x00", "é"]),
    st.text(alphabet=string.printable, max_size=6),
)
ROWS = st.lists(st.lists(CELLS, min_size=0, max_size=5), max_size=8)
HEADERS = st.lists(st.sampled_from(["x", "y", "err", "z", "", "x"]), min_size=0, max_size=5)
SEPARATORS = st.sampled_from([",", "\t", ";"])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    header=HEADERS,
    rows=ROWS,
    separator=SEPARATORS,
    suffix=st.sampled_from([".csv", ".tsv"]),
    sigma=st.sampled_from([None, "err"]),
)
def test_reader_accepts_or_raises_a_data_error(tmp_path_factory, header, rows, separator, suffix, sigma):
    path = tmp_path_factory.mktemp("csv") / f"data{suffix}"
    text = "\n".join(separator.join(r) for r in [header, *rows])
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    try:
        data = read_observations(path, ["x"], "y", sigma)
    except FitflowError as exc:
        assert str(path) in str(exc)
        return
    assert data.x.shape == data.y.shape and data.n_points >= 1
    assert np.all(np.isfinite(data.x)) and np.all(np.isfinite(data.y))
    if sigma:
        assert np.all(data.sigma > 0)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=200))
def test_reader_survives_arbitrary_bytes(tmp_path_factory, data):
    for suffix in (".csv", ".npz"):
        path = tmp_path_factory.mktemp("bin") / f"data{suffix}"
        path.write_bytes(data)
        try:
            read_observations(path, ["x"], "y")
        except FitflowError as exc:
            assert str(path) in str(exc)


SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 5),
    st.floats(allow_nan=True),
    st.text(max_size=5),
    st.sampled_from(["ols", "nlls", "gp", "table", "noise", "gaussian_peak"]),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=6), inner, max_size=3)),
    max_leaves=8,
)
SETTINGS = st.dictionaries(
    st.sampled_from(["noise", "n_points", "nosie", "file", "model", "bounded", "max_nfev"]), VALUES, max_size=3
)
ENTRY = st.one_of(
    st.none(),
    VALUES,
    st.fixed_dictionaries(
        {},
        optional={
            "plugin": st.sampled_from(["gaussian_peak", "table", "nlls", "ols", "gp", "nope", 3]),
            "settings": st.one_of(SETTINGS, VALUES),
            "sweep": st.one_of(
                st.dictionaries(st.sampled_from(["noise", "n_points", "bounded", "zzz"]), VALUES, max_size=2), VALUES
            ),
            "methods": st.one_of(st.lists(st.sampled_from(["nlls", "ols", "gp", "x"]), max_size=3), VALUES),
        },
    ),
)
CONFIGS = st.fixed_dictionaries(
    {},
    optional={
        "experiment": st.one_of(st.text(max_size=8), VALUES),
        "seed": VALUES,
        "replicates": st.one_of(st.integers(-2, 4), VALUES),
        "batch_size": st.one_of(st.integers(-2, 4), VALUES),
        "problems": st.one_of(
            st.dictionaries(st.sampled_from(["gaussian_peak", "cosine_series", "mine", "1bad"]), ENTRY, max_size=2),
            VALUES,
        ),
        "methods": st.one_of(st.dictionaries(st.sampled_from(["nlls", "ols", "gp", "m2"]), ENTRY, max_size=2), VALUES),
    },
)


@settings(max_examples=300, deadline=None)
@given(config=CONFIGS)
def test_plan_builder_accepts_or_raises_a_fitflow_error(config):
    try:
        plan = build_plan(config, source="random.yaml")
    except FitflowError as exc:
        assert str(exc).startswith("random.yaml"), str(exc)
        return
    assert plan.pairs and plan.replicates >= 1
