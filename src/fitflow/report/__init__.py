"""The HTML comparison report: one self-contained file per experiment.

:func:`write_report` reads an experiment folder's artefacts (never refitting),
draws summary figures, and renders ``templates/report.html`` with jinja2 into
``report.html``: every figure is an inline PNG, the style and the small
table-sorting script are inline, no URL is referenced. The key figures are
also written to ``figures/`` for Snakemake's own ``--report``. The same
artefacts give the same bytes.

The page is assembled by :mod:`.render` from one template per section, listed in
:mod:`.sections`; what a section reads lives in a module of its own (:mod:`.data`,
:mod:`.verdict`, :mod:`.campaigns`, :mod:`.diagnostics`, :mod:`.provenance`, ...).
"""

from .render import KEY_FIGURES, render_report, write_report

__all__ = ["render_report", "write_report", "KEY_FIGURES"]
