"""A variational neural network: weights that are normal random variables, w -> (mu_w, sigma_w).

The network of Streeter et al. 2023 (the lecture's laser-wakefield example): mean-field
variational inference (Bayes by backprop) learns an independent normal for every weight
and bias by maximising the evidence lower bound with NumPyro's SVI (``AutoNormal`` guide,
``TraceMeanField_ELBO``: the KL term in closed form, the likelihood by ``particles``
reparameterised weight draws per step; Adam with a learning rate decaying a hundredfold
over ``steps``; all steps one compiled loop). Inputs and outputs are standardised and
several outputs share the hidden layers. The prior is N(0, 1) on every weight, scaled by
1/sqrt(fan-in) in the forward pass. The noise is the data's ``sigma`` where known, else
learned per output; the band then includes it (on a deterministic simulation the learned
noise is the network's misfit, which a band of the function must cover).

The prediction is the mean of the network over ``samples`` weight draws, its band their spread.
Mean-field bands are not calibrated by construction: on the ``emulator`` problem raw 95%
coverage ranged 0.62-0.99 with the architecture. So ``calibration_fraction`` of the points
(at least 19) is held out; the network trained on the rest predicts them, and each
output's band gets the split-conformal scale (:func:`band_scale`), whose coverage
guarantee holds for that network only: retrained on every point, its band narrowed faster
than its error and 95% bands covered 0.93-0.95 (three runs of bench_variational.py). Where
the fraction is under 19 points (fewer than 95 at 0.2), every point trains the network and
the band stays raw, with a warning: on 40 points, holding out 19 left too few to fit.

Unless ``hidden_layers`` is set, the architecture is the one of ``ARCHITECTURES`` whose
network (trained without the held-out points, from ``STARTS`` random starts each) reaches
the highest ELBO, the bound on the evidence. The choice matters: the KL term grows with the number of weights, and on 40
points a [16, 16] network's best ELBO was the one that explains both outputs as noise
(RMSE 0.53 against 0.05 for [4]); on the 200-run emulator [16] won (docs, benchmarks page).
"""

from dataclasses import dataclass
import functools
import math

import numpy as np

from fitflow.plugin import BAND, BAND_NOTE, FitResult, Method, Setting

__all__ = ["VariationalNetwork", "VariationalNeuralNetwork", "train_variational_network", "band_scale"]

#: The architectures compared by their ELBO when ``hidden_layers`` is not set.
ARCHITECTURES = ((4,), (8,), (16,), (16, 16))
#: Random starts of each: the ELBO's optimiser can settle where an output is all noise (on
#: 40 points [4] did from one start, ELBO -70.7 against -35.2 from another).
STARTS = 2
MIN_HELD_OUT = 19  # the fewest held-out points whose 95% conformal rank exists (ceil(20 x 0.95) = 19)
_NOISE_PRIOR = (np.log(0.1), 2.0)  # log-normal prior of the noise, in units of each output's spread


def _activation(name):
    import jax.numpy as jnp

    import jax

    return {"tanh": jnp.tanh, "relu": jax.nn.relu, "gelu": jax.nn.gelu}[name]


def _forward(weights, x, n_layers, activation):
    """The network's outputs for inputs ``x`` (standardised), weights by name ``w0, b0, ...``:
    one set (JAX, inside the NumPyro model) or a stack of draws, ``(draws, fan_in, fan_out)``
    (numpy, for predictions), whose outputs come out ``(draws, m, k)``."""
    h = x
    for layer in range(n_layers):
        w = weights[f"w{layer}"]
        h = h @ w / math.sqrt(w.shape[-2]) + weights[f"b{layer}"][..., None, :]
        if layer < n_layers - 1:
            h = activation(h)
    return h


def _bayesian_network(x, y, sigma, sizes, activation):
    """NumPyro model: N(0, 1) weights, Gaussian likelihood with known or learned noise."""
    import numpyro
    import numpyro.distributions as dist

    weights = {}
    for layer, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        weights[f"w{layer}"] = numpyro.sample(f"w{layer}", dist.Normal(0.0, 1.0).expand([fan_in, fan_out]).to_event(2))
        weights[f"b{layer}"] = numpyro.sample(f"b{layer}", dist.Normal(0.0, 1.0).expand([fan_out]).to_event(1))
    f = _forward(weights, x, len(sizes) - 1, activation)
    if sigma is None:
        sigma = numpyro.sample("noise", dist.LogNormal(*_NOISE_PRIOR).expand([sizes[-1]]).to_event(1))
    with numpyro.plate("points", x.shape[0]):
        numpyro.sample("y", dist.Normal(f, sigma).to_event(1), obs=y)


@dataclass
class VariationalNetwork:
    """A trained network: each weight's variational mean and sd (``w0_auto_loc``,
    ``w0_auto_scale``, ...), the scalings of inputs and outputs, and the loss per step."""

    params: dict
    sizes: tuple
    activation: str
    x_scale: tuple
    y_scale: tuple
    losses: np.ndarray

    @property
    def elbo(self):
        """The evidence lower bound at the end of training (mean over the last 100 steps)."""
        return float(-np.mean(self.losses[-100:]))

    def weight_draws(self, n_samples, seed):
        """``n_samples`` draws of every weight and bias from the variational posterior."""
        rng = np.random.default_rng(seed)
        draws = {}
        for layer in range(len(self.sizes) - 1):
            for name in (f"w{layer}", f"b{layer}"):
                loc, scale = self.params[f"{name}_auto_loc"], self.params[f"{name}_auto_scale"]
                draws[name] = loc + scale * rng.standard_normal((n_samples, *loc.shape))
        return draws

    def outputs(self, weights, x):
        """``(n_samples, m, k)`` network outputs at ``x`` (original units) for weight draws."""
        scaled = (np.asarray(x, dtype=float).reshape(len(x), -1) - self.x_scale[0]) / self.x_scale[1]
        h = _forward(weights, scaled, len(self.sizes) - 1, _NUMPY_ACTIVATIONS[self.activation])
        return h * self.y_scale[1] + self.y_scale[0]

    def noise(self):
        """The learned noise sd per output (original units): the guide's median; None if it was known."""
        if "noise_auto_loc" not in self.params:
            return None
        return np.exp(self.params["noise_auto_loc"]) * self.y_scale[1]

    def predict(self, x, n_samples, seed):
        """Mean and standard deviation of the network at ``x`` over ``n_samples`` weight draws."""
        samples = self.outputs(self.weight_draws(n_samples, seed), x)
        return samples.mean(axis=0), samples.std(axis=0, ddof=1)


_NUMPY_ACTIVATIONS = {
    "tanh": np.tanh,
    "relu": lambda h: np.maximum(h, 0.0),
    "gelu": lambda h: 0.5 * h * (1 + np.tanh(np.sqrt(2 / np.pi) * (h + 0.044715 * h**3))),
}


#: SVI steps per compiled call (see ``_compiled_training``): a few tenths of a second on
#: 2,000 points, and the per-call overhead is negligible beside it.
STEPS_PER_CALL = 500


@functools.lru_cache(maxsize=8)
def _compiled_training(n_points, sizes, activation, known_noise, steps, learning_rate, particles):
    """``(init, run)``: NumPyro's ``SVI.init`` for this network, compiled (run eagerly it took
    11 s, op by op), and ``run(state, x, y, sigma)``, every step in one compiled loop.
    Cached, so networks of one shape trained on as many points compile once per process
    (``SVI.run`` traces afresh on every call: 7 s of each 3,000-step fit). The number of
    points is part of the key: the guide keeps values from the trace of ``init``, which a
    second trace for another data shape would leak."""
    import numpyro
    from numpyro.infer import SVI, TraceMeanField_ELBO
    from numpyro.infer.autoguide import AutoNormal
    import optax

    from fitflow.plugin import jax_modules

    jax, jnp = jax_modules()
    model = functools.partial(_bayesian_network, sizes=sizes, activation=_activation(activation))
    guide = AutoNormal(model, init_loc_fn=functools.partial(_initial_value), init_scale=0.01)
    schedule = optax.exponential_decay(learning_rate, steps, 0.01)
    optimiser = numpyro.optim.optax_to_numpyro(optax.adam(schedule))
    svi = SVI(model, guide, optimiser, TraceMeanField_ELBO(num_particles=particles))

    @functools.partial(jax.jit, static_argnums=4)
    def steps_from(state, x, y, sigma, count):
        def step(i, carry):
            state, losses = carry
            state, loss = svi.update(state, x, y, sigma)
            return state, losses.at[i].set(loss)

        return jax.lax.fori_loop(0, count, step, (state, jnp.zeros(count)))

    def run(state, x, y, sigma):
        # In compiled pieces of STEPS_PER_CALL steps (the optimiser's state carries the step
        # count, so the schedule runs on): a time limit is a signal, which Python sees only
        # between calls; one 20,000-step call held it off for minutes.
        losses = []
        for start in range(0, steps, STEPS_PER_CALL):
            state, chunk = steps_from(state, x, y, sigma, min(STEPS_PER_CALL, steps - start))
            losses.append(chunk)
        return svi.get_params(state), jnp.concatenate(losses)

    return jax.jit(svi.init), run


def train_variational_network(x, y, sigma, seed, hidden, activation, steps, learning_rate, particles):
    """Fit the mean-field posterior of a network from ``x`` ``(n, d)`` to ``y`` ``(n, k)``.

    ``sigma`` (same shape as ``y``, or None: learned) are the observation errors."""
    from fitflow.plugin import jax_modules

    jax, jnp = jax_modules()
    x = np.asarray(x, dtype=float).reshape(len(x), -1)
    y = np.asarray(y, dtype=float).reshape(len(y), -1)
    x_scale = (x.mean(axis=0), _nonzero(x.std(axis=0)))
    y_scale = (y.mean(axis=0), _nonzero(y.std(axis=0)))
    inputs = jnp.asarray((x - x_scale[0]) / x_scale[1])
    targets = jnp.asarray((y - y_scale[0]) / y_scale[1])
    errors = None if sigma is None else jnp.asarray(np.broadcast_to(sigma, y.shape).reshape(y.shape) / y_scale[1])
    sizes = (x.shape[1], *hidden, y.shape[1])
    init, run = _compiled_training(len(x), sizes, activation, sigma is not None, steps, learning_rate, particles)
    state = init(jax.random.PRNGKey(seed), inputs, targets, errors)
    params, losses = run(state, inputs, targets, errors)
    params = {name: np.asarray(value, dtype=float) for name, value in params.items()}
    return VariationalNetwork(params, sizes, activation, x_scale, y_scale, np.asarray(losses, dtype=float))


def band_scale(residual, band, noise=None, coverage=0.95):
    """Per output, the split-conformal factor k for the band: the smallest k with which
    ``|residual| <= z sqrt(k^2 band^2 + noise^2)`` (z the normal quantile of ``coverage``)
    holds for the ceil((n + 1) coverage)-th smallest of the n held-out points. Then a
    new point is covered with probability at least ``coverage`` (exchangeability), and
    on average by ceil((n + 1) coverage) / (n + 1).

    ``residual`` and ``band`` are ``(n, k)``: held-out observations minus the prediction and
    the network's sd there; ``noise`` ``(n, k)`` or None: the known observation noise sd.
    0 where the noise alone covers the residuals; inf where n is too small for the rank."""
    from scipy.stats import norm

    residual = np.asarray(residual, dtype=float)
    band = np.maximum(np.asarray(band, dtype=float), 1e-300)
    noise = np.zeros_like(residual) if noise is None else np.broadcast_to(noise, residual.shape)
    z = norm.ppf(0.5 + coverage / 2)
    needed = np.sqrt(np.maximum((residual / z) ** 2 - noise**2, 0.0)) / band
    rank = int(np.ceil((len(residual) + 1) * coverage))
    if rank > len(residual):
        return np.full(residual.shape[1], np.inf)
    return np.sort(needed, axis=0)[rank - 1]


class VariationalNeuralNetwork(Method):
    name = "vnn"
    version = "1.0"
    description = "Variational neural network (mean-field VI over the weights, NumPyro SVI); bands from weight draws"
    capabilities = frozenset({"regression"})
    requires_modules = ("jax", "numpyro", "optax")
    extra = "jax"
    resources = {"threads": 1, "mem_mb": 2000, "runtime": 30}
    settings = {
        "hidden_layers": Setting(
            None,
            list,
            "units per hidden layer (default: the best ELBO of [4], [8], [16], [16, 16])",
            item_type=int,
            minimum=1,
            maximum=10_000,
        ),
        "activation": Setting("tanh", str, "hidden activation", choices=("tanh", "relu", "gelu")),
        "steps": Setting(20_000, int, "SVI steps (Adam)", minimum=1, maximum=10_000_000),
        "learning_rate": Setting(
            0.01, float, "Adam's initial step size (decays 100x over the steps); > 0", minimum=1e-9
        ),
        "particles": Setting(4, int, "weight draws per step for the ELBO's gradient", minimum=1, maximum=1000),
        "samples": Setting(200, int, "weight draws for the prediction and its band", minimum=2, maximum=100_000),
        "calibration_fraction": Setting(
            0.2, float, "points held out to scale the band (0: raw mean-field band)", minimum=0.0, maximum=0.5
        ),
    }
    fast_settings = {"steps": 2000, "samples": 50, "hidden_layers": [8]}

    def train(self, x, y, sigma, rng):
        """``(network, band_scale or None, warnings)`` for inputs ``(n, d)`` and outputs
        ``(n, k)``: the network trained without the held-out points (with the highest ELBO
        of the architectures tried where ``hidden_layers`` is not set) and the conformal
        scale of its band from those points (module docstring)."""
        v = self.values
        seeds = [int(s) for s in rng.integers(2**31, size=2)]
        train = functools.partial(
            train_variational_network,
            activation=v["activation"],
            steps=v["steps"],
            learning_rate=v["learning_rate"],
            particles=v["particles"],
        )
        candidates = ARCHITECTURES if v["hidden_layers"] is None else (tuple(v["hidden_layers"]),)
        warnings, scale = [], None
        n_held_out = int(round(v["calibration_fraction"] * len(y)))
        calibrate = n_held_out >= MIN_HELD_OUT
        if v["calibration_fraction"] > 0 and not calibrate:
            warnings.append(
                f"band not calibrated: calibration_fraction {v['calibration_fraction']} of {len(y)} points holds "
                f"out {n_held_out}, fewer than the {MIN_HELD_OUT} a 95% conformal scale needs; every point trains "
                "the network"
            )
        training = np.ones(len(y), dtype=bool)
        if calibrate:
            training[rng.choice(len(y), n_held_out, replace=False)] = False
        subset = None if sigma is None else sigma[training]
        starts = [int(s) for s in rng.integers(2**31, size=STARTS)]
        trials = [
            train(x[training], y[training], subset, start, hidden=hidden) for hidden in candidates for start in starts
        ]
        trial = max(trials, key=lambda network: network.elbo if np.isfinite(network.elbo) else -np.inf)
        if not calibrate:
            return trial, None, warnings
        mean, band = _band(trial, x[~training], sigma is None, v["samples"], seeds[1])
        scale = band_scale(y[~training] - mean, band, None if sigma is None else sigma[~training])
        if np.any(scale == 0):
            warnings.append("held-out residuals are within the noise for some outputs: their band is left raw")
            scale = np.where(scale > 0, scale, 1.0)
        return trial, scale, warnings

    def fit(self, dataset, rng):
        v = self.values
        x = dataset.x.reshape(dataset.n_points, -1)
        y = dataset.y.reshape(dataset.n_points, -1)
        sigma = None if dataset.sigma is None else np.broadcast_to(dataset.sigma, dataset.y.shape).reshape(y.shape)
        network, scale, warnings = self.train(x, y, sigma, rng)
        if not np.all(np.isfinite(network.losses[-100:])):
            return FitResult.failed("the ELBO became non-finite during training (try a smaller learning_rate)")
        tail = len(network.losses) // 10
        if tail >= 10:
            last, before = np.mean(network.losses[-tail:]), np.mean(network.losses[-2 * tail : -tail])
            if before - last > 0.01 * max(abs(last), 1.0):
                warnings.append(
                    f"the negative ELBO still fell {before - last:.3g} over the last tenth of the steps: "
                    "more steps may fit better"
                )
        seed = int(rng.integers(2**31))
        warnings += _unexplained_outputs(network, x, y, dataset.meta.get("outputs"))
        grid = dataset.grid_x.reshape(len(dataset.grid_x), -1)
        grid_mean, grid_std = _band(network, grid, sigma is None, v["samples"], seed)
        y_fit, _ = network.predict(x, v["samples"], seed)
        if scale is not None:
            grid_std = grid_std * scale
        shape = dataset.y.shape[1:]
        diagnostics = {
            "final_elbo": network.elbo,
            "hidden_layers": list(network.sizes[1:-1]),
            "weights": int(sum(a * b + b for a, b in zip(network.sizes[:-1], network.sizes[1:]))),
            BAND: "predictive" if sigma is None else "mean",
            BAND_NOTE: "spread over weight draws"
            + (", with the learned noise" if sigma is None else "")
            + (", scaled by split conformal prediction" if scale is not None else ""),
        }
        if scale is not None:
            diagnostics["band_scale"] = [float(s) for s in scale]
        if network.noise() is not None:
            diagnostics["noise"] = [float(s) for s in network.noise()]
        return FitResult(
            grid_mean=grid_mean.reshape(len(grid), *shape),
            grid_std=grid_std.reshape(len(grid), *shape),
            y_fit=y_fit.reshape(dataset.y.shape),
            n_evaluations=v["steps"] * STARTS * (len(ARCHITECTURES) if v["hidden_layers"] is None else 1),
            diagnostics=diagnostics,
            arrays={"elbo_loss": network.losses},
            warnings=warnings,
        )

    def figures(self, dataset, result):
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(6.4, 3.6), dpi=100)
        fig.subplots_adjust(left=0.15, right=0.97, bottom=0.14, top=0.9)
        loss = result.arrays["elbo_loss"]
        ax.plot(np.arange(1, len(loss) + 1), loss, color="#0072B2", lw=0.8)
        ax.set_xscale("log")
        ax.set_xlabel("SVI step")
        ax.set_ylabel("negative ELBO (standardised y)")
        ax.set_title("variational network: training loss", fontsize=10)
        return {"loss": fig}


def _unexplained_outputs(network, x, y, names):
    """A warning for each output of which the network's mean explains under half the variance
    on its own training data: mean-field VI on few points can prefer calling an output noise."""
    mean, _ = network.predict(x, 50, 0)
    total = np.var(y, axis=0)
    explained = 1 - np.var(y - mean, axis=0) / np.where(total > 0, total, 1.0)
    names = names if names and len(names) == y.shape[1] else [f"output {j}" for j in range(y.shape[1])]
    return [
        f"{name}: the network explains {100 * max(share, 0):.0f}% of its variance; the ELBO preferred to call "
        "the rest noise (mean-field VI under-fits on few points: compare gp or mlp)"
        for name, share in zip(names, explained)
        if share < 0.5
    ]


def _band(network, x, noise_unknown, n_samples, seed):
    """Prediction and band at ``x``: the network's spread over weight draws; where the noise
    was learned, with the learned noise added (see the module docstring)."""
    mean, band = network.predict(x, n_samples, seed)
    if noise_unknown:
        band = np.sqrt(band**2 + network.noise() ** 2)
    return mean, band


def _initial_value(site=None):
    """Weights from the prior, the learned noise at 0.05 of each output's spread: started
    from a prior draw of the noise (up to 5 spreads), the ELBO could settle where an output
    is all noise and its units pruned."""
    if site is None:
        return functools.partial(_initial_value)
    if site["name"] == "noise":
        import jax.numpy as jnp

        return jnp.full(site["fn"].shape(), 0.05)
    from numpyro.infer.initialization import init_to_sample

    return init_to_sample(site)


def _nonzero(scale):
    return np.where(scale > 0, scale, 1.0)
