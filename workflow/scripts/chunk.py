"""Generate, fit and evaluate one chunk of problem cases: fitflow.run.jobs.run_chunk, on as
many worker processes as the job's threads hold (see ``chunk_workers``)."""

from fitflow.core.isolation import supervised
from fitflow.run.chunks import run_chunk
from fitflow.run.layout import CHUNK
from fitflow.run.snakemake_job import job

with job(snakemake, CHUNK) as (plan, root, log):
    supervised(run_chunk, plan, root, int(snakemake.wildcards.chunk), log=log, threads=snakemake.threads)
