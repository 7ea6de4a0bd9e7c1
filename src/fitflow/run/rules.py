"""What the workflow's rules read from the plan: input files, params and resources.

The Snakefile builds one :class:`~fitflow.run.experiment.Plan` (:func:`plan_for_workflow`),
heals the results folder (:func:`fitflow.run.healing.heal_before_dag`), and then every rule
reads its inputs, params and resources from one :class:`RuleInputs`: each method taking
``wildcards`` is a Snakemake input function. The rules files only wire them to the scripts,
as in the Snakemake workflow catalog's template; the logic lives here, where it is tested
and documented like the rest of the package.
"""

from collections import Counter
import sys

from ..core.registry import methods as method_registry
from ..core.registry import problems as problem_registry
from .chunks import worker_count
from .config_file import validate_config
from .experiment import batch_replicates, build_plan, n_batches
from .jobs import input_hashes
from .snakemake_job import file_digest, share_plan

__all__ = ["plan_for_workflow", "RuleInputs"]


def plan_for_workflow(config, source, on_cluster, cores, say=None):
    """The plan of ``config`` (read from ``source``), checked against the schema and the
    installed plugins as ``fitflow plan`` checks it, and left for the jobs to read
    (:func:`~fitflow.run.snakemake_job.share_plan`). ``chunks: auto`` and ``chunk_workers:
    auto`` follow where the jobs run (``on_cluster``) and the ``cores`` the run may use.
    Each pair the plan leaves out is said, with the reason. Raises FitflowError."""
    say = say or (lambda text: print(text, file=sys.stderr))
    validate_config(config, source)
    plan = build_plan(config, source=source, on_cluster=on_cluster, cores=cores)
    share_plan(plan, config)  # the jobs take it instead of validating the config again
    for skipped in plan.skipped:
        say(f"fitflow: not fitting {skipped['problem']} with {skipped['method']}: {skipped['reason']}")
    return plan


class RuleInputs:
    """The input functions, params and resources of every rule, read from one plan.

    ``plan`` is the experiment's plan, ``config`` the config it was built from (its
    ``resources`` overrides), ``layout`` where the artefacts go."""

    def __init__(self, plan, config, layout):
        self.plan = plan
        self.config = config
        self.layout = layout

    # -- generate and fit ------------------------------------------------------------------

    def dataset_batch_files(self):
        """Every dataset batch manifest of the experiment."""
        plan = self.plan
        return [
            self.layout.dataset_batch(case.label, case.sid, b)
            for case in plan.problems
            for b in range(n_batches(plan.replicates, plan.batch_size))
        ]

    def fit_batch_indices(self, method_label):
        return range(n_batches(self.plan.replicates, self.plan.method_batch_size(method_label)))

    def metrics_batch_files(self):
        """Every metrics batch file (written by the fit jobs): the tables' inputs."""
        return [
            self.layout.metrics_batch(*pair.key, b)
            for pair in self.plan.pairs
            for b in self.fit_batch_indices(pair.method.label)
        ]

    def dataset_replicates(self, wildcards):
        """The replicates of one dataset batch."""
        return batch_replicates(self.plan.replicates, self.plan.batch_size, wildcards.batch)

    def problem_settings(self, wildcards):
        return self.plan.problem_case(wildcards.problem, wildcards.psid).settings

    def problem_input_files(self, wildcards):
        """The files a problem reads its data from: editing one reruns its datasets and fits."""
        case = self.plan.problem_case(wildcards.problem, wildcards.psid)
        return case.instance(problem_registry()).input_files()

    def problem_input_digests(self, wildcards):
        """The SHA-256 of each file a problem reads, as a param of its jobs: a file whose bytes
        changed reruns them even when its modification time does not say so (a file replaced
        while the run was writing the datasets, or copied with its old time)."""
        return self._input_digests(self.plan.problem_case(wildcards.problem, wildcards.psid))

    def _input_digests(self, case):
        return input_hashes(case.instance(problem_registry()), digest=file_digest)

    def method_settings(self, wildcards):
        return self.plan.method_case(wildcards.method, wildcards.msid).settings

    def fit_replicates(self, wildcards):
        """The replicates of one fit batch (the method's own batch size)."""
        return batch_replicates(self.plan.replicates, self.plan.method_batch_size(wildcards.method), wildcards.batch)

    def datasets_for_fit(self, wildcards):
        """The dataset batch manifests holding the replicates of one fit batch."""
        needed = {rep // self.plan.batch_size for rep in self.fit_replicates(wildcards)}
        return [self.layout.dataset_batch(wildcards.problem, wildcards.psid, b) for b in sorted(needed)]

    def method_resource_value(self, label, name):
        """Resource ``name`` of method ``label``: the method entry's override, else the plugin's hint."""
        return self._resource(method_registry(), "methods", label, name)

    def _resource(self, registry, group, label, name):
        """Resource ``name`` of the entry ``label`` of ``group``: its own ``resources``, else its
        plugin's hint."""
        entry = self.config[group][label] or {}
        override = (entry.get("resources") or {}).get(name)
        if override is not None:
            return override
        return registry.get(entry.get("plugin", label)).resource_hints()[name]

    def method_resource(self, name):
        """Input function: resource ``name`` of the method, config override first."""
        return lambda wildcards: self.method_resource_value(wildcards.method, name)

    # -- chunks ----------------------------------------------------------------------------

    def chunk_resource(self, name):
        """Input function: resource ``name`` of a chunk job, from the methods it runs: the
        largest ``threads`` and ``mem_mb`` times its ``chunk_workers`` (each a process running
        units side by side); for ``runtime``, the sum over its units of their methods'
        runtimes (each a fit job's limit for one batch)."""
        plan = self.plan

        def resource(wildcards):
            batches = Counter(case for case, _ in plan.chunk_units()[int(wildcards.chunk)])
            per_case = {
                case: [self.method_resource_value(p.method.label, name) for p in plan.pairs if p.problem == case]
                for case in batches
            }
            if name == "runtime":
                return max(1, sum(n * sum(per_case[case]) for case, n in batches.items()))
            largest = max((v for values in per_case.values() for v in values), default=1)
            return largest * worker_count(plan, sum(batches.values()))

        return resource

    def chunk_params(self, wildcards):
        """Everything a chunk's artefacts depend on: a change reruns the chunks it touches."""
        plan = self.plan
        units = plan.chunk_units()[int(wildcards.chunk)]
        cases = {case for case, _ in units}
        pairs = [p for p in plan.pairs if p.problem in cases]
        return {
            "seed": plan.seed,
            "store": plan.store,
            "units": [
                [c.label, c.sid, c.settings, batch_replicates(plan.replicates, plan.batch_size, b)] for c, b in units
            ],
            "methods": sorted({(p.method.label, p.method.sid) for p in pairs}),
            "method_settings": [[p.method.label, p.method.settings] for p in pairs],
            "input_digests": [self._input_digests(c) for c in sorted(cases, key=lambda c: (c.label, c.sid))],
        }

    def chunk_input_files(self, wildcards):
        """The files a chunk's problems read, and the run records of its simulation problems
        (each run its own job, which must finish before the chunk assembles its datasets)."""
        files = []
        for case in {case for case, _ in self.plan.chunk_units()[int(wildcards.chunk)]}:
            files += [str(f) for f in case.instance(problem_registry()).input_files()]
            files += self._run_record_files(case)
        return sorted(set(files))

    # -- simulation runs -------------------------------------------------------------------

    def _run_record_files(self, case):
        """The run records a simulation problem's datasets are assembled from (none for others)."""
        from .simulation_runs import has_runs, run_paths

        problem = case.instance(problem_registry())
        if not has_runs(problem):
            return []
        return [str(f) for f in run_paths(self.layout, case.label, problem).values()]

    def simulation_run_files(self, wildcards):
        return self._run_record_files(self.plan.problem_case(wildcards.problem, wildcards.psid))

    def run_input_files(self, wildcards):
        """The user's script or program behind a simulation run: editing it reruns the runs."""
        case = next(c for c in self.plan.problems if c.label == wildcards.problem)
        return case.instance(problem_registry()).input_files()

    def run_resource(self, name):
        """Resource ``name`` of one simulation run: the problem entry's, else the plugin's hint."""

        return lambda wildcards: self._resource(problem_registry(), "problems", wildcards.problem, name)

    # -- campaigns -------------------------------------------------------------------------

    def campaign_summaries(self):
        """The summary of every optimiser of every campaign: the report's inputs."""
        return [self.layout.campaign_summary(*run.key) for run in self.plan.campaigns]

    def campaign_run(self, wildcards):
        return self.plan.campaign_run(wildcards.campaign, wildcards.method)

    def earlier_evaluations(self, wildcards):
        """Every evaluation of the rounds before this one."""
        run = self.campaign_run(wildcards)
        return [
            self.layout.evaluation(run.campaign, run.method.label, k, i)
            for k, i in run.evaluations()
            if k < int(wildcards.round)
        ]

    def campaign_evaluations(self, wildcards):
        run = self.campaign_run(wildcards)
        return [self.layout.evaluation(run.campaign, run.method.label, k, i) for k, i in run.evaluations()]

    def proposal_params(self, wildcards):
        """What a round's proposal depends on. The budget is not among them: raising it
        appends rounds and keeps the earlier ones."""
        run = self.campaign_run(wildcards)
        return {
            "seed": run.seed,
            "size": run.rounds[int(wildcards.round)],
            "method": {k: v for k, v in run.method.settings.items() if k != "budget"},
            "problem": run.problem.settings,
        }

    def evaluation_problem_settings(self, wildcards):
        return self.campaign_run(wildcards).problem.settings

    def evaluation_resource(self, name):
        return lambda wildcards: self.campaign_run(wildcards).resources[name]

    # -- tables and report -----------------------------------------------------------------

    def table_inputs(self):
        """What the tables wait for: every metrics batch, or every chunk when work is chunked."""
        if self.plan.chunks:
            return [self.layout.chunk_manifest(i) for i in range(len(self.plan.chunk_units()))]
        return self.metrics_batch_files()

    def metrics_sources(self):
        """Where the tables read each fit's metrics row: the fit jobs' metrics batch files,
        or the chunk manifests in the compact store (whose batch files are archived)."""
        if self.plan.store == "compact":
            return [str(f) for f in self.table_inputs()]
        return [str(f) for f in self.metrics_batch_files()]
