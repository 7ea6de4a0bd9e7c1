"""Where every artefact of an experiment lives.

One place defines the folder layout, both as path patterns with Snakemake
wildcards (for the rules) and as concrete paths (for the jobs and the API)::

    results/<experiment>/
        datasets/<problem>/<problem-settings-id>/rep-<k>/dataset.{npz,json}
        datasets/<problem>/<problem-settings-id>/batch-<b>.json
        fits/<problem>/<problem-settings-id>/<method>/<method-settings-id>/rep-<k>/
            result.{json,npz}  metrics.json  provenance.json  timing.json  fit.png  fit.log
        fits/<problem>/<problem-settings-id>/<method>/<method-settings-id>/batch-<b>.json
        fits/<problem>/<problem-settings-id>/<method>/<method-settings-id>/metrics-<b>.json
        campaigns/<campaign>/<method>/round-<k>/proposal.json
        campaigns/<campaign>/<method>/round-<k>/eval-<i>/evaluation.json  timing.json  work/
        campaigns/<campaign>/<method>/summary.json  history.csv
        runs/<problem>/<run-id>/run.json  timing.json  work/
        chunks/chunk-<i>.json                 (with ``chunks: N``)
        chunks/chunk-<i>.zip                  (``store: compact``: the datasets/ and fits/
                                               folders of chunk i, see fitflow.run.archive)
        fits.csv  fits.parquet  timings.csv  experiment.json  report.html  figures/
        logs/...
"""

from pathlib import Path

__all__ = [
    "Layout",
    "DATASET_BATCH",
    "FIT_BATCH",
    "METRICS_BATCH",
    "TABLE_CSV",
    "TABLE_PARQUET",
    "TIMINGS_CSV",
    "REPORT_HTML",
]

DATASET_BATCH = "datasets/{problem}/{psid}/batch-{batch}.json"
FIT_BATCH = "fits/{problem}/{psid}/{method}/{msid}/batch-{batch}.json"
METRICS_BATCH = "fits/{problem}/{psid}/{method}/{msid}/metrics-{batch}.json"
TABLE_CSV = "fits.csv"
TABLE_PARQUET = "fits.parquet"
TIMINGS_CSV = "timings.csv"
REPORT_HTML = "report.html"
EXPERIMENT_JSON = "experiment.json"
DATASET_LOG = "logs/generate/{problem}/{psid}/batch-{batch}.log"
FIT_LOG = "logs/fit/{problem}/{psid}/{method}/{msid}/batch-{batch}.log"
CAMPAIGN_PROPOSAL = "campaigns/{campaign}/{method}/round-{round}/proposal.json"
CAMPAIGN_EVALUATION = "campaigns/{campaign}/{method}/round-{round}/eval-{index}/evaluation.json"
CAMPAIGN_SUMMARY = "campaigns/{campaign}/{method}/summary.json"
PROPOSAL_LOG = "logs/campaigns/{campaign}/{method}/round-{round}.log"
EVALUATION_LOG = "logs/campaigns/{campaign}/{method}/round-{round}-eval-{index}.log"
SUMMARY_LOG = "logs/campaigns/{campaign}/{method}/summary.log"
SIMULATION_RUN = "runs/{problem}/{run}/run.json"
CHUNK = "chunks/chunk-{chunk}.json"
CHUNK_ARCHIVE = "chunks/chunk-{chunk}.zip"
CHUNK_LOG = "logs/chunks/chunk-{chunk}.log"
RUN_LOG = "logs/runs/{problem}/{run}.log"


class Layout:
    """Paths of one experiment's artefacts below ``root`` (``results/<experiment>``)."""

    def __init__(self, root):
        self.root = Path(root)

    @classmethod
    def from_output(cls, path, template):
        """The layout in which the file ``path`` follows ``template`` (e.g. FIT_BATCH)."""
        depth = len(Path(template).parts)
        return cls(Path(path).parents[depth - 1])

    def pattern(self, template):
        """``template`` below the root, wildcards left in place (for Snakemake rules)."""
        return str(self.root / template)

    def dataset_dir(self, problem, psid, rep):
        return self.root / "datasets" / problem / psid / f"rep-{rep}"

    def dataset_batch(self, problem, psid, batch):
        return self.root / DATASET_BATCH.format(problem=problem, psid=psid, batch=batch)

    def fit_dir(self, problem, psid, method, msid, rep):
        return self.root / "fits" / problem / psid / method / msid / f"rep-{rep}"

    def fit_batch(self, problem, psid, method, msid, batch):
        return self.root / FIT_BATCH.format(problem=problem, psid=psid, method=method, msid=msid, batch=batch)

    def metrics_batch(self, problem, psid, method, msid, batch):
        return self.root / METRICS_BATCH.format(problem=problem, psid=psid, method=method, msid=msid, batch=batch)

    def chunk_manifest(self, chunk):
        return self.root / CHUNK.format(chunk=chunk)

    def chunk_archive(self, chunk):
        return self.root / CHUNK_ARCHIVE.format(chunk=chunk)

    def run_file(self, problem, run):
        return self.root / SIMULATION_RUN.format(problem=problem, run=run)

    def proposal(self, campaign, method, round):
        return self.root / CAMPAIGN_PROPOSAL.format(campaign=campaign, method=method, round=round)

    def evaluation(self, campaign, method, round, index):
        return self.root / CAMPAIGN_EVALUATION.format(campaign=campaign, method=method, round=round, index=index)

    def campaign_summary(self, campaign, method):
        return self.root / CAMPAIGN_SUMMARY.format(campaign=campaign, method=method)

    @property
    def table_csv(self):
        return self.root / TABLE_CSV

    @property
    def table_parquet(self):
        return self.root / TABLE_PARQUET

    @property
    def timings_csv(self):
        return self.root / TIMINGS_CSV

    @property
    def experiment_json(self):
        return self.root / EXPERIMENT_JSON

    @property
    def report_html(self):
        return self.root / REPORT_HTML
