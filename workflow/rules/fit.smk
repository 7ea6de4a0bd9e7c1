rule fit:
    input:
        datasets_for_fit,
    output:
        LAYOUT.pattern(paths.FIT_BATCH),
    log:
        LAYOUT.pattern(paths.FIT_LOG),
    conda:
        "../envs/fitflow.yaml"
    threads: method_resource("threads")
    resources:
        **CLUSTER_RESOURCES,
        mem_mb=method_resource("mem_mb"),
        runtime=method_resource("runtime"),
    params:
        seed=PLAN.seed,
        problem_settings=problem_settings,
        method_settings=method_settings,
        replicates=fit_replicates,
    script:
        "../scripts/fit.py"
