"""K-fold cross-validated prediction error: a yardstick for measured data.

Measurements have no truth, so methods are compared on how well they predict
points they did not see. The observations are split into ``k`` folds; each fold
is predicted by the method fitted to the other ``k - 1``, and the root-mean-square
of all held-out residuals is reported. Held-out points are handed to the method as
the dataset's prediction grid, so parametric and non-parametric methods are scored
the same way (the former through their model, the latter through their own grid
prediction).

How the folds are cut (the dataset's ``cv_scheme``):

* ``random``: a seeded permutation, dealt to the folds in turn;
* ``blocks``: the points in order of x, cut into :data:`BLOCKS_PER_FOLD` ``k``
  contiguous blocks dealt to the folds at random. On a time series or a scan,
  neighbours share their noise: a random fold leaves a held-out point's
  neighbours in the training set, and a smoother that follows the noise
  predicts it well (random 3-fold CV starred a near-interpolating spline on the
  yearly sunspots). A block must be predicted across a gap;
* ``auto`` (the default): blocks where x is one column, random folds otherwise.
"""

import numpy as np

from ..core.compiled import rows_for_compiling
from ..core.dataset import Dataset
from ..core.pipeline import safe_fit
from .prediction import predict

__all__ = [
    "cross_validate",
    "cross_validation_rmse",
    "fold_indices",
    "follows_noise_warning",
    "BLOCKS_PER_FOLD",
    "FOLLOWS_NOISE",
]

#: Contiguous blocks per fold in the ``blocks`` scheme: few enough that a block is a real gap,
#: enough that no fold is one end of the range (which would score extrapolation).
BLOCKS_PER_FOLD = 4
#: A fit whose residual RMS is under this fraction of its cross-validated error follows the
#: noise: it predicts the points it saw far better than those it did not (a correct model's
#: two errors differ by a factor of about (1 + p/n) / (1 - p/n), near 1).
FOLLOWS_NOISE = 0.2


def fold_indices(n_points, k, rng, order=None):
    """``k`` disjoint index arrays covering ``range(n_points)``: shuffled by ``rng``, or, given
    ``order`` (the points' indices in order of x), contiguous blocks of it dealt to the folds
    at random."""
    if order is None:
        order = rng.permutation(n_points)
        return [np.sort(order[i::k]) for i in range(k)]
    n_blocks = min(n_points, BLOCKS_PER_FOLD * k)
    edges = np.linspace(0, n_points, n_blocks + 1).round().astype(int)
    fold_of_block = rng.permutation(n_blocks) % k
    return [
        np.sort(np.concatenate([order[edges[b] : edges[b + 1]] for b in np.flatnonzero(fold_of_block == i)]))
        for i in range(k)
    ]


def ordering(dataset):
    """The points' indices in order of x where the folds are to be contiguous blocks (see the
    module's doc), else None."""
    scheme = dataset.meta.get("cv_scheme", "auto")
    columns = dataset.x.reshape(dataset.n_points, -1).shape[1]
    if scheme == "random" or (scheme == "auto" and columns != 1):
        return None
    if columns != 1:
        return np.arange(dataset.n_points)  # several columns: the file's order
    return np.argsort(dataset.x.reshape(-1), kind="stable")


def _subset(dataset, keep, grid_x):
    return Dataset(
        problem=dataset.problem,
        x=dataset.x[keep],
        y=dataset.y[keep],
        sigma=None if dataset.sigma is None else dataset.sigma[keep],
        grid_x=grid_x,
        meta=dict(dataset.meta),
    )


def cross_validation_rmse(method, dataset, rng, k, fold_rng=None, deadline=None):
    """``(rmse, message)``: the k-fold CV error of ``method`` on ``dataset`` (see
    :func:`cross_validate`, which also gives each fold's error)."""
    found = cross_validate(method, dataset, rng, k, fold_rng, deadline)
    return found["cv_rmse"], found["cv_note"]


def cross_validate(method, dataset, rng, k, fold_rng=None, deadline=None):
    """``{"cv_rmse", "cv_note", "cv_fold_mse"}``: the k-fold CV error of ``method`` on
    ``dataset``, why it is what it is, and each fold's mean squared held-out error (the
    evidence for its uncertainty, and for comparing two methods fold by fold: every method is
    scored on the same folds).

    ``fold_rng`` splits the folds (default: ``rng``); the workflow seeds it from the
    dataset alone, so every method is scored on the same folds.

    ``cv_rmse`` is NaN (and ``cv_note`` says why) when a fold's fit fails or gives
    no prediction at the held-out points, or when, with a ``deadline`` (a
    ``time.perf_counter`` value), the folds still to fit would run past it at the pace
    of those fitted so far.
    """
    import time

    def stopped(message):
        return {"cv_rmse": float("nan"), "cv_note": message, "cv_fold_mse": None}

    started = time.perf_counter()
    residuals = []
    order = ordering(dataset)
    how = f"{k}-fold cross-validation" + (" in contiguous blocks of x" if order is not None else "")
    several = dataset.y.ndim == 2
    spread = np.std(dataset.y, axis=0) if several else None
    for i, held_out in enumerate(fold_indices(dataset.n_points, k, rng if fold_rng is None else fold_rng, order)):
        train = np.setdiff1d(np.arange(dataset.n_points), held_out)
        x_test = dataset.x[held_out]
        with rows_for_compiling(dataset.n_points):  # every fold runs the programs compiled for the dataset
            result, _, _ = safe_fit(method, _subset(dataset, train, x_test), rng)
            if not result.ok:
                return stopped(f"fold {i + 1} of {k} failed: {result.message}")
            prediction, _ = predict(_subset(dataset, train, x_test), result, x_test)
        if prediction is None:
            prediction = result.grid_mean
        if prediction is None or np.shape(prediction) != dataset.y[held_out].shape:
            return stopped(f"fold {i + 1} of {k}: the method gave no prediction at held-out points")
        residuals.append(dataset.y[held_out] - prediction)
        now, done = time.perf_counter(), i + 1
        pace = (now - started) / done
        needed = pace * (k - done)
        if deadline is not None and done < k and now + needed > deadline:
            return stopped(
                f"{how} stopped after {done} of {k} folds: at {pace:.3g} s a fold, "
                f"the rest need about {needed:.3g} s and {max(0.0, deadline - now):.3g} s are left"
            )
    if several:
        # Several outputs in different units: each output's CV RMSE over its spread, averaged
        # (dimensionless, like the overall RMSE against a truth); a fold's error likewise.
        scale = np.where(spread > 0, spread, 1.0)
        pooled = np.concatenate(residuals)
        per_output = np.sqrt(np.mean(pooled**2, axis=0)) / scale
        folds = [float(np.mean(np.mean(r**2, axis=0) / scale**2)) for r in residuals]
        return {
            "cv_rmse": float(np.mean(per_output)),
            "cv_note": f"{how}, RMSE over spread averaged over outputs",
            "cv_fold_mse": folds,
        }
    pooled = np.concatenate(residuals)
    return {
        "cv_rmse": float(np.sqrt(np.mean(pooled**2))),
        "cv_note": how,
        "cv_fold_mse": [float(np.mean(r**2)) for r in residuals],
    }


def follows_noise_warning(residual_rms, cv_rmse):
    """The warning for a fit that follows the noise (see :data:`FOLLOWS_NOISE`), else None."""
    if residual_rms is None or cv_rmse is None or not np.isfinite(cv_rmse) or cv_rmse <= 0:
        return None
    if not residual_rms < FOLLOWS_NOISE * cv_rmse:
        return None
    return (
        f"it follows the noise: residual RMS {residual_rms:.2g} against a cross-validated error of "
        f"{cv_rmse:.3g} (it predicts the points it saw far better than those it did not)"
    )
