"""Bayesian optimisation: a Gaussian-process surrogate and an acquisition function.

1. Evaluate an initial space-filling design (scipy.stats.qmc) in the objective's box.
2. Fit a GP (:mod:`.surrogate`) to every evaluation that gave a number, learning a
   white-noise level unless the noise is known. In 5 or more dimensions its prior
   mean is the worst value seen, so EI stops spending steps on empty corners.
   Noise-free values are first warped by a fitted Yeo-Johnson transform (as HEBO's)
   where the data reject the identity, so that a long tail of bad values does not
   flatten the GP where the good ones are.
3. Optimise the acquisition (:mod:`.acquisitions`: expected improvement by default,
   or the lower confidence bound) with multi-start L-BFGS-B. With noise, EI improves on
   the best posterior mean at an evaluated point, not on the luckiest noisy sample.
4. A batch of q points comes from the kriging believer (Ginsbourger et al. 2010):
   after each choice the GP is told its own mean there, so the next goes elsewhere;
   the same fantasy covers pending points of a measurement log. Under noise that is
   not enough (batches of near-duplicates), so EI is also multiplied by
   1 - correlation with each fantasised point, a local penalisation in the spirit of
   González et al. (2016) with the GP's own kernel as the penaliser.
5. Every other proposal (in a batch, three of every four) searches a box of side
   ``local_width`` around the incumbent (Regis & Shoemaker 2007's weight cycling).
   Without noise it takes the posterior mean's minimum there, unless that is a
   measured point (then EI in the box: re-measuring teaches nothing).
6. Integer and choice coordinates stay on their lattice while the acquisition is
   maximised: L-BFGS-B moves the continuous ones with them fixed, then a walk steps an
   integer by one or a choice to another option while that raises the acquisition
   (rounding a continuous optimum can freeze an integer for many shots). The GP sees
   a choice one-hot (its options unordered), and the initial design deals every option
   an equal share.
7. The recommendation is the evaluated point of lowest posterior mean (with noise)
   or value (without), reported with its mean and sd. A learned noise level is fitted
   twice: by the likelihood alone for the proposals and the choice of that point, and
   under a log-normal prior for what is reported (that mean and sd, and the report's
   surrogate slices). With a few noisy shots the likelihood alone often explains the
   scatter as signal and reports an sd far below it; the prior makes the sd honest,
   but choosing points by it made worse choices.
8. Output constraints (``constraints: {charge: ">= 50"}``): each has its own GP, EI is
   weighted by the probability of feasibility (:mod:`.feasibility`) and improves on the
   best feasible value, and the recommendation is a feasible point.
9. Several objectives: for two, expected hypervolume improvement with a GP per objective
   (:mod:`.hypervolume_improvement`; Emmerich et al. 2006); for more, ParEGO's random
   scalarisations (:mod:`.parego`; Knowles 2006).

Why each step is there, with the measurements behind it: docs/benchmarks.md.
"""

import numpy as np

from fitflow.plugin import Method, Recommendation, Setting, best_observed, run_in_process

from .acquisitions import ACQUISITIONS, for_path
from .campaign_result import best_so_far_figure, history_result
from .feasibility import Feasibility
from .hypervolume_improvement import predicted_front, suggest_by_ehvi
from .parego import suggest_for_goals
from .surrogate import GaussianSurrogate

__all__ = ["BayesianOptimisation", "MEASURED_RADIUS"]

#: The most random candidates that start the acquisition search (scikit-optimize samples as many
#: in a space with choices). There are max(500, 100 d) for each combination of a choice's options:
#: each combination is a separate piece of the space, which L-BFGS-B cannot cross and the
#: lattice walk crosses one step at a time (docs/benchmarks.md, "Mixed-variable problems").
MAX_CANDIDATES = 10_000

#: A noise-free exploitation step closer than this (unit cube) to a measured point
#: would measure it again: EI in the local box takes the step instead (item 5 of the module docstring).
MEASURED_RADIUS = 1e-3


def warped(y):
    """``y`` through a Yeo-Johnson transform fitted by maximum likelihood (after
    standardising), as HEBO does: a monotone map, so the best point stays the best, that
    pulls in a long tail of bad values (Rosenbrock's) which would otherwise set the GP's
    scale and leave the good region flat. Only where the data reject the identity (a
    likelihood-ratio test at 5%, one degree of freedom): a transform fitted to a handful
    of unskewed values bends a straight slope for nothing."""
    from scipy.stats import chi2, yeojohnson, yeojohnson_llf

    spread = float(np.std(y))
    if len(y) < 3 or spread == 0 or not np.all(np.isfinite(y)):
        return y
    z = (y - np.mean(y)) / spread
    transformed, lmbda = yeojohnson(z)
    if 2 * (yeojohnson_llf(lmbda, z) - yeojohnson_llf(1.0, z)) < chi2.ppf(0.95, 1):
        return y
    return transformed


def space_filling(dim, n, kind, rng):
    """``n`` points of a scrambled Sobol' or Latin-hypercube design in the unit cube."""
    from scipy.stats import qmc

    seed = int(rng.integers(2**31))
    if kind == "sobol":
        # Sobol' points balance best at powers of two; drawing a base-2 block and keeping the
        # first n points is scipy's own recipe for other sizes.
        return qmc.Sobol(dim, scramble=True, seed=seed).random_base2(int(np.ceil(np.log2(max(n, 1)))))[:n]
    return qmc.LatinHypercube(dim, seed=seed).random(n)


class BayesianOptimisation(Method):
    name = "bayesopt"
    version = "2.9"
    description = "GP surrogate (scikit-learn), noise learned, EI / LCB, kriging-believer batches, qmc initial design"
    capabilities = frozenset({"black_box"})
    requirements = frozenset({"finite_bounds"})
    requires_modules = ("sklearn.gaussian_process", "scipy.optimize", "scipy.stats")
    resources = {"threads": 1, "mem_mb": 1000, "runtime": 20}
    settings = {
        "budget": Setting(30, int, "objective evaluations, initial design included", minimum=2, maximum=5_000),
        "batch": Setting(1, int, "points proposed per round (kriging believer)", minimum=1, maximum=1_000),
        "n_initial": Setting(
            None,
            int,
            "initial design size (default: max(5, 2 d + 1), at least 8 with noise; at most budget - 1)",
            minimum=1,
            maximum=5_000,
        ),
        "initial_design": Setting("sobol", str, "space-filling initial design", choices=("sobol", "lhs")),
        "acquisition": Setting(
            "ei",
            str,
            "acquisition function (optimisation/acquisitions.py; under constraints: ei; two objectives: ehvi)",
            choices=tuple(ACQUISITIONS),
        ),
        "xi": Setting(0.0, float, "EI exploration margin, in units of the observed spread (0: plain EI)", minimum=0.0),
        "kappa": Setting(2.0, float, "LCB exploration weight", minimum=0.0),
        "noise": Setting(
            "auto",
            str,
            "auto: the objective's known noise, learned when unknown; learn: always learn; none: interpolate",
            choices=("auto", "learn", "none"),
        ),
        "local_width": Setting(
            0.4,
            float,
            "side (unit cube) of the box around the incumbent searched on every "
            "other proposal (in a batch, all but one of every four); 0: always global",
            minimum=0.0,
            maximum=1.0,
        ),
        "n_starts": Setting(5, int, "L-BFGS-B starts for the acquisition", minimum=1, maximum=1_000),
        "warp": Setting(
            "auto",
            str,
            "auto: a Yeo-Johnson warp of noise-free values before the GP; none: the values as measured",
            choices=("auto", "none"),
        ),
        "choices": Setting(
            "one-hot",
            str,
            "how the GP sees a choice: one-hot over its options, or its option's index as a number",
            choices=("one-hot", "index"),
        ),
        "pareto": Setting(
            "ehvi",
            str,
            "several objectives: expected hypervolume improvement (two objectives; more use ParEGO) or ParEGO",
            choices=("ehvi", "parego"),
        ),
        "gp_restarts": Setting(
            2, int, "restarts of the surrogate's marginal-likelihood optimiser", minimum=0, maximum=100
        ),
    }
    fast_settings = {"budget": 8, "n_starts": 3}

    def default_initial_size(self, dim, noisy=False):
        """max(5, 2 d + 1) points; at least 8 with noise, so that the GP can tell the noise
        from the function (on noisy Forrester, 5 initial points left 4 of 20 runs in the
        wrong basin; 8 left none, benchmarks/bench_bo_vs_skopt.py)."""
        size = max(8 if noisy else 5, 2 * dim + 1)
        return min(size, self.values["budget"] - 1)

    def fit(self, dataset, rng):
        objective = dataset.objective
        history, best = run_in_process(self, objective, int(rng.integers(2**31)))
        n_initial = self.values["n_initial"] or self.default_initial_size(objective.dim, objective.noise_sd != 0)
        return history_result(objective, history, best, {"n_initial": n_initial})

    # -- ask / tell --------------------------------------------------------------------------

    def suggest(self, history, n, rng):
        """The next ``n`` points: a space-filling design until the GP has data, then
        EI (or LCB) maximised point by point under the kriging believer."""
        space = history.space
        taken = [space.to_unit(history.x), space.to_unit(history.pending)]
        if history.ok.sum() < 2:
            unit = space_filling(space.dim, len(history) + len(history.pending) + n, self.values["initial_design"], rng)
            return space.from_unit(space.cover_choices(unit)[-n:])
        if history.goals:
            if len(history.goals) == 2 and self.values["pareto"] == "ehvi":
                return space.from_unit(suggest_by_ehvi(self, history, n, rng))
            return suggest_for_goals(self, history, n, rng)
        surrogate = self._surrogate(history, rng)
        noisy = self._noisy(history)
        feasibility = Feasibility.of(history, noisy, rng, self._encoding(history))
        centre, incumbent = self._incumbent(surrogate, history, feasibility)

        def believe(surrogate, incumbent, u):
            # The believer takes its own mean as the outcome, which also becomes the incumbent
            # if it is better: otherwise EI would still see an improvement at that very point.
            # (Under constraints that outcome may be infeasible, so the incumbent stays.)
            value = float(surrogate.predict(u)[0][0])
            return surrogate.believing(u, value), incumbent if feasibility else min(incumbent, value)

        for u in taken[1]:
            surrogate, incumbent = believe(surrogate, incumbent, u)
        chosen = []
        local = self._local_choices(len(history.x) + len(history.pending), n)
        for j in range(n):
            known = np.vstack(taken + [np.reshape(chosen, (-1, space.dim))])
            # Only an unfantasised GP (no pending point, nothing chosen yet) exploits: the believer
            # leaves the mean where it was, so a second pure-exploitation choice would land on the first.
            unfantasised = len(known) == len(history.x)
            exploit = local[j] and not noisy and unfantasised and feasibility is None
            box = self._search_box(centre, local[j])
            # Under noise the believer's fantasies alone let a batch pile up (item 4 of the module
            # docstring): EI is then also penalised near them.
            fantasies = known[len(history.x) :] if noisy else ()
            u = self._maximise_acquisition(
                surrogate, incumbent, history, known, rng, box, exploit, fantasies, feasibility
            )
            if exploit and np.min(np.linalg.norm(known - u, axis=1)) < MEASURED_RADIUS:
                # The mean's minimum is measured already (the box has converged): EI there instead.
                u = self._maximise_acquisition(surrogate, incumbent, history, known, rng, box)
            chosen.append(u)
            if len(chosen) < n:
                surrogate, incumbent = believe(surrogate, incumbent, u)
        return space.from_unit(np.array(chosen))

    def purposes(self, history, n):
        """What each of the next ``n`` proposals of :meth:`suggest` is for, in words (the counts
        decide, as they decide :meth:`suggest`'s choices)."""
        if history.ok.sum() < 2:
            return ["initial design: spread over the box"] * n
        if history.goals:
            return ["the front: expected hypervolume improvement"] * n
        if history.constraints and not history.feasible.any():
            return ["find where the limits are kept: probability of feasibility"] * n
        local = self._local_choices(len(history.x) + len(history.pending), n)
        return [
            "refine near the best so far: expected improvement in the local box"
            if here
            else "explore: expected improvement over the whole box"
            for here in local
        ]

    def recommend(self, history):
        """Lowest posterior mean among evaluated points with noise; lowest value without.
        Under constraints, among the feasible points only: measured so without noise, and
        with noise also more likely feasible than not under the constraints' posteriors."""
        if not history.feasible.any():
            return None
        if not self._noisy(history):
            return best_observed(history)
        rng = np.random.default_rng(0)
        surrogate = self._surrogate(history, rng)
        feasibility = Feasibility.of(history, True, rng, self._encoding(history))
        candidates = history.feasible[history.ok]
        if feasibility is not None:
            candidates &= feasibility.probability(surrogate.unit) >= 0.5
            if not candidates.any():
                return None
        ok = np.flatnonzero(history.ok)
        best = int(np.argmin(np.where(candidates, surrogate.predict(surrogate.unit)[0], np.inf)))
        if surrogate.learn_noise:
            # The point is chosen by the likelihood's GP, the value and sd reported by the noise
            # prior's (item 7 of the module docstring).
            surrogate = self._surrogate(history, rng, noise_prior=True)
        mean, sd = surrogate.predict(surrogate.unit[[best]])
        outputs = None if feasibility is None else feasibility.outputs(history, surrogate.unit[best])
        return Recommendation(history.x[ok[best]], float(mean[0]), float(sd[0]), int(ok[best]), outputs)

    def surrogate_slices(self, history, x, n):
        """The GP's mean and standard deviation along each coordinate through ``x``
        (the others held at ``x``): ``{name: {grid, mean, sd}}`` for the report."""
        space = history.space
        surrogate = self._surrogate(history, np.random.default_rng(0), warp=False, noise_prior=True)
        centre = space.to_unit(x)
        out = {}
        for j, name in enumerate(space.names):
            grid = space.unit_grid(j, n)
            unit = np.tile(centre, (len(grid), 1))
            unit[:, j] = grid
            mean, sd = surrogate.predict(unit)
            out[name] = {"grid": space.scale(unit)[:, j], "mean": mean, "sd": sd}
        return out

    def predicted_front(self, history, n):
        """Several objectives: the GPs' Pareto front for the report, from ``n`` random points
        and ``n`` around the measured front (:func:`.hypervolume_improvement.predicted_front`)."""
        return predicted_front(self, history, n, np.random.default_rng(0))

    # -- internals ---------------------------------------------------------------------------

    def _noisy(self, history):
        mode = self.values["noise"]
        if mode == "learn":
            return True
        if mode == "none":
            return False
        return history.noise_sd != 0 or bool(np.any(history.error[history.ok] > 0))

    def _surrogate(self, history, rng, warp=True, noise_prior=False, values=None):
        """The GP of ``history``'s values, or of ``values`` (m,) in their place (one of
        several objectives), fitted to the evaluations that gave a number."""
        values = history.y if values is None else values
        ok = history.ok & np.isfinite(values)
        unit, y = history.space.to_unit(history.x[ok]), values[ok]
        known = self.values["noise"] == "auto" and history.noise_sd not in (None, 0)
        errors = np.nan_to_num(history.error[ok], nan=history.noise_sd if known else 0.0)
        learn = self._noisy(history) and not known and not np.all(np.isfinite(history.error[ok]))
        # The worst value as prior mean in 5 or more dimensions, where De Ath et al. (2020) found
        # it consistently best, with noise as without (item 6 of the module docstring); in fewer it
        # starved the global half (one noise-free Forrester run of 20 stuck in the wrong basin).
        prior = "worst" if history.space.dim >= 5 else "data"
        if warp and self.values["warp"] == "auto" and not self._noisy(history):
            y = warped(y)
        return GaussianSurrogate(
            unit,
            y,
            errors**2,
            learn_noise=learn,
            restarts=self.values["gp_restarts"],
            rng=rng,
            prior_mean=prior,
            encode=self._encoding(history),
            noise_prior=noise_prior,
        )

    def _encoding(self, history):
        """The GP's inputs: choices one-hot (item 6 of the module docstring), or as indices."""
        return history.space.unit_features if self.values["choices"] == "one-hot" else None

    def _incumbent(self, surrogate, history, feasibility=None):
        """``(unit point, value)`` of the best evaluated point: by value without noise,
        by posterior mean with it (as the recommendation). EI improves on the value;
        the local search centres on the point. Under constraints, the best feasible point;
        with none yet, the value is ``None`` and the point the likeliest feasible one."""
        scores = surrogate.predict(surrogate.unit)[0] if self._noisy(history) else surrogate.y
        if feasibility is not None:
            feasible = history.feasible[history.ok]
            if not feasible.any():
                return surrogate.unit[int(np.argmax(feasibility.probability(surrogate.unit)))], None
            scores = np.where(feasible, scores, np.inf)
        best = int(np.argmin(scores))
        return surrogate.unit[best], float(scores[best])

    def _search_box(self, centre, local):
        """``(lower, upper)`` of a proposal's search in the unit cube: the whole cube, or
        with ``local`` the box of side ``local_width`` centred on ``centre``."""
        if not local:
            return np.zeros(len(centre)), np.ones(len(centre))
        width = self.values["local_width"]
        return np.clip(centre - width / 2, 0.0, 1.0), np.clip(centre + width / 2, 0.0, 1.0)

    def _local_choices(self, n_known, n):
        """Which of the ``n`` proposals after ``n_known`` known points (pending included) search
        the local box. One at a time, every other one (odd counts): the counts, not a stored
        state, decide, so ``suggest`` stays a pure function. In a batch, all but the last of
        every four: the believer's fantasies spread the local choices apart, and the global
        one keeps each round exploring (Hartmann-6, q = 4, runs reaching regret 0.1 on seeds
        0-19 / 20-39 / 40-59: 12 / 9 / 13 of 20 against 12 / 7 / 12 alternating, median
        evaluations 46 / 61 / 44 against 56 / 61 / 48)."""
        if self.values["local_width"] <= 0:
            return [False] * n
        if n == 1:
            return [n_known % 2 == 1]
        return [j % 4 != 3 and j != n - 1 for j in range(n)]

    def _maximise_acquisition(
        self, surrogate, best, history, known, rng, box, exploit=False, fantasies=(), feasibility=None
    ):
        """The best new point in ``box`` (:meth:`_search`): of the acquisition, or with
        ``exploit`` of the posterior mean alone."""
        v = self.values
        space = history.space
        # The measured values' spread, in the units the GP was fitted in (warped or not); a
        # believer's surrogate appends its fantasies after them, which must not move the margin.
        spread = float(np.std(surrogate.y[: int(history.ok.sum())])) or 1.0

        # Under constraints the acquisition is weighted by the probability of feasibility.
        acquisition = for_path(v["acquisition"], weighted=feasibility is not None)

        def losses(u):
            if feasibility is not None and best is None:  # nothing feasible yet: seek feasibility
                return -feasibility.probability(u) * penalty(u)
            mean, std = surrogate.predict(u)
            if exploit:
                return mean
            loss = acquisition.loss(mean, std, best, v, spread)
            if not acquisition.weighted:
                return loss
            weight = 1.0 if feasibility is None else feasibility.probability(u)
            return loss * penalty(u) * weight

        def penalty(u):
            if not len(fantasies):
                return 1.0
            return np.prod(1.0 - surrogate.correlation(u, fantasies), axis=1)

        return self._search(losses, space, known, rng, box)

    def _search(self, losses, space, known, rng, box):
        """The unit point in ``box`` of least ``losses`` (a vectorised function of (q, d) unit
        points), not already ``known``: multi-start L-BFGS-B from the best of many random
        candidates. Integer and choice coordinates stay on their lattice: the continuous ones are
        optimised with them fixed, then a walk moves them one step at a time
        (:meth:`SearchSpace.lattice_neighbours`) while that lowers the loss."""
        v = self.values
        dim = space.dim
        lower, upper = box
        inside = lambda u: np.all((u >= lower - 1e-12) & (u <= upper + 1e-12), axis=-1)  # noqa: E731
        # Starts: the best of many random candidates on the lattice, scored in one vectorised call.
        n_candidates = min(MAX_CANDIDATES, max(500, 100 * dim) * space.n_combinations)
        candidates = space.snap_unit(lower + (upper - lower) * rng.uniform(size=(n_candidates, dim)))
        candidates = np.clip(candidates, lower, upper) if not space.integer.any() else candidates[inside(candidates)]
        if not len(candidates):
            candidates = space.snap_unit((lower + upper)[None, :] / 2)
        scores = losses(candidates)
        order = np.argsort(scores)
        results = sorted(
            (_descend(losses, candidates[i], space.integer, box) for i in order[: v["n_starts"]]), key=lambda r: r[1]
        )
        if space.integer.any():
            results.insert(0, _walk(losses, *results[0], space, box, inside))
        proposals = [u for u, _ in results]
        proposals += [candidates[i] for i in order]
        for u in proposals:
            if len(known) == 0 or np.min(np.linalg.norm(known - u, axis=1)) > 1e-9:
                return u
        return space.snap_unit(rng.uniform(size=dim))  # every candidate is known: explore

    def figures(self, dataset, result):
        return best_so_far_figure(dataset, result, "Bayesian optimisation")


def _descend(losses, u, fixed, box):
    """``(point, loss)``: L-BFGS-B from ``u`` over the coordinates not ``fixed`` (a mask;
    those stay where ``u`` has them), inside ``box``."""
    from scipy.optimize import minimize

    free = np.flatnonzero(~fixed)
    if not free.size:
        return u, float(losses(u[None, :])[0])
    steps = 1e-6 * np.eye(len(u))[free]

    def loss_and_gradient(z):
        """The loss and its central-difference gradient from one batched prediction
        (scipy's own finite differences would call the surrogate once per coordinate)."""
        point = u.copy()
        point[free] = z
        values = losses(np.vstack([point, point + steps, point - steps]))
        return float(values[0]), (values[1 : free.size + 1] - values[free.size + 1 :]) / 2e-6

    lower, upper = box
    result = minimize(
        loss_and_gradient, u[free], jac=True, method="L-BFGS-B", bounds=list(zip(lower[free], upper[free]))
    )
    point = u.copy()
    point[free] = result.x
    return point, float(result.fun)


def _walk(losses, u, loss, space, box, inside, max_steps=20):
    """``(point, loss)`` after moving the integer and choice coordinates of ``u`` one lattice
    step at a time to the neighbour whose best continuous coordinates (:func:`_descend`) give
    the lowest loss, while that improves on ``loss``."""
    for _ in range(max_steps):
        neighbours = space.lattice_neighbours(u)
        neighbours = neighbours[inside(neighbours)]
        if not len(neighbours):
            break
        moves = [_descend(losses, n, space.integer, box) for n in neighbours]
        point, value = min(moves, key=lambda m: m[1])
        if value >= loss - 1e-12 * abs(loss):
            break
        u, loss = point, value
    return u, loss
