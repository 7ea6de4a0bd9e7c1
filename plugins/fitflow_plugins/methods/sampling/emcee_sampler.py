"""Posterior sampling with emcee's affine-invariant ensemble sampler.

The log-likelihood is Gaussian in the problem's per-point errors; where the
data carry no errors, a common unknown error is integrated out under Jeffreys'
prior ``1/sigma``, which leaves ``-(n/2) log(RSS)``. The prior is uniform on the
model's bounds (``prior="bounds"``; flat where a bound is infinite) or flat and
improper (``prior="flat"``). Walkers start in a small Gaussian ball around the
least-squares optimum (found by the ``nlls`` plugin), scaled by its Laplace
standard errors; where that optimum lies outside the prior's bounds, the
bounded optimum is the centre (clipped onto a bound, every walker would share
that coordinate, which the stretch move can never leave). Burn-in (2 tau) and
thinning (tau / 2) come from emcee's integrated autocorrelation time. The
sampler's random state is seeded from the fit's generator, so runs repeat
exactly.

How long to run (emcee's own convergence monitoring, its "Autocorrelation
analysis" tutorial): tau is only trusted from a chain at least 50 tau long
(emcee's ``tol``; ``get_autocorr_time`` raises below it), and a short chain
underestimates it. So after ``n_steps`` the chain is extended, at least 1.5-fold
each time, until it is 50 of its current tau long. A chain still shorter at
``max_steps``, or without a finite tau (walkers that never moved), fails: on a
curved posterior (tests/methods/test_emcee.py) a chain of 11 tau gave a marginal
standard deviation of 0.6 where the truth is 1, and its tau estimate was still
growing.

With ``emulator: gp`` (or ``vnn``) the simulation is replaced by a surrogate trained on the
design of runs the dataset carries (``extras["design_x"]``, ``extras["design_y"]``,
see :mod:`.emulation`): the likelihood uses the emulator's predictive mean, and
its predictive variance is added to the noise variance (with the matching
log-determinant term, since it varies with the parameters). Walkers then start
around the maximum of that likelihood, found from the best design point.
"""

import contextlib
import io
import sys

import numpy as np

from fitflow.plugin import FitResult, Method, Setting, SettingsError, TimedOut, likelihood_of

from ..regression.emulation import EMULATORS, emulator_method, emulator_unavailable
from .diagnostics import BURN_IN, TRACE_STRIDE, pair_plot, trace_plot
from .start import least_squares_start

__all__ = ["EmceeSampler"]

TRUSTED_AUTOCORR_TIMES = 50  # emcee's tol: tau (and the fit) are only trusted from a chain this many tau long
MAX_TRACE_STEPS = 3000  # rows of the stored trace (the trace plot's resolution)


class EmceeSampler(Method):
    name = "emcee"
    version = "1.3"
    description = "emcee ensemble MCMC: Gaussian likelihood, uniform priors, tau-based burn-in and thinning"
    capabilities = frozenset({"parametric"})
    requires_modules = ("emcee", "scipy.optimize")
    resources = {"threads": 1, "mem_mb": 1000, "runtime": 30}
    settings = {
        "n_walkers": Setting(32, int, "walkers (at least 2 x parameters + 2 is used)", minimum=4, maximum=10_000),
        "n_steps": Setting(3000, int, "steps per walker, before any extension", minimum=10, maximum=1_000_000),
        "max_steps": Setting(
            30_000,
            int,
            "the chain is extended up to this many steps per walker until it is "
            "50 autocorrelation times long; shorter then: failed",
            minimum=10,
            maximum=10_000_000,
        ),
        "prior": Setting(
            "bounds", str, "uniform on the model's bounds, or flat (improper)", choices=("bounds", "flat")
        ),
        "init_scale": Setting(0.1, float, "radius of the starting ball, in Laplace standard errors", minimum=0.0),
        "max_samples": Setting(20000, int, "cap on the thinned samples kept", minimum=100, maximum=1_000_000),
        "emulator": Setting(
            "none",
            str,
            "sample the model itself, or an emulator (GP or variational network) trained on the dataset's "
            "design of simulation runs",
            choices=("none", "gp", "vnn"),
        ),
        "emulator_settings": Setting(
            {}, dict, "settings of the emulator's method (gp: kernel, n_restarts; vnn: steps, ...)", item_type=object
        ),
    }

    def check_settings(self):
        v = self.values
        if v["emulator_settings"]:
            if v["emulator"] == "none":
                raise SettingsError(
                    f"{self.label()}: emulator_settings are given but emulator is 'none'",
                    plugin=self.name,
                    key="emulator_settings",
                    value=v["emulator_settings"],
                )
            try:
                emulator_method(v["emulator"], v["emulator_settings"])
            except SettingsError as exc:
                raise SettingsError(
                    f"{self.label()}: emulator_settings of the {v['emulator']} emulator: {exc}",
                    plugin=self.name,
                    key=f"emulator_settings.{exc.key}" if getattr(exc, "key", None) else "emulator_settings",
                    value=getattr(exc, "value", None),
                ) from exc

    def can_fit(self, dataset):
        if self.values["emulator"] != "none" and not {"design_x", "design_y"} <= set(dataset.extras):
            return "samples through an emulator, which needs a design of simulation runs (extras design_x, design_y)"
        missing = emulator_unavailable(self.values["emulator"])
        if missing:
            return f"the {self.values['emulator']} emulator {missing}"
        return super().can_fit(dataset)

    fast_settings = {"n_steps": 400, "max_samples": 2000}

    def fit(self, dataset, rng):
        model = dataset.model
        v = self.values
        if v["emulator"] != "none":
            return self._fit_emulated(dataset, rng)
        lower, upper = model.bounds if v["prior"] == "bounds" and model.is_bounded else (None, None)
        start = least_squares_start(dataset, rng, bounded=lower is not None)
        if not start.ok:
            return FitResult.failed(f"no least-squares optimum to start the walkers from: {start.message}")
        x, y = dataset.x, dataset.y
        whiten = 1.0 / dataset.sigma if dataset.sigma is not None else np.ones_like(y)
        known_errors = dataset.sigma is not None

        def log_likelihood(chi2):
            """Per walker, from its chi-square (NaN or inf: outside the support)."""
            value = np.full(chi2.shape, -np.inf)
            finite = np.isfinite(chi2)
            if known_errors:
                value[finite] = -0.5 * chi2[finite]
            else:  # unknown, common error: sigma integrated out under Jeffreys' prior 1/sigma
                positive = finite & (chi2 > 0)
                value[positive] = -0.5 * y.size * np.log(chi2[positive])
                value[finite & (chi2 == 0)] = np.inf
            return value

        counts = likelihood_of(dataset) == "poisson"

        def log_probability(thetas):
            thetas = np.atleast_2d(thetas)
            inside = (
                np.ones(len(thetas), dtype=bool)
                if lower is None
                else np.all((thetas >= lower) & (thetas <= upper), axis=1)
            )
            if counts:
                value = np.full(len(thetas), -np.inf)
                if inside.any():
                    value[inside] = _poisson_rows(y, predict(thetas[inside]))
                return value
            chi2 = np.full(len(thetas), np.nan)
            if inside.any():
                with np.errstate(all="ignore"):
                    residuals = (y - predict(thetas[inside])) * whiten
                    chi2[inside] = np.einsum("ij,ij->i", residuals, residuals)
            return log_likelihood(chi2)

        centre, spread = start.estimate_vector(), start.stderr_vector()
        initial = self._initial_walkers(model, centre, spread, lower, upper, rng)
        predict = _batched_model(model, x, initial)
        return self._sample(
            model,
            log_probability,
            initial,
            rng,
            start.n_evaluations,
            {"vectorised": bool(getattr(predict, "vectorised", False))},
        )

    def _fit_emulated(self, dataset, rng):
        """Sample through an emulator of the model trained on the dataset's design of runs."""
        from scipy.optimize import minimize

        if dataset.sigma is None:
            return FitResult.failed("sampling through an emulator needs the observation's errors (sigma)")
        model, y, noise_variance = dataset.model, dataset.y, dataset.sigma**2
        outputs = dataset.x.astype(int)
        v = self.values
        design_x, design_y = dataset.extras["design_x"], dataset.extras["design_y"]
        predict = EMULATORS[v["emulator"]](design_x, design_y, rng, v["emulator_settings"])
        lower, upper = model.bounds

        def log_probability(thetas):
            thetas = np.atleast_2d(thetas)
            inside = np.all((thetas >= lower) & (thetas <= upper), axis=1)
            result = np.full(len(thetas), -np.inf)
            if inside.any():
                mean, variance = predict(thetas[inside])
                total = noise_variance + variance[:, outputs]
                result[inside] = -0.5 * np.sum((y - mean[:, outputs]) ** 2 / total + np.log(total), axis=1)
            return result

        design = dataset.extras["design_x"]
        best = design[int(np.argmax(log_probability(design)))]
        optimum = minimize(
            lambda t: -log_probability(t)[0],
            best,
            method="Nelder-Mead",
            options={"xatol": 1e-4, "fatol": 1e-4, "maxfev": 400},
        )  # only seeds the walkers
        centre = optimum.x if np.isfinite(optimum.fun) and optimum.fun <= -log_probability(best)[0] else best
        width = upper - lower
        initial = self._initial_walkers(model, centre, 1e-3 * width, lower, upper, rng)
        return self._sample(
            model,
            log_probability,
            initial,
            rng,
            int(optimum.nfev) + len(design),
            {"emulator": self.values["emulator"], "design_runs": len(design)},
        )

    def _initial_walkers(self, model, centre, spread, lower, upper, rng):
        """A Gaussian ball around ``centre`` (``init_scale`` x ``spread`` wide), inside the bounds."""
        v = self.values
        n_params = model.n_params
        n_walkers = max(v["n_walkers"], 2 * n_params + 2)
        spread = np.where(np.isfinite(spread) & (spread > 0), spread, 1e-6 * np.maximum(1.0, np.abs(centre)))
        initial = centre + v["init_scale"] * spread * rng.standard_normal((n_walkers, n_params))
        if lower is not None:
            margin = np.where(np.isfinite(upper - lower), 1e-12 * (upper - lower), 0.0)
            initial = np.clip(initial, lower + margin, upper - margin)
        return initial

    def _sample(self, model, log_probability, initial, rng, n_start, extra):
        """Run the ensemble from ``initial`` (log_probability takes a batch of walkers);
        summarise the chain as a FitResult."""
        import emcee
        from emcee.ensemble import walkers_independent

        v = self.values
        n_walkers, n_params = initial.shape
        if not walkers_independent(initial):
            return FitResult.failed(
                "the starting walkers are not linearly independent (a parameter's ball collapsed against its "
                "bounds or below float resolution), so the stretch move cannot explore; check the bounds and the "
                "starting fit"
            )
        sampler = emcee.EnsembleSampler(n_walkers, n_params, log_probability, vectorize=True)
        sampler.random_state = np.random.RandomState(rng.integers(2**32)).get_state()
        with _quiet_when_stopped():
            n_steps, tau = _run_until_converged(sampler, initial, v["n_steps"], max(v["n_steps"], v["max_steps"]))
        tau_max = float(np.max(tau))
        if not np.isfinite(tau_max):
            return FitResult.failed(
                f"the chain's autocorrelation time is undefined after {n_steps} steps: walkers did not move "
                f"(acceptance fraction {np.mean(sampler.acceptance_fraction):.2g}); check the likelihood and the prior bounds"
            )
        if n_steps < TRUSTED_AUTOCORR_TIMES * tau_max:
            return FitResult.failed(
                f"chain not converged: {n_steps} steps (max_steps {v['max_steps']}) are only "
                f"{n_steps / tau_max:.1f} autocorrelation times (tau = {tau_max:.1f}), fewer than the "
                f"{TRUSTED_AUTOCORR_TIMES} emcee needs to trust tau and the percentiles; raise max_steps, or "
                f"reparametrise the model so that its posterior is less curved"
            )
        burn = int(np.ceil(2 * tau_max))
        thin = max(1, int(tau_max / 2))
        samples = sampler.get_chain(discard=burn, thin=thin, flat=True)
        if len(samples) > v["max_samples"]:
            samples = samples[np.linspace(0, len(samples) - 1, v["max_samples"]).astype(int)]
        names = model.param_names
        median = np.median(samples, axis=0)
        p16, p84 = np.percentile(samples, [15.865, 84.135], axis=0)
        n_effective = n_walkers * (n_steps - burn) / tau_max
        # A few walkers' traces for the trace plot (first parameters only), at most
        # MAX_TRACE_STEPS rows: an extended chain is strided, its stride recorded.
        stride = int(np.ceil(n_steps / MAX_TRACE_STEPS))
        chain = sampler.get_chain(thin=stride)
        keep_walkers = min(n_walkers, 8)
        return FitResult(
            params=dict(zip(names, median)),
            stderr=dict(zip(names, samples.std(axis=0, ddof=1))),
            covariance=np.cov(samples, rowvar=False).reshape(n_params, n_params),
            samples=samples,
            n_evaluations=int(n_walkers * n_steps) + n_start,
            diagnostics={
                **extra,
                "acceptance_fraction": float(np.mean(sampler.acceptance_fraction)),
                "tau": tau.tolist(),
                "n_steps": n_steps,
                BURN_IN: burn,
                "thin": thin,
                TRACE_STRIDE: stride,
                "n_walkers": n_walkers,
                "effective_sample_size": float(n_effective),
                "percentile_16": dict(zip(names, p16.tolist())),
                "percentile_84": dict(zip(names, p84.tolist())),
            },
            arrays={"chains": chain[:, :keep_walkers, : min(n_params, 6)]},
        )

    def figures(self, dataset, result):
        return {
            "traces": trace_plot(result, "step (dashed: end of burn-in)", burn_in=result.diagnostics[BURN_IN]),
            "pairs": pair_plot(result, dataset.truth_params),
        }


@contextlib.contextmanager
def _quiet_when_stopped():
    """Hold what the block prints, and print it when the block ends, unless it was stopped
    by a time limit (:class:`fitflow.plugin.TimedOut`) or Ctrl-C. emcee prints the walkers
    and a traceback for any exception its likelihood raises, these too, which are not errors
    of the likelihood but the fit being stopped."""
    out, err = io.StringIO(), io.StringIO()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            yield
    except (TimedOut, KeyboardInterrupt):
        raise
    except BaseException:
        sys.stdout.write(out.getvalue())
        sys.stderr.write(err.getvalue())
        raise
    sys.stdout.write(out.getvalue())
    sys.stderr.write(err.getvalue())


def _run_until_converged(sampler, initial, n_steps, max_steps):
    """Run ``n_steps`` from ``initial``, then extend the chain (at least 1.5-fold each
    time, to 55 tau at the latest estimate) until it is 50 tau long or ``max_steps``
    long. Returns the steps run and the final per-parameter tau (NaN where undefined)."""
    sampler.run_mcmc(initial, n_steps, progress=False)
    while True:
        # tol=0: emcee's own check would only log a warning; the caller decides.
        tau = sampler.get_autocorr_time(tol=0)
        tau_max = float(np.max(tau))
        if not np.isfinite(tau_max) or n_steps >= TRUSTED_AUTOCORR_TIMES * tau_max or n_steps >= max_steps:
            return n_steps, tau
        target = min(max_steps, max(int(np.ceil(1.1 * TRUSTED_AUTOCORR_TIMES * tau_max)), n_steps + n_steps // 2))
        sampler.run_mcmc(None, target - n_steps, progress=False)
        n_steps = target


def _batched_model(model, x, probe):
    """``predict(thetas) -> (m, n)``: the model at ``m`` parameter vectors.

    One call with ``theta`` shaped ``(p, m, 1)`` when the model's function broadcasts
    over its parameters (elementwise arithmetic on unpacked parameters, as most models
    and every fitflow expression are) and then gives exactly, bit for bit, what calling
    it per vector gives at the ``probe`` vectors; otherwise one call per vector. emcee
    evaluates all walkers of a half-step at once, so a broadcasting model costs one
    numpy call per half-step instead of one Python call per walker. A linear model
    that does not broadcast is evaluated as ``thetas @ design(x).T`` with its design
    matrix built once (its definition; checked at the probe vectors to rounding).
    """

    def one_by_one(thetas):
        return np.stack([model(x, theta) for theta in thetas]) if len(thetas) else np.empty((0, np.size(x)))

    if model.differentiable and getattr(model.jacobian, "automatic", False):  # a JAX function: vmap, compiled

        def mapped(thetas):
            return model.exact().batched_value(x, thetas) if len(thetas) else np.empty((0, np.size(x)))

        mapped.vectorised = True
        return mapped

    def at_once(thetas):
        return np.broadcast_to(
            np.asarray(model.function(x, thetas.T[:, :, None]), dtype=float),
            (len(thetas), *np.shape(model(x, thetas[0]))),
        )

    try:
        with np.errstate(all="ignore"):
            exact = np.array_equal(at_once(probe), one_by_one(probe), equal_nan=True)
    except Exception:  # the function does not broadcast: fine, it is called per vector
        exact = False
    if exact:
        at_once.vectorised = True
        return at_once
    if model.is_linear:
        design_t = np.asarray(model.design(x), dtype=float).T

        def linear(thetas):
            return thetas @ design_t

        expected = one_by_one(probe)
        if linear(probe).shape == expected.shape and np.allclose(
            linear(probe), expected, rtol=1e-10, atol=1e-12 * np.max(np.abs(expected), initial=1.0)
        ):
            linear.vectorised = True
            return linear
    return one_by_one


def _poisson_rows(y, means):
    """The Poisson log-likelihood ``sum(y log f - f)`` of each row of ``means`` (one walker's
    model values each); ``-inf`` where a mean is not positive or not finite."""
    with np.errstate(all="ignore"):
        positive = np.all(means > 0, axis=1) & np.all(np.isfinite(means), axis=1)
        terms = y * np.log(np.where(means > 0, means, 1.0)) - means
    return np.where(positive, terms.sum(axis=1), -np.inf)
