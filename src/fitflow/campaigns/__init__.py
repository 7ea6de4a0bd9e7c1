"""Optimisation campaigns: ask/tell loops over a function, a program or an
experiment's measurement log, driven by an optimiser plugin."""
