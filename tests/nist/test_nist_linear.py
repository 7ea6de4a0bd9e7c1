"""ols against NIST's certified linear-regression results, through the user-facing path:
each set's CSV read by the ``table`` problem, its model written as an expression, the
plan deciding the model is linear so that ``ols`` serves it. Target (the issue's): every
certified coefficient and standard deviation to LRE >= 7, Filip (condition ~1e15) included.
The table beside numpy and statsmodels: ``.venv/bin/python benchmarks/linear_lre.py``."""

import pytest

import fitflow
from fitflow.run.experiment import build_plan

from .linear import LINEAR_DIR, SKIP_REASON, certified, lre_of, table_settings

pytestmark = pytest.mark.skipif(not LINEAR_DIR.is_dir(), reason=SKIP_REASON)

SETS = certified() if LINEAR_DIR.is_dir() else {}


@pytest.mark.parametrize("name", sorted(SETS))
def test_ols_reproduces_the_certified_values(name):
    entry = SETS[name]
    settings = table_settings(name, entry)
    plan = build_plan({"problems": {name: {"plugin": "table", "settings": settings}}, "methods": {"ols": {}}})
    assert [p.method.label for p in plan.pairs] == ["ols"], plan.skipped  # recognised as linear
    data = fitflow.generate("table", **settings)
    result = fitflow.fit("ols", data)
    assert result.ok, result.message
    assert lre_of(result.estimate_vector(), entry["beta"]) >= 7
    assert lre_of(result.stderr_vector(), entry["sd"]) >= 7


def test_nlls_on_the_same_linear_models_keeps_finite_standard_deviations():
    # The Filip polynomial made nlls report infinite standard deviations before the
    # Jacobian was column-scaled; now they are finite and agree with the certified ones.
    entry = SETS["Filip"]
    data = fitflow.generate("table", **table_settings("Filip", entry))
    result = fitflow.fit("nlls", data)
    assert result.ok, result.message
    assert lre_of(result.estimate_vector(), entry["beta"]) >= 6
    assert lre_of(result.stderr_vector(), entry["sd"]) >= 6
