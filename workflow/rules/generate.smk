rule generate:
    input:
        problem_input_files,
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
    script:
        "../scripts/generate.py"
