# Config validation and the input functions shared by every rule.
import sys
from collections import Counter
from pathlib import Path

from snakemake.exceptions import WorkflowError

from fitflow.run.chunks import worker_count
from fitflow.run.config_file import validate_config
from fitflow.core.errors import FitflowError
from fitflow.run.experiment import batch_replicates, build_plan, n_batches
from fitflow.run import layout as paths
from fitflow.run.healing import heal
from fitflow.run.jobs import input_hashes
from fitflow.run.layout import Layout
from fitflow.core.registry import methods as method_registry
from fitflow.core.registry import problems as problem_registry
from fitflow.run.snakemake_job import cancel_pending_timers, file_digest, share_plan

CONFIG_SOURCE = ", ".join(map(str, workflow.configfiles)) or "<config>"
try:
    # The one schema (workflow/schemas/config.schema.yaml) and validator `fitflow plan` uses too.
    validate_config(config, CONFIG_SOURCE)
    PLAN = build_plan(
        config,
        source=CONFIG_SOURCE,
        # chunks: auto and chunk_workers: auto follow where the jobs run (a job submitted to a
        # cluster re-reads this file in remote mode) and the cores the run may use.
        on_cluster=workflow.non_local_exec or workflow.remote_exec,
        cores=workflow.resource_settings.cores,
    )
except FitflowError as error:
    raise WorkflowError(f"invalid fitflow config: {error}") from None
share_plan(PLAN, config)  # the jobs take it instead of validating the config again

for skipped in PLAN.skipped:
    print(
        f"fitflow: not fitting {skipped['problem']} with {skipped['method']}: {skipped['reason']}",
        file=sys.stderr,
    )


# Snakemake's last rate-limiter timer would hold the exit for up to a second.
onsuccess:
    cancel_pending_timers()


onerror:
    cancel_pending_timers()


def dry_run():
    """Whether this is a dry run (-n): Snakemake knows only once the DAG is built, so its
    command line is read."""
    flags = [a for a in sys.argv[1:] if a.startswith("-")]
    return workflow.dryrun or any(
        a in ("--dry-run", "--dryrun", "--dry_run")
        or (not a.startswith("--") and "n" in a[1:] and a[1:].isalpha())
        for a in flags
    )


ROOT = f"results/{PLAN.name}"
# slurm_partition / slurm_account for every remote job, when the config gives them.
CLUSTER_RESOURCES = config.get("cluster") or {}
LAYOUT = Layout(ROOT)

if not workflow.remote_exec:
    # A damaged or missing artefact is removed with its job's outputs and the report, so
    # this run rebuilds exactly that job and what follows it (fitflow.run.healing).
    heal(
        PLAN,
        ROOT,
        dry_run=dry_run(),
        say=lambda text: print(text, file=sys.stderr),
    )


wildcard_constraints:
    problem=r"[A-Za-z][A-Za-z0-9_]*",
    method=r"[A-Za-z][A-Za-z0-9_]*",
    psid=r"[^/]+",
    msid=r"[^/]+",
    batch=r"\d+",
    campaign=r"[A-Za-z][A-Za-z0-9_]*",
    round=r"\d+",
    index=r"\d+",
    run=r"[0-9a-f]{16}",
    chunk=r"\d+",


def dataset_batch_files():
    """Every dataset batch manifest of the experiment."""
    return [
        LAYOUT.dataset_batch(case.label, case.sid, b)
        for case in PLAN.problems
        for b in range(n_batches(PLAN.replicates, PLAN.batch_size))
    ]


def fit_batch_indices(method_label):
    return range(n_batches(PLAN.replicates, PLAN.method_batch_size(method_label)))


def metrics_batch_files():
    """Every metrics batch file (written by the fit jobs): the tables' inputs."""
    return [
        LAYOUT.metrics_batch(*pair.key, b)
        for pair in PLAN.pairs
        for b in fit_batch_indices(pair.method.label)
    ]


def replicates_of(wildcards, batch_size):
    return batch_replicates(PLAN.replicates, batch_size, wildcards.batch)


def problem_settings(wildcards):
    return PLAN.problem_case(wildcards.problem, wildcards.psid).settings


def problem_input_files(wildcards):
    """The files a problem reads its data from: editing one reruns its datasets and fits."""
    case = PLAN.problem_case(wildcards.problem, wildcards.psid)
    return case.instance(problem_registry()).input_files()


def problem_input_digests(wildcards):
    """The SHA-256 of each file a problem reads, as a param of its jobs: a file whose bytes
    changed reruns them even when its modification time does not say so (a file replaced
    while the run was writing the datasets, or copied with its old time)."""
    case = PLAN.problem_case(wildcards.problem, wildcards.psid)
    return input_digests(case)


def input_digests(case):
    return input_hashes(case.instance(problem_registry()), digest=file_digest)


def method_settings(wildcards):
    return PLAN.method_case(wildcards.method, wildcards.msid).settings


def fit_replicates(wildcards):
    return replicates_of(wildcards, PLAN.method_batch_size(wildcards.method))


def datasets_for_fit(wildcards):
    """The dataset batch manifests holding the replicates of one fit batch."""
    needed = {rep // PLAN.batch_size for rep in fit_replicates(wildcards)}
    return [
        LAYOUT.dataset_batch(wildcards.problem, wildcards.psid, b)
        for b in sorted(needed)
    ]


def method_resource_value(label, name):
    """Resource ``name`` of method ``label``: the method entry's override, else the plugin's hint."""
    entry = config["methods"][label] or {}
    override = (entry.get("resources") or {}).get(name)
    if override is not None:
        return override
    plugin = entry.get("plugin", label)
    return method_registry().get(plugin).resource_hints()[name]


def method_resource(name):
    """Input function: resource ``name`` of the method, config override first."""
    return lambda wildcards: method_resource_value(wildcards.method, name)


def chunk_resource(name):
    """Input function: resource ``name`` of a chunk job, from the methods it runs: the
    largest ``threads`` and ``mem_mb`` times its ``chunk_workers`` (each a process running
    units side by side); for ``runtime``, the sum over its units of their methods'
    runtimes (each a fit job's limit for one batch)."""

    def resource(wildcards):
        batches = Counter(case for case, _ in PLAN.chunk_units()[int(wildcards.chunk)])
        per_case = {
            case: [
                method_resource_value(pair.method.label, name)
                for pair in PLAN.pairs
                if pair.problem == case
            ]
            for case in batches
        }
        if name == "runtime":
            return max(1, sum(n * sum(per_case[case]) for case, n in batches.items()))
        largest = max((v for values in per_case.values() for v in values), default=1)
        return largest * worker_count(PLAN, sum(batches.values()))

    return resource


def campaign_summaries():
    """The summary of every optimiser of every campaign: the report's inputs."""
    return [LAYOUT.campaign_summary(*run.key) for run in PLAN.campaigns]


def campaign_run(wildcards):
    return PLAN.campaign_run(wildcards.campaign, wildcards.method)


def earlier_evaluations(wildcards):
    """Every evaluation of the rounds before this one."""
    run = campaign_run(wildcards)
    return [
        LAYOUT.evaluation(run.campaign, run.method.label, k, i)
        for k, i in run.evaluations()
        if k < int(wildcards.round)
    ]


def campaign_evaluations(wildcards):
    run = campaign_run(wildcards)
    return [
        LAYOUT.evaluation(run.campaign, run.method.label, k, i)
        for k, i in run.evaluations()
    ]


def proposal_params(wildcards):
    """What a round's proposal depends on. The budget is not among them: raising it
    appends rounds and keeps the earlier ones."""
    run = campaign_run(wildcards)
    settings = {k: v for k, v in run.method.settings.items() if k != "budget"}
    return {
        "seed": run.seed,
        "size": run.rounds[int(wildcards.round)],
        "method": settings,
        "problem": run.problem.settings,
    }


def evaluation_resource(name):
    return lambda wildcards: campaign_run(wildcards).resources[name]


def run_record_files(case):
    """The run records a simulation problem's datasets are assembled from (none for others)."""
    from fitflow.run.simulation_runs import has_runs, run_paths

    problem = case.instance(problem_registry())
    if not has_runs(problem):
        return []
    return [str(f) for f in run_paths(LAYOUT, case.label, problem).values()]


def simulation_run_files(wildcards):
    return run_record_files(PLAN.problem_case(wildcards.problem, wildcards.psid))


def run_input_files(wildcards):
    """The user's script or program behind a simulation run: editing it reruns the runs."""
    case = next(c for c in PLAN.problems if c.label == wildcards.problem)
    return case.instance(problem_registry()).input_files()


def run_resource(name):
    """Resource ``name`` of one simulation run: the problem entry's, else the plugin's hint."""

    def resource(wildcards):
        entry = config["problems"][wildcards.problem] or {}
        override = (entry.get("resources") or {}).get(name)
        if override is not None:
            return override
        plugin = entry.get("plugin", wildcards.problem)
        return problem_registry().get(plugin).resource_hints()[name]

    return resource


def table_inputs():
    """What the tables wait for: every metrics batch, or every chunk when work is chunked."""
    if PLAN.chunks:
        return [LAYOUT.chunk_manifest(i) for i in range(len(PLAN.chunk_units()))]
    return metrics_batch_files()


def metrics_sources():
    """Where the tables read each fit's metrics row: the fit jobs' metrics batch files,
    or the chunk manifests in the compact store (whose batch files are archived)."""
    if PLAN.store == "compact":
        return [str(f) for f in table_inputs()]
    return [str(f) for f in metrics_batch_files()]


def chunk_params(wildcards):
    """Everything a chunk's artefacts depend on: a change reruns the chunks it touches."""
    units = PLAN.chunk_units()[int(wildcards.chunk)]
    cases = {case for case, _ in units}
    return {
        "seed": PLAN.seed,
        "store": PLAN.store,
        "units": [
            [
                c.label,
                c.sid,
                c.settings,
                batch_replicates(PLAN.replicates, PLAN.batch_size, b),
            ]
            for c, b in units
        ],
        "methods": sorted(
            {(p.method.label, p.method.sid) for p in PLAN.pairs if p.problem in cases}
        ),
        "method_settings": [
            [p.method.label, p.method.settings]
            for p in PLAN.pairs
            if p.problem in cases
        ],
        "input_digests": [
            input_digests(c) for c in sorted(cases, key=lambda c: (c.label, c.sid))
        ],
    }


def chunk_input_files(wildcards):
    """The files a chunk's problems read, and the run records of its simulation problems
    (each run its own job, which must finish before the chunk assembles its datasets).
    """
    cases = {case for case, _ in PLAN.chunk_units()[int(wildcards.chunk)]}
    files = []
    for case in cases:
        files += [str(f) for f in case.instance(problem_registry()).input_files()]
        files += run_record_files(case)
    return sorted(set(files))
