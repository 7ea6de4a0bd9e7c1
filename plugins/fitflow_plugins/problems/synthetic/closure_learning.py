"""Learn a closure through a PDE solver, in the spirit of Crilly et al. (2023).

"Learning closure relations using differentiable programming: an example in radiation
transport": the unknown term of a reduced model is learned from data by back-propagating
through the numerical solution. Here the reduced model is flux-limited radiation
diffusion (:mod:`.radiation_diffusion`), the unknown term its flux limiter lambda(R), and
the "measured" data are energy-density profiles of three Marshak waves (opacities 0.5, 1
and 2, at times 1, 2 and 4) computed with the Levermore-Pomraning limiter, plus Gaussian
noise of known size.

The closure is parametrised as lambda(R) = 1 / (3 + R^2 / (a^2 + b^2 R)) (two parameters;
Levermore-Pomraning itself is not in the family, whose best member is within 2.5% of it),
and the model maps (a, b) to the solver's profiles: an ordinary parametric problem whose
model happens to be a differentiable simulation. So ``nlls`` fits it with the exact
Jacobian through the solver (or by finite differences, ``jacobian: finite-difference``),
``gradient_descent`` and ``nuts`` with JAX gradients, and ``bayesopt`` minimises its
chi-square as a black box: gradients reach the methods through the model, not through a
second kind of problem.

Metrics beside the uniform ones: ``closure_rms_error``, the relative RMS error of the
learned lambda against Levermore-Pomraning on log-spaced R in [0.1, 10], where the
profiles inform it; the profile RMSE against the noise-free profiles is the usual ``rmse``.
"""

import numpy as np

from fitflow.plugin import Dataset, ParametricModel, Problem, Setting, chi_square_objective

from .radiation_diffusion import MarshakWave, levermore_pomraning, rational_closure

__all__ = ["ClosureLearning"]

PARAM_NAMES = ("a", "b")


class ClosureLearning(Problem):
    name = "closure_learning"
    version = "1.0"
    description = "learn radiation diffusion's flux limiter through a JAX solver (Crilly et al. 2023)"
    capabilities = frozenset({"parametric", "regression", "black_box"})
    requires_modules = ("jax",)
    extra = "jax"
    settings = {
        "noise": Setting(0.01, float, "standard error of every measured energy density", minimum=1e-9),
        "n_cells": Setting(60, int, "cells of the slab (the profiles' points per opacity and time)", minimum=8),
    }
    fast_settings = {"n_cells": 12}

    def check_settings(self):
        self.wave = MarshakWave(n_cells=self.values["n_cells"])

    # -- the profiles ---------------------------------------------------------------------

    def profiles_at(self, x, limiter):
        """The solver's E at the points ``x`` (n, 3: position, time, opacity), JAX-traceable."""
        import jax.numpy as jnp

        wave = self.wave
        table = wave.profiles(limiter)
        cell = jnp.clip(jnp.round(x[:, 0] / wave.dx - 0.5).astype(int), 0, wave.n_cells - 1)
        time = jnp.argmin(jnp.abs(x[:, 1:2] - jnp.asarray(wave.times)), axis=1)
        opacity = jnp.argmin(jnp.abs(x[:, 2:3] - jnp.asarray(wave.opacities)), axis=1)
        return table[opacity, time, cell]

    def generate(self, rng):
        from fitflow.plugin import jax_modules

        jax, _ = jax_modules()
        x = self.wave.points()
        truth = np.asarray(jax.jit(lambda x: self.profiles_at(x, levermore_pomraning))(x))
        sigma = np.full(len(x), self.values["noise"])
        return Dataset(
            problem=self,
            x=x,
            y=truth + sigma * rng.standard_normal(len(x)),
            sigma=sigma,
            grid_x=x,
            grid_y=truth,
            meta={
                "reference_closure": "Levermore-Pomraning",
                "opacities": list(self.wave.opacities),
                "times": list(self.wave.times),
                "solver_steps": self.wave.steps,
            },
        )

    def model(self, dataset):
        from fitflow.plugin import ExactDerivatives

        def traceable(x, theta):
            return self.profiles_at(x, lambda R: rational_closure(R, theta))

        exact = ExactDerivatives(traceable)

        def jacobian(x, theta):
            return exact.jacobian(x, theta)

        jacobian.automatic = True  # by JAX, through every solver step
        model = ParametricModel(
            function=exact.value,
            param_names=PARAM_NAMES,
            # A start far from the reference (plain diffusion's side), never the truth; the box
            # is the search space of samplers and black-box optimisers (a, b > 0: one of the
            # family's sign-symmetric copies).
            p0=[1.0, 1.7],
            bounds=([0.1, 0.1], [10.0, 10.0]),
            jacobian=jacobian,
            jax_function=traceable,
            linearity="the profiles depend on the closure through a non-linear PDE",
        )
        object.__setattr__(model, "_exact", exact)  # one compiled set per model
        return model

    def objective(self, dataset):
        return chi_square_objective(dataset)

    def extra_metrics(self, dataset, result):
        """``closure_rms_error``: relative RMS of lambda against Levermore-Pomraning on R in [0.1, 10]."""
        from fitflow.plugin import jax_modules

        if not result.params or not set(PARAM_NAMES) <= set(result.params):
            return {}  # a fit that gives no closure (a black-box optimiser's history alone, say)
        _, jnp = jax_modules()

        R = jnp.asarray(self.wave.ratio_grid())
        theta = jnp.asarray([result.params[name] for name in PARAM_NAMES])
        reference = levermore_pomraning(R)
        learned = rational_closure(R, theta)
        return {"closure_rms_error": float(jnp.sqrt(jnp.mean(((learned - reference) / reference) ** 2)))}
