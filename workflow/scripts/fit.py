"""Fit one batch of replicates with one method and evaluate the fits:
fitflow.run.jobs.fit_batch, then fitflow.run.jobs.evaluate_batch."""

from fitflow.core.isolation import supervised
from fitflow.run.jobs import evaluate_batch, fit_batch
from fitflow.run.layout import FIT_BATCH
from fitflow.run.snakemake_job import job

with job(snakemake, FIT_BATCH) as (plan, root, log):
    w = snakemake.wildcards
    key = (w.problem, w.psid, w.method, w.msid)
    supervised(fit_batch, plan, root, key, w.batch, log=log, plot=plan.plot_fits)
    evaluate_batch(plan, root, key, w.batch, log=log)
