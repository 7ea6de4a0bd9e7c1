"""A reader for NIST StRD nonlinear-regression files (test support, not package code).

Each file holds a model in NIST's notation, two starting points, certified
parameter values with standard deviations, the certified residual sum of
squares, and the data. :func:`read_strd` returns them as plain Python values,
with the model translated into fitflow's expression syntax (``exp[...]`` becomes
``exp(...)``). Nelson's model is stated for ``log[y]``; its response is then
``log(y)``, which :attr:`StrdProblem.response` says.
"""

from dataclasses import dataclass
from pathlib import Path
import re

import numpy as np

NIST_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "nist-strd"

_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[EeDd][-+]?\d+)?"


@dataclass
class StrdProblem:
    name: str
    expression: str
    params: list
    starts: list  # two lists of starting values
    certified: np.ndarray
    certified_sd: np.ndarray
    certified_rss: float
    response: str  # "y" or "log(y)"
    variables: list
    y: np.ndarray
    x: np.ndarray  # (n,) or (n, k)


def _line_range(text, label):
    match = re.search(rf"{label}\s+\(lines\s+(\d+)\s+to\s+(\d+)\)", text)
    return int(match.group(1)), int(match.group(2))


def _model_text(lines):
    start = next(i for i, line in enumerate(lines) if line.startswith("Model:"))
    body = []
    for line in lines[start + 2 :]:
        if re.match(r"\s*Starting [Vv]alues", line):
            break
        stripped = line.strip()
        if stripped and not stripped.startswith("pi ="):
            body.append(stripped)
    text = " ".join(body)
    left, right = text.split("=", 1)
    right = re.sub(r"\+\s*e\s*$", "", right.strip()).strip()
    return left.strip(), right.replace("[", "(").replace("]", ")")


def read_strd(path):
    """Parse one NIST StRD ``.dat`` file."""
    path = Path(path)
    text = path.read_text()
    lines = text.splitlines()
    left, expression = _model_text(lines)
    first, last = _line_range(text, "Certified Values")
    params, starts1, starts2, certified, sds = [], [], [], [], []
    for line in lines[first - 1 : last]:
        match = re.match(rf"\s*(b\d+)\s*=\s*({_NUMBER})\s+({_NUMBER})\s+({_NUMBER})\s+({_NUMBER})", line)
        if match:
            params.append(match.group(1))
            values = [float(match.group(i).replace("D", "E")) for i in range(2, 6)]
            starts1.append(values[0])
            starts2.append(values[1])
            certified.append(values[2])
            sds.append(values[3])
        rss = re.match(rf"\s*Residual Sum of Squares:\s+({_NUMBER})", line)
        if rss:
            certified_rss = float(rss.group(1))
    first, last = _line_range(text, "Data")
    header = lines[first - 2].split(":", 1)[1].split()
    data = np.array([[float(v) for v in line.split()] for line in lines[first - 1 : last] if line.strip()])
    variables = header[1:]
    y = data[:, 0]
    x = data[:, 1] if len(variables) == 1 else data[:, 1:]
    response = "log(y)" if left.startswith("log") else "y"
    return StrdProblem(
        path.stem,
        expression,
        params,
        [starts1, starts2],
        np.array(certified),
        np.array(sds),
        certified_rss,
        response,
        variables,
        y,
        x,
    )


def lre(estimate, certified):
    """NIST's log relative error: about the number of correct significant digits (capped at 15)."""
    estimate, certified = np.asarray(estimate, float), np.asarray(certified, float)
    with np.errstate(divide="ignore", invalid="ignore"):
        relative = np.abs(estimate - certified) / np.abs(certified)
        value = -np.log10(relative)
    return np.where(np.isfinite(value), np.minimum(value, 15.0), np.where(relative == 0, 15.0, 0.0))


def all_problems():
    return [read_strd(p) for p in sorted(NIST_DIR.glob("*.dat"))]


def write_csv(problem, folder):
    """The data as a CSV a user would write: predictor columns, then the response."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{problem.name}.csv"
    response = np.log(problem.y) if problem.response != "y" else problem.y
    response_name = "log_y" if problem.response != "y" else "y"
    x = problem.x.reshape(len(problem.y), -1)
    lines = [",".join([*problem.variables, response_name])]
    lines += [",".join(repr(float(v)) for v in [*row, r]) for row, r in zip(x, response)]
    path.write_text("\n".join(lines) + "\n")
    return path


def table_settings(problem, csv, start, model=None):
    """Settings of the ``table`` problem that fit ``problem`` from starting point ``start`` (0 or 1);
    ``model`` in place of its expression (a ``file.py:function``, say)."""
    return {
        "file": str(csv),
        "x": list(problem.variables),
        "y": "log_y" if problem.response != "y" else "y",
        "model": model or problem.expression,
        "params": list(problem.params),
        "p0": list(problem.starts[start]),
        "cv_folds": 0,
    }


def write_jax_module(problems, folder):
    """A Python file with each model written as a function of ``jax.numpy`` (``Misra1a(x, b1,
    b2)``, as a user would write it; several variables are the columns of ``x``); its path."""
    lines = ["import jax.numpy as jnp", "from jax.numpy import arctan, cos, exp, pi, sin", ""]
    for problem in problems:
        lines.append(f"def {problem.name}(x, {', '.join(problem.params)}):")
        if len(problem.variables) > 1:
            lines.append(f"    {', '.join(problem.variables)} = (x[:, i] for i in range({len(problem.variables)}))")
        else:
            lines.append(f"    {problem.variables[0]} = x")
        lines += [f"    return {problem.expression}", ""]
    path = Path(folder) / "nist_jax_models.py"
    path.write_text("\n".join(lines))
    return path


def nlls_lre(problem, csv, start, model=None):
    """Fit with fitflow's nlls through the table problem; return LREs and the fit."""
    import fitflow

    data = fitflow.generate(fitflow.make_problem("table", **table_settings(problem, csv, start, model)))
    result = fitflow.fit("nlls", data)
    if not result.ok:
        return None, result
    residuals = data.y - result.y_fit
    rss = float(residuals @ residuals)
    return {
        "params": lre(result.estimate_vector(), problem.certified),
        "sd": lre(result.stderr_vector(), problem.certified_sd),
        "rss": float(lre(rss, problem.certified_rss)),
    }, result
