import os
import subprocess
import sys

import numpy as np

from fitflow.core.seeding import make_rng, stable_words


def test_same_identity_same_stream_other_identity_other_stream():
    a = make_rng(1, ["dataset", "p", {"noise": 0.1}, 0]).standard_normal(5)
    b = make_rng(1, ["dataset", "p", {"noise": 0.1}, 0]).standard_normal(5)
    c = make_rng(1, ["dataset", "p", {"noise": 0.1}, 1]).standard_normal(5)
    d = make_rng(2, ["dataset", "p", {"noise": 0.1}, 0]).standard_normal(5)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c) and not np.array_equal(a, d)


def test_key_order_of_settings_does_not_matter():
    assert stable_words({"a": 1, "b": 2}) == stable_words({"b": 2, "a": 1})


def test_streams_do_not_depend_on_python_hash_randomisation():
    code = "from fitflow.core.seeding import make_rng; print(make_rng(5, ['fit', 'x', 3]).integers(0, 2**62))"
    outputs = {
        subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "PYTHONHASHSEED": seed},
        ).stdout
        for seed in ("0", "1", "12345")
    }
    assert len(outputs) == 1
