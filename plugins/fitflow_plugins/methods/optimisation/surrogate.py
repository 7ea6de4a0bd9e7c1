"""The Gaussian-process surrogate of Bayesian optimisation, in the unit cube.

scikit-learn fits the hyperparameters (constant x Matern-5/2 with one length
scale per dimension, outputs normalised, plus a learned white-noise level when
the noise is unknown). Predictions of the *latent* function (noise excluded)
reuse the fitted Cholesky factor directly: the acquisition search asks for
thousands of them, and scikit-learn's per-call input validation would cost more
than the linear algebra. Without a learned noise level the marginal likelihood is
maximised to a relative tolerance of 1e-6: scipy's default (2e-9) spends its time on
digits that change no proposal. A learned noise level keeps scipy's default tolerance:
its likelihood is flat, and stopping early there cost the noisy benchmarks.
With ``noise_prior`` it is a maximum a posteriori estimate under BoTorch's default noise
prior, log-normal (-4, 1) on the variance of the normalised values (Hvarfner, Hellsten &
Nardi 2024): with a dozen or two points the likelihood alone often prefers to interpolate
the scatter, the noise collapses to its floor, and the sd at a measured point comes out far
below the true scatter. The measurements behind each choice: docs/benchmarks.md,
"Bayesian optimisation" and "Learned noise with few evaluations".

The GP's constant prior mean is, by default, the mean of the values (what scikit-learn's
``normalize_y`` would use; the values are centred here, so that the centre can be chosen).
``prior_mean="worst"`` sets it to the worst (largest) value instead:
far from the data the surrogate then expects nothing better than what was already
seen, so expected improvement stops sending points to the unexplored corners of the
box, which a data mean pulled down by a converging search makes look promising (De
Ath, Fieldsend & Everson 2020, "What do you mean? The role of the mean function in
Bayesian optimisation").
"""

import warnings

import numpy as np
from scipy.linalg import solve_triangular

__all__ = ["GaussianSurrogate", "Posterior"]


class GaussianSurrogate:
    """A GP fitted to ``(unit, y)``; ``noise_var`` per point (in y's units squared,
    0 where exact) adds to the diagonal; ``learn_noise`` adds a fitted white-noise
    term on top. ``kernel`` reuses fitted hyperparameters (no optimisation);
    ``prior_mean`` is ``"data"`` (the values' mean) or ``"worst"`` (their maximum);
    ``encode`` maps unit points to the GP's inputs (``SearchSpace.unit_features``: choices
    one-hot), the identity by default; ``noise_prior`` puts the log-normal prior on a learned
    noise level (for what is reported), else the likelihood alone fits it (for proposals)."""

    def __init__(
        self,
        unit,
        y,
        noise_var=None,
        learn_noise=False,
        restarts=2,
        rng=None,
        kernel=None,
        prior_mean="data",
        encode=None,
        noise_prior=False,
    ):
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.gaussian_process import GaussianProcessRegressor, kernels

        self.unit = np.asarray(unit, dtype=float)
        self.y = np.asarray(y, dtype=float)
        self.encode = encode or np.atleast_2d
        features = self.encode(self.unit)
        dim = features.shape[1]
        scale = float(np.std(self.y)) or 1.0
        noise_var = np.zeros(len(self.y)) if noise_var is None else np.broadcast_to(noise_var, self.y.shape)
        self.noise_var = np.asarray(noise_var, dtype=float)
        self.learn_noise = learn_noise
        if kernel is None:
            kernel = kernels.ConstantKernel(1.0, (1e-3, 1e5)) * kernels.Matern(
                length_scale=np.full(dim, 0.2), length_scale_bounds=(1e-2, 1e2), nu=2.5
            )
            if learn_noise:
                # Noise at most half the spread of the values: beyond that a lone good point would be
                # explained away as noise, and no optimiser could learn from such data anyway.
                kernel = kernel + kernels.WhiteKernel(1e-2, (1e-6, 0.25))
            if not learn_noise:
                optimizer = _marginal_likelihood_optimiser
            else:
                optimizer = _noise_prior_optimiser if noise_prior else "fmin_l_bfgs_b"
        else:
            optimizer = None
        self.prior_mean = prior_mean
        offset = float(np.max(self.y) if prior_mean == "worst" else np.mean(self.y))
        regressor = GaussianProcessRegressor(
            kernel=kernel,
            alpha=1e-8 + self.noise_var / scale**2,
            normalize_y=False,
            optimizer=optimizer,
            n_restarts_optimizer=restarts if optimizer else 0,
            random_state=None if rng is None else int(rng.integers(2**31)),
        )
        # Hyperparameters at a bound are routine with a handful of points; they are not news.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            regressor.fit(features, (self.y - offset) / scale)
        # The values are centred and scaled here rather than by normalize_y, which can only
        # centre on their mean; predict and Posterior undo it through these two attributes.
        regressor._y_train_mean, regressor._y_train_std = offset, scale
        self.regressor = regressor
        self.kernel = regressor.kernel_
        self.signal = self.kernel.k1 if learn_noise else self.kernel
        self._mean, self._std = regressor._y_train_mean, regressor._y_train_std
        # Each point's total noise variance in y's units: given plus learned.
        self.point_noise = self.noise_var + self.noise_level**2
        self._posterior = None

    @property
    def noise_level(self):
        """The learned white-noise standard deviation in y's units (0 when not learned)."""
        if not self.learn_noise:
            return 0.0
        return float(np.sqrt(self.kernel.k2.noise_level) * self._std)

    def predict(self, unit):
        """Posterior mean and standard deviation of the latent function at ``unit`` (q, d)."""
        if self._posterior is None:
            self._posterior = Posterior(self.regressor, self.signal)
        return self._posterior(self.encode(unit))

    def correlation(self, unit, points):
        """Prior correlation (q, m) of the latent function between ``unit`` (q, d) and ``points`` (m, d)."""
        unit, points = self.encode(unit), self.encode(points)
        return self.signal(unit, points) / np.sqrt(np.outer(self.signal.diag(unit), self.signal.diag(points)))

    def believing(self, unit, value):
        """The same GP, hyperparameters fixed, told that ``value`` was seen at ``unit``
        (the kriging believer's fantasy)."""
        # The learned noise moves into the per-point diagonal, so the fantasy itself is exact:
        # it must remove the uncertainty where it sits, or the batch would pile up there.
        return GaussianSurrogate(
            np.vstack([self.unit, unit]),
            np.append(self.y, value),
            np.append(self.point_noise, 0.0),
            learn_noise=False,
            kernel=self.signal,
            prior_mean=self.prior_mean,
            encode=self.encode,
        )


class Posterior:
    """Mean and standard deviation of a fitted scikit-learn ``GaussianProcessRegressor``
    at many points, one batch after another: its ``predict(x, return_std=True)``, computed
    once set up from its fitted factor, without its per-call input validation and kernel
    dispatch, which cost more than the linear algebra when a sampler or an acquisition
    search asks thousands of times (emcee through a GP emulator: 2.7 s of a 6.4 s fit went
    to predictions). ``kernel`` replaces the fitted kernel for the prior variance and the
    cross covariance: its signal part gives the latent function, noise excluded.

    The regressor's Cholesky factor is inverted once, so a batch costs one matrix product
    instead of a triangular solve; a constant times an RBF or Matern kernel (plus white
    noise), as fitflow's GPs use, is evaluated from distances directly, any other kernel
    by calling it."""

    def __init__(self, regressor, kernel=None):
        self.kernel = regressor.kernel_ if kernel is None else kernel
        self.train = regressor.X_train_
        self.weights = regressor.alpha_
        factor = regressor.L_
        self.inverse_factor = solve_triangular(factor, np.eye(len(factor)), lower=True, check_finite=False)
        self.offset, self.scale = regressor._y_train_mean, regressor._y_train_std
        self.parts = _stationary_parts(self.kernel)
        if self.parts is not None:
            self.scaled_train = self.train / self.parts[1]

    def covariances(self, x):
        """The prior covariances ``(cross (q, n) with the training inputs, variance (q,))``."""
        if self.parts is None:
            return self.kernel(x, self.train), self.kernel.diag(x)
        from scipy.spatial.distance import cdist

        variance, length_scale, shape, white = self.parts
        cross = variance * shape(cdist(x / length_scale, self.scaled_train))
        return cross, np.full(len(x), variance + white)

    def __call__(self, x):
        x = np.atleast_2d(x)
        cross, prior_variance = self.covariances(x)
        v = self.inverse_factor @ cross.T
        variance = prior_variance - np.einsum("ij,ij->j", v, v)
        return cross @ self.weights * self.scale + self.offset, np.sqrt(np.maximum(variance, 0.0)) * self.scale


def _stationary_parts(kernel):
    """``(variance, length_scale, shape(distance), white_variance)`` of a kernel
    ``c * RBF`` or ``c * Matern`` (nu 0.5, 1.5 or 2.5), with or without ``+ WhiteKernel``
    (which adds to the variance at a point, never to a covariance between two); None for
    any other kernel."""
    from sklearn.gaussian_process import kernels

    white = 0.0
    if isinstance(kernel, kernels.Sum) and isinstance(kernel.k2, kernels.WhiteKernel):
        kernel, white = kernel.k1, float(kernel.k2.noise_level)
    if not isinstance(kernel, kernels.Product):
        return None
    constant, shape = kernel.k1, kernel.k2
    if isinstance(shape, kernels.ConstantKernel):
        constant, shape = shape, constant
    if not isinstance(constant, kernels.ConstantKernel):
        return None
    if type(shape) is kernels.RBF:
        function = lambda d: np.exp(-0.5 * d**2)  # noqa: E731
    elif type(shape) is kernels.Matern and shape.nu in _MATERN:
        function = _MATERN[shape.nu]
    else:
        return None
    return float(constant.constant_value), np.asarray(shape.length_scale, dtype=float), function, white


def _matern32(d):
    scaled = np.sqrt(3.0) * d
    return (1.0 + scaled) * np.exp(-scaled)


def _matern52(d):
    scaled = np.sqrt(5.0) * d
    return (1.0 + scaled + scaled**2 / 3.0) * np.exp(-scaled)


#: Matern's closed forms (scikit-learn's), by nu.
_MATERN = {0.5: lambda d: np.exp(-d), 1.5: _matern32, 2.5: _matern52}


#: BoTorch's noise prior: log-normal with these parameters on the white-noise variance of
#: the normalised values (``LogNormalPrior(-4, 1)``, its ``SingleTaskGP`` default).
NOISE_PRIOR_LOC, NOISE_PRIOR_SCALE = -4.0, 1.0


def _noise_prior_optimiser(obj_func, initial_theta, bounds):
    """scikit-learn's optimiser hook for a kernel ending in a ``WhiteKernel``: L-BFGS-B on
    the negative log marginal likelihood plus the negative log noise prior, a density in the
    variance ``v = exp(theta[-1])``: ``(log v - loc)^2 / (2 scale^2) + log v``."""
    from scipy.optimize import minimize

    def penalised(theta):
        value, gradient = obj_func(theta)
        log_variance = theta[-1]
        z = (log_variance - NOISE_PRIOR_LOC) / NOISE_PRIOR_SCALE
        gradient = np.array(gradient, dtype=float)
        gradient[-1] += z / NOISE_PRIOR_SCALE + 1.0
        return value + 0.5 * z**2 + log_variance, gradient

    result = minimize(penalised, initial_theta, jac=True, method="L-BFGS-B", bounds=bounds)
    return result.x, result.fun


def _marginal_likelihood_optimiser(obj_func, initial_theta, bounds):
    """scikit-learn's optimiser hook: L-BFGS-B on the negative log marginal likelihood
    (``obj_func`` returns it and its gradient), stopped at a relative change of 1e-6."""
    from scipy.optimize import minimize

    result = minimize(obj_func, initial_theta, jac=True, method="L-BFGS-B", bounds=bounds, options={"ftol": 1e-6})
    return result.x, result.fun
