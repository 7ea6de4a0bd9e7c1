"""Timing helper shared by the benchmarks."""

import timeit

__all__ = ["per_call"]


def per_call(functions, repeats, blocks=15):
    """Seconds per call of each function: blocks of ``repeats`` calls, interleaved so that
    every function meets the same machine conditions, and the best block of each kept
    (timeit's rule: the minimum is the run least disturbed by the rest of the machine)."""
    best = [float("inf")] * len(functions)
    for _ in range(blocks):
        for i, function in enumerate(functions):
            best[i] = min(best[i], timeit.timeit(function, number=repeats) / repeats)
    return best
