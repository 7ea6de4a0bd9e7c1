# Fit one batch of replicates with one method, then evaluate each fit against the truth in
# the same process (a separate evaluate job cost a Python start-up per batch for ~10 ms of work).
rule fit:
    input:
        RULES.datasets_for_fit,
    output:
        fits=LAYOUT.pattern(paths.FIT_BATCH),
        metrics=LAYOUT.pattern(paths.METRICS_BATCH),
    log:
        LAYOUT.pattern(paths.FIT_LOG),
    conda:
        "../envs/fitflow.yaml"
    threads: RULES.method_resource("threads")
    resources:
        **CLUSTER_RESOURCES,
        mem_mb=RULES.method_resource("mem_mb"),
        runtime=RULES.method_resource("runtime"),
    params:
        seed=PLAN.seed,
        problem_settings=RULES.problem_settings,
        method_settings=RULES.method_settings,
        replicates=RULES.fit_replicates,
    script:
        "../scripts/fit.py"


# With `chunks: N`, N jobs each generate, fit and evaluate a share of the problem cases
# in one process instead of a job per batch and stage.
rule chunk:
    input:
        RULES.chunk_input_files,
    output:
        LAYOUT.pattern(paths.CHUNK),
    log:
        LAYOUT.pattern(paths.CHUNK_LOG),
    # Costliest chunk first (longest-processing-time order), so the last to finish is short.
    priority: RULES.chunk_resource("runtime")
    conda:
        "../envs/fitflow.yaml"
    threads: RULES.chunk_resource("threads")
    resources:
        **CLUSTER_RESOURCES,
        mem_mb=RULES.chunk_resource("mem_mb"),
        runtime=RULES.chunk_resource("runtime"),
    params:
        depends_on=RULES.chunk_params,
    script:
        "../scripts/chunk.py"
