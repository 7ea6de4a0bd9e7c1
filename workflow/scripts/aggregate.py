"""Collect every fit's metrics into the experiment's tidy tables."""

from fitflow.aggregate import build_table, timings_table, write_table
from fitflow.archive import prune_empty_folders
from fitflow.artefacts import write_json
from fitflow.layout import TABLE_CSV
from fitflow.snakemake_job import job

with job(snakemake, TABLE_CSV) as (plan, root, log):
    table = build_table(snakemake.params.metrics)
    write_table(table, snakemake.output.csv, snakemake.output.parquet)
    compact = plan.store == "compact"  # the metrics files are then the chunk manifests
    if compact:  # every chunk has packed its folders: drop the empty tree they leave
        for tree in ("datasets", "fits"):
            prune_empty_folders(root / tree)
    manifests = snakemake.params.metrics if compact else ()
    write_table(timings_table(table, root, manifests), snakemake.output.timings)
    write_json(snakemake.output.experiment, plan.describe(snakemake.params.configfiles))
    log.write(f"{len(table)} fits, {int((table['status'] != 'ok').sum())} failed\n")
