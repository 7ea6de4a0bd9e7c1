"""Evaluate one proposed point of a campaign: fitflow.run.campaign_jobs.evaluate_point."""

from fitflow.core.isolation import supervised
from fitflow.run.campaign_jobs import evaluate_point
from fitflow.run.layout import CAMPAIGN_EVALUATION
from fitflow.run.snakemake_job import job

with job(snakemake, CAMPAIGN_EVALUATION) as (plan, root, log):
    w = snakemake.wildcards
    supervised(evaluate_point, plan, root, w.campaign, w.method, int(w.round), int(w.index), log=log)
