"""Summarise one optimiser's campaign: fitflow.campaign_jobs.summarise_campaign."""

from fitflow.campaign_jobs import summarise_campaign
from fitflow.layout import CAMPAIGN_SUMMARY
from fitflow.snakemake_job import job

with job(snakemake, CAMPAIGN_SUMMARY) as (plan, root, log):
    w = snakemake.wildcards
    summarise_campaign(plan, root, w.campaign, w.method, log=log)
