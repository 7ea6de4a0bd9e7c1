"""A trained surrogate standing in for a simulation: the emulator ``emcee`` samples through.

:func:`train_gp_emulator` fits one scikit-learn Gaussian process per output to a
design of simulation runs (the ``gp`` plugin's kernel and input scaling) and
returns a function giving, for many parameter vectors at once, each output's
predictive mean and variance. The variance is what makes inference through an
emulator honest: it is added to the observation noise, so where the emulator is
unsure the likelihood is broad instead of confidently wrong.
"""

import numpy as np

__all__ = ["train_gp_emulator", "train_vnn_emulator", "emulator_method", "emulator_unavailable", "EMULATORS"]


def train_gp_emulator(design_x, design_y, rng, settings=None):
    """``predict(thetas) -> (mean, variance)``, each ``(m, k)``, from a GP per output
    (``settings``: the ``gp`` method's ``kernel``, ``n_restarts`` (default 1 restart) and
    ``hyperparameter_points``)."""
    from sklearn.gaussian_process import GaussianProcessRegressor
    from sklearn.preprocessing import StandardScaler

    from ..optimisation.surrogate import Posterior
    from .gp import GaussianProcess, fit_on_subset, learning_subset

    design_x = np.asarray(design_x, dtype=float)
    design_y = np.asarray(design_y, dtype=float).reshape(len(design_x), -1)
    scaler = StandardScaler().fit(design_x)
    inputs = scaler.transform(design_x)
    settings = {"n_restarts": 1, **(settings or {})}
    gp = GaussianProcess(**settings)
    kernel = gp._kernel(learn_noise=True)
    subset = learning_subset(len(inputs), gp.values["hyperparameter_points"], rng)  # as the gp method
    posteriors = []  # one per output
    for j in range(design_y.shape[1]):
        regressor = GaussianProcessRegressor(
            kernel=kernel,
            alpha=1e-10,
            normalize_y=True,
            n_restarts_optimizer=settings["n_restarts"],
            random_state=int(rng.integers(2**31)),
        )
        posteriors.append(Posterior(fit_on_subset(regressor, inputs, design_y[:, j], subset)))

    def predict(thetas):
        # StandardScaler.transform and GaussianProcessRegressor.predict, the same arithmetic
        # without their input checks: emcee asks for a few walkers thousands of times.
        scaled = (np.atleast_2d(thetas) - scaler.mean_) / scaler.scale_
        means, sds = zip(*(posterior(scaled) for posterior in posteriors))
        return np.column_stack(means), np.column_stack(sds) ** 2

    return predict


def train_vnn_emulator(design_x, design_y, rng, settings=None):
    """``predict(thetas) -> (mean, variance)`` from a variational network (``settings``: the
    ``vnn`` method's): mean and variance over one fixed set of weight draws, so the
    likelihood is a deterministic function of the parameters; the variance is that of the
    method's band (conformally scaled, learned discrepancy included)."""
    from .variational_network import VariationalNeuralNetwork

    design_x = np.asarray(design_x, dtype=float)
    design_y = np.asarray(design_y, dtype=float).reshape(len(design_x), -1)
    method = VariationalNeuralNetwork(**(settings or {}))
    network, scale, _ = method.train(design_x, design_y, None, rng)
    weights = network.weight_draws(method.values["samples"], int(rng.integers(2**31)))
    scale = np.ones(design_y.shape[1]) if scale is None else scale
    noise_variance = network.noise() ** 2

    def predict(thetas):
        samples = network.outputs(weights, np.atleast_2d(thetas))
        return samples.mean(axis=0), scale**2 * (samples.var(axis=0, ddof=1) + noise_variance)

    return predict


#: Emulator name (the ``emcee`` setting) -> trainer.
EMULATORS = {"gp": train_gp_emulator, "vnn": train_vnn_emulator}


def emulator_unavailable(name):
    """Why the emulator ``name`` cannot run here (a missing optional module), or ``""``;
    ``"none"`` (no emulator) always can."""
    if name != "vnn":
        return ""
    from .variational_network import VariationalNeuralNetwork

    return VariationalNeuralNetwork.unavailable() or ""


def emulator_method(name, settings):
    """The method plugin whose settings the emulator ``name`` takes, built from ``settings``
    (raises SettingsError naming a key it does not know or a bad value)."""
    if name == "gp":
        from .gp import GaussianProcess

        return GaussianProcess(**settings)
    from .variational_network import VariationalNeuralNetwork

    return VariationalNeuralNetwork(**settings)
