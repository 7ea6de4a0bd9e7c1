"""The failed fits of an experiment, as the report's summary lists them."""

import re

__all__ = ["grouped_failures"]


def grouped_failures(failed):
    """Failed fits, one row per (problem, method, settings, reason) with its replicates
    (``"0-9"``, ``"2, 5"``) and the log of the first: ten identical reasons read as one.
    Reasons that differ only in their numbers (a chi-square, an evaluation count) share a
    row, which quotes the first replicate's and says the numbers vary."""
    keys = ["problem", "problem_settings", "method", "method_settings"]
    failed = failed.assign(_reason=failed.message.fillna("").map(_reason_shape))
    rows = []
    for key, group in failed.groupby([*keys, "_reason"], sort=False, dropna=False):
        group = group.sort_values("replicate")
        replicates = [int(r) for r in group.replicate]
        contiguous = replicates == list(range(replicates[0], replicates[-1] + 1))
        shown = (
            f"{replicates[0]}–{replicates[-1]}"
            if contiguous and len(replicates) > 2
            else ", ".join(map(str, replicates))
        )
        message = group.message.iloc[0]
        if group.message.nunique(dropna=False) > 1:
            message = f"{message} [replicate {replicates[0]}; the numbers vary between replicates]"
        rows.append(
            {
                **dict(zip(keys, key)),
                "message": message,
                "replicate": shown,
                "count": len(replicates),
                "fit_dir": group.fit_dir.iloc[0],
            }
        )
    return rows


#: A number in a failure's reason.
_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")


def _reason_shape(message):
    """A failure's reason with every number replaced by ``#``."""
    return _NUMBER.sub("#", str(message))
