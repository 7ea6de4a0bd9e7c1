"""Generate one batch of datasets: fitflow.jobs.generate_batch."""

from fitflow.jobs import generate_batch
from fitflow.snakemake_job import job

with job(snakemake) as (plan, log):
    w = snakemake.wildcards
    generate_batch(plan, snakemake.params.root, w.problem, w.psid, w.batch, log=log)
