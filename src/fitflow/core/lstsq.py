"""Accurate linear least squares and Laplace covariances, shared by ``ols`` and ``nlls``.

Three habits make the answers trustworthy rather than merely computed:

* **Columns are scaled before every solve.** Dividing each column of the design
  (or Jacobian) by its norm removes the part of the condition number that only
  reflects the parameters' units (Pontius: 1.4e13 unscaled, 18 scaled), so
  nothing is cut off or lost for that reason. The condition number of the scaled
  matrix is what decides rank and precision, and both numbers are reported.
* **Orthogonal factorisation, never the normal equations.** LAPACK's pivoted
  Householder QR (through SciPy), with the solution refined twice against
  residuals computed in extended precision (``numpy.longdouble``).
* **Extended precision where double cannot be enough.** When the scaled
  condition number exceeds :data:`EXTENDED_ABOVE` and the model can evaluate its
  design matrix exactly (models written as expressions can), the design, the QR
  factorisation and the covariance are computed with mpmath at 34 significant
  digits (quadruple precision). NIST's Filip (a degree-10 polynomial, condition
  1.8e15) then gives every coefficient and standard deviation to 14 digits,
  where double precision gives 7 and ``numpy.linalg.lstsq`` none
  (``benchmarks/linear_lre.py``).

A rank-deficient problem is never solved by silently dropping a direction: the
caller gets :class:`RankDeficiency`, naming the parameters that are not
separately determined.
"""

from dataclasses import dataclass

import numpy as np

__all__ = [
    "LinearSolution",
    "RankDeficiency",
    "solve_linear",
    "laplace_covariance",
    "hac_covariance",
    "robust_covariance",
    "sandwich_covariance",
    "series_order",
    "covariance_settings",
    "ROBUST_KINDS",
    "EXTENDED_ABOVE",
    "JACOBIAN_PRECISION",
]

#: Scaled condition number above which an exactly evaluable design is solved in
#: extended precision (double would keep fewer than about 10 digits).
EXTENDED_ABOVE = 1e6
#: Extended precision is used up to this many design entries (n x p); mpmath
#: costs about 5 microseconds per floating-point operation.
EXTENDED_MAX_ENTRIES = 200_000
_DIGITS = 34
_EPS = np.finfo(float).eps


class RankDeficiency(ArithmeticError):
    """The columns are linearly dependent (to working precision).

    ``names`` are the parameters involved in the dependency (the largest
    components of the null direction), ``condition`` the scaled condition number.
    """

    def __init__(self, names, condition, rank, n_params):
        self.names = list(names)
        self.condition = condition
        self.rank = rank
        shown = ", ".join(self.names[:8]) + (f" and {len(self.names) - 8} more" if len(self.names) > 8 else "")
        super().__init__(
            f"rank-deficient: rank {rank} < {n_params} parameters (scaled condition number {condition:.3g}); "
            f"{shown} are not separately determined by these data"
        )


@dataclass
class LinearSolution:
    """The solution of a (whitened) linear least-squares problem."""

    theta: np.ndarray
    unscaled_covariance: np.ndarray  # (A^T A)^-1, before any residual scaling
    residuals: np.ndarray
    condition: float  # of the whitened design as given
    scaled_condition: float  # after column scaling: what precision depends on
    precision: str  # "double" or "extended"

    @property
    def correct_digits(self):
        """A rough count of the digits double precision keeps: -log10(eps x scaled condition)."""
        if self.precision == "extended":
            return 15.0
        return float(max(0.0, -np.log10(_EPS * self.scaled_condition)))


#: The relative precision of a Jacobian's entries, by how they were computed: the rank test's
#: tolerance for it. A singular value of the column-scaled Jacobian below this fraction of the
#: largest cannot be told from zero, whatever the matrix's shape (the full Jacobian or its R
#: factor). Exact derivatives (an expression's, JAX's, a user's) carry rounding of a few hundred
#: eps at most; finite differences about the square root of eps.
JACOBIAN_PRECISION = {"exact": 1e-13, "finite differences": 1e-8}


def _rank_check(scaled, names, precision=None):
    """``(condition, s, vt)`` of the scaled matrix; raise RankDeficiency where a column
    depends on the others: a singular value below ``precision`` (the entries' relative
    precision, see :data:`JACOBIAN_PRECISION`) times the largest; without it, a design
    evaluated exactly, ``eps * max(n, p)`` (LAPACK's and numpy's rank tolerance)."""
    n, p = scaled.shape
    _, s, vt = np.linalg.svd(scaled, full_matrices=False)
    if s[0] == 0 or not np.all(np.isfinite(s)):
        raise RankDeficiency(names, np.inf, 0, p)
    tolerance = (_EPS * max(n, p) if precision is None else precision) * s[0]
    rank = int(np.sum(s > tolerance))
    condition = float(s[0] / s[-1]) if s[-1] > 0 else np.inf
    if rank < p:
        null = np.abs(vt[-1])
        involved = [names[j] for j in np.argsort(-null) if null[j] > 0.1 * null.max()]
        raise RankDeficiency(involved, condition, rank, p)
    return condition, s, vt


def _column_scales(matrix):
    norms = np.linalg.norm(matrix, axis=0)
    return np.where(norms > 0, 1.0 / np.where(norms > 0, norms, 1.0), 0.0)


def solve_linear(design, y, names, exact_design=None):
    """Minimise ``||y - design @ theta||`` (already whitened); return a LinearSolution.

    ``exact_design`` is an optional callable giving the design matrix as rows of
    mpmath numbers (or ``None`` where it cannot); it is used when the scaled
    condition number makes double precision insufficient.
    """
    design = np.asarray(design, dtype=float)
    y = np.asarray(y, dtype=float)
    n, p = design.shape
    if not (np.all(np.isfinite(design)) and np.all(np.isfinite(y))):
        raise FloatingPointError("the design matrix or the data hold non-finite values")
    if n < p:
        raise RankDeficiency(names, np.inf, n, p)
    scales = _column_scales(design)
    scaled = design * scales
    scaled_condition = _rank_check(scaled, names)[0]
    singular = np.linalg.svd(design, compute_uv=False)
    condition = float(singular[0] / singular[-1]) if singular[-1] > 0 else np.inf
    if scaled_condition > EXTENDED_ABOVE and exact_design is not None and n * p <= EXTENDED_MAX_ENTRIES:
        rows = exact_design()
        if rows is not None:
            theta, covariance, residuals = _extended_solve(rows, y)
            return LinearSolution(theta, covariance, residuals, condition, scaled_condition, "extended")
    theta, covariance = _double_solve(design, scaled, scales, y)
    return LinearSolution(theta, covariance, y - design @ theta, condition, scaled_condition, "double")


def _double_solve(design, scaled, scales, y):
    """Pivoted QR of the column-scaled design, refined against extended-precision residuals."""
    from scipy.linalg import qr, solve_triangular

    p = design.shape[1]
    q, r, perm = qr(scaled, mode="economic", pivoting=True)

    def solve(rhs):
        step = np.empty(p)
        step[perm] = solve_triangular(r, q.T @ rhs)
        return step * scales

    theta = solve(y)
    wide_design, wide_y = design.astype(np.longdouble), y.astype(np.longdouble)
    for _ in range(2):  # iterative refinement: residuals in extended precision
        residual = (wide_y - wide_design @ theta.astype(np.longdouble)).astype(float)
        theta = theta + solve(residual)
    r_inverse = solve_triangular(r, np.eye(p))
    permuted = r_inverse @ r_inverse.T
    covariance = np.empty((p, p))
    covariance[np.ix_(perm, perm)] = permuted
    return theta, covariance * np.outer(scales, scales)


def _extended_solve(rows, y):
    """Householder QR, back substitution, residuals and ``(R^T R)^-1`` in mpmath at 34 digits."""
    import mpmath

    with mpmath.workdps(_DIGITS):
        matrix = mpmath.matrix(rows)
        p = matrix.cols
        q, r = mpmath.qr(matrix, mode="skinny")
        observed = mpmath.matrix([mpmath.mpf(float(v)) for v in y])
        rhs = q.T * observed
        theta = [mpmath.mpf(0)] * p
        for i in reversed(range(p)):
            theta[i] = (rhs[i] - mpmath.fsum(r[i, j] * theta[j] for j in range(i + 1, p))) / r[i, i]
        r_inverse = mpmath.inverse(r)
        covariance = r_inverse * r_inverse.T
        residuals = observed - matrix * mpmath.matrix(theta)
        return (
            np.array([float(v) for v in theta]),
            np.array([[float(covariance[i, j]) for j in range(p)] for i in range(p)]),
            np.array([float(v) for v in residuals]),
        )


def laplace_covariance(jacobian, names, derivatives="exact"):
    """``(J^T J)^-1`` of a whitened Jacobian (or its R factor) by the SVD of its column-scaled form.

    Returns ``(covariance, condition, scaled_condition)``; raises RankDeficiency
    where the scaled Jacobian is singular to the precision of its ``derivatives``
    (a key of :data:`JACOBIAN_PRECISION`). Scaling first is
    what keeps a well-determined but badly scaled fit (a polynomial in raw
    powers of x) from being declared singular.
    """
    jacobian = np.asarray(jacobian, dtype=float)
    norms = np.sqrt(np.einsum("ij,ij->j", jacobian, jacobian))  # non-finite where J is
    if not np.all(np.isfinite(norms)):
        raise FloatingPointError("the Jacobian holds non-finite values at the optimum")
    if not norms.all():
        zero = [names[j] for j in np.flatnonzero(norms == 0)]
        raise RankDeficiency(zero, np.inf, jacobian.shape[1] - len(zero), jacobian.shape[1])
    scales = 1.0 / norms
    scaled_condition, s, vt = _rank_check(jacobian * scales, names, JACOBIAN_PRECISION[derivatives])
    covariance = (vt.T / s**2) @ vt * np.outer(scales, scales)
    singular = np.linalg.svd(jacobian, compute_uv=False)
    condition = float(singular[0] / singular[-1]) if singular[-1] > 0 else np.inf
    return covariance, condition, scaled_condition


def newey_west_lags(n):
    """Newey and West's (1994) default bandwidth for ``n`` observations: floor(4 (n/100)^(2/9))."""
    return int(np.floor(4 * (n / 100.0) ** (2.0 / 9.0)))


def hac_covariance(bread, jacobian, residuals, maxlags=None, correction=False, order=None):
    """The Newey-West heteroscedasticity- and autocorrelation-consistent covariance of a
    least-squares fit: the sandwich ``bread @ meat @ bread`` with ``bread = (J^T J)^-1``
    (the unscaled covariance), ``meat = sum_l w_l (G_l + G_l^T)`` over the Bartlett weights
    ``w_l = 1 - l / (L + 1)``, ``G_l = sum_t s_t s_{t-l}^T`` of the scores ``s_t = r_t J_t``,
    taken in ``order`` (the points' indices in time or along the scan; default the rows'
    order). ``maxlags``: ``L`` (default :func:`newey_west_lags`); ``correction``: the
    small-sample factor ``n / (n - p)``, off as in statsmodels' default. Equals statsmodels'
    ``OLS(y, X).fit(cov_type="HAC", cov_kwds={"maxlags": L})`` for a linear model in that order."""
    jacobian = np.asarray(jacobian, dtype=float)
    residuals = np.asarray(residuals, dtype=float)
    if order is not None:
        jacobian, residuals = jacobian[order], residuals[order]
    n, p = jacobian.shape
    lags = newey_west_lags(n) if maxlags is None else int(maxlags)
    scores = jacobian * residuals[:, None]
    meat = scores.T @ scores
    for lag in range(1, min(lags, n - 1) + 1):
        cross = scores[lag:].T @ scores[:-lag]
        meat += (1.0 - lag / (lags + 1.0)) * (cross + cross.T)
    covariance = bread @ meat @ bread
    if correction and n > p:
        covariance *= n / (n - p)
    return covariance


#: White's heteroscedasticity-consistent covariances and what each weights a squared residual by.
ROBUST_KINDS = ("hc0", "hc1", "hc2", "hc3")


def robust_covariance(bread, jacobian, residuals, kind):
    """White's heteroscedasticity-consistent (sandwich) covariance ``bread @ J^T diag(w e^2) J @ bread``
    of a least-squares fit (``bread = (J^T J)^-1``; ``J`` and ``e`` whitened where errors are
    given), with MacKinnon and White's weights: ``hc0`` none, ``hc1`` ``n / (n - p)``, ``hc2``
    ``1 / (1 - h_i)``, ``hc3`` ``1 / (1 - h_i)^2`` over the leverages ``h_i = J_i bread J_i^T``.
    Equals statsmodels' ``OLS(y, X).fit(cov_type="HC0" ... "HC3")`` for a linear model (and
    ``WLS`` with weights 1/sigma^2). HC3 is the one to use on small samples (Long and Ervin 2000)."""
    jacobian = np.asarray(jacobian, dtype=float)
    squared = np.asarray(residuals, dtype=float) ** 2
    n, p = jacobian.shape
    if kind in ("hc2", "hc3"):
        leverage = np.einsum("ij,jk,ik->i", jacobian, bread, jacobian)
        room = np.clip(1.0 - leverage, np.finfo(float).eps, None)  # a point of leverage 1 is fitted exactly
        squared = squared / (room if kind == "hc2" else room**2)
    meat = (jacobian * squared[:, None]).T @ jacobian
    covariance = bread @ meat @ bread
    if kind == "hc1" and n > p:
        covariance *= n / (n - p)
    return covariance


def sandwich_covariance(kind, bread, jacobian, residuals, lags=None, order=None):
    """The covariance a least-squares method's ``covariance`` setting names, for the robust
    kinds (``hac`` and :data:`ROBUST_KINDS`); see :func:`hac_covariance` and
    :func:`robust_covariance`."""
    if kind == "hac":
        return hac_covariance(bread, jacobian, residuals, lags, order=order)
    return robust_covariance(bread, jacobian, residuals, kind)


def series_order(x):
    """The points' indices in order of x when x is one column (a time series, a scan), else
    None (the rows' order): the one order in which HAC sums its lags and the Ljung-Box test
    looks for autocorrelation."""
    x = np.asarray(x)
    if x.ndim == 2 and x.shape[1] == 1:
        x = x[:, 0]
    if x.ndim != 1:
        return None
    return np.argsort(x, kind="stable")


def covariance_settings():
    """The settings of a least-squares method's covariance: ``covariance`` (``standard``,
    ``hac`` or ``hc0`` ... ``hc3``), ``hac_lags`` and ``absolute_sigma``."""
    from .settings import Setting

    return {
        "covariance": Setting(
            "standard",
            str,
            "standard: errors independent with the stated (or one estimated) spread; hac: Newey-West, for "
            "residuals correlated along x (a time series, a scan); hc0, hc1, hc2, hc3: White's, for a spread "
            "that changes from point to point (hc3 on small samples)",
            choices=("standard", "hac", *ROBUST_KINDS),
        ),
        "hac_lags": Setting(None, int, "lags of the HAC covariance (default: floor(4 (n/100)^(2/9)))", minimum=0),
        "absolute_sigma": Setting(
            True,
            bool,
            "the stated errors are absolute; false: scale the covariance by chi2/dof (curve_fit's absolute_sigma=False)",
        ),
    }
