"""Collect every fit's metrics into the experiment's tidy tables."""

from fitflow.aggregate import build_table, timings_table, write_table
from fitflow.artefacts import write_json
from fitflow.layout import TABLE_CSV
from fitflow.snakemake_job import job

with job(snakemake, TABLE_CSV) as (plan, root, log):
    table = build_table(snakemake.params.metrics)
    write_table(table, snakemake.output.csv, snakemake.output.parquet)
    write_table(timings_table(table, root), snakemake.output.timings)
    write_json(snakemake.output.experiment, plan.describe(snakemake.params.configfiles))
    log.write(f"{len(table)} fits, {int((table['status'] != 'ok').sum())} failed\n")
