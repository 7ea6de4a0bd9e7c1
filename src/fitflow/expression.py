"""Model expressions from a config, parsed safely, differentiated exactly.

A user writes ``b1*(1 - exp(-b2*x))``. The text is parsed by Python's ``ast``
module and every node is checked against a whitelist: numbers, the four
arithmetic operators and powers, parameter and variable names, ``pi`` and
``e``, and calls of a fixed set of numpy functions. Anything else (attribute
access, subscripts, other calls, ``__import__``, lambdas, comprehensions, ...)
is rejected with an error that quotes the offending part. The checked tree is
translated node by node into a sympy expression, which gives the exact
derivatives in every parameter; sympy then compiles the expression and its
derivatives to numpy functions. The raw text is never evaluated.
"""

import ast
import functools

import numpy as np

from .errors import FitflowError
from .model import ParametricModel

__all__ = ["ExpressionError", "FUNCTIONS", "parse_expression", "compile_expression", "expression_model"]

#: Functions an expression may call: name in the expression -> sympy function name.
FUNCTIONS = {
    "exp": "exp", "log": "log", "log10": None, "sqrt": "sqrt", "sin": "sin", "cos": "cos", "tan": "tan",
    "arcsin": "asin", "arccos": "acos", "arctan": "atan", "sinh": "sinh", "cosh": "cosh", "tanh": "tanh",
    "abs": "Abs",
}
CONSTANTS = ("pi", "e")
_OPERATORS = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow)


class ExpressionError(FitflowError, ValueError):
    """An expression that is not a valid, allowed model; ``part`` is the offending text."""

    def __init__(self, message, *, expression, part=None):
        self.expression = expression
        self.part = part
        where = f" in {part!r}" if part and part != expression else ""
        super().__init__(f"model expression {expression!r}: {message}{where}")


def parse_expression(text, parameters, variables=("x",)):
    """Check ``text`` and return it as a sympy expression in ``parameters`` and ``variables``."""
    import sympy

    if not isinstance(text, str) or not text.strip():
        raise ExpressionError("must be a non-empty text", expression=str(text))
    names = set(parameters) | set(variables)
    clash = names & (set(FUNCTIONS) | set(CONSTANTS))
    if clash:
        raise ExpressionError(f"{sorted(clash)} are reserved names (functions or constants)", expression=text)
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        raise ExpressionError(f"syntax error at column {exc.offset}: {exc.msg}", expression=text) from None
    symbols = {name: sympy.Symbol(name, real=True) for name in names}

    def part(node):
        return ast.get_source_segment(text.strip(), node) or type(node).__name__

    def convert(node):
        if isinstance(node, ast.Expression):
            return convert(node.body)
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
            return sympy.Float(node.value) if isinstance(node.value, float) else sympy.Integer(node.value)
        if isinstance(node, ast.Name):
            if node.id in symbols:
                return symbols[node.id]
            if node.id == "pi":
                return sympy.pi
            if node.id == "e":
                return sympy.E
            raise ExpressionError(
                f"unknown name {node.id!r}; parameters are {sorted(parameters)}, variables {sorted(variables)}",
                expression=text, part=node.id,
            )
        if isinstance(node, ast.BinOp) and isinstance(node.op, _OPERATORS):
            left, right = convert(node.left), convert(node.right)
            op = type(node.op)
            if op is ast.Add:
                return left + right
            if op is ast.Sub:
                return left - right
            if op is ast.Mult:
                return left * right
            if op is ast.Div:
                return left / right
            return left**right
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            operand = convert(node.operand)
            return -operand if isinstance(node.op, ast.USub) else operand
        if isinstance(node, ast.Call):
            if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
                raise ExpressionError(
                    f"only these functions may be called: {', '.join(sorted(FUNCTIONS))}",
                    expression=text, part=part(node),
                )
            if node.keywords or len(node.args) != 1:
                raise ExpressionError("functions take exactly one argument", expression=text, part=part(node))
            argument = convert(node.args[0])
            if node.func.id == "log10":
                return sympy.log(argument) / sympy.log(10)
            return getattr(sympy, FUNCTIONS[node.func.id])(argument)
        raise ExpressionError(
            f"{type(node).__name__} is not allowed (only numbers, names, + - * / **, and allowed functions)",
            expression=text, part=part(node),
        )

    return convert(tree)


def expression_model(text, parameters, p0, bounds=None, variables=("x",)):
    """A :class:`~fitflow.model.ParametricModel` from an expression, with its exact Jacobian.

    With one variable the model takes ``x`` of shape ``(n,)``; with several, shape
    ``(n, k)`` whose columns are the variables in order.
    """
    value, derivatives = compile_expression(text, tuple(parameters), tuple(variables))

    def columns(x):
        x = np.asarray(x, dtype=float)
        return [x] if x.ndim == 1 else [x[:, i] for i in range(x.shape[1])]

    def function(x, theta):
        cols = columns(x)
        return np.broadcast_to(np.asarray(value(*cols, *theta), dtype=float), cols[0].shape)

    def jacobian(x, theta):
        cols = columns(x)
        return np.column_stack([np.broadcast_to(np.asarray(d(*cols, *theta), dtype=float), cols[0].shape)
                                for d in derivatives])

    return ParametricModel(function=function, param_names=parameters, p0=p0, bounds=bounds, jacobian=jacobian)


@functools.lru_cache(maxsize=64)
def compile_expression(text, parameters, variables):
    """``(value, derivatives)``: numpy functions of ``(*variables, *parameters)`` for the
    expression and its exact derivative in each parameter (cached: sympy is slow)."""
    import sympy

    expression = parse_expression(text, parameters, variables)
    param_symbols = [sympy.Symbol(p, real=True) for p in parameters]
    arguments = [*(sympy.Symbol(v, real=True) for v in variables), *param_symbols]
    value = sympy.lambdify(arguments, expression, modules="numpy")
    derivatives = tuple(sympy.lambdify(arguments, sympy.diff(expression, s), modules="numpy") for s in param_symbols)
    return value, derivatives
