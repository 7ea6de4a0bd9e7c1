rule aggregate:
    input:
        metrics=metrics_batch_files(),
    output:
        csv=LAYOUT.table_csv,
        parquet=LAYOUT.table_parquet,
        timings=LAYOUT.timings_csv,
    log:
        f"{ROOT}/logs/aggregate.log",
    conda:
        "../envs/fitflow.yaml"
    script:
        "../scripts/aggregate.py"
