"""Model expressions from a config, parsed safely, differentiated exactly.

A user writes ``b1*(1 - exp(-b2*x))``. The text is parsed by Python's ``ast``
module and every node is checked against a whitelist: numbers, the four
arithmetic operators and powers, parameter, constant and variable names, ``pi``
and ``e``, and calls of a fixed set of numpy functions. Anything else (attribute
access, subscripts, other calls, ``__import__``, lambdas, comprehensions, ...)
is rejected with an error that quotes the offending part. The raw text is never
evaluated.

Hostile or accidental text cannot hang or crash the parser: the text's length,
its number of nodes and its nesting depth are capped, a constant power whose
value would overflow double precision (``10**10**10``) is refused before any
arithmetic, non-ASCII characters are refused with their code points (Python
would silently fold ``𝐛`` into ``b``), and every exception of Python's parser or
of sympy becomes an :class:`ExpressionError`.

The checked tree is translated node by node into a sympy expression, which
gives the exact derivatives in every parameter, decides exactly whether the
model is linear in its parameters (see :func:`linearity`), and is compiled to
numpy functions whose arguments are renamed, so no parameter name can shadow a
function the generated code calls.
"""

import ast
import builtins
import inspect
import math
import unicodedata

import numpy as np

from ..core.errors import FitflowError
from ..core.model import ParametricModel

__all__ = [
    "ExpressionError",
    "FUNCTIONS",
    "expression_names",
    "parse_expression",
    "compile_expression",
    "expression_model",
    "linearity",
    "check_ascii_name",
    "LIMITS",
    "compiled_expressions",
    "adopt_compiled_expressions",
]

#: Functions an expression may call: name in the expression -> sympy function name.
FUNCTIONS = {
    "exp": "exp",
    "log": "log",
    "log10": None,
    "sqrt": "sqrt",
    "sin": "sin",
    "cos": "cos",
    "tan": "tan",
    "arcsin": "asin",
    "arccos": "acos",
    "arctan": "atan",
    "sinh": "sinh",
    "cosh": "cosh",
    "tanh": "tanh",
    "abs": "Abs",
    "erf": "erf",
    "erfc": "erfc",
}
#: Functions of :data:`FUNCTIONS` that numpy lacks: evaluated by ``scipy.special``.
_SPECIAL = ("erf", "erfc")
CONSTANTS = ("pi", "e")
_OPERATORS = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow)
#: What an expression may hold at most: characters, syntax-tree nodes, nesting depth,
#: and the magnitude of any constant (a constant power beyond it is refused).
LIMITS = {"length": 4000, "nodes": 1000, "depth": 60, "constant": 1e300}


class ExpressionError(FitflowError, ValueError):
    """An expression that is not a valid, allowed model; ``part`` is the offending text."""

    def __init__(self, message, *, expression, part=None):
        self.expression = expression
        self.part = part
        shown = expression if len(expression) <= 200 else expression[:200] + "..."
        where = f" in {part!r}" if part and part != expression else ""
        super().__init__(f"model expression {shown!r}: {message}{where}")


def _code_points(text):
    return ", ".join(
        f"{c!r} (U+{ord(c):04X} {unicodedata.name(c, 'unnamed')})" for c in dict.fromkeys(text) if ord(c) > 127
    )


def check_ascii_name(name):
    """A message saying why ``name`` is not a plain ASCII identifier, or ``None`` if it is."""
    if not name.isascii():
        return (
            f"name {name!r} holds non-ASCII characters {_code_points(name)}; lookalike letters are "
            f"different names (or silently the same one), so use ASCII letters, digits and '_'"
        )
    if not name.isidentifier():
        return f"name {name!r} is not a valid name (letters, digits and '_', not starting with a digit)"
    return None


def _check_shape(text):
    """Refuse text that is too long, non-ASCII, unparsable, too big or too deep, before any sympy work."""
    if not isinstance(text, str) or not text.strip():
        raise ExpressionError("must be a non-empty text", expression=str(text))
    if len(text) > LIMITS["length"]:
        raise ExpressionError(
            f"is {len(text)} characters long; at most {LIMITS['length']} are allowed", expression=text
        )
    if not text.isascii():
        raise ExpressionError(
            f"holds non-ASCII characters {_code_points(text)}; write it in ASCII "
            f"(Python would read some lookalikes as other letters)",
            expression=text,
        )
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        raise ExpressionError(f"syntax error at column {exc.offset}: {exc.msg}", expression=text) from None
    except (ValueError, RecursionError, MemoryError) as exc:  # huge literals, absurd nesting
        raise ExpressionError(f"cannot be parsed: {type(exc).__name__}: {exc}", expression=text) from None
    count, stack = 0, [(tree, 0)]
    while stack:
        node, depth = stack.pop()
        count += 1
        if count > LIMITS["nodes"]:
            raise ExpressionError(
                f"has more than {LIMITS['nodes']} parts; write a callable model instead", expression=text
            )
        if depth > LIMITS["depth"]:
            raise ExpressionError(f"is nested more than {LIMITS['depth']} levels deep", expression=text)
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))
    return tree


def expression_names(text, keep_constants=False):
    """The names an expression reads, in the order they first appear, without the functions
    it calls and (unless ``keep_constants``) the constants ``pi`` and ``e``: what its
    parameters and variables must cover (``"b1*(1 - exp(-b2*t))"`` -> ``["b1", "b2", "t"]``)."""
    tree = _check_shape(text)
    called = {id(node.func) for node in ast.walk(tree) if isinstance(node, ast.Call)}
    names = sorted(
        ((node.lineno, node.col_offset), node.id)
        for node in ast.walk(tree)
        if isinstance(node, ast.Name) and id(node) not in called and (keep_constants or node.id not in CONSTANTS)
    )
    return list(dict.fromkeys(name for _, name in names))


def parse_expression(text, parameters, variables=("x",), constants=None):
    """Check ``text`` and return it as a sympy expression in ``parameters`` and ``variables``,
    in two steps: check the names (:func:`_check_names`), then translate the syntax tree node
    by node (:class:`_ToSympy`), refusing any node that is not a number, a name, an arithmetic
    operator or an allowed function.

    ``constants`` maps further names to fixed numbers, substituted exactly.
    """
    constants = dict(constants or {})
    tree = _check_shape(text)
    _check_names(text, set(parameters) | set(variables), constants)
    try:
        return _ToSympy(text, parameters, variables, constants).visit(tree)[0]
    except ExpressionError:
        raise
    except (RecursionError, MemoryError, ValueError, TypeError, ArithmeticError) as exc:
        raise ExpressionError(f"cannot be handled: {type(exc).__name__}: {exc}", expression=text) from None


def _check_names(text, names, constants):
    """Refuse parameter, variable and constant names that are not ASCII identifiers, that
    shadow a function or constant, or that are given two roles."""
    for name in [*names, *constants]:
        problem = check_ascii_name(name)
        if problem:
            raise ExpressionError(problem, expression=text)
    clash = (names | set(constants)) & (set(FUNCTIONS) | set(CONSTANTS))
    if clash:
        raise ExpressionError(f"{sorted(clash)} are reserved names (functions or constants)", expression=text)
    if names & set(constants):
        raise ExpressionError(
            f"{sorted(names & set(constants))} are both constants and parameters or variables", expression=text
        )


class _ToSympy(ast.NodeVisitor):
    """Translates a checked expression's syntax tree: each ``visit_*`` returns ``(sympy
    expression, float value if the subtree is constant else None)``; a constant subtree
    is refused if it leaves double precision's range. Any other node is refused by
    :meth:`generic_visit`, naming it."""

    def __init__(self, text, parameters, variables, constants):
        import sympy

        self.sympy = sympy
        self.text, self.source = text, text.strip()
        self.parameters, self.variables, self.constants = parameters, variables, constants
        self.symbols = {name: sympy.Symbol(name, real=True) for name in [*parameters, *variables]}

    def part(self, node):
        return ast.get_source_segment(self.source, node) or type(node).__name__

    def refuse(self, message, node=None):
        return ExpressionError(message, expression=self.text, part=None if node is None else self.part(node))

    def constant(self, node, value):
        """A number-valued subexpression: refuse it if it leaves double precision's range."""
        if value is not None and not (abs(value) <= LIMITS["constant"]):
            raise self.refuse(
                f"the constant {self.part(node)} is beyond double precision "
                f"(magnitude above {LIMITS['constant']:g}); write the number itself",
                node,
            )
        return value

    def generic_visit(self, node):
        raise self.refuse(
            f"{type(node).__name__} is not allowed (only numbers, names, + - * / **, and allowed functions)", node
        )

    def visit_Expression(self, node):
        return self.visit(node.body)

    def visit_Constant(self, node):
        if not isinstance(node.value, (int, float)) or isinstance(node.value, bool):
            return self.generic_visit(node)
        value = self.constant(node, float(node.value) if abs(node.value) < 1e308 else math.inf)
        exact = self.sympy.Integer(node.value) if isinstance(node.value, int) else self.sympy.Float(node.value)
        return exact, value

    def visit_Name(self, node):
        if node.id in self.symbols:
            return self.symbols[node.id], None
        if node.id in self.constants:
            return self.sympy.Float(self.constants[node.id]), self.constants[node.id]
        if node.id == "pi":
            return self.sympy.pi, math.pi
        if node.id == "e":
            return self.sympy.E, math.e
        raise ExpressionError(
            f"unknown name {node.id!r}; parameters are {sorted(self.parameters)}, variables {sorted(self.variables)}"
            + (f", constants {sorted(self.constants)}" if self.constants else ""),
            expression=self.text,
            part=node.id,
        )

    def visit_BinOp(self, node):
        if not isinstance(node.op, _OPERATORS):
            return self.generic_visit(node)
        left, right = self.visit(node.left), self.visit(node.right)
        op = type(node.op)
        if op is ast.Pow:
            return self.power(node, left, right)
        value = None
        if left[1] is not None and right[1] is not None:
            with np.errstate(all="ignore"):
                a, b = np.float64(left[1]), np.float64(right[1])
                value = float(
                    {ast.Add: a + b, ast.Sub: a - b, ast.Mult: a * b, ast.Div: a / b if b != 0 else np.inf}[op]
                )
            self.constant(node, value)
        result = {
            ast.Add: lambda: left[0] + right[0],
            ast.Sub: lambda: left[0] - right[0],
            ast.Mult: lambda: left[0] * right[0],
            ast.Div: lambda: left[0] / right[0],
        }[op]()
        return result, value

    def power(self, node, left, right):
        base, exponent = left[1], right[1]
        if exponent is not None and base is not None:
            try:
                value = math.fabs(base) ** exponent if base != 0 else 0.0
            except (OverflowError, ZeroDivisionError):
                value = math.inf
            self.constant(node, value)
            return left[0] ** right[0], math.copysign(value, base) if base < 0 and exponent % 2 == 1 else value
        if exponent is not None and abs(exponent) > 1000:
            raise self.refuse(f"the exponent {exponent:g} is too large (at most 1000)", node)
        return left[0] ** right[0], None

    def visit_UnaryOp(self, node):
        if not isinstance(node.op, (ast.USub, ast.UAdd)):
            return self.generic_visit(node)
        operand, value = self.visit(node.operand)
        if isinstance(node.op, ast.USub):
            return -operand, None if value is None else -value
        return operand, value

    def visit_Call(self, node):
        if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
            raise self.refuse(f"only these functions may be called: {', '.join(sorted(FUNCTIONS))}", node)
        if node.keywords or len(node.args) != 1:
            raise self.refuse("functions take exactly one argument", node)
        argument, value = self.visit(node.args[0])
        if value is not None:  # a function of a constant: keep it within range, like any constant
            with np.errstate(all="ignore"):
                numeric = _numeric_function(node.func.id)(value)
            self.constant(node, float(numeric) if np.isfinite(numeric) else None)
        if node.func.id == "log10":
            return self.sympy.log(argument) / self.sympy.log(10), None
        return getattr(self.sympy, FUNCTIONS[node.func.id])(argument), None


def _columns(x):
    x = np.asarray(x, dtype=float)
    return [x] if x.ndim == 1 else [x[:, i] for i in range(x.shape[1])]


def expression_model(text, parameters, p0, bounds=None, variables=("x",), constants=None):
    """A :class:`~fitflow.core.model.ParametricModel` from an expression, with its exact Jacobian.

    With one variable the model takes ``x`` of shape ``(n,)``; with several, shape
    ``(n, k)`` whose columns are the variables in order. A model linear in its
    parameters also gets its design matrix, in double and in extended precision.
    """
    constants_key = tuple(sorted((constants or {}).items()))
    compiled = compile_expression(text, tuple(parameters), tuple(variables), constants_key)
    value, derivatives = compiled.value, compiled.derivatives

    def function(x, theta):
        cols = _columns(x)
        out = np.asarray(value(*cols, *theta), dtype=float)
        return out if out.shape == cols[0].shape else np.broadcast_to(out, cols[0].shape)

    def jacobian(x, theta):
        cols = _columns(x)
        out = np.empty((*cols[0].shape, len(derivatives)))
        for j, derivative in enumerate(derivatives):
            out[..., j] = derivative(*cols, *theta)  # a constant derivative broadcasts
        return out

    design = exact_design = None
    if compiled.linear:
        zeros = np.zeros(len(parameters))

        def design(x):
            return jacobian(x, zeros)

        def exact_design(x):
            return compiled.exact_design_rows(x)

    return ParametricModel(
        function=function,
        param_names=parameters,
        p0=p0,
        bounds=bounds,
        jacobian=jacobian,
        design=design,
        exact_design=exact_design,
        linearity=compiled.linearity,
        jax_function=compiled.jax_function(),
    )


class _Compiled:
    """An expression compiled to numpy functions, with its linearity decided exactly.

    It pickles as the generated numpy code (see :meth:`__getstate__`), so a job handed
    the compiled expressions of the Snakefile's plan runs them without importing sympy."""

    def __init__(self, text, parameters, variables, constants):
        import sympy

        self._key = (text, parameters, variables, constants)

        expression = parse_expression(text, parameters, variables, dict(constants))
        param_symbols = [sympy.Symbol(p, real=True) for p in parameters]
        named = [*(sympy.Symbol(v, real=True) for v in variables), *param_symbols]
        # The generated code sees arguments named _a0, _a1, ...: no user name can shadow
        # a function it calls (the derivative of abs calls numpy's sign).
        safe = [sympy.Symbol(f"_a{i}", real=True) for i in range(len(named))]
        rename = dict(zip(named, safe))
        # The error functions are scipy.special's ufuncs (with numpy alone lambdify takes math.erf,
        # which fails on arrays); other expressions keep numpy alone.
        modules = ["scipy", "numpy"] if expression.has(sympy.erf, sympy.erfc) else "numpy"
        try:
            gradient = [sympy.diff(expression, s) for s in param_symbols]
            self.value = sympy.lambdify(safe, expression.xreplace(rename), modules=modules)
            self.derivatives = tuple(sympy.lambdify(safe, d.xreplace(rename), modules=modules) for d in gradient)
            kind, self.linearity = _linearity_kind(expression, gradient, param_symbols)
            self.linear = kind == "linear"
            # Every second derivative in the parameters zero: one least-squares minimum, reached from anywhere.
            self.curvature_free = kind in ("linear", "affine")
            self._exact = None
            if self.linear:
                self._exact = [
                    sympy.lambdify(safe[: len(variables)], d.xreplace(rename), modules="mpmath") for d in gradient
                ]
        except (RecursionError, MemoryError, ValueError, TypeError, ArithmeticError, SyntaxError) as exc:
            raise ExpressionError(f"cannot be compiled: {type(exc).__name__}: {exc}", expression=text) from None
        self.n_variables = len(variables)

    def exact_design_rows(self, x):
        """The design matrix as rows of mpmath numbers at 34 digits (``x`` taken as exact)."""
        import mpmath

        if self._exact is None:  # unpickled: compiled again on first use (rarely needed)
            self._exact = _Compiled(*self._key)._exact
        with mpmath.workdps(34):
            rows = []
            for point in np.asarray(x, dtype=float).reshape(len(x), -1):
                args = [mpmath.mpf(float(v)) for v in point[: self.n_variables]]
                rows.append([mpmath.mpmathify(f(*args)) for f in self._exact])
            return rows

    def jax_value(self):
        """The value function with jax.numpy in place of numpy, so JAX can differentiate
        it; None where its generated code calls something JAX lacks."""
        if "_jax_value" not in self.__dict__:
            portable = self._descriptions()[0]
            try:
                self._jax_value = portable and _rebuilt(*portable, backend="jax")
            except AttributeError:
                self._jax_value = None
        return self._jax_value

    def jax_function(self):
        """``f(x, theta)`` traced by JAX (jax.numpy in place of numpy): one object per compiled
        expression, so that every model of it reaches the same compiled programs
        (:func:`fitflow.core.autodiff.shared_derivatives`)."""
        if "_jax_function" not in self.__dict__:
            text, parameters = self._key[0], self._key[1]

            def jax_function(x, theta):
                value_jax = self.jax_value()
                if value_jax is None:
                    raise TypeError(f"the expression {text!r} calls a function JAX does not provide")
                cols = [x] if x.ndim == 1 else [x[:, i] for i in range(x.shape[1])]
                out = value_jax(*cols, *(theta[i] for i in range(len(parameters))))
                return out + 0.0 * cols[0]  # a constant broadcasts to the points

            self._jax_function = jax_function
        return self._jax_function

    def __getstate__(self):
        """The generated source of the numpy functions and where each name they call comes
        from: compiling with sympy costs a job 0.4 s (its import, differentiation and
        ``lambdify``), running the generated code nothing. A function calling anything but
        numpy's functions, builtins or a number is pickled as the expression's text alone,
        compiled again on load. The mpmath design rows are compiled again on first use."""
        functions = self._descriptions()
        state = {**self.__dict__, "_exact": None, "value": None, "derivatives": None, "_descriptions_": None}
        state.pop("_jax_value", None)
        state.pop("_jax_function", None)
        state["_portable"] = None if None in functions else functions
        return state

    def __setstate__(self, state):
        functions = state.pop("_portable")
        if functions is None:
            self.__dict__.update(_Compiled(*state["_key"]).__dict__)
            return
        self.__dict__.update(state)
        self.value, *derivatives = (_rebuilt(*f) for f in functions)
        self.derivatives = tuple(derivatives)
        # A rebuilt function has no source file to read back: keep its description, which
        # pickles it again and gives its JAX form (jax_value).
        self._descriptions_ = functions

    def _descriptions(self):
        """:func:`_portable` of the value and of each derivative (None where one is not)."""
        if self.__dict__.get("_descriptions_") is None:
            self._descriptions_ = [_portable(f) for f in (self.value, *self.derivatives)]
        return self._descriptions_


def _numeric_function(name):
    """The numpy (or, for the error functions, scipy.special) function an expression's ``name`` calls."""
    if name in _SPECIAL:
        from scipy import special

        return getattr(special, name)
    return getattr(np, name)


def linearity(expression, gradient, param_symbols):
    """``(is_linear, reason)``: decided exactly on the symbolic expression.

    Linear means every second derivative in the parameters vanishes and no term
    is free of parameters, so that ``f(x, theta) = A(x) @ theta`` with ``A``'s
    columns the first derivatives.
    """
    kind, reason = _linearity_kind(expression, gradient, param_symbols)
    return kind == "linear", reason


def _linearity_kind(expression, gradient, param_symbols):
    """``(kind, reason)``, ``kind`` one of ``"linear"``, ``"affine"`` (every second
    derivative zero, but a term free of parameters), ``"nonlinear"`` or ``"none"`` (no
    parameters). Linear and affine models have one least-squares minimum."""
    import sympy

    if not param_symbols:
        return "none", "the model has no parameters"
    for first, a in zip(gradient, param_symbols):
        for b in param_symbols:
            second = sympy.expand(sympy.diff(first, b))
            if second != 0:
                return "nonlinear", (
                    f"not linear in its parameters: d2f/d{a}d{b} = {sympy.sstr(second)[:80]} is not zero"
                )
    offset = sympy.expand(expression - sum(g * s for g, s in zip(gradient, param_symbols)))
    if offset != 0:
        return "affine", (
            f"affine, not linear: the term {sympy.sstr(offset)[:80]} carries no parameter "
            f"(subtract it from y, or give it a parameter)"
        )
    return "linear", "linear in its parameters: every second derivative in the parameters is zero"


def _portable(function):
    """``(source, {name: origin})`` of a ``lambdify``-generated function, or None when a
    name it calls is not numpy's, an error function of scipy.special, a builtin or a number
    (then it is not rebuilt from text)."""
    code = function.__code__
    if any(isinstance(c, type(code)) for c in code.co_consts):
        return None
    try:
        source = inspect.getsource(function)
    except (OSError, TypeError):
        return None
    origins = {}
    for name in code.co_names:
        obj = function.__globals__.get(name, getattr(builtins, name, None))
        if obj is not None and obj is getattr(np, name, None):
            origins[name] = ("numpy", name)
        elif name in _SPECIAL and obj is _numeric_function(name):
            origins[name] = ("scipy.special", name)
        elif obj is not None and obj is getattr(builtins, name, None):
            origins[name] = ("builtins", name)
        elif type(obj) in (float, int):
            origins[name] = ("value", obj)
        else:
            return None
    return source, origins


def _rebuilt(source, origins, backend="numpy"):
    """The function :func:`_portable` described, executed from its source; with
    ``backend="jax"`` its numpy and scipy.special calls are JAX's own (an AttributeError
    where JAX lacks one)."""
    namespace = {"__builtins__": builtins}
    if backend == "jax":
        from ..core.autodiff import jax_modules

        jax, numeric = jax_modules()
        import jax.scipy.special as special
    else:
        numeric, special = np, None
    for name, (kind, what) in origins.items():
        if kind == "value":
            namespace[name] = what
        elif kind == "scipy.special":
            namespace[name] = getattr(special, what) if special else _numeric_function(what)
        else:
            namespace[name] = getattr(numeric if kind == "numpy" else builtins, what)
    exec(compile(source, "<fitflow-expression>", "exec"), namespace)  # noqa: S102 (sympy's own generated code)
    return namespace[_defined_name(source)]


def _defined_name(source):
    """The name of the function ``source`` defines."""
    return source.split("def ", 1)[1].split("(", 1)[0].strip()


#: Compiled expressions by their arguments to :func:`compile_expression`, oldest first.
_COMPILED = {}
_COMPILED_KEPT = 256


def compile_expression(text, parameters, variables, constants=()):
    """The compiled expression (cached: sympy is slow): ``.value`` and ``.derivatives`` are
    numpy functions of ``(*variables, *parameters)``; ``.linear``/``.linearity`` say whether
    and why the model is linear in its parameters, ``.curvature_free`` whether it is linear or
    affine (one least-squares minimum)."""
    key = (text, parameters, variables, constants)
    compiled = _COMPILED.get(key)
    if compiled is None:
        compiled = _Compiled(*key)
        if len(_COMPILED) >= _COMPILED_KEPT:
            del _COMPILED[next(iter(_COMPILED))]
        _COMPILED[key] = compiled
    return compiled


def compiled_expressions():
    """Every expression compiled in this process (picklable: see :class:`_Compiled`), for
    :func:`adopt_compiled_expressions` in another."""
    return dict(_COMPILED)


def adopt_compiled_expressions(compiled):
    """Take expressions compiled elsewhere (:func:`compiled_expressions`) into this process's cache."""
    _COMPILED.update(compiled)
