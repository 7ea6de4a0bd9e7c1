# The plan, the healing step and the rules' inputs: the logic is fitflow.run's
# (fitflow.run.rules, fitflow.run.healing); this file only wires it into Snakemake.
import sys
from pathlib import Path

from snakemake.exceptions import WorkflowError

from fitflow.core.errors import FitflowError
from fitflow.run import layout as paths
from fitflow.run.healing import heal_before_dag, is_dry_run
from fitflow.run.layout import Layout
from fitflow.run.rules import RuleInputs, plan_for_workflow
from fitflow.run.snakemake_job import cancel_pending_timers

try:
    # The one schema (workflow/schemas/config.schema.yaml) and validator `fitflow plan` uses too.
    PLAN = plan_for_workflow(
        config,
        source=", ".join(map(str, workflow.configfiles)) or "<config>",
        on_cluster=workflow.non_local_exec or workflow.remote_exec,
        cores=workflow.resource_settings.cores,
    )
except FitflowError as error:
    raise WorkflowError(f"invalid fitflow config: {error}") from None

ROOT = f"results/{PLAN.name}"
LAYOUT = Layout(ROOT)
RULES = RuleInputs(PLAN, config, LAYOUT)
# slurm_partition / slurm_account for every remote job, when the config gives them.
CLUSTER_RESOURCES = config.get("cluster") or {}

# Step 1, before the DAG: a damaged or missing artefact is removed with its job's outputs
# and the report, so that this run rebuilds exactly that job and what follows it
# (`fitflow heal CONFIG` runs this step alone; docs/guide/reproducibility.md).
if not workflow.remote_exec:
    heal_before_dag(
        PLAN,
        ROOT,
        dry_run=is_dry_run(workflow, sys.argv),
        say=lambda text: print(text, file=sys.stderr),
    )


# Snakemake's last rate-limiter timer would hold the exit for up to a second.
onsuccess:
    cancel_pending_timers()


onerror:
    cancel_pending_timers()


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
