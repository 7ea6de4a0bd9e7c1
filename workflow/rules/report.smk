rule report:
    input:
        table=LAYOUT.table_csv,
        timings=LAYOUT.timings_csv,
    output:
        html=LAYOUT.report_html,
    log:
        f"{ROOT}/logs/report.log",
    conda:
        "../envs/fitflow.yaml"
    script:
        "../scripts/report.py"
