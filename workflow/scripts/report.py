"""Collect every fit's metrics into the experiment's tidy tables, then render its HTML
report (and key figures) from the artefacts."""

from pathlib import Path

from fitflow.core.artefacts import write_json
from fitflow.run.aggregate import write_experiment_tables
from fitflow.run.healing import REPORT_RECORD, written_record
from fitflow.run.layout import TABLE_CSV
from fitflow.run.snakemake_job import job

with job(snakemake, TABLE_CSV) as (plan, root, log):
    from fitflow.report import write_report
    from fitflow.run.layout import Layout

    table = write_experiment_tables(plan, Layout(root), snakemake.params.metrics, snakemake.params.configfiles)
    log.write(f"{len(table)} fits, {int((table['status'] != 'ok').sum())} failed\n")
    write_report(
        root, snakemake.output.html, figures_dir=Path(snakemake.output.calibration).parent, workers=snakemake.threads
    )
    # What the next run checks these outputs against (see fitflow.run.healing).
    written = written_record(root, [Path(p) for p in snakemake.output])
    write_json(Path(root) / REPORT_RECORD, {"written": written})
