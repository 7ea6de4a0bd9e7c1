"""Propose one round of a campaign: fitflow.campaign_jobs.propose_round."""

from fitflow.campaign_jobs import propose_round
from fitflow.layout import CAMPAIGN_PROPOSAL
from fitflow.snakemake_job import job

with job(snakemake, CAMPAIGN_PROPOSAL) as (plan, root, log):
    w = snakemake.wildcards
    propose_round(plan, root, w.campaign, w.method, int(w.round), log=log)
