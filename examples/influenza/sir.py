"""The 1978 influenza outbreak in an English boarding school (763 pupils; BMJ 1978, 1:587;
the counts as in the R package outbreaks, ``influenza_england_1978_school``) as an SIR epidemic:
pupils in bed on each day, from one case on day 0, integrated by RK4 in ``jax.lax.scan`` so that
nlls, gradient_descent and nuts differentiate through the solver."""

import jax.numpy as jnp

import jax

PUPILS = 763.0
STEPS_PER_DAY = 20
DAYS = 14


def infected(day, beta, gamma):
    """The number infected on each ``day`` (1 to 14) for infection rate ``beta`` and recovery
    rate ``gamma`` (per day)."""
    h = 1.0 / STEPS_PER_DAY

    def rate(state):
        susceptible, ill = state
        infection = beta * susceptible * ill / PUPILS
        return jnp.stack([-infection, infection - gamma * ill])

    def step(state, _):
        k1 = rate(state)
        k2 = rate(state + 0.5 * h * k1)
        k3 = rate(state + 0.5 * h * k2)
        k4 = rate(state + h * k3)
        new = state + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
        return new, new[1]

    _, path = jax.lax.scan(step, jnp.array([PUPILS - 1.0, 1.0]), None, length=DAYS * STEPS_PER_DAY)
    return path[jnp.round(day * STEPS_PER_DAY).astype(int) - 1]
