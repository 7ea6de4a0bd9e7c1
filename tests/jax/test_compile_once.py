"""Compile once, fit many (issue 55): cross-validation refits and the replicates of a model
run the programs compiled for its first fit; padding a fold to the dataset's rows changes no
answer; a log-density's gradient in either mode is the same gradient, and a model that traces
in one mode only is fitted in that one.

The count of XLA compilations is read from JAX's own monitoring events
(:func:`fitflow.core.compiled.compile_clock`). Each fold of a dataset runs with its rows padded
to the dataset's, so after the full fit a cross-validation compiles nothing."""

import numpy as np
import pytest

import fitflow
from fitflow.core.compiled import compile_clock, pad_rows, rows_for_compiling
from fitflow.core.pipeline import safe_fit
from fitflow.evaluation.crossval import cross_validate

pytest.importorskip("blackjax", reason="needs the jax extra (pip install -e '.[jax]')")

NUTS_FAST = {"n_warmup": 200, "n_samples": 300, "min_ess": 100}

MODEL_FILE = '''import jax
import jax.numpy as jnp


def decay_ode(t, a, b, c):
    """dy/dt = -b (y - c), y(0) = a + c, by RK4 in lax.scan: 40 steps from 0 to each t."""

    def solve(end):
        h = end / 40

        def step(y, _):
            rate = lambda y: -b * (y - c)
            k1 = rate(y)
            k2 = rate(y + 0.5 * h * k1)
            k3 = rate(y + 0.5 * h * k2)
            k4 = rate(y + h * k3)
            return y + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4), None

        return jax.lax.scan(step, a + c, None, length=40)[0]

    return jax.vmap(solve)(t)
'''


def replicate(tmp_path, seed):
    (tmp_path / "decay.py").write_text(MODEL_FILE)
    return fitflow.generate(
        "simulate",
        seed=seed,
        model=f"{tmp_path / 'decay.py'}:decay_ode",
        truth=[2.0, 0.8, 0.3],
        p0=[1.5, 1.0, 0.0],
        noise=0.05,
        x_min=0.0,
        x_max=4.0,
        n_points=24,
    )


def method(name):
    return fitflow.core.pipeline.make_method(name, **(NUTS_FAST if name == "nuts" else {}))


@pytest.mark.parametrize("name", ["nlls", "gradient_descent", "nuts"])
def test_cross_validation_refits_and_replicates_compile_nothing_new(tmp_path, name):
    first = replicate(tmp_path, seed=1)
    fitted, _, _ = safe_fit(method(name), first, np.random.default_rng(0))
    assert fitted.ok, fitted.message
    with compile_clock() as clock:
        found = cross_validate(method(name), first, np.random.default_rng(0), 4)
    assert np.isfinite(found["cv_rmse"]), found["cv_note"]
    assert clock.compilations == 0, f"{clock.compilations} compilations in 4 refits ({clock.seconds:.2f} s)"
    with compile_clock() as clock:  # another replicate of the same model: a new dataset object, the same shapes
        second, timing, _ = safe_fit(method(name), replicate(tmp_path, seed=2), np.random.default_rng(1))
    assert second.ok, second.message
    assert clock.compilations == 0 and timing["compile_s"] == clock.seconds


def test_the_first_fit_reports_its_compile_time_apart(tmp_path):
    (tmp_path / "fresh.py").write_text(MODEL_FILE.replace("decay_ode", "fresh_decay"))
    data = fitflow.generate(
        "simulate",
        seed=3,
        model=f"{tmp_path / 'fresh.py'}:fresh_decay",
        truth=[2.0, 0.8, 0.3],
        p0=[1.5, 1.0, 0.0],
        noise=0.05,
    )
    result, timing, _ = safe_fit(method("gradient_descent"), data, np.random.default_rng(0))
    assert result.ok, result.message
    assert 0 < timing["compile_s"] < timing["wall_time_s"]
    # compare's table and its progress line give it apart, for measured data with its CV refits
    import io

    (tmp_path / "other.py").write_text(MODEL_FILE.replace("decay_ode", "other_decay"))
    t = np.linspace(0.2, 4.0, 24)
    y = 2.0 * np.exp(-0.8 * t) + 0.3 + 0.05 * np.random.default_rng(4).standard_normal(24)
    (tmp_path / "decay.csv").write_text("t,y\n" + "".join(f"{a!r},{b!r}\n" for a, b in zip(t.tolist(), y.tolist())))
    measured = fitflow.generate(
        "table",
        file=str(tmp_path / "decay.csv"),
        x=["t"],
        y="y",
        model=f"{tmp_path / 'other.py'}:other_decay",
        p0=[1.5, 1.0, 0.0],
        cv_folds=3,
    )
    said = io.StringIO()
    table = fitflow.compare(measured, methods=["gradient_descent"], progress=said).set_index("method")
    row = table.loc["gradient_descent"]
    assert row.status == "ok" and 0 < row.compile_s < row.wall_time_s
    assert "(JAX compiling: " in said.getvalue()


def test_a_padded_fold_gives_the_answer_of_the_unpadded_one():
    # The padding repeats the last row with weight 0: every estimate and standard error agrees
    # with the unpadded fit to the optimisers' tolerances (1e-7 relative; nlls and
    # gradient_descent converge to 1e-8 in the gradient).
    data = fitflow.generate(
        "simulate", seed=5, model="a*exp(-b*x) + c", truth=[2.0, 0.8, 0.3], p0=[1, 1, 0], noise=0.05, n_points=30
    )
    for name in ("nlls", "gradient_descent"):
        plain = fitflow.fit(name, data)
        with rows_for_compiling(41):
            padded = fitflow.fit(name, data)
        assert plain.ok and padded.ok
        np.testing.assert_allclose(padded.estimate_vector(), plain.estimate_vector(), rtol=1e-7)
        np.testing.assert_allclose(padded.stderr_vector(), plain.stderr_vector(), rtol=1e-6)


@pytest.mark.parametrize("known_errors,counts", [(True, False), (False, False), (False, True)])
def test_rows_of_weight_zero_leave_every_log_likelihood_unchanged(known_errors, counts):
    from fitflow_plugins.methods.sampling.likelihood import log_likelihood

    data = fitflow.generate(
        "simulate", seed=2, model="a*exp(-b*x) + c", truth=[20.0, 0.8, 3.0], p0=[1, 1, 0], noise=0.5, n_points=17
    )
    y = np.round(data.y) if counts else data.y
    theta = np.array([19.0, 0.7, 3.2])
    likelihood = log_likelihood(data.model, known_errors, counts)
    whiten = 1.0 / data.sigma
    plain = float(likelihood(theta, data.x, y, whiten, np.ones_like(y)))
    with rows_for_compiling(25):
        x, y_padded, whiten_padded, weight = pad_rows(data.x, y, whiten)
    assert len(x) == 25 and weight.sum() == 17
    padded = float(likelihood(theta, x, y_padded, whiten_padded, weight))
    np.testing.assert_allclose(padded, plain, rtol=1e-13)


def test_forward_and_reverse_mode_give_the_same_gradient():
    from fitflow.plugin import jax_modules
    from fitflow_plugins.methods.sampling.likelihood import in_mode

    jax, jnp = jax_modules()

    def log_density(w):
        return -0.5 * jnp.sum((w - jnp.arange(3.0)) ** 2 * jnp.exp(w))

    w = np.array([0.3, -1.2, 2.0])
    reverse = jax.value_and_grad(in_mode(log_density, "reverse"))(w)
    forward = jax.value_and_grad(in_mode(log_density, "forward"))(w)
    np.testing.assert_allclose(forward[0], reverse[0], rtol=1e-15)
    np.testing.assert_allclose(forward[1], reverse[1], rtol=1e-13)


REVERSE_ONLY = """import jax
import jax.numpy as jnp


@jax.custom_vjp
def curve(x, a, b):
    return jnp.exp(-a * x) + b * x**2


def forward(x, a, b):
    return curve(x, a, b), (x, a, b)


def backward(saved, cotangent):
    x, a, b = saved
    return jnp.zeros_like(x), jnp.sum(-x * jnp.exp(-a * x) * cotangent), jnp.sum(x**2 * cotangent)


curve.defvjp(forward, backward)
"""


def test_a_model_forward_mode_cannot_enter_is_sampled_in_reverse_mode(tmp_path):
    # gradient: auto chooses forward mode for 2 parameters; a custom_vjp (diffrax's default
    # adjoint) cannot be entered by it, so nuts and gradient_descent fall back to reverse.
    (tmp_path / "curve.py").write_text(REVERSE_ONLY)
    data = fitflow.generate(
        "simulate", seed=1, model=f"{tmp_path / 'curve.py'}:curve", truth=[1.3, -0.4], p0=[1.0, 0.0], noise=0.01
    )
    reference = fitflow.fit("nlls", data)
    descent = fitflow.fit("gradient_descent", data, gradient="forward")
    assert descent.ok, descent.message
    np.testing.assert_allclose(descent.estimate_vector(), reference.estimate_vector(), rtol=1e-6)
    sampled = fitflow.fit("nuts", data, gradient="forward", **NUTS_FAST)
    assert sampled.ok, sampled.message
    # posterior means within 0.3 sd of the optimum (a near-Gaussian posterior; Monte Carlo error ~0.05 sd)
    np.testing.assert_array_less(
        np.abs(sampled.samples.mean(axis=0) - reference.estimate_vector()), 0.3 * reference.stderr_vector()
    )


def test_the_same_seed_gives_the_same_draws_from_the_kept_program():
    data = fitflow.generate(
        "simulate",
        seed=4,
        model="a*exp(-b*x) + c",
        truth=[2.0, 0.8, 0.3],
        p0=[1, 1, 0],
        noise=0.05,
        x_max=5.0,
        n_points=20,
    )
    first = fitflow.fit("nuts", data, seed=7, **NUTS_FAST)
    again = fitflow.fit("nuts", data, seed=7, **NUTS_FAST)
    assert first.ok and again.ok
    np.testing.assert_array_equal(first.samples, again.samples)
