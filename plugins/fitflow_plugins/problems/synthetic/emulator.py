"""An expensive simulation to emulate: a spectral line's shape from the plasma's state.

Three inputs (``log10_density`` of electrons in cm^-3, ``temperature`` in eV,
``velocity`` in km/s) map to three outputs of an H-alpha-like line:

``width``
    the Voigt full width (nm) of Stark broadening, ``0.04 (n_e / 1e17)^(2/3)``, and
    Doppler broadening, ``7.16e-7 lambda0 sqrt(T / M)``, combined by Olivero's
    approximation ``0.5346 w_S + sqrt(0.2166 w_S^2 + w_D^2)``;
``shift``
    the Doppler shift ``lambda0 v / c`` plus a Stark shift ``0.01 (n_e / 1e17)^0.8`` (nm);
``ratio``
    the intensity ratio of two lines ``2.5 exp(-12 eV / T)`` (Boltzmann populations).

A stand-in for a simulation that takes minutes per run: the training set is a
space-filling design of ``n_train`` runs (Latin hypercube or scrambled Sobol, from
``scipy.stats.qmc``) and the held-out test set (``grid_x``/``grid_y``) ``n_test``
uniform draws in the same box, so methods are scored on points they never saw:
RMSE per output, and how often the truth falls inside their predictive bands.
``noise`` adds Gaussian scatter of that fraction of each output's spread to the
training runs (known, so methods can use it). Sweeping ``n_train`` shows how
accuracy and cost scale with the design size.
"""

import numpy as np

from fitflow.plugin import Dataset, Problem, Setting, SettingsError

__all__ = ["SpectralLineEmulator", "spectral_line", "spectral_line_by_name", "INPUTS", "OUTPUTS", "BOX"]

INPUTS = ("log10_density", "temperature", "velocity")
OUTPUTS = ("width", "shift", "ratio")
#: The box the simulation is run in: lower and upper end of each input.
BOX = (np.array([17.0, 5.0, -50.0]), np.array([19.0, 50.0, 50.0]))
_LAMBDA0 = 656.3  # nm
_C_KM_S = 299_792.458
_EV_TO_K = 11_604.5


def spectral_line(inputs):
    """``(n, 3)`` outputs (width, shift, ratio) for ``(n, 3)`` inputs (vectorised)."""
    inputs = np.atleast_2d(np.asarray(inputs, dtype=float))
    density = 10.0 ** (inputs[:, 0] - 17.0)
    temperature, velocity = inputs[:, 1], inputs[:, 2]
    stark = 0.04 * density ** (2.0 / 3.0)
    doppler = 7.16e-7 * _LAMBDA0 * np.sqrt(temperature * _EV_TO_K / 1.0)
    width = 0.5346 * stark + np.sqrt(0.2166 * stark**2 + doppler**2)
    shift = _LAMBDA0 * velocity / _C_KM_S + 0.01 * density**0.8
    ratio = 2.5 * np.exp(-12.0 / temperature)
    return np.column_stack([width, shift, ratio])


def spectral_line_by_name(log10_density, temperature, velocity):
    """One run by name, ``{width, shift, ratio}``: the example callable of the ``simulation`` problem."""
    width, shift, ratio = spectral_line([[log10_density, temperature, velocity]])[0]
    return {"width": float(width), "shift": float(shift), "ratio": float(ratio)}


class SpectralLineEmulator(Problem):
    name = "emulator"
    version = "1.0"
    description = "emulate a simulation: spectral-line width, shift and ratio from density, temperature, velocity"
    capabilities = frozenset({"regression"})
    settings = {
        "n_train": Setting(200, int, "simulation runs in the training design", minimum=2, maximum=100_000),
        "n_test": Setting(500, int, "held-out runs the emulators are scored on", minimum=10, maximum=100_000),
        "design": Setting("lhs", str, "space-filling design of the training runs", choices=("lhs", "sobol")),
        "noise": Setting(
            0.0,
            float,
            "scatter added to training runs, as a fraction of each output's spread",
            minimum=0.0,
            maximum=10.0,
        ),
    }
    fast_settings = {"n_train": 40, "n_test": 50}
    resources = {"threads": 1, "mem_mb": 1000, "runtime": 5}

    def check_settings(self):
        v = self.values
        if v["n_train"] < len(INPUTS) + 1:
            raise SettingsError(
                f"{self.label()}: n_train = {v['n_train']}: a design that small cannot determine a function of "
                f"{len(INPUTS)} inputs; use at least {len(INPUTS) + 1}",
                plugin=self.name,
                key="n_train",
                value=v["n_train"],
            )

    def _design(self, rng):
        from scipy.stats import qmc

        v = self.values
        seed = int(rng.integers(2**31))
        if v["design"] == "sobol":
            unit = qmc.Sobol(len(INPUTS), scramble=True, seed=seed).random(v["n_train"])
        else:
            unit = qmc.LatinHypercube(len(INPUTS), seed=seed).random(v["n_train"])
        return qmc.scale(unit, *BOX)

    def generate(self, rng):
        v = self.values
        x = self._design(rng)
        y = spectral_line(x)
        test_x = rng.uniform(*BOX, size=(v["n_test"], len(INPUTS)))
        test_y = spectral_line(test_x)
        sigma = None
        if v["noise"] > 0:
            sigma = np.broadcast_to(v["noise"] * np.std(test_y, axis=0), y.shape).copy()
            y = y + sigma * rng.standard_normal(y.shape)
        return Dataset(
            problem=self,
            x=x,
            y=y,
            sigma=sigma,
            grid_x=test_x,
            grid_y=test_y,
            meta={
                "outputs": list(OUTPUTS),
                "inputs": list(INPUTS),
                "held_out_test_set": True,
                "columns": {"x": list(INPUTS), "y": ", ".join(OUTPUTS)},
            },
        )
