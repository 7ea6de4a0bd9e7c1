"""Propose one round of a campaign: fitflow.run.campaign_jobs.propose_round."""

from fitflow.run.campaign_jobs import propose_round
from fitflow.run.layout import CAMPAIGN_PROPOSAL
from fitflow.run.snakemake_job import job

with job(snakemake, CAMPAIGN_PROPOSAL) as (plan, root, log):
    w = snakemake.wildcards
    propose_round(plan, root, w.campaign, w.method, int(w.round), log=log)
