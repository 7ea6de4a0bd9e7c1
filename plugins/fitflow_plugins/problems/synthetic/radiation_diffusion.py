"""Flux-limited radiation diffusion in one dimension, solved in JAX (differentiable).

    dE/dt = d/dx ( lambda(R) / sigma  dE/dx ),    R = |dE/dx| / (sigma E)

``E`` is the radiation energy density, ``sigma`` the opacity and ``lambda(R)`` the flux
limiter: the *closure* that the diffusion approximation leaves open. Plain diffusion has
lambda = 1/3, which lets energy flow faster than light where the gradient is steep (large
R); a limiter bends lambda towards 1/R there. Levermore & Pomraning (1981) derived

    lambda_LP(R) = (coth R - 1/R) / R,

the reference closure here. The test problem is a Marshak wave: a cold slab (E = 1e-4)
heated from its left face (held at E = 1), with a reflecting right face; the wave front
is where R is large, behind it R is small, so one run probes the closure over decades
of R.

The solver is explicit finite volumes (fluxes at cell faces from the face average and the
face gradient), stepped by Heun's method (second order; forward Euler at the same step was
off by 0.007 of the heated face's value against scipy's LSODA, Heun by 0.001, see
tests/jax/test_closure_learning.py) in ``jax.lax.scan``: JAX differentiates the saved profiles through
every step, which is what Crilly et al. (2023) call a PDE solver seen as a pre-trained
recurrent network. The closure family satisfies 0 < lambda <= 1/3, so the time step
dt = 0.8 dx^2 3 sigma_min / 2 (the stability limit of the largest diffusion coefficient
1 / (3 sigma)) holds whatever the closure's parameters: a fit can never drive the solver
unstable, and a non-finite profile (a bug, not a parameter) fails the fit by its NaN.
"""

import numpy as np

__all__ = ["levermore_pomraning", "rational_closure", "MarshakWave"]

FLOOR = 1e-4  # the cold slab's initial energy density (relative to the heated face's 1)


def levermore_pomraning(R):
    """lambda_LP(R) = (coth R - 1/R) / R; below R = 0.1 by its series
    1/3 - R^2/45 + 2 R^4/945 - R^6/4725 + 2 R^8/93555 (the closed form loses 3 eps / R^2 of
    its digits to cancellation there; the series' first omitted term is below 1e-16)."""
    import jax.numpy as jnp

    small = R < 0.1
    safe = jnp.where(small, 1.0, R)
    r2 = R**2
    series = 1 / 3 + r2 * (-1 / 45 + r2 * (2 / 945 + r2 * (-1 / 4725 + r2 * 2 / 93555)))
    return jnp.where(small, series, (1 / jnp.tanh(safe) - 1 / safe) / safe)


def rational_closure(R, theta):
    """lambda(R) = 1 / (3 + R^2 / (a^2 + b^2 R)), ``theta = (a, b)``: 1/3 at small R,
    1/(b^2 R) at large R, and in (0, 1/3] for every real a and b (so no parameter can make
    the solver unstable, and an unbounded least-squares step never leaves the physical
    family). Levermore-Pomraning is a^2 = 5, b^2 = 1 in both limits; the least-squares fit
    to it over R in [0.01, 100] is within 2.5% everywhere."""
    a, b = theta[0], theta[1]
    return 1.0 / (3.0 + R**2 / (a**2 + b**2 * R))


class MarshakWave:
    """The test problems: a slab of ``length`` in ``n_cells`` cells for each opacity in
    ``opacities``, the profiles saved at ``times``."""

    def __init__(self, n_cells=60, length=6.0, opacities=(0.5, 1.0, 2.0), times=(1.0, 2.0, 4.0)):
        self.n_cells, self.length = int(n_cells), float(length)
        self.opacities, self.times = tuple(float(s) for s in opacities), tuple(float(t) for t in times)
        self.dx = self.length / self.n_cells
        stable = 0.8 * self.dx**2 * 3 * min(self.opacities) / 2
        self.steps = int(np.ceil(max(self.times) / stable))
        self.dt = max(self.times) / self.steps
        self.saved = np.array([int(round(t / self.dt)) - 1 for t in self.times])
        self.centres = (np.arange(self.n_cells) + 0.5) * self.dx

    def profiles(self, limiter):
        """E, shape (opacities, times, cells), under the closure ``limiter(R)``."""
        import jax.numpy as jnp

        import jax

        dx, dt = self.dx, self.dt

        def one(sigma):
            def rate(E):
                padded = jnp.concatenate([jnp.ones(1), E, E[-1:]])  # heated left face, reflecting right
                face = 0.5 * (padded[1:] + padded[:-1])
                gradient = (padded[1:] - padded[:-1]) / dx
                R = jnp.abs(gradient) / (sigma * face)
                flux = -limiter(R) / sigma * gradient
                return -(flux[1:] - flux[:-1]) / dx

            def step(E, _):  # Heun's method (SSP Runge-Kutta 2): second order, Euler's stability
                predicted = E + dt * rate(E)
                E = 0.5 * (E + predicted + dt * rate(predicted))
                return E, E

            _, path = jax.lax.scan(step, jnp.full(self.n_cells, FLOOR), None, length=self.steps)
            return path[self.saved]

        return jnp.stack([one(sigma) for sigma in self.opacities])

    def points(self):
        """Every (position, time, opacity) of :meth:`profiles`, flattened: shape (n, 3)."""
        s, t, c = np.meshgrid(self.opacities, self.times, self.centres, indexing="ij")
        return np.column_stack([c.ravel(), t.ravel(), s.ravel()])

    def ratio_grid(self, n=60):
        """R where the profiles inform the closure: log-spaced over [0.1, 10]."""
        return np.logspace(-1, 1, n)
