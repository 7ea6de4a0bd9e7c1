"""Test problems with a known truth: generated data, analytic objectives and simulations."""
