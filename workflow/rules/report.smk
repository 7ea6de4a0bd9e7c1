# The tables and the report in one job: both run once, after every fit, and the report
# reads the tables, so a second job would only add a process start-up (and the plan's
# rebuilding) to the serial tail of every run.
rule report:
    input:
        work=RULES.table_inputs(),
        campaigns=RULES.campaign_summaries(),
    output:
        csv=report(
            LAYOUT.table_csv, category="Tables", caption="../report/fits_table.rst"
        ),
        parquet=LAYOUT.table_parquet,
        timings=LAYOUT.timings_csv,
        experiment=LAYOUT.experiment_json,
        html=report(
            LAYOUT.report_html, category="Report", caption="../report/report.rst"
        ),
        calibration=report(
            f"{ROOT}/figures/calibration.png",
            category="Calibration",
            caption="../report/calibration.rst",
        ),
        cost=report(
            f"{ROOT}/figures/cost_accuracy.png",
            category="Cost vs accuracy",
            caption="../report/cost_accuracy.rst",
        ),
    log:
        f"{ROOT}/logs/report.log",
    conda:
        "../envs/fitflow.yaml"
    threads: 4  # processes drawing the cases' figures (Snakemake caps it at --cores)
    params:
        configfiles=[str(f) for f in workflow.configfiles],
        metrics=RULES.metrics_sources(),
    script:
        "../scripts/report.py"
