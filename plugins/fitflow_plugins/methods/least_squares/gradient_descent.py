"""Maximum likelihood by gradient descent on JAX gradients, for models with many parameters.

The lecture's worked example: take ``jax.grad`` of the negative log-likelihood for
the descent and ``jax.hessian`` for Laplace's covariance. Least squares (``nlls``)
needs the whole Jacobian every iteration, p Jacobian-vector products; a gradient is
one reverse pass whatever p is, so for many parameters the descent pays (the
measured crossover: docs/benchmarks.md, "Differentiable programming (JAX)").

The loss is the negative of the log-likelihood ``nuts`` samples (Gaussian in the
errors; without errors, a common unknown error integrated out, ``(n/2) log RSS``),
minimised over the parameters mapped to the real line where bounded
(:class:`fitflow_plugins.methods.sampling.likelihood.Unconstrained`), by optax's L-BFGS with a zoom line search
(default) or Adam, from the model's start, all iterations in one compiled program.

Stopping rule: the gradient's largest component, in the parameters themselves and
relative to ``1 + |loss|``, at most ``gtol``; or no decrease of the loss by more than
``1e-15`` relative in 20 iterations (a plateau); or ``max_steps``. A fit is ``ok``
only when the gradient test holds; a plateau or the step budget without it is
``failed``, with the gradient norm reached. A small gradient is not enough on a
flat, ill-conditioned loss: on NIST's Lanczos3 L-BFGS stopped with every gradient
component tiny and the estimates 10% off. So the end point must also be within
``1e-3`` of its standard errors of the optimum that a Newton step ``H^-1 g`` from it
predicts (the exact Hessian; conjugate gradients on Hessian-vector products where p
is too large to form it). The Jacobian there must have full rank after column scaling, as ``nlls`` requires (from
its first start, L-BFGS ended Lanczos3 on a local minimum where two of the three
exponentials had merged, RSS 4.3e-6 against the certified 1.6e-8). A parameter held at a bound is not a
stationary point of the unconstrained loss: such a fit stops on the plateau and fails,
naming the bound (use ``nlls``, whose bounded TRF handles active bounds).

Uncertainty: Laplace's covariance, the inverse of the exact Hessian of the negative
log-likelihood at the optimum (the path ``nlls``'s ``curvature: hessian`` takes), scaled
by chi2/dof where the errors are unknown; where p exceeds ``max_hessian_params`` the
Hessian (p^2 entries, p reverse passes) is skipped, with a warning, and the fit gives
estimates alone. A Hessian that is not positive definite fails the fit.
"""

import numpy as np

from fitflow.plugin import (
    FitResult,
    HessianUnavailable,
    Method,
    RankDeficiency,
    Setting,
    compiled_once,
    laplace_covariance,
    likelihood_of,
    poisson_scale,
)

from ..sampling.likelihood import (
    GRADIENT_MODES,
    Unconstrained,
    gradient_modes,
    in_mode,
    likelihood_data,
    log_likelihood,
    without_gradient,
)

__all__ = ["GradientDescent"]

PLATEAU_STEPS = 20  # iterations without relative decrease beyond PLATEAU_TOLERANCE: a plateau
PLATEAU_TOLERANCE = 1e-15


class GradientDescent(Method):
    name = "gradient_descent"
    version = "1.0"
    description = (
        "L-BFGS or Adam (optax) on the JAX gradient of the negative log-likelihood; Laplace from the exact Hessian"
    )
    capabilities = frozenset({"parametric"})
    requires_modules = ("jax", "optax")
    extra = "jax"
    resources = {"threads": 1, "mem_mb": 2000, "runtime": 30}
    settings = {
        "optimizer": Setting("lbfgs", str, "L-BFGS with a zoom line search, or Adam", choices=("lbfgs", "adam")),
        "learning_rate": Setting(0.01, float, "Adam's step size (L-BFGS takes its line search's); > 0", minimum=1e-9),
        "max_steps": Setting(10_000, int, "iterations before the fit is failed", minimum=1, maximum=10_000_000),
        "gtol": Setting(
            1e-8, float, "converged when every gradient component is at most gtol x (1 + |loss|)", minimum=0.0
        ),
        "max_hessian_params": Setting(
            500, int, "above this many parameters the Hessian, and so the covariance, is skipped", minimum=1
        ),
        "absolute_sigma": Setting(True, bool, "errors are absolute; if false, scale covariance by chi2/dof"),
        "gradient": Setting(
            "auto",
            str,
            "how JAX takes the loss's gradient: forward mode, reverse mode, or auto (forward for few parameters, "
            "reverse for many); the other is tried where the model cannot be traced in the first",
            choices=GRADIENT_MODES,
        ),
    }
    fast_settings = {}

    def can_fit(self, dataset):
        return without_gradient(dataset) or super().can_fit(dataset)

    def fit(self, dataset, rng):
        model, v = dataset.model, self.values
        counts = likelihood_of(dataset) == "poisson"
        known = dataset.sigma is not None or counts
        whiten = 1.0 / dataset.sigma if dataset.sigma is not None else np.ones_like(dataset.y)
        space = Unconstrained(*model.bounds)
        start = np.clip(model.p0, *_inside(model.bounds, model.p0))
        fixed = (v["optimizer"], v["learning_rate"], v["max_steps"], v["gtol"])
        failures = []
        for mode in gradient_modes(v["gradient"], model.n_params):  # the chosen mode, then the other
            run = compiled_once(
                ("gradient_descent", model.jax_function, dataset.sigma is not None, counts, *map(bytes, model.bounds))
                + (fixed, mode),
                lambda mode=mode: _descent_program(log_likelihood(model, known, counts), space, fixed, mode),
            )
            try:
                theta, loss, gradient, steps, stopped = _descend(run, space, start, likelihood_data(dataset))
                break
            except (TypeError, ValueError, NotImplementedError) as exc:  # JAX cannot trace the model so
                failures.append(exc)
        else:
            raise failures[0]
        names = model.param_names
        if not np.all(np.isfinite(theta)) or not np.isfinite(loss):
            return FitResult.failed(f"the descent left finite values after {steps} steps (loss {loss})")
        scale = v["gtol"] * (1 + abs(loss))
        worst = int(np.argmax(np.abs(gradient)))
        if abs(gradient[worst]) > scale:
            why = "the loss stopped decreasing" if stopped == "plateau" else f"max_steps ({v['max_steps']}) ran out"
            at_bound = [
                n for n, t, lo, hi in zip(names, theta, *model.bounds) if np.isclose(t, lo) or np.isclose(t, hi)
            ]
            bound = (
                f"; {', '.join(at_bound)} at a bound, where the gradient need not vanish (use nlls)" if at_bound else ""
            )
            return FitResult.failed(
                f"not converged: {why} after {steps} steps with the gradient in {names[worst]} at "
                f"{gradient[worst]:.3g}, above gtol x (1 + |loss|) = {scale:.3g}{bound}"
            )
        y_fit = model(dataset.x, theta)
        if counts:  # at the Poisson optimum, chi-square with the weights 1/f has the same stationary point
            if not np.all(y_fit > 0):
                return FitResult.failed("the descent ended where a Poisson mean is not positive")
            whiten = 1.0 / poisson_scale(y_fit)
        residuals = (dataset.y - y_fit) * whiten
        chi2, dof = float(residuals @ residuals), dataset.y.size - theta.size
        diagnostics = {
            "optimizer": v["optimizer"],
            "steps": steps,
            "loss": loss,
            "gradient_max": float(np.max(np.abs(gradient))),
        }
        # A small gradient is not enough: on a flat, ill-conditioned loss (NIST's Lanczos3) the
        # descent stalled where every gradient component was tiny, 10% off the optimum. The
        # Newton step H^-1 g from the end point says how far the optimum still is, in its own
        # standard errors (H: the exact Hessian of chi2/2, or solved by conjugate gradients on
        # Hessian-vector products where p is too large to form it).
        exact = model.exact()
        jacobian = exact.jacobian(dataset.x, theta) * whiten[:, None]
        try:  # nlls's test: full rank after column scaling (two of Lanczos3's exponentials merged, else)
            laplace_covariance(jacobian, names)
        except (RankDeficiency, FloatingPointError) as exc:
            return FitResult.failed(f"the Jacobian at the end of the descent is {exc}")
        chi_gradient = -jacobian.T @ residuals
        scale = chi2 / dof if (not known or not v["absolute_sigma"]) and dof > 0 else 1.0
        if (not known or not v["absolute_sigma"]) and dof <= 0:
            return FitResult.failed(f"{dataset.y.size} points and {theta.size} parameters leave no degrees of freedom")
        large = theta.size > v["max_hessian_params"]
        if large:
            step, spread, problem = _newton_step_matrix_free(exact, dataset.x, dataset.y, whiten, theta, chi_gradient)
        else:
            try:
                hessian = exact.chi_square_hessian(dataset.x, dataset.y, whiten, theta)
            except HessianUnavailable as exc:
                return FitResult.failed(f"{exc}: the convergence check and Laplace's covariance need it (use nlls)")
            step, spread, problem = _newton_step(hessian, chi_gradient)
        if problem:
            return FitResult.failed(problem)
        distance = np.abs(step) / (spread * np.sqrt(scale))
        far = int(np.argmax(distance))
        if distance[far] > NEWTON_TOLERANCE:
            return FitResult.failed(
                f"not converged: the gradient is small ({diagnostics['gradient_max']:.3g}) but the optimum is still "
                f"{distance[far]:.3g} standard errors away in {names[far]} (Newton step from the end point); the loss "
                "is too flat for the descent here: use nlls"
            )
        diagnostics["newton_distance"] = float(distance[far])
        if large:
            return FitResult(
                params=dict(zip(names, theta)),
                y_fit=y_fit,
                n_evaluations=steps,
                diagnostics=diagnostics,
                warnings=[
                    f"no covariance: {theta.size} parameters exceed max_hessian_params ({v['max_hessian_params']}); "
                    "forming the exact Hessian would cost as many reverse passes"
                ],
            )
        covariance = np.linalg.inv(hessian) * scale
        return FitResult(
            params=dict(zip(names, theta)),
            stderr=dict(zip(names, np.sqrt(np.diag(covariance)))),
            covariance=covariance,
            y_fit=y_fit,
            n_evaluations=steps,
            diagnostics=diagnostics,
        )


#: The end point is converged when the Newton step to the optimum is below this many standard errors.
NEWTON_TOLERANCE = 1e-3


def _newton_step(hessian, gradient):
    """``(H^-1 g, sqrt(diag(H^-1)), problem)`` from the formed Hessian."""
    try:
        np.linalg.cholesky(hessian)
        inverse = np.linalg.inv(hessian)
    except np.linalg.LinAlgError:
        return (
            None,
            None,
            (
                "the exact Hessian is not positive definite at the end of the descent: a saddle or a ridge, not a "
                "minimum with a Laplace covariance"
            ),
        )
    return inverse @ gradient, np.sqrt(np.diag(inverse)), None


def _newton_step_matrix_free(exact, x, y, whiten, theta, gradient):
    """The Newton step by conjugate gradients on exact Hessian-vector products (p too large to
    form H); each parameter's scale from the Gauss-Newton diagonal."""
    from scipy.sparse.linalg import LinearOperator, cg

    from fitflow.plugin import jax_modules

    jax, jnp = jax_modules()
    function = exact.function

    def half_chi_square(t):
        r = (y - function(x, t)) * whiten
        return 0.5 * jnp.sum(r * r)

    product = jax.jit(lambda t, v: jax.jvp(jax.grad(half_chi_square), (t,), (v,))[1])
    operator = LinearOperator(
        (theta.size, theta.size), matvec=lambda v: np.asarray(product(theta, np.asarray(v, float)), float)
    )
    step, info = cg(operator, gradient, rtol=1e-10, maxiter=10 * theta.size)
    if info != 0:
        return None, None, "cannot check convergence: conjugate gradients on the exact Hessian did not converge"
    jacobian = exact.jacobian(x, theta) * whiten[:, None]
    return step, 1.0 / np.sqrt(np.einsum("ij,ij->j", jacobian, jacobian)), None


def _inside(bounds, start):
    """Bounds pulled in a hair, so the start's unconstrained image is finite."""
    lower, upper = bounds
    width = upper - lower
    margin = np.where(np.isfinite(width), 1e-9 * width, 1e-9 * np.maximum(1.0, np.abs(start)))
    return lower + margin, upper - margin


def _descent_program(log_likelihood, space, fixed, mode):
    """The jitted descent: the optimiser's every iteration in one while-loop, from ``z0`` (the
    start, unconstrained) on the data ``(x, y, whiten, weight)``; it returns ``(theta, loss,
    gradient in theta, steps, steps without decrease)``. ``fixed`` holds what the trace fixes:
    optimiser, learning rate, step budget and gradient tolerance."""
    import optax

    from fitflow.plugin import jax_modules

    jax, jnp = jax_modules()
    optimizer, learning_rate, max_steps, gtol = fixed

    def run(z0, x, y, whiten, weight):
        def loss(u):  # u: the unconstrained parameters' move from the start
            return -log_likelihood(space.parameters(z0 + u)[0], x, y, whiten, weight)

        loss = in_mode(loss, mode)
        negative = in_mode(lambda t: -log_likelihood(t, x, y, whiten, weight), mode)
        solver = optax.lbfgs() if optimizer == "lbfgs" else optax.adam(learning_rate)
        value_and_grad = optax.value_and_grad_from_state(loss) if optimizer == "lbfgs" else jax.value_and_grad(loss)

        def step(carry):
            u, state, best, since, count = carry
            if optimizer == "lbfgs":
                value, grad = value_and_grad(u, state=state)
                updates, state = solver.update(grad, state, u, value=value, grad=grad, value_fn=loss)
            else:
                value, grad = value_and_grad(u)
                updates, state = solver.update(grad, state, u)
            u = optax.apply_updates(u, updates)
            improved = value < best - PLATEAU_TOLERANCE * jnp.abs(best)
            return u, state, jnp.minimum(best, value), jnp.where(improved, 0, since + 1), count + 1

        def going(carry):
            u, state, best, since, count = carry
            theta = space.parameters(z0 + u)[0]
            value, grad = jax.value_and_grad(negative)(theta)
            small = jnp.max(jnp.abs(grad)) <= gtol * (1 + jnp.abs(value))
            return (count < max_steps) & (since < PLATEAU_STEPS) & ~small

        u0 = jnp.zeros_like(z0)
        initial = (u0, solver.init(u0), jnp.inf, 0, 0)
        u, _, _, since, count = jax.lax.while_loop(going, step, initial)
        theta = space.parameters(z0 + u)[0]
        value, grad = jax.value_and_grad(negative)(theta)
        return theta, value, grad, count, since

    return jax.jit(run)


def _descend(run, space, start, data):
    """Run the compiled descent from ``start``; return ``(theta, loss, gradient in theta,
    steps, why it stopped)``."""
    theta, value, grad, count, since = run(space.unconstrained(start), *data)
    stopped = "plateau" if int(since) >= PLATEAU_STEPS else "converged or budget"
    return np.asarray(theta, float), float(value), np.asarray(grad, float), int(count), stopped
