"""Render the experiment's HTML report from the aggregate tables."""

from fitflow.layout import REPORT_HTML
from fitflow.report import write_report
from fitflow.snakemake_job import job

with job(snakemake, REPORT_HTML) as (plan, root, log):
    write_report(root, snakemake.output.html, config=plan.config)
