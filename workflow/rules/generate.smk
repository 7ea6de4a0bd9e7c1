rule generate:
    output:
        LAYOUT.pattern(paths.DATASET_BATCH),
    log:
        LAYOUT.pattern(paths.DATASET_LOG),
    params:
        root=ROOT,
        seed=PLAN.seed,
        settings=problem_settings,
        replicates=lambda wildcards: replicates_of(wildcards, PLAN.batch_size),
    script:
        "../scripts/generate.py"
