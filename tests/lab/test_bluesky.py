"""A campaign through a control system (issue 58): a Bluesky plan asks fitflow for each batch,
moves ophyd's simulated motors, triggers and reads a simulated detector whose reading is a noisy
function of the motors, and tells fitflow the readings; the run's documents rebuild the campaign."""

import numpy as np
import pytest

pytest.importorskip("bluesky", reason="needs the lab extra (pip install -e '.[lab]')")
pytest.importorskip("ophyd", reason="needs the lab extra (pip install -e '.[lab]')")

from bluesky import RunEngine  # noqa: E402
from ophyd.sim import SynAxis, SynSignal  # noqa: E402

import fitflow  # noqa: E402
from fitflow.campaigns.control import BlueskyCampaign  # noqa: E402

PEAK = (0.7, -0.4)
NOISE = 0.01


def beamline(seed=0):
    """Two simulated motors and a detector reading a peak of height 1 at PEAK, with noise."""
    rng = np.random.default_rng(seed)
    focus, power = SynAxis(name="focus"), SynAxis(name="power")

    def signal(focus, power):
        return float(np.exp(-((focus - PEAK[0]) ** 2) / 0.3 - (power - PEAK[1]) ** 2 / 0.5))

    charge = SynSignal(
        func=lambda: signal(focus.readback.get(), power.readback.get()) + NOISE * rng.standard_normal(), name="charge"
    )
    return focus, power, charge, signal


def run(campaign):
    documents = []
    RunEngine({})(campaign.plan(md={"sample": "test"}), lambda name, doc: documents.append((name, doc)))
    return documents


def test_the_plan_reaches_the_optimum_as_the_python_api_does():
    focus, power, charge, signal = beamline()
    dofs = {"focus": (focus, [0, 2]), "power": (power, [-2, 1])}
    campaign = BlueskyCampaign(dofs, [charge], "charge", budget=24, batch=4, seed=3)
    documents = run(campaign)
    assert [name for name, _ in documents].count("event") == 24
    best = campaign.recommendation
    # The peak's true value at the recommendation: within 2% of its height (the noise is 1%).
    assert signal(**best) > 0.98
    # The Python API on the same function, seed and shape, for comparison.
    rng = np.random.default_rng(0)
    api = fitflow.maximise(
        lambda focus, power: signal(focus, power) + NOISE * rng.standard_normal(),
        {"focus": [0, 2], "power": [-2, 1]},
        budget=24,
        batch=4,
        seed=3,
    )
    assert signal(**api.params) > 0.98
    assert campaign.assessment and campaign.assessment[0].startswith(("sure", "fairly sure", "unsure"))


def test_the_documents_rebuild_the_campaign_and_its_next_batch():
    focus, power, charge, _ = beamline(seed=1)
    dofs = {"focus": (focus, [0, 2]), "power": (power, [-2, 1])}
    campaign = BlueskyCampaign(dofs, [charge], "charge", budget=12, batch=4, seed=5)
    documents = run(campaign)
    start = documents[0][1]
    assert start["fitflow"]["objective"] == "charge" and start["sample"] == "test"
    rebuilt = BlueskyCampaign.from_documents(documents)
    np.testing.assert_array_equal(rebuilt.history.x, campaign.history.x)
    np.testing.assert_array_equal(rebuilt.history.y, campaign.history.y)
    assert rebuilt.recommendation == campaign.recommendation
    # The same next batch from the live campaign and from the record (round 4 of the seed).
    assert rebuilt.next_batch(4, 4) == campaign.next_batch(4, 4)


def test_a_motor_that_overshoots_is_recorded_where_it_went():
    """The read position is what was measured: a motor that settles 1% past its setpoint."""
    focus, power, charge, _ = beamline(seed=2)

    class Overshooting(SynAxis):
        def set(self, value, **kwargs):
            return super().set(value * 1.01 if value > 0 else value, **kwargs)

    loose = Overshooting(name="focus")
    dofs = {"focus": (loose, [0, 2]), "power": (power, [-2, 1])}
    campaign = BlueskyCampaign(dofs, [charge], "charge", budget=8, batch=4, seed=0)
    documents = run(campaign)
    events = [doc for name, doc in documents if name == "event"]
    read = np.array([event["data"]["focus"] for event in events])
    np.testing.assert_allclose(campaign.history.x[:, 0], read)
    assert np.all(read >= 0)
