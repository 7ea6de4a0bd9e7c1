"""A trained surrogate standing in for a simulation: the emulator ``emcee`` samples through.

:func:`train_gp_emulator` fits one scikit-learn Gaussian process per output to a
design of simulation runs (the ``gp`` plugin's kernel and input scaling) and
returns a function giving, for many parameter vectors at once, each output's
predictive mean and variance. The variance is what makes inference through an
emulator honest: it is added to the observation noise, so where the emulator is
unsure the likelihood is broad instead of confidently wrong.
"""

import numpy as np

__all__ = ["train_gp_emulator"]


def train_gp_emulator(design_x, design_y, rng, restarts=1):
    """``predict(thetas) -> (mean, variance)``, each ``(m, k)``, from a GP per output."""
    from sklearn.gaussian_process import GaussianProcessRegressor
    from sklearn.preprocessing import StandardScaler

    from .gp import GaussianProcess
    from .surrogate import gp_posterior

    design_x = np.asarray(design_x, dtype=float)
    design_y = np.asarray(design_y, dtype=float).reshape(len(design_x), -1)
    scaler = StandardScaler().fit(design_x)
    inputs = scaler.transform(design_x)
    kernel = GaussianProcess()._kernel(learn_noise=True)
    regressors = []
    for j in range(design_y.shape[1]):
        regressor = GaussianProcessRegressor(
            kernel=kernel,
            alpha=1e-10,
            normalize_y=True,
            n_restarts_optimizer=restarts,
            random_state=int(rng.integers(2**31)),
        )
        regressors.append(regressor.fit(inputs, design_y[:, j]))

    def predict(thetas):
        # StandardScaler.transform and GaussianProcessRegressor.predict, the same arithmetic
        # without their input checks: emcee asks for a few walkers thousands of times.
        scaled = (np.atleast_2d(thetas) - scaler.mean_) / scaler.scale_
        means, sds = zip(*(gp_posterior(regressor, scaled) for regressor in regressors))
        return np.column_stack(means), np.column_stack(sds) ** 2

    return predict
