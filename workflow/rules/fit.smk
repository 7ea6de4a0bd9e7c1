rule fit:
    input:
        datasets_for_fit,
    output:
        LAYOUT.pattern(paths.FIT_BATCH),
    log:
        LAYOUT.pattern(paths.FIT_LOG),
    params:
        root=ROOT,
        seed=PLAN.seed,
        problem_settings=problem_settings,
        method_settings=method_settings,
        replicates=fit_replicates,
    threads: method_resource("threads")
    resources:
        mem_mb=method_resource("mem_mb"),
        runtime=method_resource("runtime"),
    script:
        "../scripts/fit.py"
