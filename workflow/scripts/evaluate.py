"""Evaluate one batch of fits against the truth: fitflow.jobs.evaluate_batch."""

from fitflow.jobs import evaluate_batch
from fitflow.layout import METRICS_BATCH
from fitflow.snakemake_job import job

with job(snakemake, METRICS_BATCH) as (plan, root, log):
    w = snakemake.wildcards
    key = (w.problem, w.psid, w.method, w.msid)
    evaluate_batch(plan, root, key, w.batch, log=log)
