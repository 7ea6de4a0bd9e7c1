"""The plugin contract: one small base class for problems and one for methods.

Like a scikit-learn estimator, a plugin is a class with declared metadata and
keyword settings; constructing it validates the settings, and it does one job:

* a :class:`Problem` turns a random generator into a :class:`~fitflow.core.dataset.Dataset`
  (``generate``) and, if parametric, describes its model (``model``);
* a :class:`Method` turns a dataset and a random generator into a
  :class:`~fitflow.core.result.FitResult` (``fit``).

Plugins never read global random state and never touch files: the workflow
derives their seeds and writes their artefacts. Heavy libraries are imported
inside ``fit``/``generate``, so listing plugins and building the DAG stay fast.
"""

from types import MappingProxyType

import numpy as np

from .settings import validate_settings

__all__ = ["Plugin", "Problem", "Method", "DEFAULT_RESOURCES", "KNOWN_CAPABILITIES", "REQUIREMENTS"]

#: Resource hints used where a plugin declares none: threads, memory in MB,
#: runtime in minutes per job. The workflow passes them to Snakemake ``resources:``.
DEFAULT_RESOURCES = MappingProxyType({"threads": 1, "mem_mb": 1000, "runtime": 10})

#: The problem kinds the built-in plugins use. Third-party plugins may add kinds
#: of their own; a method serves a problem when they share at least one kind.
KNOWN_CAPABILITIES = frozenset({"linear", "parametric", "regression", "deconvolution", "black_box"})


class Plugin:
    """Shared behaviour of problem and method plugins.

    Subclasses set these class attributes:

    ``name``
        Registry name (a Python identifier), as used in configs.
    ``version``
        Version string of the plugin's algorithm; part of every provenance record.
    ``description``
        One line for ``fitflow plugins``.
    ``settings``
        Mapping of setting name to :class:`~fitflow.core.settings.Setting`.
    ``capabilities``
        For a problem, the kinds it is (``{"linear", "parametric"}``); for a
        method, the kinds it serves.
    ``resources``
        Hints ``{"threads", "mem_mb", "runtime"}`` for one job.
    ``fast_settings``
        Settings that make a quick but representative run, used by the
        conformance checks and tiny test experiments.
    ``requires_modules``
        Module names (a tuple of strings) the plugin imports lazily inside
        ``fit``/``generate``. The workflow imports them before timing a fit, so a
        fit's wall time never includes import time, and a missing one is
        reported with its name.
    ``extra``
        The optional-dependency group of fitflow that installs ``requires_modules``
        (``"jax"``: ``pip install 'fitflow[jax]'``); without them the plugin is listed
        as unavailable, with that line, and the plan skips it.
    ``expected_failures``
        ``{check_name: reason}`` for conformance checks known to fail, reported
        as XFAIL with the reason by ``fitflow check`` and ``parametrize_with_checks``.
    """

    group = None
    name = None
    version = "0"
    description = ""
    settings = {}
    capabilities = frozenset()
    resources = DEFAULT_RESOURCES
    fast_settings = {}
    requires_modules = ()
    extra = None
    expected_failures = {}

    def __init__(self, **settings):
        resolved = validate_settings(self.label(), self.settings, settings)
        self.values = MappingProxyType(resolved)
        self.check_settings()

    def check_settings(self):
        """Override to check constraints between settings; raise SettingsError."""

    @classmethod
    def label(cls):
        kind = "problem" if cls.group == Problem.group else "method"
        return f"{kind} '{cls.name}'"

    @classmethod
    def resource_hints(cls):
        """Declared resource hints completed with the defaults."""
        return {**DEFAULT_RESOURCES, **dict(cls.resources)}

    @classmethod
    def unavailable(cls):
        """Why the plugin cannot run here (a module of ``requires_modules`` is not
        installed), with the line that installs it; ``None`` when it can. Nothing is imported."""
        import importlib.util

        missing = [m for m in cls.requires_modules if importlib.util.find_spec(m.split(".")[0]) is None]
        if not missing:
            return None
        install = f"pip install 'fitflow[{cls.extra}]'" if cls.extra else f"pip install {' '.join(missing)}"
        return f"needs {', '.join(missing)}, which {'is' if len(missing) == 1 else 'are'} not installed: {install}"

    @classmethod
    def import_requirements(cls):
        """Import ``requires_modules`` now; a missing one raises PluginLoadError naming it."""
        import importlib

        for module in cls.requires_modules:
            try:
                importlib.import_module(module)
            except ImportError as exc:
                from .errors import PluginLoadError

                raise PluginLoadError(cls.group, cls.name, "?", exc) from exc

    def get_settings(self):
        """Every setting's resolved value, as a new dict (round-trips through ``__init__``)."""
        return dict(self.values)

    def __repr__(self):
        changed = {k: v for k, v in self.values.items() if v != self.settings[k].default}
        args = ", ".join(f"{k}={v!r}" for k, v in changed.items())
        return f"{type(self).__name__}({args})"


class Problem(Plugin):
    """Base class of data-generating problems (entry-point group ``fitflow.problems``).

    Set ``deterministic = True`` for a problem whose data do not depend on the
    random generator (a fixed benchmark function, a file of measurements).

    ``capabilities`` on the class lists every kind the problem can be; an
    instance may narrow it from its settings (a table of measurements is
    ``parametric`` only when a model is given). Pairing uses the instance's.
    """

    group = "fitflow.problems"
    deterministic = False

    def generate(self, rng):
        """Draw one dataset using only ``rng`` (a ``numpy.random.Generator``)."""
        raise NotImplementedError

    def model(self, dataset):
        """The parametric model for ``dataset``, or ``None`` for a non-parametric problem."""
        return None

    def input_files(self):
        """Paths of files the data are read from (none for a synthetic problem).

        The workflow makes them inputs of the generate rule, so editing one reruns
        exactly the datasets and fits that use it, and records their SHA-256.
        """
        return []

    def check_inputs(self):
        """Check the input files against the settings once, when the plan is built.

        Override to read the data and raise a FitflowError naming the file, column
        and value at fault, so a bad file stops the experiment before any job runs.
        """

    def objective(self, dataset):
        """A black-box :class:`~fitflow.inputs.objective.Objective` for ``dataset``, or ``None``.

        Called once per fit, so the objective's evaluation counter starts at zero.
        """
        return None

    def extra_metrics(self, dataset, result):
        """Metrics only this problem can score (``{name: number}``), beside the uniform
        ones of :func:`fitflow.evaluation.evaluate.evaluate`: a learned closure's error
        against the reference closure, say. Called for ``ok`` fits only. A metric named
        ``*_error`` (lower is better) also gets a column in the report's leaderboard."""
        return {}


def _needs_finite_bounds(dataset):
    objective = dataset.objective if "black_box" in dataset.capabilities else None
    if objective is not None:
        lower, upper = objective.bounds
        names = objective.names
    elif dataset.model is not None:
        lower, upper = dataset.model.bounds
        names = dataset.model.param_names
    else:
        return "needs a parametric model or an objective with bounds"
    open_ = [n for n, lo, hi in zip(names, lower, upper) if not (np.isfinite(lo) and np.isfinite(hi))]
    return (
        f"needs finite bounds on every parameter; {', '.join(open_)} {'has' if len(open_) == 1 else 'have'} "
        f"none (give 'lower' and 'upper')"
        if open_
        else None
    )


def _needs_known_errors(dataset):
    return None if dataset.sigma is not None else "needs known per-point errors (a 'sigma' column)"


def _needs_distinct_x(dataset):
    x = dataset.x.reshape(dataset.n_points, -1)
    _, first, counts = np.unique(x, axis=0, return_index=True, return_counts=True)
    if np.any(counts > 1):
        repeated = x[first[np.argmax(counts > 1)]]
        return f"needs distinct x values; the data repeat {repeated.tolist()} (average the repeats)"
    return None


#: What a method may declare in ``requirements``: name -> check giving a reason or None.
REQUIREMENTS = MappingProxyType(
    {
        "finite_bounds": _needs_finite_bounds,
        "known_errors": _needs_known_errors,
        "distinct_x": _needs_distinct_x,
    }
)


class Method(Plugin):
    """Base class of fitting methods (entry-point group ``fitflow.methods``).

    ``requirements`` names what the method needs beyond a capability, from
    :data:`REQUIREMENTS` (``"finite_bounds"``, ``"known_errors"``,
    ``"distinct_x"``); override :meth:`can_fit` for anything else (a maximum
    size, say). The plan skips a pair whose dataset fails them, with the
    reason, and so do the conformance checks.
    """

    group = "fitflow.methods"
    requirements = frozenset()

    @classmethod
    def serves(cls, problem_capabilities):
        """True when this method can fit a problem of the given kinds."""
        return bool(frozenset(cls.capabilities) & frozenset(problem_capabilities))

    def can_fit(self, dataset):
        """Why this method cannot fit ``dataset`` (a sentence), or ``None`` when it can."""
        for requirement in sorted(self.requirements):
            reason = REQUIREMENTS[requirement](dataset)
            if reason:
                return reason
        return None

    def fit(self, dataset, rng):
        """Fit ``dataset``, drawing any randomness from ``rng``; return a FitResult."""
        raise NotImplementedError

    def figures(self, dataset, result):
        """Method-specific diagnostic figures ``{name: matplotlib Figure}`` for one fit.

        Saved as ``fig-<name>.png`` beside the fit's artefacts. Import matplotlib
        inside this method; the default draws nothing.
        """
        return {}
