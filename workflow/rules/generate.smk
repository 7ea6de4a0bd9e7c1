rule generate:
    input:
        problem_input_files,
        simulation_run_files,
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
        settings=problem_settings,
        replicates=lambda wildcards: replicates_of(wildcards, PLAN.batch_size),
        input_digests=problem_input_digests,
    script:
        "../scripts/generate.py"


# A problem whose data are runs of the user's simulation: each run is its own job.
rule simulation_run:
    input:
        run_input_files,
    output:
        LAYOUT.pattern(paths.SIMULATION_RUN),
    log:
        LAYOUT.pattern(paths.RUN_LOG),
    conda:
        "../envs/fitflow.yaml"
    threads: run_resource("threads")
    resources:
        **CLUSTER_RESOURCES,
        mem_mb=run_resource("mem_mb"),
        runtime=run_resource("runtime"),
    script:
        "../scripts/simulation_run.py"
