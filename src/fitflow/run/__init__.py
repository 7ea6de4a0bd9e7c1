"""Running an experiment: the plan from a config, the Snakemake jobs (one batch
or one chunk at a time), campaign jobs, the result store and its folder layout."""
