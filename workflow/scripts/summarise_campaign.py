"""Summarise one optimiser's campaign: fitflow.run.campaign_jobs.summarise_campaign."""

from fitflow.run.campaign_jobs import summarise_campaign
from fitflow.run.layout import CAMPAIGN_SUMMARY
from fitflow.run.snakemake_job import job

with job(snakemake, CAMPAIGN_SUMMARY) as (plan, root, log):
    w = snakemake.wildcards
    summarise_campaign(plan, root, w.campaign, w.method, log=log)
