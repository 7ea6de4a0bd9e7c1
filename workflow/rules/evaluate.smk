rule evaluate:
    input:
        fits=LAYOUT.pattern(paths.FIT_BATCH),
        datasets=datasets_for_fit,
    output:
        LAYOUT.pattern(paths.METRICS_BATCH),
    log:
        LAYOUT.pattern(paths.METRICS_LOG),
    conda:
        "../envs/fitflow.yaml"
    resources:
        **CLUSTER_RESOURCES,
    script:
        "../scripts/evaluate.py"
