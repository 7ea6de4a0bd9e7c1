# Optimisation campaigns: round k's proposal needs every evaluation of the rounds
# before it, and each evaluation of the objective is its own job (input functions
# in fitflow.run.rules).


rule propose:
    input:
        RULES.earlier_evaluations,
    output:
        LAYOUT.pattern(paths.CAMPAIGN_PROPOSAL),
    log:
        LAYOUT.pattern(paths.PROPOSAL_LOG),
    conda:
        "../envs/fitflow.yaml"
    resources:
        **CLUSTER_RESOURCES,
    params:
        depends_on=RULES.proposal_params,
    script:
        "../scripts/propose.py"


rule evaluate_point:
    input:
        LAYOUT.pattern(paths.CAMPAIGN_PROPOSAL),
    output:
        LAYOUT.pattern(paths.CAMPAIGN_EVALUATION),
    log:
        LAYOUT.pattern(paths.EVALUATION_LOG),
    conda:
        "../envs/fitflow.yaml"
    threads: RULES.evaluation_resource("threads")
    resources:
        **CLUSTER_RESOURCES,
        mem_mb=RULES.evaluation_resource("mem_mb"),
        runtime=RULES.evaluation_resource("runtime"),
    params:
        problem=RULES.evaluation_problem_settings,
    script:
        "../scripts/evaluate_point.py"


rule summarise_campaign:
    input:
        RULES.campaign_evaluations,
    output:
        summary=LAYOUT.pattern(paths.CAMPAIGN_SUMMARY),
        history=str(
            Path(LAYOUT.pattern(paths.CAMPAIGN_SUMMARY)).with_name("history.csv")
        ),
    log:
        LAYOUT.pattern(paths.SUMMARY_LOG),
    conda:
        "../envs/fitflow.yaml"
    resources:
        **CLUSTER_RESOURCES,
    script:
        "../scripts/summarise_campaign.py"
