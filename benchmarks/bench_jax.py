"""Differentiable programming (issue 38): exact derivatives by JAX and the nuts method.

Each figure is measured in one run, against a reference taken in the same run:

1. ``jacobian``: every shared NIST StRD nonlinear model written as a JAX function
   (as a user would, in a ``.py`` file), its Jacobian against the sympy Jacobian of
   the same expression, in correct digits (target >= 13), with central differences'
   digits beside (``ParametricModel.jacobian_at`` without a Jacobian).
2. ``nist``: ``nlls`` with the JAX model on all 20 sets from both starts: the
   smallest LRE of parameters, standard deviations and RSS (target: >= 6).
3. ``scaling``: a spectrum of p/3 Gaussian lines on 2,000 points; ``nlls`` fit time
   with the JAX Jacobian over the time with finite differences (MINPACK's own, on
   the same compiled model function), at p = 3, 30, 300 (target at p = 300: <= 0.1).
   The compile time of the Jacobian is printed apart.
4. ``ess``: nuts against emcee on a correlated 12-parameter posterior (four
   overlapping lines): effective samples per second (the smallest over parameters,
   each method's own ESS estimate, compile included) (target: nuts >= 5x emcee).
5. ``calibration``: nuts on 50 seeded replicates of a simulated problem; 68% and 95%
   central-interval coverage of the truth, beside the 95% Wilson interval of the
   nominal level (target: inside it).
6. ``banana``: nuts and emcee on a curved 2-D posterior whose exact moments are
   known (``y = a x + b + a^2``: (a, b + a^2) is Gaussian, so b's mean and sd follow
   in closed form); the error of each mean and sd in Monte Carlo standard errors
   (target: within 3).

Run:  .venv/bin/python benchmarks/bench_jax.py [section ...]   (needs the jax extra;
sections 1-2 the shared NIST files at ../shared/nist-strd)
"""

from pathlib import Path
import sys
import tempfile
import time

import numpy as np

import fitflow

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))


def digits(automatic, exact):
    scale = np.max(np.abs(exact), axis=0)
    error = np.max(np.abs(automatic - exact), axis=0) / np.where(scale > 0, scale, 1.0)
    return float(np.min(np.minimum(16.0, -np.log10(np.maximum(error, 1e-16)))))


def nist_sets():
    from nist.strd import NIST_DIR, all_problems

    if not NIST_DIR.is_dir():
        print(f"NIST StRD files not found at {NIST_DIR}: sections jacobian and nist skipped")
        return None
    return all_problems()


def bench_jacobian(folder):
    from dataclasses import replace

    from nist.strd import table_settings, write_csv, write_jax_module

    problems = nist_sets()
    if problems is None:
        return
    write_jax_module(problems, folder)
    print("\n1. Jacobian digits against sympy's (min over parameters, starts and certified values)")
    print(f"{'set':10s} {'JAX':>6s} {'central differences':>20s}")
    worst = 16.0
    for problem in problems:
        csv = write_csv(problem, folder)
        spec = f"{folder}/nist_jax_models.py:{problem.name}"
        automatic = fitflow.generate("table", **table_settings(problem, csv, 0, spec))
        exact = fitflow.generate("table", **table_settings(problem, csv, 0))
        finite = replace(automatic.model, jacobian=None)
        jax_digits, fd_digits = 16.0, 16.0
        for theta in (*problem.starts, problem.certified):
            reference = exact.model.jacobian_at(exact.x, theta)
            jax_digits = min(jax_digits, digits(automatic.model.jacobian_at(automatic.x, theta), reference))
            fd_digits = min(fd_digits, digits(finite.jacobian_at(automatic.x, theta), reference))
        worst = min(worst, jax_digits)
        print(f"{problem.name:10s} {jax_digits:6.1f} {fd_digits:20.1f}")
    print(f"smallest: {worst:.1f} digits (target >= 13)")


def bench_nist(folder):
    from nist.strd import nlls_lre, write_csv, write_jax_module

    problems = nist_sets()
    if problems is None:
        return
    write_jax_module(problems, folder)
    print("\n2. nlls with the JAX model: smallest LRE (parameters, sds, RSS) per set and start")
    print(f"{'set':10s} {'start 1':>8s} {'start 2':>8s}")
    worst = 15.0
    for problem in problems:
        csv = write_csv(problem, folder)
        row = []
        for start in (0, 1):
            lres, result = nlls_lre(problem, csv, start, f"{folder}/nist_jax_models.py:{problem.name}")
            value = 0.0 if lres is None else min(lres["params"].min(), lres["sd"].min(), lres["rss"])
            worst = min(worst, value)
            row.append(f"{value:8.1f}")
        print(f"{problem.name:10s} {' '.join(row)}")
    print(f"smallest: {worst:.1f} (target >= 6)")


def lines_model(n_lines, backend):
    """A spectrum of ``n_lines`` Gaussian lines, each (amplitude, centre, width)."""
    from fitflow import ParametricModel
    from fitflow.core.autodiff import ExactDerivatives, jax_modules

    _, jnp = jax_modules()

    def spectrum(x, theta):
        a, c, w = theta[0::3], theta[1::3], theta[2::3]
        return jnp.sum(a[:, None] * jnp.exp(-0.5 * ((x[None, :] - c[:, None]) / w[:, None]) ** 2), axis=0)

    exact = ExactDerivatives(spectrum)
    centres = np.linspace(0.5, 9.5, n_lines)
    truth = np.column_stack([1 + 0.5 * np.sin(np.arange(n_lines)), centres, np.full(n_lines, 0.6 * 9 / n_lines)])
    truth = truth.ravel()
    start = truth * np.tile([1.1, 1.0, 1.15], n_lines) + np.tile([0, 0.02 * 9 / n_lines, 0], n_lines)
    model = ParametricModel(
        function=exact.value,
        param_names=tuple(f"{k}{i}" for i in range(n_lines) for k in "acw"),
        p0=start,
        jacobian=exact.jacobian if backend == "jax" else None,
    )
    return model, truth, exact


def per_call(function, repeats=5):
    function()  # compiled, or warm
    started = time.perf_counter()
    for _ in range(repeats):
        function()
    return (time.perf_counter() - started) / repeats


def scaling_row(p, x, rng):
    """One row of section 3: the costs at ``p`` parameters."""
    from fitflow.core.autodiff import jax_modules
    from fitflow.testing import GivenModel

    jax, jnp = jax_modules()
    model, truth, exact = lines_model(p // 3, "jax")
    y = exact.value(x, truth) + rng.normal(0, 0.01, x.size)
    sigma = np.full(x.size, 0.01)
    theta = model.p0
    started = time.perf_counter()
    exact.jacobian(x, theta)  # compiles
    compile_s = time.perf_counter() - started
    jacobian_jax = per_call(lambda: exact.jacobian(x, theta))
    # MINPACK's forward differences: p + 1 evaluations of the compiled model
    jacobian_fd = per_call(lambda: [exact.value(x, theta + 1e-8 * e) for e in np.eye(p)] + [exact.value(x, theta)])

    def chi_square(t):
        r = (y - exact.function(x, t)) / sigma
        return 0.5 * jnp.sum(r * r)

    gradient = jax.jit(jax.grad(chi_square))
    gradient_jax = per_call(lambda: np.asarray(gradient(theta)))
    gradient_fd = jacobian_fd  # a forward-difference gradient costs the same p + 1 evaluations
    times = {}
    if p <= 30:  # at p = 300 a full fit takes LM thousands of evaluations (see the docs)
        data = fitflow.Dataset(problem=GivenModel(model), x=x, y=y, sigma=sigma)
        for label, jacobian in (("jax", "model"), ("fd", "finite-difference")):
            method = fitflow.make_method("nlls", jacobian=jacobian, fallbacks=False)
            times[label] = per_call(lambda method=method: fitflow.fit(method, data), repeats=2)
    fit = (
        f"{times['jax']:11.3f} {times['fd']:10.3f} {times['jax'] / times['fd']:10.3f}"
        if times
        else f"{'-':>11s} {'-':>10s} {'-':>10s}"
    )
    return f"{p:4d} {compile_s:10.2f} {jacobian_jax:9.4f} {jacobian_fd:9.4f} {gradient_jax:12.5f} {gradient_fd:11.4f} {fit}"


def bench_scaling():
    print("\n3. p/3 Gaussian lines on 2,000 points: JAX against finite differences (FD)")
    print(
        f"{'p':>4s} {'compile s':>10s} {'J: JAX s':>9s} {'J: FD s':>9s} {'grad: JAX s':>12s} {'grad: FD s':>11s} "
        f"{'fit: JAX s':>11s} {'fit: FD s':>10s} {'fit ratio':>10s}"
    )
    x = np.linspace(0, 10, 2000)
    rng = np.random.default_rng(0)
    for p in (3, 30, 300):
        print(scaling_row(p, x, rng))
    print("target at p = 300: fit ratio <= 0.1 (the Jacobian and gradient ratios are its parts)")


def lines_data(seed, n_lines):
    """``n_lines`` overlapping Gaussian lines on 200 points: within a line, amplitude and
    width correlate; neighbouring lines overlap."""
    model = " + ".join(f"a{i}*exp(-0.5*((x - c{i})/w{i})**2)" for i in range(n_lines))
    params = [f"{k}{i}" for i in range(n_lines) for k in "acw"]
    truth = [v for i in range(n_lines) for v in (1.0 + 0.2 * i, 2.5 + 1.6 * i, 0.6)]
    return fitflow.generate(
        "simulate",
        seed=seed,
        model=model,
        params=params,
        truth=truth,
        p0=truth,
        noise=0.1,
        x_min=0.0,
        x_max=5.0 + 1.6 * (n_lines - 1),
        n_points=50 * n_lines,
        lower=[0 if k == "w" else None for i in range(n_lines) for k in "acw"],
    )


def bench_ess():
    for n_lines in (4, 6):
        ess_per_second(n_lines)


def ess_per_second(n_lines):
    print(f"\n4. nuts and emcee on {n_lines} overlapping lines ({3 * n_lines} correlated parameters): ESS per second")
    data = lines_data(1, n_lines)
    rows = {}
    for name in ("nuts", "emcee"):
        started = time.perf_counter()
        result = fitflow.fit(name, data, seed=1)
        seconds = time.perf_counter() - started
        if not result.ok:
            print(f"{name:6s} {seconds:7.1f} s  failed: {result.message}")
            return
        ess = result.diagnostics["effective_sample_size"]
        rhat = max(result.diagnostics["rhat"].values()) if name == "nuts" else float("nan")
        rows[name] = ess / seconds
        print(f"{name:6s} {seconds:7.1f} s  min ESS {ess:7.0f}  ESS/s {ess / seconds:7.1f}  R-hat max {rhat:.4f}")
    print(f"nuts / emcee: {rows['nuts'] / rows['emcee']:.1f}x (target >= 5)")


def wilson(k, n, z=1.959964):
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


def bench_calibration(replicates=50):
    print(f"\n5. nuts calibration: {replicates} replicates of b1*(1 - exp(-b2*x)), 20 points")
    hits = {68: 0, 95: 0}
    total, failed, started = 0, 0, time.perf_counter()
    for seed in range(replicates):
        data = fitflow.generate(
            "simulate", seed=seed, model="b1*(1 - exp(-b2*x))", truth=[2.0, 1.3], noise=0.1, n_points=20, p0=[1, 1]
        )
        result = fitflow.fit("nuts", data, seed=seed)
        if not result.ok:
            failed += 1
            continue
        for j, value in enumerate((2.0, 1.3)):
            total += 1
            for level in (68, 95):
                low, high = np.percentile(result.samples[:, j], [50 - level / 2, 50 + level / 2])
                hits[level] += low <= value <= high
    print(f"{total} intervals ({failed} failed fits), {time.perf_counter() - started:.0f} s")
    for level in (68, 95):
        low, high = wilson(round(level / 100 * total), total)
        inside = low <= hits[level] / total <= high
        print(
            f"{level}%: coverage {hits[level] / total:.3f}; 95% Wilson interval of the nominal "
            f"[{low:.3f}, {high:.3f}]: {'inside' if inside else 'OUTSIDE'}"
        )


def bench_banana():
    from arviz_stats.base import array_stats

    print("\n6. A banana: y = a x + b + a^2, flat prior; exact moments against each sampler")
    data = fitflow.generate(
        "simulate",
        seed=3,
        model="a*x + b + a**2",
        truth=[1.0, 0.5],
        noise=2.6,
        x_min=-1,
        x_max=1,
        n_points=20,
        p0=[0.5, 0.5],
    )
    design = np.column_stack([data.x, np.ones_like(data.x)]) / data.sigma[:, None]
    covariance = np.linalg.inv(design.T @ design)
    u, v = covariance @ design.T @ (data.y / data.sigma)
    su2, sv2 = covariance[0, 0], covariance[1, 1]
    assert abs(covariance[0, 1]) < 1e-12  # the grid is symmetric: u and v independent
    exact_mean = np.array([u, v - (u * u + su2)])
    exact_sd = np.array([np.sqrt(su2), np.sqrt(sv2 + 4 * u * u * su2 + 2 * su2 * su2)])
    print(f"exact: mean {np.round(exact_mean, 3)}, sd {np.round(exact_sd, 3)}")
    for name in ("nuts", "emcee"):
        result = fitflow.fit(name, data, seed=3, prior="flat")
        assert result.ok, result.message
        samples = result.samples
        if name == "nuts":
            draws = samples.reshape(result.diagnostics["n_chains"], -1, 2)
            se_mean = array_stats.mcse(draws, chain_axis=0, draw_axis=1, method="mean")
            se_sd = array_stats.mcse(draws, chain_axis=0, draw_axis=1, method="sd")
        else:  # emcee: from its autocorrelation-based ESS
            ess = result.diagnostics["effective_sample_size"]
            se_mean = samples.std(axis=0) / np.sqrt(ess)
            se_sd = samples.std(axis=0) / np.sqrt(2 * ess)
        z_mean = (samples.mean(axis=0) - exact_mean) / se_mean
        z_sd = (samples.std(axis=0) - exact_sd) / se_sd
        length = f" ({result.diagnostics['n_samples']} draws per chain)" if name == "nuts" else ""
        print(
            f"{name:6s}{length} mean error in MCSE {np.round(z_mean, 2)}, sd error in MCSE {np.round(z_sd, 2)} (target |.| <= 3)"
        )


SECTIONS = {
    "jacobian": bench_jacobian,
    "nist": bench_nist,
    "scaling": bench_scaling,
    "ess": bench_ess,
    "calibration": bench_calibration,
    "banana": bench_banana,
}

if __name__ == "__main__":
    chosen = sys.argv[1:] or list(SECTIONS)
    with tempfile.TemporaryDirectory() as folder:
        for name in chosen:
            section = SECTIONS[name]
            section(folder) if name in ("jacobian", "nist") else section()
