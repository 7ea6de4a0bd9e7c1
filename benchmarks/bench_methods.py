"""Method benchmarks, each a ratio against a reference measured in the same run.

1. Each wrapper's fit time against a direct call of the library it wraps, on the
   same data with the same settings (target: overhead <= 20%):
   nlls / curve_fit, emcee / EnsembleSampler, gp / GaussianProcessRegressor,
   mlp / MLPRegressor.
2. bayesopt against random_search: evaluations needed to reach regret 1e-3 on
   Forrester and 1e-2 on Branin (medians over seeds).
3. emcee: effective samples per second.

Run:  .venv/bin/python benchmarks/bench_methods.py [--seeds 10]
"""

import argparse
import time
import warnings

import numpy as np
from scipy.optimize import curve_fit

import fitflow
from fitflow_plugins.problems.synthetic.gaussian_peak import gaussian, gaussian_jacobian
from timing import per_call


def direct_curve_fit(data):
    return lambda: curve_fit(
        lambda x, *t: gaussian(x, t),
        data.x,
        data.y,
        p0=data.model.p0,
        sigma=data.sigma,
        absolute_sigma=True,
        jac=lambda x, *t: gaussian_jacobian(x, t),
        method="lm",
        xtol=1e-15,
        ftol=1e-15,
        gtol=1e-15,
    )


def direct_emcee(data, n_walkers, n_steps):
    import emcee

    popt, pcov = direct_curve_fit(data)()
    lower, upper = data.model.bounds

    def log_probability(theta):
        if np.any(theta < lower) or np.any(theta > upper):
            return -np.inf
        r = (data.y - gaussian(data.x, theta)) / data.sigma
        return -0.5 * float(r @ r)

    def run():
        # emcee's defaults; the wrapper also runs nlls first and computes tau, percentiles
        # and the ESS, which is the overhead measured here.
        rng = np.random.default_rng(0)
        start = popt + 0.1 * np.sqrt(np.diag(pcov)) * rng.standard_normal((n_walkers, popt.size))
        sampler = emcee.EnsembleSampler(n_walkers, popt.size, log_probability)
        sampler.run_mcmc(start, n_steps, progress=False)
        return sampler

    return run


def direct_gp(data, n_restarts):
    from sklearn.gaussian_process import GaussianProcessRegressor, kernels
    from sklearn.preprocessing import StandardScaler

    def run():
        scaler = StandardScaler().fit(data.x[:, None])
        kernel = kernels.ConstantKernel(1.0, (1e-3, 1e3)) * kernels.RBF(1.0, (1e-3, 1e3))
        seed = int(np.random.default_rng(0).integers(2**31))  # the seed the wrapper draws from rng(0)
        gp = GaussianProcessRegressor(
            kernel,
            alpha=(data.sigma / np.std(data.y)) ** 2,
            normalize_y=True,
            n_restarts_optimizer=n_restarts,
            random_state=seed,
        )
        gp.fit(scaler.transform(data.x[:, None]), data.y)
        return gp.predict(scaler.transform(data.grid_x[:, None]), return_std=True)

    return run


def direct_mlp(data, method):
    from sklearn.neural_network import MLPRegressor
    from sklearn.preprocessing import StandardScaler

    v = method.values

    def run():
        scaler = StandardScaler().fit(data.x[:, None])
        target = (data.y - data.y.mean()) / data.y.std()
        # The seeds the wrapper draws from rng(0): identical networks, identical work.
        for seed in np.random.default_rng(0).integers(2**31, size=v["n_networks"]):
            network = MLPRegressor(
                hidden_layer_sizes=tuple(v["hidden_layers"]),
                activation=v["activation"],
                learning_rate_init=v["learning_rate"],
                alpha=v["l2"],
                batch_size=v["batch_size"],
                max_iter=v["max_iter"],
                early_stopping=True,
                n_iter_no_change=v["patience"],
                tol=1e-7,
                random_state=int(seed),
            ).fit(scaler.transform(data.x[:, None]), target)
            network.predict(scaler.transform(data.grid_x[:, None]))

    return run


def wrapper_overheads():
    rows = []
    peak = fitflow.generate("gaussian_peak", seed=1)
    nlls = fitflow.make_method("nlls")
    rows.append(("nlls / curve_fit", *per_call([lambda: nlls.fit(peak, None), direct_curve_fit(peak)], 100)))

    sampler = fitflow.make_method("emcee", n_steps=2000, n_walkers=32)
    rows.append(
        (
            "emcee / EnsembleSampler",
            *per_call([lambda: sampler.fit(peak, np.random.default_rng(0)), direct_emcee(peak, 32, 2000)], 1, blocks=3),
        )
    )

    smooth = fitflow.generate("smooth_function", seed=1, n_samples=100)
    gp = fitflow.make_method("gp")
    rows.append(
        (
            "gp / GaussianProcessRegressor",
            *per_call([lambda: gp.fit(smooth, np.random.default_rng(0)), direct_gp(smooth, 5)], 1, blocks=10),
        )
    )

    mlp = fitflow.make_method("mlp")
    rows.append(
        (
            "mlp / MLPRegressor x5",
            *per_call([lambda: mlp.fit(smooth, np.random.default_rng(0)), direct_mlp(smooth, mlp)], 1, blocks=3),
        )
    )
    return rows


def evaluations_to_reach(function, threshold, method, budget, seeds):
    data = fitflow.generate("black_box", function=function)
    needed = []
    for seed in seeds:
        result = fitflow.fit(method, data, seed=seed, budget=budget)
        regret = result.arrays["best_so_far"] - data.objective.optimum_value
        hits = np.flatnonzero(regret <= threshold)
        needed.append(hits[0] + 1 if hits.size else np.inf)
    return float(np.median(needed)), int(np.sum(np.isinf(needed)))


def emcee_throughput():
    peak = fitflow.generate("gaussian_peak", seed=1)
    start = time.perf_counter()
    result = fitflow.fit("emcee", peak, seed=1)
    elapsed = time.perf_counter() - start
    return result.diagnostics["effective_sample_size"], elapsed


def main():
    from threadpoolctl import threadpool_limits

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    # One BLAS thread, as in a workflow job with threads=1: two threads on this 2-core
    # machine made the GP timings swing by 50% between identical calls.
    threadpool_limits(1)

    print("wrapper fit time against the wrapped library (best of interleaved repeats):")
    for name, wrapped, direct in wrapper_overheads():
        print(f"  {name:32s} {wrapped * 1e3:10.2f} ms {direct * 1e3:10.2f} ms   ratio {wrapped / direct:5.2f}")

    seeds = range(args.seeds)
    print(f"\nevaluations to reach the regret threshold (median over {args.seeds} seeds; 'never' = not within budget):")
    for function, threshold, budget in [("forrester", 1e-3, 30), ("branin", 1e-2, 40)]:
        bo, bo_never = evaluations_to_reach(function, threshold, "bayesopt", budget, seeds)
        rs, rs_never = evaluations_to_reach(function, threshold, "random_search", 5000, seeds)
        print(
            f"  {function:10s} regret <= {threshold:g}: bayesopt {bo:6.0f} (never: {bo_never}/{args.seeds}, budget {budget})"
            f"   random_search {rs:6.0f} (never: {rs_never}/{args.seeds}, budget 5000)   ratio {rs / bo:5.1f}x"
        )

    ess, elapsed = emcee_throughput()
    print(
        f"\nemcee on gaussian_peak (32 walkers x 3000 steps): ESS {ess:.0f} in {elapsed:.2f} s = {ess / elapsed:.0f} effective samples/s"
    )


if __name__ == "__main__":
    main()
