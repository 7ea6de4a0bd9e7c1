rule report:
    input:
        table=LAYOUT.table_csv,
        timings=LAYOUT.timings_csv,
    output:
        html=LAYOUT.report_html,
    log:
        f"{ROOT}/logs/report.log",
    params:
        root=ROOT,
    script:
        "../scripts/report.py"
