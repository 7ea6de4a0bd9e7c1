"""The bottom layer: the plugin contract and the data types every other layer shares.

Problems, methods and their settings; datasets, parametric models and fit
results; the entry-point registry and the checks on what plugins return;
seeding, time limits, atomic files and the artefact formats; and
:mod:`~fitflow.core.pipeline`, which generates one dataset and fits it.
Nothing here imports from a layer above.
"""
