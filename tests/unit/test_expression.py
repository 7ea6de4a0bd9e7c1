"""Expression models: the whitelist, clear errors quoting the offending part, exact
derivatives checked against finite differences, and a fit reproducing curve_fit."""

import numpy as np
import pytest
from scipy.optimize import curve_fit

from fitflow.inputs.expression import ExpressionError, expression_model, parse_expression


def test_value_and_exact_jacobian_match_numpy_and_finite_differences():
    model = expression_model("b1*(1 - exp(-b2*x)) + b3*sin(pi*x)/sqrt(x + 1)", ["b1", "b2", "b3"], p0=[1, 1, 1])
    x = np.linspace(0, 3, 50)
    theta = np.array([2.0, 0.7, -0.3])
    expected = 2.0 * (1 - np.exp(-0.7 * x)) - 0.3 * np.sin(np.pi * x) / np.sqrt(x + 1)
    np.testing.assert_allclose(model(x, theta), expected, rtol=1e-14)
    exact = model.jacobian(x, theta)
    for j in range(3):
        step = np.zeros(3)
        step[j] = 1e-6
        central = (model(x, theta + step) - model(x, theta - step)) / 2e-6
        np.testing.assert_allclose(exact[:, j], central, rtol=1e-6, atol=1e-9)


def test_a_parameter_missing_from_the_expression_has_a_zero_derivative():
    model = expression_model("a*x", ["a", "b"], p0=[1, 1])
    assert model.jacobian(np.arange(3.0), np.array([2.0, 5.0]))[:, 1].tolist() == [0.0, 0.0, 0.0]


def test_several_variables_are_columns_of_x():
    model = expression_model("a*x1 + b*x2**2", ["a", "b"], p0=[0, 0], variables=("x1", "x2"))
    x = np.array([[1.0, 2.0], [3.0, 4.0]])
    np.testing.assert_allclose(model(x, [2.0, 0.5]), [2 + 2, 6 + 8])


def test_fit_through_an_expression_reproduces_curve_fit():
    import fitflow
    from fitflow_plugins.methods.least_squares.nlls import NonLinearLeastSquares

    rng = np.random.default_rng(0)
    x = np.linspace(0.1, 5, 40)
    y = 3.0 * (1 - np.exp(-0.8 * x)) + rng.normal(0, 0.05, x.size)
    model = expression_model("b1*(1 - exp(-b2*x))", ["b1", "b2"], p0=[1.0, 1.0])

    class Measured(fitflow.Problem):
        name = "measured"
        capabilities = frozenset({"parametric"})

        def model(self, dataset):
            return model

    data = fitflow.Dataset(problem=Measured(), x=x, y=y, sigma=np.full(x.size, 0.05))
    result = NonLinearLeastSquares().fit(data, None)
    popt, pcov = curve_fit(
        lambda x, b1, b2: b1 * (1 - np.exp(-b2 * x)), x, y, p0=[1, 1], sigma=data.sigma, absolute_sigma=True
    )
    np.testing.assert_allclose(result.estimate_vector(), popt, rtol=1e-6)
    np.testing.assert_allclose(np.sqrt(np.diag(result.covariance)), np.sqrt(np.diag(pcov)), rtol=1e-5)


def test_an_error_function_edge_fits_as_curve_fit_does():
    """A knife-edge scan: the error functions are scipy.special's, on arrays, with exact
    derivatives (2/sqrt(pi) exp(-z^2) for erf)."""
    from scipy.special import erf, erfc

    import fitflow

    rng = np.random.default_rng(3)
    x = np.linspace(-2, 2, 60)
    truth = 0.5 * 4.0 * erfc(-(x - 0.3) * np.sqrt(2) / 0.7) + 0.2
    y = truth + rng.normal(0, 0.02, x.size)
    data = fitflow.measurement(
        x, y, np.full(x.size, 0.02), model="P/2*(1 + erf((x - x0)*sqrt(2)/w)) + c", p0=[1.0, 0.0, 1.0, 0.0]
    )
    result = fitflow.fit("nlls", data)
    popt, pcov = curve_fit(
        lambda x, P, x0, w, c: P / 2 * (1 + erf((x - x0) * np.sqrt(2) / w)) + c,
        x,
        y,
        p0=[1, 0, 1, 0],
        sigma=np.full(x.size, 0.02),
        absolute_sigma=True,
    )
    assert result.ok, result.message
    np.testing.assert_allclose(result.estimate_vector(), popt, rtol=1e-6)
    np.testing.assert_allclose(np.sqrt(np.diag(result.covariance)), np.sqrt(np.diag(pcov)), rtol=1e-4)
    np.testing.assert_allclose(popt, [4.0, 0.3, 0.7, 0.2], atol=0.05)  # and the truth, within a few sd


@pytest.mark.parametrize(
    "text, fragment, part",
    [
        ("b1*(1 - exp(-b2*x)", "syntax error", None),
        ("b1*q", "unknown name 'q'", "q"),
        ("b1*np.exp(x)", "only these functions may be called", "np.exp(x)"),
        (
            "__import__('os').system('echo hi')",
            "only these functions may be called",
            "__import__('os').system('echo hi')",
        ),
        ("b1*__import__('os')", "only these functions may be called", "__import__('os')"),
        ("b1*x.real", "Attribute is not allowed", "x.real"),
        ("(lambda t: t)(x)", "only these functions may be called", "(lambda t: t)(x)"),
        ("b1*[t for t in x][0]", "Subscript is not allowed", "[t for t in x][0]"),
        ("b1 if x else 0", "IfExp is not allowed", "b1 if x else 0"),
        ("b1*x < 3", "Compare is not allowed", "b1*x < 3"),
        ("open('f')", "only these functions may be called", "open('f')"),
        ("exp(x, b1)", "exactly one argument", "exp(x, b1)"),
        ("b1*'text'", "Constant is not allowed", "'text'"),
    ],
)
def test_anything_outside_the_whitelist_is_rejected_with_the_offending_part(text, fragment, part):
    with pytest.raises(ExpressionError) as info:
        parse_expression(text, ["b1", "b2"])
    assert fragment in str(info.value)
    if part is not None:
        assert info.value.part == part and repr(part) in str(info.value)


def test_reserved_names_cannot_be_parameters():
    with pytest.raises(ExpressionError, match="reserved"):
        parse_expression("exp*x", ["exp"])


def test_compiled_expressions_pickled_to_another_process_give_the_same_numbers_without_sympy():
    """What the Snakefile hands its jobs: every whitelisted function, the constants and
    several variables survive the trip as generated code, bit for bit, and the job never
    imports sympy (its import and compilation cost 0.4 s per job). A linear model's exact
    design rows are compiled again on first use and match the original's."""
    import json
    import pickle
    import subprocess
    import sys

    from fitflow.inputs.expression import FUNCTIONS, compile_expression, compiled_expressions

    calls = " + ".join(f"{name}(b/(3 + x))" for name in FUNCTIONS)
    cases = [
        (f"a*({calls}) + pi*e*b", ("a", "b"), ("x",)),
        ("a*sin(u) + b*sqrt(abs(v)) + u*v", ("a", "b"), ("u", "v")),
        ("a*x + b*x**2", ("a", "b"), ("x",)),
    ]
    points = np.linspace(0.1, 0.9, 7)
    args = {2: (points, 0.3, 0.6), 3: (points, 1 - points, 0.3, 0.6)}

    def numbers(compiled, arity):
        values = [compiled.value(*args[arity]), *(d(*args[arity]) for d in compiled.derivatives)]
        return [np.broadcast_to(np.asarray(v, dtype=float), points.shape).tolist() for v in values]

    expected = [numbers(compile_expression(*case), 1 + len(case[2])) for case in cases]
    exact = [[str(v) for v in row] for row in compile_expression(*cases[2]).exact_design_rows(points[:3])]
    child = """
import json, pickle, sys
import numpy as np
from fitflow.inputs.expression import adopt_compiled_expressions, compile_expression
adopt_compiled_expressions(pickle.loads(sys.stdin.buffer.read()))
cases, points = json.loads(sys.argv[1]), np.linspace(0.1, 0.9, 7)
args = {2: (points, 0.3, 0.6), 3: (points, 1 - points, 0.3, 0.6)}
out = []
for text, params, variables in cases:
    compiled = compile_expression(text, tuple(params), tuple(variables))
    values = [compiled.value(*args[1 + len(variables)]), *(d(*args[1 + len(variables)]) for d in compiled.derivatives)]
    out.append([np.broadcast_to(np.asarray(v, dtype=float), points.shape).tolist() for v in values])
imported = "sympy" in sys.modules
rows = compile_expression(*[tuple(c) if isinstance(c, list) else c for c in cases[2]]).exact_design_rows(points[:3])
print(json.dumps({"numbers": out, "sympy": imported, "exact": [[str(v) for v in row] for row in rows]}))
"""
    blob = pickle.dumps(compiled_expressions())
    result = subprocess.run(
        [sys.executable, "-c", child, json.dumps(cases)], input=blob, capture_output=True, check=True
    )
    got = json.loads(result.stdout)
    assert got["sympy"] is False
    assert got["numbers"] == expected  # bit for bit: the same generated code on the same numpy
    assert got["exact"] == exact
