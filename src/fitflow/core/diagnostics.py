"""The keys of ``FitResult.diagnostics`` that fitflow itself reads.

A method may record any JSON-able diagnostic under a name of its own; these few are read by
evaluation and the report, so a plugin writes them through these constants and a misspelt
name fails at import rather than going unread.
"""

__all__ = ["BAND", "BAND_KINDS", "BAND_NOTE", "BEST_VALUE", "CV_NOTE", "CV_RMSE", "TRUE_VALUE"]

#: What a non-parametric method's band covers: one of :data:`BAND_KINDS`.
BAND = "band"
#: A short phrase qualifying the band (``"spread of the ensemble's networks"``).
BAND_NOTE = "band_note"
#: What a band may cover: where the underlying function lies, or where a new measurement will.
BAND_KINDS = {
    "mean": "the function's mean (a new measurement scatters beyond it)",
    "predictive": "a new measurement, its noise included",
}
#: An optimiser's recommended value (the objective at its recommendation, or the GP's mean there).
BEST_VALUE = "best_value"
#: The noise-free objective at an optimiser's recommendation, where the problem knows it.
TRUE_VALUE = "true_value"
#: The cross-validated prediction error fitflow adds to a fit on measured data.
CV_RMSE = "cv_rmse"
#: Why the cross-validated error is missing, where it is.
CV_NOTE = "cv_note"
