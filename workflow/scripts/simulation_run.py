"""Run one simulation of a problem's design: fitflow.run.simulation_runs.run_simulation."""

from fitflow.core.isolation import supervised
from fitflow.run.layout import SIMULATION_RUN
from fitflow.run.simulation_runs import run_simulation
from fitflow.run.snakemake_job import job

with job(snakemake, SIMULATION_RUN) as (plan, root, log):
    w = snakemake.wildcards
    supervised(run_simulation, plan, root, w.problem, w.run, log=log)
