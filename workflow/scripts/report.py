"""Render the experiment's HTML report from the aggregate tables."""

from fitflow.report import write_report
from fitflow.snakemake_job import job

with job(snakemake) as (plan, log):
    write_report(snakemake.params.root, snakemake.output.html, config=plan.config)
