"""Fit one batch of replicates with one method: fitflow.jobs.fit_batch."""

from fitflow.jobs import fit_batch
from fitflow.snakemake_job import job

with job(snakemake) as (plan, log):
    w = snakemake.wildcards
    key = (w.problem, w.psid, w.method, w.msid)
    fit_batch(plan, snakemake.params.root, key, w.batch, log=log, plot=plan.plot_fits)
