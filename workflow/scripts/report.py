"""Render the experiment's HTML report (and its key figures) from the artefacts."""

from pathlib import Path

from fitflow.layout import REPORT_HTML
from fitflow.report import write_report
from fitflow.snakemake_job import job

with job(snakemake, REPORT_HTML) as (plan, root, log):
    write_report(root, snakemake.output.html, figures_dir=Path(snakemake.output.calibration).parent,
                 workers=snakemake.threads)
