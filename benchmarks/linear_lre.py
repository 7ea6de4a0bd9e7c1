"""LRE of every certified coefficient and standard deviation of NIST's linear StRD sets:
fitflow's ``ols`` (through the table problem and an expression model, as a user would),
``numpy.linalg.lstsq`` on the same double-precision design, and statsmodels' OLS (pinv and
QR), all in one run. Needs ../shared/nist-strd-linear; statsmodels is optional
(``pip install -e '.[bench]'``).

    .venv/bin/python benchmarks/linear_lre.py
"""

from pathlib import Path
import sys
import time

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.nist.linear import LINEAR_DIR, certified, lre_of, table_settings  # noqa: E402

import fitflow  # noqa: E402


def design_of(data, p):
    """The double-precision design matrix a user would build with numpy."""
    x = data.x
    if x.ndim > 1:
        return np.column_stack([np.ones(len(x)), x])
    return np.column_stack([x**k for k in range(p)])


def reference_fits(design, y):
    """``{name: (beta, sd)}`` of numpy's lstsq and, where installed, statsmodels' OLS."""
    n, p = design.shape
    beta = np.linalg.lstsq(design, y, rcond=None)[0]
    residual = y - design @ beta
    with np.errstate(all="ignore"):
        sd = np.sqrt(np.diag(np.linalg.pinv(design.T @ design)) * (residual @ residual) / (n - p))
    out = {"numpy lstsq": (beta, sd)}
    try:
        import statsmodels.api as sm
    except ImportError:
        return out
    for method in ("pinv", "qr"):
        model = sm.OLS(y, design).fit(method=method)
        out[f"statsmodels {method}"] = (model.params, model.bse)
    return out


def main():
    if not LINEAR_DIR.is_dir():
        sys.exit(f"NIST linear sets not found at {LINEAR_DIR}")
    rows = []
    for name, entry in certified().items():
        data = fitflow.generate("table", **table_settings(name, entry))
        started = time.perf_counter()
        result = fitflow.fit("ols", data)
        elapsed = time.perf_counter() - started
        fits = {"fitflow ols": (result.estimate_vector(), result.stderr_vector())} if result.ok else {}
        fits.update(reference_fits(design_of(data, len(entry["beta"])), data.y))
        for method, (beta, sd) in fits.items():
            rows.append(
                (
                    name,
                    method,
                    lre_of(beta, entry["beta"]),
                    lre_of(sd, entry["sd"]),
                    result.diagnostics.get("precision", "") if method == "fitflow ols" else "",
                    elapsed if method == "fitflow ols" else float("nan"),
                )
            )
    print(f"{'set':9s} {'method':18s} {'LRE coef':>8s} {'LRE sd':>7s}  precision  time")
    for name, method, coef, sd, precision, seconds in rows:
        timing = f"{seconds * 1e3:6.1f} ms" if np.isfinite(seconds) else ""
        print(f"{name:9s} {method:18s} {coef:8.1f} {sd:7.1f}  {precision:9s} {timing}")
    worst = {}
    for _, method, coef, sd, _, _ in rows:
        worst[method] = min(worst.get(method, 15.0), coef, sd)
    print("worst LRE over all sets, coefficients and sd: " + ", ".join(f"{m} {v:.1f}" for m, v in worst.items()))


if __name__ == "__main__":
    main()
