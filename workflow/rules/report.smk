rule report:
    input:
        table=LAYOUT.table_csv,
        timings=LAYOUT.timings_csv,
        experiment=LAYOUT.experiment_json,
        campaigns=campaign_summaries(),
    output:
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
    script:
        "../scripts/report.py"
