"""Judging fits: metrics against the truth or held-out data, cross-validation,
one table comparing every method on a dataset, and each fit's figures."""
