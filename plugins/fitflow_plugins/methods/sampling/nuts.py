"""Posterior sampling with the No-U-Turn Sampler (NUTS), on gradients computed by JAX.

The lecture's MCMC slide: MCMC needs no gradients "apart from HMC". This is that
method. The posterior is the one :mod:`.emcee_sampler` samples (Gaussian
likelihood in the per-point errors; without errors, a common unknown error
integrated out under Jeffreys' prior, ``-(n/2) log(RSS)``; uniform prior on the
model's bounds, flat where a bound is infinite, or flat everywhere with
``prior: flat``), so the two can be compared draw for draw. NUTS needs the
gradient of its log-density: the model must be one JAX can differentiate, an
expression or a function written with ``jax.numpy`` (``backend: jax``).

Sampler and library: BlackJAX's NUTS (Hoffman and Gelman's algorithm) after its
window adaptation (Stan's: step size by dual averaging, a diagonal mass matrix),
``n_chains`` chains vectorised in one process, in float64, on reverse-mode gradients
(``gradient`` chooses forward mode). The chains move in
coordinates scaled by the least-squares Laplace standard errors (:func:`_scaling`), so
that the adaptation meets a target of unit scales whatever the parameters' units.
BlackJAX rather than NumPyro: BlackJAX's warm-up and sampling of all chains are one
compiled program, which JAX's compilation cache keeps between jobs, where NumPyro's
``MCMC.run`` compiles many small programs as it initialises, every fit (the
comparison: docs/benchmarks.md, "Differentiable programming (JAX)"). Diagnostics are
ArviZ's (arviz-stats, numpy and scipy only): rank-normalised split R-hat and bulk
and tail effective sample sizes (Vehtari et al. 2021).

Each parameter is sampled in an unconstrained space (log for a one-sided bound,
logit for an interval; :class:`.likelihood.Unconstrained`), with the Jacobian of that change
of variables, so a bound is never crossed and never stalls the sampler. Where
R-hat or ESS fall short after ``n_samples`` draws per chain, the chains go on
from where they stopped, ``n_samples`` at a time, up to ``max_samples_per_chain``
(emcee's plugin extends its chain the same way), rather than failing a fit that a
longer chain would settle. Chains start from the
least-squares optimum (``nlls``) scattered by ``init_scale`` Laplace standard
errors, so that R-hat compares chains that began apart.

A fit is ``ok`` only when its draws can be trusted: rank R-hat at most
``max_rhat`` (1.01) for every parameter, bulk and tail ESS at least ``min_ess``
(400, 100 per chain of 4, Vehtari et al.'s recommendation), and divergent
transitions at most ``max_divergent_fraction`` of the draws (0.1%: a divergence
marks a region the sampler could not integrate, where the draws are biased).
Any divergence below that is a warning.
"""

import numpy as np

from fitflow.plugin import FitResult, Method, Setting, compiled_once, likelihood_of

from .diagnostics import TRACE_STRIDE, pair_plot, trace_plot
from .likelihood import (
    GRADIENT_MODES,
    Unconstrained,
    gradient_modes,
    in_mode,
    likelihood_data,
    log_likelihood,
    without_gradient,
)
from .start import least_squares_start

__all__ = ["NoUTurnSampler"]

MAX_TRACE_DRAWS = 2000  # rows of the stored traces


class NoUTurnSampler(Method):
    name = "nuts"
    version = "1.1"
    description = "NUTS (BlackJAX) on JAX gradients: Gaussian likelihood, uniform priors, R-hat/ESS/divergence checks"
    capabilities = frozenset({"parametric"})
    requires_modules = ("jax", "blackjax", "arviz_stats")
    extra = "jax"
    resources = {"threads": 1, "mem_mb": 2000, "runtime": 30}
    settings = {
        "n_chains": Setting(4, int, "chains, run side by side (R-hat needs at least 4)", minimum=2, maximum=64),
        "n_warmup": Setting(1000, int, "adaptation steps per chain (discarded)", minimum=50, maximum=1_000_000),
        "n_samples": Setting(1000, int, "draws kept per chain", minimum=50, maximum=1_000_000),
        "target_accept": Setting(0.9, float, "target mean acceptance probability of the adaptation", minimum=0.5),
        "max_tree_depth": Setting(10, int, "the trajectory has at most 2^depth leapfrog steps", minimum=2, maximum=15),
        "prior": Setting(
            "bounds", str, "uniform on the model's bounds, or flat (improper)", choices=("bounds", "flat")
        ),
        "mass_matrix": Setting(
            "diagonal",
            str,
            "the metric the warm-up adapts: diagonal (Stan's default), or dense (learns linear correlations; on "
            "curved posteriors its chains mixed worse: docs/benchmarks.md)",
            choices=("dense", "diagonal"),
        ),
        "gradient": Setting(
            "reverse",
            str,
            "how JAX takes the log-density's gradient: reverse mode, forward mode (faster through an ODE solver's "
            "loop with few parameters, but not yet the default: docs/guide/jax.md), or auto (forward for few "
            "parameters); the other is tried where the model cannot be traced in the first",
            choices=GRADIENT_MODES,
        ),
        "init_scale": Setting(
            1.0,
            float,
            "spread of the chains' starts, in Laplace standard errors (> 0: R-hat compares chains that began apart)",
            minimum=1e-3,
        ),
        "max_rhat": Setting(1.01, float, "largest rank-normalised R-hat of an ok fit", minimum=1.0),
        "min_ess": Setting(400, int, "smallest bulk and tail effective sample size of an ok fit", minimum=1),
        "max_divergent_fraction": Setting(
            0.001,
            float,
            "largest fraction of divergent transitions among the draws of an ok fit",
            minimum=0.0,
            maximum=1.0,
        ),
        "max_samples_per_chain": Setting(
            8000,
            int,
            "where R-hat or ESS fall short after n_samples, the chains go on, n_samples at a time, up to this "
            "many draws each; short still: failed",
            minimum=50,
            maximum=1_000_000,
        ),
        "max_samples": Setting(20000, int, "cap on the draws kept in the result", minimum=100, maximum=1_000_000),
    }
    fast_settings = {"n_warmup": 300, "n_samples": 300, "min_ess": 100}

    def check_settings(self):
        if self.values["target_accept"] >= 1:
            from fitflow.plugin import SettingsError

            raise SettingsError(
                f"{self.label()}: target_accept must lie below 1",
                plugin=self.name,
                key="target_accept",
                value=self.values["target_accept"],
            )

    def can_fit(self, dataset):
        return without_gradient(dataset) or super().can_fit(dataset)

    def fit(self, dataset, rng):
        model, v = dataset.model, self.values
        bounded = v["prior"] == "bounds" and model.is_bounded
        lower, upper = model.bounds if bounded else (np.full(model.n_params, -np.inf), np.full(model.n_params, np.inf))
        start = least_squares_start(dataset, rng, bounded=bounded)
        if not start.ok:
            return FitResult.failed(f"no least-squares optimum to start the chains from: {start.message}")
        starts = _starting_points(start, lower, upper, v["n_chains"], v["init_scale"], rng)
        names = model.param_names
        likelihood = (model, dataset.sigma is not None, likelihood_of(dataset) == "poisson")
        sampler = _Chains(likelihood, likelihood_data(dataset), lower, upper, v, rng, _scaling(start, lower, upper))
        try:
            draws, extra = sampler.start(starts)
            # emcee's rule, NUTS's checks: a chain that is short of R-hat or ESS goes on
            # (divergences are not cured by length: those fail at once)
            while draws.shape[1] + v["n_samples"] <= max(v["n_samples"], v["max_samples_per_chain"]):
                diagnostics, problems = self._checks(names, draws, extra)
                if not problems or diagnostics["divergences"] > v["max_divergent_fraction"] * draws[..., 0].size:
                    break
                draws, extra = sampler.extend()
        except FloatingPointError as exc:
            return FitResult.failed(str(exc))
        return self._summarise(names, draws, extra, start.n_evaluations)

    def _checks(self, names, draws, extra):
        """``(diagnostics, problems)`` of ``draws`` (chains, draws, params): R-hat, ESS and
        divergences, and a sentence for each check that fails."""
        from arviz_stats.base import array_stats

        v = self.values
        n_chains, n_draws, n_params = draws.shape
        rhat = np.atleast_1d(array_stats.rhat(draws, chain_axis=0, draw_axis=1, method="rank"))
        ess_bulk = np.atleast_1d(array_stats.ess(draws, chain_axis=0, draw_axis=1, method="bulk"))
        ess_tail = np.atleast_1d(array_stats.ess(draws, chain_axis=0, draw_axis=1, method="tail", prob=(0.05, 0.95)))
        divergent = int(extra["diverging"].sum())
        diagnostics = {
            "n_chains": n_chains,
            "n_warmup": v["n_warmup"],
            "n_samples": n_draws,
            "rhat": dict(zip(names, rhat.tolist())),
            "ess_bulk": dict(zip(names, ess_bulk.tolist())),
            "ess_tail": dict(zip(names, ess_tail.tolist())),
            "divergences": divergent,
            "step_size": extra["step_size"],
            "mean_tree_size": float(extra["num_steps"].mean()),
            "effective_sample_size": float(min(ess_bulk.min(), ess_tail.min())),
        }
        problems = []
        if not np.all(np.isfinite(rhat)) or rhat.max() > v["max_rhat"]:
            worst = int(np.nanargmax(np.where(np.isfinite(rhat), rhat, np.inf)))
            problems.append(f"chains disagree: R-hat of {names[worst]} is {rhat[worst]:.3f} (ok up to {v['max_rhat']})")
        low = min(ess_bulk.min(), ess_tail.min())
        if not np.isfinite(low) or low < v["min_ess"]:
            problems.append(
                f"too few effective draws: bulk ESS {ess_bulk.min():.0f}, tail ESS {ess_tail.min():.0f} "
                f"(at least {v['min_ess']} needed; raise max_samples_per_chain)"
            )
        total = n_chains * n_draws
        if divergent > v["max_divergent_fraction"] * total:
            problems.append(
                f"{divergent} of {total} transitions diverged (more than {v['max_divergent_fraction']:.2%}): the "
                "sampler could not follow the posterior's curvature there and its draws are biased; raise "
                "target_accept, or reparametrise the model"
            )
        return diagnostics, problems

    def _summarise(self, names, draws, extra, n_start):
        """The FitResult of ``draws`` (chains, draws, params), failed where a check fails."""
        v = self.values
        n_chains, n_draws, n_params = draws.shape
        diagnostics, problems = self._checks(names, draws, extra)
        divergent, total = diagnostics["divergences"], n_chains * n_draws
        if problems:
            failed = FitResult.failed("; ".join(problems))
            failed.diagnostics.update(diagnostics)
            return failed
        warnings = (
            [f"{divergent} of {total} transitions diverged (up to {v['max_divergent_fraction']:.2%} is tolerated)"]
            if divergent
            else []
        )
        samples = draws.reshape(-1, n_params)
        if len(samples) > v["max_samples"]:
            samples = samples[np.linspace(0, len(samples) - 1, v["max_samples"]).astype(int)]
        p16, p84 = np.percentile(samples, [15.865, 84.135], axis=0)
        stride = int(np.ceil(n_draws / MAX_TRACE_DRAWS))
        return FitResult(
            params=dict(zip(names, np.median(samples, axis=0))),
            stderr=dict(zip(names, samples.std(axis=0, ddof=1))),
            covariance=np.cov(samples, rowvar=False).reshape(n_params, n_params),
            samples=samples,
            n_evaluations=int(extra["num_steps"].sum()) + n_start,
            diagnostics={
                **diagnostics,
                "percentile_16": dict(zip(names, p16.tolist())),
                "percentile_84": dict(zip(names, p84.tolist())),
                TRACE_STRIDE: stride,
            },
            warnings=warnings,
            arrays={
                "chains": np.transpose(draws[:, ::stride, : min(n_params, 6)], (1, 0, 2)),
                "energy": extra["energy"],
                "diverging": extra["diverging"],
            },
        )

    def figures(self, dataset, result):
        return {
            "traces": trace_plot(result, "draw after warm-up (one line per chain)"),
            "energy": _energy_plot(result.arrays["energy"], result.arrays["diverging"]),
            "pairs": pair_plot(result, dataset.truth_params),
        }


def _starting_points(start, lower, upper, n_chains, scale, rng):
    """``(n_chains, p)`` starts around the least-squares optimum, strictly inside the bounds."""
    centre, spread = start.estimate_vector(), start.stderr_vector()
    spread = np.where(np.isfinite(spread) & (spread > 0), spread, 1e-6 * np.maximum(1.0, np.abs(centre)))
    starts = centre + scale * spread * rng.standard_normal((n_chains, centre.size))
    # a start beyond a bound is mirrored back inside (on the bound, its unconstrained
    # coordinate would be infinite), then kept a hair away from either bound
    starts = np.where(starts < lower, 2 * lower - starts, starts)
    starts = np.where(starts > upper, 2 * upper - starts, starts)
    width = upper - lower
    margin = np.where(np.isfinite(width), 1e-6 * width, 1e-9 * np.maximum(1.0, np.abs(centre)))
    return np.clip(starts, lower + margin, upper - margin)


def _scaling(start, lower, upper):
    """``(centre, scale)``: the sampler's coordinates ``w`` are ``z = centre + scale * w`` in the
    unconstrained space, where ``centre`` is the least-squares optimum and ``scale`` its Laplace
    standard errors carried into that space. Every coordinate then has a
    posterior sd near 1, whatever the parameters' units.

    Why: Stan's and BlackJAX's warm-up regularise the mass matrix they learn towards
    1e-3 x identity, which swamps a parameter whose posterior variance is far below that (the
    quadratic term of a trend over 40 years: sd 9e-5). The step size then shrinks to the
    smallest scale: 647 leapfrog steps a draw, 78 s on 2,000 points and five parameters;
    scaled, 37 steps and 6 s. Only the scales: whitening by the full Laplace covariance (6
    steps there) imposed its rotation on curved posteriors, and the 12- and 18-parameter line
    posteriors of benchmarks/bench_jax.py diverged (11 and 30 of 4,000 transitions); with the
    scales alone they converge as before. ``mass_matrix: dense`` learns the correlations.
    Without usable standard errors the coordinates are the unconstrained ones, as before."""
    space = Unconstrained(lower, upper)
    theta = start.estimate_vector()
    centre = space.unconstrained(theta)
    unscaled = np.ones_like(theta)
    covariance = start.covariance
    if covariance is None or not np.all(np.isfinite(covariance)):
        return centre, unscaled
    # d z / d theta of each parameter's map (Unconstrained's), at the optimum
    slope = np.ones_like(theta)
    i = space.interval
    slope[i] = (upper[i] - lower[i]) / ((theta[i] - lower[i]) * (upper[i] - theta[i]))
    slope[space.above_lower] = 1.0 / (theta[space.above_lower] - lower[space.above_lower])
    slope[space.below_upper] = 1.0 / (upper[space.below_upper] - theta[space.below_upper])
    scale = np.abs(slope) * np.sqrt(np.diag(covariance))
    if not np.all(np.isfinite(scale) & (scale > 0)):
        return centre, unscaled
    return centre, scale


class _Chains:
    """NUTS chains side by side, which can be extended: ``start`` runs BlackJAX's window
    adaptation and ``n_samples`` draws per chain, ``extend`` ``n_samples`` more from where
    they stopped, with the same tuning. Each is one compiled program whose arguments are
    the data and the scaling, kept for the process (``compiled_once``, keyed by the model,
    the likelihood, the bounds, the settings and the gradient's mode), so the next fit of the
    model (a replicate, a cross-validation fold) compiles nothing. The chains
    move in scaled coordinates (:func:`_scaling`). Returns every draw so far,
    ``(chains, draws, p)`` in the model's parameters, and the divergences, energies,
    trajectory lengths and adapted step size."""

    def __init__(self, likelihood, data, lower, upper, v, rng, scaling):
        from fitflow.plugin import jax_modules

        jax, _ = jax_modules()
        self.jax, self.rng = jax, rng
        self.space = Unconstrained(lower, upper)
        self.centre, self.scale = scaling
        self.data = tuple(np.asarray(a, dtype=float) for a in (*data, *scaling))
        model, known, counts = likelihood
        n_params = model.n_params
        fixed = (v["n_warmup"], v["n_samples"], v["target_accept"], v["max_tree_depth"], v["mass_matrix"] == "diagonal")
        self._programs = [
            compiled_once(
                ("nuts", model.jax_function, known, counts, lower.tobytes(), upper.tobytes(), fixed, mode),
                lambda mode=mode: _programs(log_likelihood(model, known, counts), self.space, fixed, mode),
            )
            for mode in gradient_modes(v["gradient"], n_params)
        ]
        self.records = []

    def _keys(self, n):
        return self.jax.random.split(self.jax.random.PRNGKey(int(self.rng.integers(2**31))), n)

    def start(self, starts):
        scaled = (self.space.unconstrained(starts) - self.centre) / self.scale
        keys = self._keys(len(starts))
        failures = []
        for first, more in self._programs:  # the chosen gradient mode, then the other
            try:
                self.states, self.tuned, record = first(keys, scaled, *self.data)
            except (TypeError, ValueError, NotImplementedError) as exc:  # JAX cannot trace the model so
                failures.append(exc)
                continue
            self._more = more
            return self._collect(record)
        raise failures[0]

    def extend(self):
        self.states, record = self._more(self._keys(len(self.tuned["step_size"])), self.states, self.tuned, *self.data)
        return self._collect(record)

    def _collect(self, record):
        jax = self.jax
        positions, diverging, energy, steps = record
        centre, scale = self.centre, self.scale
        to_parameters = jax.vmap(jax.vmap(lambda w: self.space.parameters(centre + scale * w)[0]))
        draws = np.asarray(to_parameters(positions), dtype=float)
        if not np.all(np.isfinite(draws)):
            raise FloatingPointError("the chains hold non-finite draws: the log-likelihood or its gradient overflowed")
        self.records.append((draws, np.asarray(diverging, bool), np.asarray(energy, float), np.asarray(steps, float)))
        draws, diverging, energy, steps = (np.concatenate(parts, axis=1) for parts in zip(*self.records))
        extra = {
            "diverging": diverging,
            "energy": energy,
            "num_steps": steps,
            "step_size": float(np.mean(np.asarray(self.tuned["step_size"]))),
        }
        return draws, extra


def _programs(log_likelihood, space, fixed, mode):
    """``(first, more)``, the jitted programs of :class:`_Chains`: warm-up and the first draws
    of every chain, and more draws from where they stopped. ``fixed`` holds what the trace
    fixes: warm-up and draw counts, target acceptance, tree depth, a diagonal mass matrix."""
    import blackjax
    from blackjax.adaptation.base import get_filter_adapt_info_fn

    from fitflow.plugin import jax_modules

    jax, _ = jax_modules()
    n_warmup, n_samples, target, depth, diagonal = fixed

    def log_density_of(x, y, whiten, weight, centre, scale):
        def log_density(w):
            theta, log_jacobian = space.parameters(centre + scale * w)
            return log_likelihood(theta, x, y, whiten, weight) + log_jacobian

        return in_mode(log_density, mode)

    def sample(log_density, key, state, tuned):
        kernel = blackjax.nuts(log_density, **tuned, max_num_doublings=depth).step

        def step(state, key):
            state, info = kernel(key, state)
            return state, (state.position, info.is_divergent, info.energy, info.num_integration_steps)

        return jax.lax.scan(step, state, jax.random.split(key, n_samples))

    def first(keys, starts, *data):
        log_density = log_density_of(*data)

        def one_chain(key, start):
            warm_key, sample_key = jax.random.split(key)
            adaptation = blackjax.window_adaptation(
                blackjax.nuts,
                log_density,
                is_mass_matrix_diagonal=diagonal,
                target_acceptance_rate=target,
                adaptation_info_fn=get_filter_adapt_info_fn(),  # keep no record of the warm-up
                max_num_doublings=depth,
            )
            (state, tuned), _ = adaptation.run(warm_key, start, num_steps=n_warmup)
            tuned = {k: tuned[k] for k in ("step_size", "inverse_mass_matrix")}
            state, record = sample(log_density, sample_key, state, tuned)
            return state, tuned, record

        return jax.vmap(one_chain)(keys, starts)

    def more(keys, states, tuned, *data):
        log_density = log_density_of(*data)
        return jax.vmap(lambda key, state, tuned: sample(log_density, key, state, tuned))(keys, states, tuned)

    return jax.jit(first), jax.jit(more)


def _energy_plot(energy, diverging):
    """Betancourt's energy diagnostic: the marginal energy against its step-to-step changes
    (a transition histogram much narrower than the marginal means chains that explore the
    tails slowly), with each chain's E-BFMI and divergence count."""
    import matplotlib.pyplot as plt

    centred = energy - energy.mean(axis=1, keepdims=True)
    transitions = np.diff(energy, axis=1)
    bfmi = np.mean(transitions**2, axis=1) / np.var(energy, axis=1)
    fig, ax = plt.subplots(figsize=(6, 3.2), dpi=100)
    fig.subplots_adjust(left=0.1, right=0.98, bottom=0.16, top=0.88)
    bins = np.linspace(*np.percentile(np.concatenate([centred.ravel(), transitions.ravel()]), [0.5, 99.5]), 50)
    ax.hist(centred.ravel(), bins=bins, alpha=0.6, density=True, label="marginal energy (centred)")
    ax.hist(transitions.ravel(), bins=bins, alpha=0.6, density=True, label="energy transition")
    ax.set_yticks([])
    ax.legend(fontsize=8, frameon=False)
    ax.set_title(
        f"E-BFMI per chain: {', '.join(f'{b:.2f}' for b in bfmi)} (below 0.3: poor); "
        f"divergences: {int(diverging.sum())}",
        fontsize=9,
    )
    return fig
