"""Run a user's code at one point: a Python callable or an external program.

Shared by optimisation campaigns (one number per run: the objective, with an
optional standard error) and emulated simulations (several named outputs).

**A callable** is named ``package.module:function`` (importable) or
``path/to/file.py:function`` (relative to the working directory). It is called
with the parameters by name.

**A program** is a command template: a list of arguments, or one string split
like a shell would (``shlex``) *before* anything is substituted. Each argument
may contain ``{name}`` placeholders, replaced by the parameter's value. The
program runs without a shell, in a fresh working folder per run, which also
holds ``params.json`` (the parameters by name); a program named by a relative
path (``examples/sim.py``) is found from the directory fitflow runs in. Its result is read from the
last non-empty line of its standard output, or from ``output_file`` in its
folder: numbers separated by whitespace, or JSON (a number, a list, or an
object of named outputs); a comma between digits (``2,699``) is refused as
ambiguous. A
non-zero exit, a time-out, or no readable number makes the run *failed*, with
the end of its standard error kept. At its end or time-out every process the
program started is killed with it (it runs in a session of its own).
"""

import contextlib
from dataclasses import dataclass, field
import importlib
import importlib.util
import json
import math
from pathlib import Path
import re
import shlex
import string
import subprocess
import time

from ..core.errors import ConfigError
from ..core.isolation import ProcessDied, exit_description, guarded
from ..core.timelimit import TimedOut, time_limit

__all__ = ["RunRecord", "CallableRunner", "ProgramRunner", "make_runner", "parse_output", "default_timeout"]

STDERR_KEPT = 4000  # characters of a failed program's standard error kept in its record


@dataclass
class RunRecord:
    """One run: ``outputs`` (numbers, or ``{name: number}``) when it worked; else
    ``status`` ``failed`` and ``reason`` (with ``stderr`` for a program)."""

    status: str
    outputs: object = None
    reason: str = ""
    stderr: str = ""
    seconds: float = 0.0
    extra: dict = field(default_factory=dict)

    def to_json(self):
        return {
            "status": self.status,
            "outputs": self.outputs,
            "reason": self.reason,
            "stderr": self.stderr,
            "seconds": round(self.seconds, 3),
        }


def parse_output(text, where):
    """Numbers from a result's last non-empty line: JSON (a number, a list, an object of
    named numbers) or numbers separated by whitespace (``2.5 0.1``: value and standard
    error) or a comma and a space. ``text`` is ``str`` or UTF-8 ``bytes``. A comma between
    two digits is refused, never guessed: ``2,699`` may be a decimal comma or a value and
    its error. Raises
    ``ValueError`` naming ``where``, the line and the text."""
    if isinstance(text, bytes):
        text = _decoded(text, where)
    lines = [(n, line.strip()) for n, line in enumerate(text.splitlines(), 1) if line.strip()]
    if not lines:
        raise ValueError(f"{where} is empty: no result to read")
    number, last = lines[-1]
    try:
        value = json.loads(last)
    except json.JSONDecodeError:
        if re.search(r"\d,\d", last):
            raise ValueError(
                f"line {number} of {where} is ambiguous: {last[:200]!r} could be a decimal comma or a value "
                "and its error; print numbers separated by spaces ('2.6 0.1'), or JSON ('[2.6, 0.1]')"
            ) from None
        try:
            return [float(token) for token in last.replace(",", " ").split()]
        except ValueError:
            raise ValueError(
                f"line {number} of {where} (its last) is not a number or a JSON value: {last[:200]!r}"
            ) from None
    if _is_number(value):
        return [float(value)]
    if isinstance(value, list) and value and all(_is_number(v) for v in value):
        return [float(v) for v in value]
    if isinstance(value, dict) and value and all(_is_number(v) for v in value.values()):
        return {str(k): float(v) for k, v in value.items()}
    raise ValueError(f"line {number} of {where} (its last) is JSON but not numbers: {last[:200]!r}")


def _is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _decoded(data, where):
    """``data`` as UTF-8 text, or a ValueError naming the first byte that is not."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ValueError(
            f"{where} is not UTF-8 text: byte 0x{data[exc.start]:02x} on line {line} "
            "(print the result as plain ASCII numbers)"
        ) from None


def load_callable(spec, source="<config>", key="function"):
    """The function named ``module:function`` or ``file.py:function``, or a ConfigError."""
    if not isinstance(spec, str) or spec.count(":") != 1:
        raise ConfigError(
            "name a function as 'package.module:function' or 'path/to/file.py:function'",
            source=source,
            key=key,
            value=spec,
        )
    module_name, function_name = spec.split(":")
    try:
        if module_name.endswith(".py"):
            path = Path(module_name)
            if not path.is_file():
                raise ConfigError(f"the file {str(path)!r} does not exist", source=source, key=key, value=spec)
            module = _module_from_file(path)
        else:
            module = _import_from_here(module_name)
    except ConfigError:
        raise
    except Exception as exc:
        raise ConfigError(
            f"cannot import {module_name!r}: {type(exc).__name__}: {exc}", source=source, key=key
        ) from None
    function = getattr(module, function_name, None)
    if not callable(function):
        raise ConfigError(f"{module_name!r} has no function {function_name!r}", source=source, key=key, value=spec)
    return function


#: Modules loaded from a file, by (resolved path, SHA-256 of its bytes): a model is built
#: many times in one process (a comparison's methods, their cross-validation folds), and its
#: module's import must run once, as Python's own import would; an edited file loads anew
#: (by its bytes: an edit within the file system's time resolution keeps the modification time).
_FILE_MODULES = {}


#: The SHA-256 of the bytes each model file's module was last imported from in this process,
#: by resolved path: what a fit actually ran, for the workflow to check against what its
#: dataset recorded (:func:`imported_file_digests`).
_IMPORTED_DIGESTS = {}


def imported_file_digests():
    """``{resolved path: SHA-256}`` of the model files imported in this process (the bytes read)."""
    return dict(_IMPORTED_DIGESTS)


def _module_from_file(path):
    import hashlib

    key = (str(path.resolve()), hashlib.sha256(path.read_bytes()).hexdigest())
    _IMPORTED_DIGESTS[key[0]] = key[1]
    if key not in _FILE_MODULES:
        loader = importlib.util.spec_from_file_location(f"fitflow_user_{path.stem}", path)
        module = importlib.util.module_from_spec(loader)
        loader.loader.exec_module(module)
        _FILE_MODULES[key] = module
    return _FILE_MODULES[key]


def _import_from_here(module_name):
    """Import ``module_name``, finding it in the working directory too (where a job runs,
    and where Python would look for a script's own modules): no PYTHONPATH needed."""
    import os
    import sys

    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        here = os.getcwd()
        top = module_name.split(".")[0]
        if exc.name != top or here in sys.path or not (Path(here, f"{top}.py").is_file() or Path(here, top).is_dir()):
            raise
        sys.path.append(here)
        return importlib.import_module(module_name)


class CallableRunner:
    """Calls a Python function with the parameters by name (in this process)."""

    def __init__(self, spec, names, timeout_s=None, source="<config>", key="function"):
        self.spec, self.names, self.timeout_s = spec, tuple(names), timeout_s
        self.function = load_callable(spec, source, key)

    def run(self, params, workdir=None):
        start = time.perf_counter()
        try:
            # In a workflow job, a call that takes the process down fails this run only.
            with guarded(f"{self.spec}({json.dumps(params, sort_keys=True, default=str)})", self.timeout_s):
                with time_limit(self.timeout_s):
                    returned = self.function(**params)
        except ProcessDied as died:
            return RunRecord("failed", reason=f"{self.spec}: {died.reason}", seconds=time.perf_counter() - start)
        except TimedOut:
            return RunRecord(
                "failed",
                reason=f"{self.spec} timed out after {self.timeout_s:g} s",
                seconds=time.perf_counter() - start,
            )
        except Exception as exc:  # the user's code: a failed run, never a crashed campaign
            return RunRecord(
                "failed", reason=f"{self.spec} raised {type(exc).__name__}: {exc}", seconds=time.perf_counter() - start
            )
        seconds = time.perf_counter() - start
        if isinstance(returned, dict):
            return RunRecord("ok", {str(k): _number(v) for k, v in returned.items()}, seconds=seconds)
        if isinstance(returned, (list, tuple)):
            return RunRecord("ok", [_number(v) for v in returned], seconds=seconds)
        return RunRecord("ok", [_number(returned)], seconds=seconds)


def _number(value):
    """``value`` as a float; NaN (recorded as infeasible) when it is not a finite-able number
    (``None``, text, or an integer past float's range such as ``10**400``)."""
    try:
        return float(value)
    except (TypeError, ValueError, OverflowError):
        return math.nan


class ProgramRunner:
    """Runs a command template in a fresh folder per run, never through a shell."""

    def __init__(self, command, names, timeout_s=None, output_file=None, source="<config>", key="command"):
        if isinstance(command, str):
            try:
                command = shlex.split(command)
            except ValueError as exc:
                raise ConfigError(f"cannot split the command: {exc}", source=source, key=key, value=command) from None
        if not isinstance(command, (list, tuple)) or not command or not all(isinstance(a, str) for a in command):
            raise ConfigError(
                "a command is a non-empty list of strings (or one string)", source=source, key=key, value=command
            )
        used = set()
        for argument in command:
            try:
                fields = [
                    (f, spec, conversion)
                    for _, f, spec, conversion in string.Formatter().parse(argument)
                    if f is not None
                ]
            except ValueError as exc:
                raise ConfigError(f"bad placeholder in {argument!r}: {exc}", source=source, key=key) from None
            for name, spec, conversion in fields:
                if not name.isidentifier() or spec or conversion:
                    raise ConfigError(
                        f"placeholder in {argument!r} is not a parameter name: write it as plain "
                        "{name} (values are passed exactly; format them in your program)",
                        source=source,
                        key=key,
                    )
                used.add(name)
        undefined = sorted(used - set(names))
        if undefined:
            raise ConfigError(
                f"the command uses {', '.join('{' + n + '}' for n in undefined)}, "
                f"which is not a parameter (parameters: {', '.join(names)})",
                source=source,
                key=key,
            )
        unused = [n for n in names if n not in used]
        if unused:
            raise ConfigError(
                f"parameter(s) {', '.join(unused)} never reach the command: add "
                f"{', '.join('{' + n + '}' for n in unused)} to it",
                source=source,
                key=key,
            )
        if "/" in command[0] and not Path(command[0]).is_absolute():
            # The run's folder is fresh, so a program named by a relative path is found from here.
            command = [str(Path(command[0]).absolute())] + list(command[1:])
        self.command, self.names = list(command), tuple(names)
        self.timeout_s, self.output_file = timeout_s, output_file

    def arguments(self, params):
        """The argument list for ``params``: each value substituted into its own argument."""
        return [argument.format(**{k: _format(v) for k, v in params.items()}) for argument in self.command]

    def run(self, params, workdir):
        """Run the program at ``params`` in ``workdir``, in a session of its own: at its end
        or time-out, every process it started (a shell's children, a forked child still
        holding its output) is killed with it. Its output goes to ``stdout.txt`` and
        ``stderr.txt`` in the folder, read as bytes: the result strictly as UTF-8, the
        standard error leniently (for the record)."""
        workdir = Path(workdir)
        workdir.mkdir(parents=True, exist_ok=True)
        (workdir / "params.json").write_text(json.dumps(params, sort_keys=True) + "\n")
        arguments = self.arguments(params)
        start = time.perf_counter()
        with open(workdir / "stdout.txt", "wb") as out, open(workdir / "stderr.txt", "wb") as err:
            try:
                process = subprocess.Popen(
                    arguments, cwd=workdir, stdout=out, stderr=err, stdin=subprocess.DEVNULL, start_new_session=True
                )
            except FileNotFoundError:
                return RunRecord("failed", reason=f"program not found: {arguments[0]!r}")
            except PermissionError:
                return RunRecord("failed", reason=f"program is not executable: {arguments[0]!r}")
            try:
                process.wait(timeout=self.timeout_s)
                timed_out = False
            except subprocess.TimeoutExpired:
                timed_out = True
            finally:
                _kill_session(process)
        seconds = time.perf_counter() - start
        stdout = (workdir / "stdout.txt").read_bytes()
        stderr = (workdir / "stderr.txt").read_bytes().decode("utf-8", errors="replace")[-STDERR_KEPT:]
        if timed_out:
            return RunRecord("failed", reason=f"timed out after {self.timeout_s:g} s", stderr=stderr, seconds=seconds)
        if process.returncode != 0:
            return RunRecord("failed", reason=exit_description(process.returncode), stderr=stderr, seconds=seconds)
        try:
            if self.output_file:
                path = workdir / self.output_file
                if not path.is_file():
                    raise ValueError(f"the program wrote no {self.output_file!r}")
                outputs = parse_output(path.read_bytes(), f"output file {self.output_file!r}")
            else:
                outputs = parse_output(stdout, "the program's standard output")
        except ValueError as exc:
            return RunRecord("failed", reason=str(exc), stderr=stderr, seconds=seconds)
        return RunRecord("ok", outputs, stderr=stderr, seconds=seconds)


def _kill_session(process):
    """Kill the program's whole session (it leads it), then reap the program."""
    import os
    import signal

    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def _format(value):
    """A parameter value as text: integers and options as themselves, floats exactly (``repr`` round-trips)."""
    return str(value) if isinstance(value, (int, str)) else repr(float(value))


def make_runner(settings, names, source="<config>"):
    """A runner from ``function`` or ``command`` (exactly one) plus ``timeout_s`` and ``output_file``."""
    function, command = settings.get("function"), settings.get("command")
    if (function is None) == (command is None):
        raise ConfigError(
            "give exactly one of 'function' (a Python callable) and 'command' (a program)",
            source=source,
            key="function",
        )
    timeout_s = settings.get("timeout_s")
    if function is not None:
        return CallableRunner(function, names, timeout_s, source)
    return ProgramRunner(command, names, timeout_s, settings.get("output_file"), source)


def default_timeout(runner, minutes):
    """Give ``runner`` (if it has no ``timeout_s``) the declared ``runtime`` of the job that
    runs it, in minutes, as its time-out: a run that never ends then fails at the job's
    limit, locally too, where nothing else enforces a job's ``runtime``."""
    if runner is not None and runner.timeout_s is None and minutes:
        runner.timeout_s = 60.0 * float(minutes)
