"""fitflow's errors survive a trip through pickle, as a process pool sends them back: the
message and the attributes that say where, not a BrokenProcessPool in their place."""

from concurrent.futures import ProcessPoolExecutor
import pickle

import pytest

import fitflow
from fitflow.core import errors
from fitflow.inputs.expression import ExpressionError

EXAMPLES = [
    errors.FitflowError("plain"),
    errors.ConfigError("bad", source="c.yaml", key="methods.gp", value=3),
    errors.SettingsError("n_starts must be an int", plugin="bayesopt", key="n_starts", value="5"),
    errors.PluginNotFoundError("method", "gpp", ["gp", "nlls"]),
    errors.PluginLoadError("method", "x", "dist", ImportError("no module y")),
    errors.IncompatiblePairError("peak", "ols", {"linear"}, {"parametric"}),
    errors.ArtefactError("fit.json is truncated"),
    errors.DataError("not a number", file="d.csv", key="y", row=4, value="abc"),
    errors.ModelError("needs x", model="a*t"),
    ExpressionError("unknown name", expression="a*q", part="q"),
]


def test_every_error_class_has_an_example():
    classes = {c for c in vars(errors).values() if isinstance(c, type) and issubclass(c, errors.FitflowError)}
    assert classes <= {type(e) for e in EXAMPLES}


@pytest.mark.parametrize("error", EXAMPLES, ids=lambda e: type(e).__name__)
def test_an_error_round_trips_with_its_message_and_attributes(error):
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is type(error) and str(copy) == str(error)
    assert {k: repr(v) for k, v in vars(copy).items()} == {k: repr(v) for k, v in vars(error).items()}


def _bad_setting():
    fitflow.make_method("bayesopt", n_starts="5")


def test_a_settings_error_in_a_process_pool_reaches_the_caller_as_itself():
    with ProcessPoolExecutor(1) as pool, pytest.raises(errors.SettingsError, match="n_starts") as caught:
        pool.submit(_bad_setting).result()
    assert caught.value.plugin == "method 'bayesopt'" and caught.value.key == "n_starts"
