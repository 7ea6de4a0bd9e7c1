"""Generate one batch of datasets: fitflow.run.jobs.generate_batch."""

from fitflow.core.isolation import supervised
from fitflow.run.jobs import generate_batch
from fitflow.run.layout import DATASET_BATCH
from fitflow.run.snakemake_job import job

with job(snakemake, DATASET_BATCH) as (plan, root, log):
    w = snakemake.wildcards
    supervised(generate_batch, plan, root, w.problem, w.psid, w.batch, log=log)
