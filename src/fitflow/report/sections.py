"""The report's sections, in the order the page shows them.

Each section is one template, ``templates/sections/<anchor>.html``, and one line of
:data:`SECTIONS`: its anchor, its title in the page's navigation (``None``: not listed), when
it applies (to an experiment that fitted, one with campaigns, or always), and optionally
``build``, the function that reads what only it shows from the experiment's artefacts. A
section's template sees the whole report context (every case, its verdict and figures;
:func:`fitflow.report.render.render_report`) and what its ``build`` returned.

To add a section: write its template, and add its line here.
"""

from collections.abc import Callable
from dataclasses import dataclass

from . import provenance
from .diagnostics import method_diagnostics

__all__ = ["Section", "SECTIONS", "shown"]

FITS = "fits"
CAMPAIGNS = "campaigns"
ANY_WORK = "fits or campaigns"
ALWAYS = "always"


@dataclass(frozen=True)
class Section:
    """One section of the report. ``build(experiment, configfiles, not_built) -> dict`` adds
    what only this section shows to the template's context (a part it cannot build is listed
    in ``not_built``, and the section says what is missing)."""

    anchor: str
    title: str
    applies: str
    build: Callable = None

    @property
    def template(self):
        return f"sections/{self.anchor}.html"


SECTIONS = (
    Section("verdict", "Verdict", ANY_WORK),
    Section("summary", None, FITS),
    Section("leaderboards", "Leaderboards", FITS),
    Section("fits", "Fits", FITS),
    Section("recovery", "Parameter recovery", FITS),
    Section("calibration", "Calibration", FITS),
    Section("cost", "Cost vs accuracy", FITS),
    Section("diagnostics", "Diagnostics", FITS, method_diagnostics),
    Section("sweeps", "Sweeps", FITS),
    Section("campaigns", "Campaigns", CAMPAIGNS),
    Section("provenance", "Provenance", ALWAYS, provenance.provenance_context),
)


def shown(n_fits, campaigns):
    """The sections that apply to an experiment with ``n_fits`` fits and ``campaigns``."""
    applies = {FITS: bool(n_fits), CAMPAIGNS: bool(campaigns), ANY_WORK: bool(n_fits or campaigns), ALWAYS: True}
    return [section for section in SECTIONS if applies[section.applies]]
