"""Fit one batch of replicates with one method and evaluate the fits:
fitflow.jobs.fit_batch, then fitflow.jobs.evaluate_batch."""

from fitflow.jobs import evaluate_batch, fit_batch
from fitflow.layout import FIT_BATCH
from fitflow.snakemake_job import job

with job(snakemake, FIT_BATCH) as (plan, root, log):
    w = snakemake.wildcards
    key = (w.problem, w.psid, w.method, w.msid)
    fit_batch(plan, root, key, w.batch, log=log, plot=plan.plot_fits)
    evaluate_batch(plan, root, key, w.batch, log=log)
