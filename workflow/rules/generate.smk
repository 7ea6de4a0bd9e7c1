rule generate:
    input:
        RULES.problem_input_files,
        RULES.simulation_run_files,
    output:
        LAYOUT.pattern(paths.DATASET_BATCH),
    log:
        LAYOUT.pattern(paths.DATASET_LOG),
    conda:
        "../envs/fitflow.yaml"
    resources:
        **CLUSTER_RESOURCES,
    params:
        seed=PLAN.seed,
        settings=RULES.problem_settings,
        replicates=RULES.dataset_replicates,
        input_digests=RULES.problem_input_digests,
    script:
        "../scripts/generate.py"


# A problem whose data are runs of the user's simulation: each run is its own job.
rule simulation_run:
    input:
        RULES.run_input_files,
    output:
        LAYOUT.pattern(paths.SIMULATION_RUN),
    log:
        LAYOUT.pattern(paths.RUN_LOG),
    conda:
        "../envs/fitflow.yaml"
    threads: RULES.run_resource("threads")
    resources:
        **CLUSTER_RESOURCES,
        mem_mb=RULES.run_resource("mem_mb"),
        runtime=RULES.run_resource("runtime"),
    script:
        "../scripts/simulation_run.py"
