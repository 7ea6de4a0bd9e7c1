"""NumPyro or BlackJAX for fitflow's NUTS method: the same sampler, measured on the same posterior.

Both run NUTS with Stan's window adaptation (1,000 warm-up and 1,000 kept draws per chain,
4 chains vectorised in one process, float64) on a 15-dimensional correlated Gaussian
(correlation 0.9 between neighbours' ... AR(1) structure, scales spanning 1e-2..1e2).
Printed per library: wall time (compile included), the minimum bulk ESS over parameters
(NumPyro's ``effective_sample_size``, applied to both) and ESS per second.

Run: ``../.venv/bin/python bench_nuts_library.py`` (needs the ``jax`` extra and blackjax).
"""

import time

import jax.numpy as jnp
import numpy as np

import jax

jax.config.update("jax_enable_x64", True)

P, CHAINS, WARMUP, DRAWS = 15, 4, 1000, 1000
rho = 0.9
scales = np.logspace(-2, 2, P)
corr = rho ** np.abs(np.subtract.outer(np.arange(P), np.arange(P)))
cov = corr * np.outer(scales, scales)
precision = jnp.asarray(np.linalg.inv(cov))


def potential(theta):
    return 0.5 * theta @ precision @ theta


def min_ess(samples):  # samples (chains, draws, p)
    from numpyro.diagnostics import effective_sample_size

    return float(np.min(effective_sample_size(np.asarray(samples))))


def run_numpyro():
    from numpyro.infer import MCMC, NUTS

    start = time.perf_counter()
    mcmc = MCMC(
        NUTS(potential_fn=potential),
        num_warmup=WARMUP,
        num_samples=DRAWS,
        num_chains=CHAINS,
        chain_method="vectorized",
        progress_bar=False,
    )
    init = jnp.asarray(np.random.default_rng(0).normal(size=(CHAINS, P)) * scales * 0.1)
    mcmc.run(jax.random.PRNGKey(0), init_params=init)
    samples = mcmc.get_samples(group_by_chain=True)
    samples.block_until_ready()
    return time.perf_counter() - start, min_ess(samples)


def run_blackjax():
    import blackjax

    start = time.perf_counter()
    logdensity = lambda theta: -potential(theta)  # noqa: E731
    init = jnp.asarray(np.random.default_rng(0).normal(size=(CHAINS, P)) * scales * 0.1)
    keys = jax.random.split(jax.random.PRNGKey(0), CHAINS)

    def one_chain(key, position):
        warm_key, sample_key = jax.random.split(key)
        warmup = blackjax.window_adaptation(blackjax.nuts, logdensity)
        (state, parameters), _ = warmup.run(warm_key, position, num_steps=WARMUP)
        kernel = blackjax.nuts(logdensity, **parameters).step

        def step(state, key):
            state, info = kernel(key, state)
            return state, state.position

        _, positions = jax.lax.scan(step, state, jax.random.split(sample_key, DRAWS))
        return positions

    samples = jax.jit(jax.vmap(one_chain))(keys, init)
    samples.block_until_ready()
    return time.perf_counter() - start, min_ess(samples)


if __name__ == "__main__":
    for name, run in (("numpyro", run_numpyro), ("blackjax", run_blackjax)):
        seconds, ess = run()
        print(f"{name:9s} wall {seconds:6.2f} s   min ESS {ess:7.0f}   ESS/s {ess / seconds:7.1f}")
