# fitflow: generate -> fit and evaluate -> tables and report.
# The rules live in workflow/rules/; the work is done by the fitflow package.
from snakemake.utils import min_version

min_version("9.0")


# The default experiment, unless a config is given with --configfile.
if not config:

    configfile: "config/config.yaml"


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/generate.smk"
include: "workflow/rules/fit.smk"
include: "workflow/rules/campaign.smk"
include: "workflow/rules/report.smk"


localrules:
    all,
    report,


rule all:
    default_target: True
    input:
        LAYOUT.report_html,
