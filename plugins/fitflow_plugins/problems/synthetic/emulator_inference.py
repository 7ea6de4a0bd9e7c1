"""Infer a simulation's inputs from one observed output vector: with the simulator itself,
or through an emulator trained on a design of its runs.

Each replicate hides true inputs (uniform in the simulation's box), runs the
spectral-line simulation there (:mod:`fitflow_plugins.problems.synthetic.emulator`) and
observes its three outputs with Gaussian noise of known size. The problem is
``parametric``: its model is the true simulator, so ``nlls`` and ``emcee`` can fit
it directly (the reference posterior). It also carries ``n_design`` runs of the
simulation on a Latin-hypercube design in ``extras`` (``design_x``, ``design_y``):
``emcee`` with ``emulator: gp`` trains a surrogate on them and samples with it in
place of the simulation (``emulation`` capability), so the two posteriors of the
same observation can be compared, and their calibration measured over replicates.
"""

import numpy as np

from fitflow.plugin import Dataset, ParametricModel, Problem, Setting

from .emulator import BOX, INPUTS, OUTPUTS, spectral_line

__all__ = ["EmulatorInference"]


class EmulatorInference(Problem):
    name = "emulator_inference"
    version = "1.0"
    description = "infer a simulation's inputs from one observed output vector (simulator, or emulator of it)"
    capabilities = frozenset({"parametric", "emulation"})
    settings = {
        "n_design": Setting(200, int, "simulation runs an emulator may be trained on", minimum=5, maximum=100_000),
        "noise": Setting(
            0.02,
            float,
            "observation noise, as a fraction of each output's spread over the box",
            minimum=1e-6,
            maximum=10.0,
        ),
    }
    fast_settings = {"n_design": 60}
    resources = {"threads": 1, "mem_mb": 1000, "runtime": 5}

    @staticmethod
    def _spread():
        from scipy.stats import qmc

        # Each output's spread over the box, from a fixed design (independent of the replicate).
        unit = qmc.LatinHypercube(len(INPUTS), seed=0).random(2000)
        return np.std(spectral_line(qmc.scale(unit, *BOX)), axis=0)

    def generate(self, rng):
        from scipy.stats import qmc

        v = self.values
        truth = rng.uniform(*BOX)
        sigma = v["noise"] * self._spread()
        observed = spectral_line(truth)[0] + sigma * rng.standard_normal(len(OUTPUTS))
        design = qmc.scale(qmc.LatinHypercube(len(INPUTS), seed=int(rng.integers(2**31))).random(v["n_design"]), *BOX)
        return Dataset(
            problem=self,
            x=np.arange(len(OUTPUTS), dtype=float),
            y=observed,
            sigma=sigma,
            truth_params=dict(zip(INPUTS, truth)),
            extras={"design_x": design, "design_y": spectral_line(design)},
            meta={
                "observed_outputs": list(OUTPUTS),
                "inputs": list(INPUTS),
                "columns": {"x": ["output index (" + ", ".join(OUTPUTS) + ")"], "y": "observed value"},
            },
        )

    def model(self, dataset):
        def simulate(x, theta):
            return spectral_line(theta)[0][np.asarray(x, dtype=int)]

        return ParametricModel(function=simulate, param_names=INPUTS, p0=(BOX[0] + BOX[1]) / 2, bounds=BOX)
