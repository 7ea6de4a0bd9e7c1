"""From an experiment config to the list of datasets and fits it asks for.

:func:`build_plan` checks everything that needs the plugins (names, settings,
sweeps, explicit problem-method pairs) and expands sweeps into a grid. The
Snakemake rules and the Python API both work from the resulting
:class:`ExperimentPlan`, so a bad config fails here, before any job runs, with a
message naming the file, the key and the value.
"""

from dataclasses import dataclass, field
import os

from ..core.errors import ConfigError, FitflowError, IncompatiblePairError
from ..core.registry import methods as method_registry
from ..core.registry import problems as problem_registry
from .campaign_plan import plan_campaigns
from .cases import Case, construct, expand_entry, settings_id

__all__ = [
    "Case",
    "FitPair",
    "ExperimentPlan",
    "build_plan",
    "settings_id",
    "batches",
    "n_batches",
    "batch_replicates",
    "construct",
]

DEFAULT_BATCH_SIZE = 10


@dataclass(frozen=True)
class FitPair:
    """A problem case fitted by a method case."""

    problem: Case
    method: Case

    @property
    def key(self):
        return (self.problem.label, self.problem.sid, self.method.label, self.method.sid)


@dataclass
class ExperimentPlan:
    """Everything an experiment will generate and fit."""

    name: str
    seed: int
    replicates: int
    batch_size: int
    problems: list
    methods: list
    pairs: list
    config: dict = field(repr=False)
    plot_fits: object = True  # True, False or "all" (see _plot_fits)
    reuse_fits: bool = True
    skipped: list = field(default_factory=list)
    notes: dict = field(default_factory=dict)
    campaigns: list = field(default_factory=list)
    chunks: int = 0
    chunk_workers: int = 1
    store: str = "folders"

    def chunk_units(self):
        """The work of each chunk job (``chunks`` > 0): lists of ``(problem case, batch)``
        units, each unit generating one dataset batch and fitting and evaluating it with
        every method of that case. Units are dealt longest-first (by the summed runtime
        hints of their methods and their replicates) to the least-loaded chunk, so chunk
        costs balance whether the experiment has many cases or many replicates. Computed
        once per plan: the workflow asks for it per chunk and per input function."""
        cached = self.__dict__.get("_chunk_units")
        if cached is None:
            cached = self.__dict__["_chunk_units"] = self._deal_chunk_units()
        return cached

    def unit_cost(self, case, batch):
        """The expected cost of a chunk's ``(case, batch)`` unit: the runtime hints of the
        case's methods times the batch's replicates (a relative weight, not seconds)."""
        per_replicate = self.__dict__.get("_case_costs")
        if per_replicate is None:
            per_replicate = self.__dict__["_case_costs"] = {case: 0.0 for case in self.problems}
            for pair in self.pairs:
                per_replicate[pair.problem] += method_registry().get(pair.method.plugin).resource_hints()["runtime"]
        return per_replicate[case] * len(batch_replicates(self.replicates, self.batch_size, batch))

    def _deal_chunk_units(self):
        units = [
            (case, b, self.unit_cost(case, b))
            for case in self.problems
            for b in range(n_batches(self.replicates, self.batch_size))
        ]
        loads = [[0.0, i, []] for i in range(min(self.chunks, len(units)))]
        for case, b, unit_cost in sorted(units, key=lambda u: -u[2]):
            lightest = min(loads, key=lambda load: (load[0], load[1]))
            lightest[0] += unit_cost
            lightest[2].append((case, b))
        order = {case: i for i, case in enumerate(self.problems)}
        return [sorted(load[2], key=lambda unit: (order[unit[0]], unit[1])) for load in loads]

    def campaign_run(self, campaign, method):
        """The :class:`~fitflow.run.campaign_plan.CampaignRun` of ``method`` in ``campaign``."""
        for run in self.campaigns:
            if run.key == (campaign, method):
                return run
        raise KeyError(f"no campaign {campaign!r} with method {method!r} in this plan")

    def fit_timeout(self, label):
        """Wall-clock limit of one fit of method ``label`` in seconds: the method entry's
        ``fit_timeout_s``, else the config's, else the plugin's runtime hint."""
        entry = self.config["methods"][label] or {}
        value = entry.get("fit_timeout_s", self.config.get("fit_timeout_s"))
        if value is None:
            case = next(c for c in self.methods if c.label == label)
            value = 60 * method_registry().get(case.plugin).resource_hints()["runtime"]
        return float(value) or None

    def problem_case(self, label, sid):
        return _find(self.problems, label, sid)

    def method_case(self, label, sid):
        return _find(self.methods, label, sid)

    def method_batch_size(self, label):
        """Replicates per fit job of method ``label`` (with chunks, every method follows
        the datasets' batches: a chunk's unit is one dataset batch)."""
        if self.chunks:
            return self.batch_size
        entry = self.config["methods"][label] or {}
        return int(entry.get("batch_size", self.batch_size))

    @property
    def n_fits(self):
        return len(self.pairs) * self.replicates

    def describe(self, configfiles=()):
        """A JSON-able record of the plan: what the report and provenance need."""

        def case(c):
            return {"label": c.label, "plugin": c.plugin, "sid": c.sid, "swept": c.swept, "settings": c.settings}

        return {
            "experiment": self.name,
            "seed": self.seed,
            "replicates": self.replicates,
            "config": self.config,
            "configfiles": [_display_path(f) for f in configfiles],
            "problems": [case(c) for c in self.problems],
            "methods": [case(c) for c in self.methods],
            "pairs": [list(p.key) for p in self.pairs],
            "skipped": self.skipped,
            "notes": self.notes,
            "store": self.store,
            "campaigns": [
                {
                    "campaign": r.campaign,
                    "problem": case(r.problem),
                    "method": case(r.method),
                    "seed": r.seed,
                    "rounds": list(r.rounds),
                }
                for r in self.campaigns
            ],
        }


def _find(cases, label, sid):
    for case in cases:
        if case.label == label and case.sid == sid:
            return case
    raise KeyError((label, sid))


def _display_path(path):
    """``path`` relative to the working directory when it lies below it, else absolute."""
    import os

    relative = os.path.relpath(path)
    return str(path) if relative.startswith("..") else relative


def batches(n_replicates, batch_size):
    """Replicate indices split into consecutive batches: ``[[0..B-1], [B..2B-1], ...]``."""
    return [batch_replicates(n_replicates, batch_size, b) for b in range(n_batches(n_replicates, batch_size))]


def n_batches(n_replicates, batch_size):
    """How many batches ``batches`` makes, computed, not listed (the DAG asks once per job)."""
    return -(-n_replicates // batch_size)


def batch_replicates(n_replicates, batch_size, batch):
    """Replicate indices of batch number ``batch``, in constant time."""
    batch = int(batch)
    return list(range(batch * batch_size, min((batch + 1) * batch_size, n_replicates)))


def _check_problem_inputs(problem, case, source):
    """Read a problem's input files once, so a bad file stops the plan with its name."""
    for path in problem.input_files():
        special = sorted(set(str(path)) & set("{}<>"))
        if special:  # Snakemake reads {name} as a wildcard and <name> as a path variable
            raise ConfigError(
                f"the file name {str(path)!r} holds {' '.join(special)}, which Snakemake reads as a wildcard "
                "or a path variable in an input's name: rename the file",
                source=source,
                key=f"problems.{case.label}.settings",
                value=str(path),
            )
        if not os.path.isfile(path):
            raise ConfigError(
                f"data file {path!r} does not exist (paths are relative to the working directory {os.getcwd()})",
                source=source,
                key=f"problems.{case.label}.settings.file",
                value=path,
            )
    try:
        problem.check_inputs()
    except FitflowError as exc:
        raise ConfigError(str(exc), source=source, key=f"problems.{case.label}") from exc


def _probe_dataset(problem, case, seed):
    """One dataset of ``case`` (replicate-independent seed), for checking what methods need;
    ``None`` when the problem cannot generate one (its fits then fail, naming it, at run time),
    or when generating means running the user's simulation (never done to build a plan)."""
    from ..core.pipeline import generate
    from ..core.seeding import make_rng
    from .simulation_runs import has_runs

    if has_runs(problem):
        return None
    try:
        return generate(problem, make_rng(seed, ["probe", case.plugin, case.settings]))
    except Exception:
        return None


def _needs_probe(method_cls):
    from ..core.plugin import Method

    return bool(method_cls.requirements) or method_cls.can_fit is not Method.can_fit


#: The most fits one experiment plans: Snakemake's DAG, and the plan's own lists, grow with
#: them (a million fits plan in seconds; a billion replicates took minutes and gigabytes
#: before anything checked them).
MAX_FITS = 10_000_000


def build_plan(config, source="<config>", problem_registry_=None, method_registry_=None, on_cluster=False, cores=None):
    """Check ``config`` against the installed plugins and expand it into a plan, in steps:
    validate its structure (the schema, :func:`~fitflow.run.config_file.validate_config`),
    expand each entry's sweeps into cases (:func:`~fitflow.run.cases.expand_entry`), pair
    every problem case with the method cases that can fit it (:func:`_pair`), and check the
    plan's size.

    ``on_cluster`` (the executor submits jobs elsewhere) and ``cores`` (what the run may use)
    resolve ``chunks: auto`` and ``chunk_workers: auto``, the defaults (see ``_chunks``).
    From Python, ``experiment``, ``seed`` and ``replicates`` may be left out (``"default"``, 0, 1); the
    caller's mapping is not changed.
    """
    from .config_file import validate_config

    problems_reg = problem_registry_ or problem_registry()
    methods_reg = method_registry_ or method_registry()
    defaults = {"experiment": "default", "seed": 0, "replicates": 1}
    config = validate_config({**defaults, **config} if isinstance(config, dict) else config, source)
    seed, replicates = config["seed"], config.get("replicates", 1)
    if replicates > MAX_FITS:  # refused before anything is expanded per replicate
        raise ConfigError(
            f"{replicates:,} replicates is more than the {MAX_FITS:,} fits one run plans",
            source=source,
            key="replicates",
        )
    campaigns = plan_campaigns(config, source, problems_reg, methods_reg, seed)
    problem_entries, method_entries = config.get("problems") or {}, config.get("methods") or {}
    problem_cases = _expand(problem_entries, "problems", problems_reg, source)
    method_cases = _expand(method_entries, "methods", methods_reg, source)
    pairs, skipped, notes = [], [], {}
    for pcase in problem_cases:
        _pair(pcase, method_cases, method_entries, problems_reg, methods_reg, source, seed, pairs, skipped, notes)
    _check_size(pairs, skipped, replicates, campaigns, method_entries, source)
    store = _store(config, source)
    return ExperimentPlan(
        name=config["experiment"],
        seed=seed,
        replicates=replicates,
        batch_size=config["batch_size"],
        problems=problem_cases,
        methods=method_cases,
        pairs=pairs,
        config=config,
        plot_fits=_plot_fits(config, source),
        reuse_fits=bool(config.get("reuse_fits", True)),
        skipped=skipped,
        notes=notes,
        campaigns=campaigns,
        chunks=_chunks(config, source, store, method_cases, methods_reg, on_cluster),
        chunk_workers=_chunk_workers(config, source, on_cluster, cores),
        store=store,
    )


def _expand(entries, group, registry, source):
    """Every case of ``entries`` (label -> entry of ``group``), each sweep expanded into a grid."""
    return [case for label, entry in entries.items() for case in expand_entry(group, label, entry, registry, source)]


def _pair(pcase, method_cases, method_entries, problems_reg, methods_reg, source, seed, pairs, skipped, notes):
    """Append to ``pairs`` each method case that can fit the problem case ``pcase``, and to
    ``skipped`` each that cannot, with the reason; a pair the config asks for by name that
    cannot be fitted is an error. The problem's inputs are read once here."""
    try:
        problem = pcase.instance(problems_reg)
    except ConfigError as exc:
        raise ConfigError(exc.reason, source=source, key=pcase.key) from exc
    _check_problem_inputs(problem, pcase, source)
    said = [getattr(problem, "capability_note", ""), *getattr(problem, "assumptions", ())]
    why = "; ".join(filter(None, [*said, *getattr(problem, "model_warnings", ())]))
    if why:
        notes[f"{pcase.label}/{pcase.sid}"] = why
    requested = pcase.entry.get("methods")
    unknown = [m for m in requested or () if m not in method_entries]
    if unknown:
        raise ConfigError(
            f"method '{unknown[0]}' is not defined under 'methods'; defined: {', '.join(method_entries)}",
            source=source,
            key=f"problems.{pcase.label}.methods",
            value=unknown[0],
        )
    probe = []  # one dataset, drawn when the first method needs to look at the data

    def dataset():
        if not probe:
            probe.append(_probe_dataset(problem, pcase, seed))
        return probe[0]

    for mcase in method_cases:
        if requested is not None and mcase.label not in requested:
            continue
        reason = _why_not(problem, mcase, methods_reg, dataset, requested is not None, source, pcase)
        if reason:
            skipped.append(_skip(pcase, mcase, reason))
        else:
            pairs.append(FitPair(pcase, mcase))


def _why_not(problem, mcase, methods_reg, dataset, requested, source, pcase):
    """Why the method case ``mcase`` cannot fit ``problem`` (``None``: it can): its modules are
    missing, it serves none of the problem's capabilities (an error when ``requested``), or it
    refuses the data (``dataset()``, a probe of the problem's data)."""
    method_cls = methods_reg.get(mcase.plugin)
    missing = method_cls.unavailable()
    if missing:
        return f"{method_cls.label()} {missing}"
    if not method_cls.serves(problem.capabilities):
        why = getattr(problem, "capability_note", "")
        if requested:
            error = IncompatiblePairError(pcase.label, mcase.label, problem.capabilities, method_cls.capabilities)
            raise ConfigError(
                str(error) + (f" ({why})" if why else ""),
                source=source,
                key=f"problems.{pcase.label}.methods",
                value=mcase.label,
            ) from error
        return (
            f"the method serves {sorted(method_cls.capabilities)} but the problem is "
            f"{sorted(problem.capabilities)}" + (f" ({why})" if why else "")
        )
    if _needs_probe(method_cls):
        probe = dataset()
        reason = probe and mcase.instance(methods_reg).can_fit(probe)
        if reason:
            return f"{method_cls.label()} {reason}"
    return None


def _check_size(pairs, skipped, replicates, campaigns, method_entries, source):
    """Refuse a plan of more than :data:`MAX_FITS` fits, or one with nothing to do."""
    if len(pairs) * replicates > MAX_FITS:
        raise ConfigError(
            f"asks for {len(pairs) * replicates:,} fits ({len(pairs):,} (problem, method) pairs x {replicates:,} "
            f"replicates), more than the {MAX_FITS:,} one run plans: split the sweep into several experiments",
            source=source,
            key="replicates",
        )
    if not pairs and not campaigns:
        reasons = "; ".join(f"{s['problem']} x {s['method']}: {s['reason']}" for s in skipped[:5])
        raise ConfigError(
            f"no method can fit any problem, so there is nothing to fit ({reasons})",
            source=source,
            key="methods",
            value=list(method_entries),
        )


def _plot_fits(config, source):
    """True: ``fit.png`` and the method's diagnostic figures for replicate 0 of each case
    (the one the report shows); "all": for every replicate; False: none. Any fit's figure
    can be drawn later with ``fitflow show RESULTS FIT --figure out.png``."""
    return config.get("plot_fits", True)  # one of the schema's


#: Chunks of a compact store when the config sets none: enough to keep a few cores busy
#: while the LPT deal balances them, few enough to stay a handful of files.
DEFAULT_COMPACT_CHUNKS = 8


def _store(config, source):
    return config.get("store", "folders")  # one of the schema's


#: Under ``chunks: auto``, a method whose runtime hint (minutes for one batch) exceeds this
#: gets a job per batch: its fits are long enough that starting Python is noise, and a
#: scheduler can spread them.
AUTO_LONG_RUNTIME = 60


def _chunks(config, source, store, method_cases, methods_reg, on_cluster):
    """The job layout: ``chunks`` as set, or, for ``auto`` (the default), one chunk job for a
    local run of cheap fits and a job per batch (0) on a cluster or when a method declares a
    long runtime. A compact store always chunks (:data:`DEFAULT_COMPACT_CHUNKS` unless set)."""
    chunks = config.get("chunks", "auto")
    if chunks == "auto":
        if store == "compact":
            return DEFAULT_COMPACT_CHUNKS
        return 0 if on_cluster or _longest_runtime(method_cases, methods_reg) > AUTO_LONG_RUNTIME else 1
    if store == "compact" and chunks == 0:
        raise ConfigError(
            "store: compact packs each chunk's fits into one archive, so it needs chunks >= 1",
            source=source,
            key="chunks",
            value=chunks,
        )
    return chunks


def _longest_runtime(method_cases, methods_reg):
    """The largest runtime hint (minutes) of the methods, the config's override first."""
    longest = 0
    for case in method_cases:
        override = ((case.entry or {}).get("resources") or {}).get("runtime")
        hint = override if override is not None else methods_reg.get(case.plugin).resource_hints()["runtime"]
        longest = max(longest, hint)
    return longest


def _chunk_workers(config, source, on_cluster, cores):
    """Worker processes per chunk job: as set, or, for ``auto`` (the default), one per core
    the local run may use (``cores``, else the machine's), and 1 on a cluster, where a chunk
    job's cores are what it asks the scheduler for."""
    workers = config.get("chunk_workers", "auto")
    if workers == "auto":
        machine = os.cpu_count() or 1
        return 1 if on_cluster else max(1, min(int(cores or machine), machine))
    return workers  # a whole number >= 1 (the schema's)


def _skip(pcase, mcase, reason):
    return {
        "problem": pcase.label,
        "problem_settings": pcase.sid,
        "method": mcase.label,
        "method_settings": mcase.sid,
        "reason": reason,
    }
