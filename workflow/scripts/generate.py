"""Generate one batch of datasets: fitflow.jobs.generate_batch."""

from fitflow.jobs import generate_batch
from fitflow.layout import DATASET_BATCH
from fitflow.snakemake_job import job

with job(snakemake, DATASET_BATCH) as (plan, root, log):
    w = snakemake.wildcards
    generate_batch(plan, root, w.problem, w.psid, w.batch, log=log)
