rule aggregate:
    input:
        work=aggregate_inputs(),
    output:
        csv=report(
            LAYOUT.table_csv, category="Tables", caption="../report/fits_table.rst"
        ),
        parquet=LAYOUT.table_parquet,
        timings=LAYOUT.timings_csv,
        experiment=LAYOUT.experiment_json,
    log:
        f"{ROOT}/logs/aggregate.log",
    conda:
        "../envs/fitflow.yaml"
    params:
        configfiles=[str(f) for f in workflow.configfiles],
        metrics=metrics_sources(),
    script:
        "../scripts/aggregate.py"
