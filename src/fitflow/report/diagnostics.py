"""The report's method diagnostics: per method, each problem's fit of replicate 0, with its
status, warnings, scalar diagnostics, figures and parameter correlations."""

from ..core.artefacts import read_json, read_npz
from ..evaluation.uncertainty import correlation_matrix
from . import figures
from .data import format_number

__all__ = ["method_diagnostics", "diagnostics_by_method", "scalar_diagnostics"]


def method_diagnostics(experiment, configfiles, not_built):
    """The diagnostics section's context (:class:`fitflow.report.sections.Section` ``build``)."""
    return {"diagnostics": figures.built("diagnostics", lambda: diagnostics_by_method(experiment), {}, not_built)}


def scalar_diagnostics(diagnostics):
    """The short, readable entries of a result's diagnostics."""
    out = {}
    for key, value in sorted(diagnostics.items()):
        if isinstance(value, (int, float, str, bool)) or value is None:
            out[key] = value
        elif isinstance(value, list) and len(value) <= 8 and all(isinstance(v, (int, float)) for v in value):
            out[key] = ", ".join(format_number(v) for v in value)
        elif isinstance(value, dict) and len(value) <= 8:
            out[key] = ", ".join(f"{k} {format_number(v)}" for k, v in value.items())
    return out


def diagnostics_by_method(experiment, rep=0):
    """Per method: for each problem it fitted, replicate ``rep``'s diagnostics and figures."""
    sections = {}
    table = experiment.table
    keys = table[["method", "method_settings", "problem", "problem_settings"]].drop_duplicates()
    for method, msid, problem, psid in keys.itertuples(index=False):
        folder = experiment.fit_dir(problem, psid, method, msid, rep)
        info = read_json(folder / "result.json")
        entry = {
            "case": experiment.case_label(problem, psid),
            "settings": msid,
            "status": info["status"],
            "message": info.get("message", ""),
            "warnings": info.get("warnings", []),
            "diagnostics": scalar_diagnostics(info.get("diagnostics") or {}),
            "figures": [
                (p.stem.removeprefix("fig-"), figures.png_data_uri(p.read_bytes()))
                for p in sorted(folder.glob("fig-*.png"))
            ],
            "correlation": None,
        }
        names = info.get("param_names") or []
        if 1 < len(names) <= 12 and info["status"] == "ok":
            arrays = read_npz(folder / "result.npz")
            if "covariance" in arrays:
                entry["correlation"] = {"names": names, "matrix": correlation_matrix(arrays["covariance"]).tolist()}
        sections.setdefault(method, []).append(entry)
    return sections
