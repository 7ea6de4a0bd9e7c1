"""Collect every fit's metrics into the experiment's tidy tables."""

from fitflow.aggregate import build_table, timings_table, write_table
from fitflow.snakemake_job import job

with job(snakemake) as (plan, log):
    table = build_table(snakemake.input.metrics)
    write_table(table, snakemake.output.csv, snakemake.output.parquet)
    write_table(timings_table(table, snakemake.params.root), snakemake.output.timings)
    log.write(f"{len(table)} fits, {int((table['status'] != 'ok').sum())} failed\n")
