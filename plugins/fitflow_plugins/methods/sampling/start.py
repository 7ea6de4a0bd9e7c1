"""Where both samplers start: the least-squares optimum and its Laplace standard errors."""

from ..least_squares.nlls import NonLinearLeastSquares

__all__ = ["least_squares_start"]


def least_squares_start(dataset, rng, bounded):
    """The ``nlls`` fit of ``dataset`` that centres and scales the samplers' starting points.

    With ``bounded`` (a bounds prior on a bounded model) ``nlls`` keeps its default, which
    refits inside the bounds where the unbounded optimum lies outside them; otherwise it fits
    without bounds, as a flat prior allows.
    """
    return NonLinearLeastSquares(bounded=None if bounded else False).fit(dataset, rng)
