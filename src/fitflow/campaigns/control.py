"""A campaign driven through a control system: a Bluesky plan that asks fitflow for each batch.

Facilities move motors and read detectors through Bluesky's RunEngine and ophyd devices. A
:class:`BlueskyCampaign` is the experimenter's loop as one Bluesky run:

1. ask the optimiser for a batch (``suggest``, round ``k`` drawing from ``round_rng(seed, k)``,
   as :func:`~fitflow.campaigns.campaign.minimise` and ``fitflow suggest`` do);
2. for each point, move the motors (``bps.mv``), trigger and read the detectors and the motors
   (``bps.trigger_and_read``);
3. tell the optimiser what was read: the motors' *read* positions (an overshoot is data) and
   the objective's reading, with any constrained readings.

The run's start document carries the campaign (``md["fitflow"]``: parameters, objective,
direction, method, settings, seed, shape) and each event one shot, so
:meth:`BlueskyCampaign.from_documents` rebuilds the campaign and its history from the data
broker's record alone, and the same next batch follows.

Bluesky and ophyd come with the ``lab`` extra (``pip install -e '.[lab]'``); this module
imports them only when a plan runs.
"""

import math

import numpy as np

from ..core.errors import ConfigError
from ..inputs.constraints import parse_constraints
from ..inputs.objective import Observation
from ..inputs.space import SearchSpace
from .campaign import History, campaign_shape, in_callers_sign, recommend, round_rng, round_sizes

__all__ = ["BlueskyCampaign", "INSTALL_LAB"]

#: How to install what a plan needs.
INSTALL_LAB = "pip install -e '.[lab]' (Bluesky and ophyd)"


class BlueskyCampaign:
    """An optimisation campaign run by Bluesky's RunEngine on ophyd devices.

    ``dofs``: ``{name: (motor, bounds)}``, ``bounds`` ``[lower, upper]`` or a parameter
    mapping as in a campaign file (``{bounds: [1, 8], type: int}``, ``scale: log``);
    ``detectors``: the devices to trigger and read at each point; ``objective``: the data key
    of the reading to optimise; ``constraints``: ``{data key: "<= 0.05"}``; ``budget``,
    ``batch``, ``method``, ``seed``, ``noise_sd`` and the optimiser's ``settings`` as for
    :func:`~fitflow.campaigns.campaign.minimise`.

    After ``RE(campaign.plan())``: ``history``, ``recommendation`` (``{name: value}``),
    ``value`` and ``sd`` (the user's sign) and ``assessment``.
    """

    def __init__(
        self,
        dofs,
        detectors,
        objective,
        direction="maximise",
        budget=30,
        batch=1,
        method="bayesopt",
        seed=0,
        noise_sd=None,
        constraints=None,
        **settings,
    ):
        from ..core.pipeline import make_method

        source = "BlueskyCampaign"
        if direction not in ("minimise", "maximise"):
            raise ConfigError("must be minimise or maximise", source=source, key="direction", value=direction)
        self.motors = {name: motor for name, (motor, _) in dofs.items()}
        self.space = SearchSpace.from_config({name: bounds for name, (_, bounds) in dofs.items()}, source=source)
        choices = [p.name for p in self.space.parameters if p.kind == "choice"]
        if choices:
            raise ConfigError(
                "a motor takes a number: a choice cannot be a degree of freedom",
                source=source,
                key=f"dofs.{choices[0]}",
            )
        self.detectors = list(detectors)
        self.objective = str(objective)
        self.direction, self.sign = direction, -1.0 if direction == "maximise" else 1.0
        self.constraint_spec = dict(constraints or {})
        self.constraints = parse_constraints(self.constraint_spec or None, source=source)
        self.seed, self.noise_sd = int(seed), noise_sd
        self.method_name, self.settings = method, {"budget": int(budget), "batch": int(batch), **settings}
        self.method = make_method(method, **self.settings)
        self.history = History(self.space, noise_sd=noise_sd, constraints=self.constraints)
        self.best = None

    # -- the record -------------------------------------------------------------------

    def metadata(self):
        """What the run's start document records under ``fitflow``: enough to rebuild the campaign."""
        return {
            "parameters": self.space.to_config(),
            "motors": {name: self._key(motor) for name, motor in self.motors.items()},
            "objective": self.objective,
            "direction": self.direction,
            "constraints": self.constraint_spec,
            "method": self.method_name,
            "settings": self.settings,
            "seed": self.seed,
            "noise_sd": self.noise_sd,
        }

    @staticmethod
    def _key(motor):
        """The data key of a motor's read position (its readback's name, as ophyd reads it)."""
        readback = getattr(motor, "readback", None)
        return getattr(readback, "name", None) or getattr(motor, "name", None)

    @classmethod
    def from_documents(cls, documents):
        """The campaign and its history rebuilt from a run's ``(name, document)`` pairs (the
        RunEngine's callback stream, or a data broker's record): no device is needed."""
        start = next(doc for name, doc in documents if name == "start")
        spec = start.get("fitflow")
        if not spec:
            raise ConfigError("the run's start document holds no fitflow campaign (md['fitflow'])", source="documents")
        campaign = cls(
            {name: (None, bounds) for name, bounds in spec["parameters"].items()},
            [],
            spec["objective"],
            direction=spec["direction"],
            method=spec["method"],
            seed=spec["seed"],
            noise_sd=spec.get("noise_sd"),
            constraints=spec.get("constraints") or None,
            **spec["settings"],
        )
        keys = spec["motors"]
        for name, doc in documents:
            if name == "event":
                x = [doc["data"][keys[p]] for p in campaign.space.names]
                campaign.history.add(np.asarray(x, dtype=float), campaign._observation(doc["data"]))
        campaign.best = recommend(campaign.method, campaign.history) if campaign.history.feasible.any() else None
        return campaign

    # -- the loop ---------------------------------------------------------------------

    def rounds(self):
        """The sizes of the campaign's rounds: its initial design, then batches to the budget."""
        budget, n_initial, batch = campaign_shape(self.method, self.space.dim, self.noise_sd)
        return round_sizes(budget, n_initial, batch)

    def next_batch(self, k, size):
        """The points of round ``k`` (``size`` of them), as ``{name: value}`` dicts."""
        points = np.asarray(self.method.suggest(self.history, size, round_rng(self.seed, k)), dtype=float)
        return [self.space.as_dict(x) for x in points.reshape(size, -1)]

    def _observation(self, data):
        """One shot's readings as an Observation (minimising sign); a missing or non-finite
        objective reading is a failed shot."""
        reading = data.get(self.objective)
        outputs = {c.name: float(data[c.name]) if data.get(c.name) is not None else math.nan for c in self.constraints}
        try:
            value = float(reading)
        except (TypeError, ValueError):
            return Observation(math.nan, status="failed", reason=f"{self.objective} read {reading!r}")
        if not math.isfinite(value):
            return Observation(math.nan, status="failed", reason=f"{self.objective} read {value}")
        return Observation(self.sign * value, outputs=outputs)

    def plan(self, md=None):
        """The Bluesky plan: one run holding every shot of the campaign (see the module's doc)."""
        try:
            import bluesky.plan_stubs as bps
            import bluesky.preprocessors as bpp
        except ImportError:
            raise ImportError(f"a Bluesky plan needs Bluesky: {INSTALL_LAB}") from None
        motors = [self.motors[name] for name in self.space.names]
        keys = [self._key(motor) for motor in motors]

        @bpp.run_decorator(md={**(md or {}), "fitflow": self.metadata(), "plan_name": "fitflow_campaign"})
        def campaign():
            for k, size in enumerate(self.rounds()):
                for point in self.next_batch(k, size):
                    moves = [item for motor, name in zip(motors, self.space.names) for item in (motor, point[name])]
                    yield from bps.mv(*moves)
                    reading = yield from bps.trigger_and_read([*self.detectors, *motors])
                    data = {key: entry["value"] for key, entry in reading.items()}
                    self.history.add(np.array([data[key] for key in keys], dtype=float), self._observation(data))
            self.best = recommend(self.method, self.history) if self.history.feasible.any() else None

        return (yield from campaign())

    # -- the answer ---------------------------------------------------------------------

    @property
    def recommendation(self):
        """The recommended settings, ``{name: value}`` (None before any feasible shot)."""
        return None if self.best is None else self.space.as_dict(self.best.x)

    @property
    def value(self):
        return None if self.best is None else in_callers_sign(self.sign, self.best.mean)

    @property
    def sd(self):
        return None if self.best is None else self.best.sd

    @property
    def assessment(self):
        """How sure, and whether the campaign has settled (:func:`fitflow.campaigns.progress.assess`)."""
        from .progress import assess

        rounds = self.rounds()
        return assess(self.history, self.best, sum(rounds[-2:]))
