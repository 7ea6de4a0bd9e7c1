"""The exceptions fitflow raises on purpose.

Every error a user can cause (a bad config key, an ill-typed setting, an unknown
plugin, a malformed data file) is a :class:`FitflowError`, so callers and tests can
tell "you gave me something wrong" apart from a bug. Each carries the data it
complains about as attributes, and its message says where, what was expected and
what was got.
"""

__all__ = [
    "FitflowError",
    "ConfigError",
    "SettingsError",
    "PluginNotFoundError",
    "PluginLoadError",
    "IncompatiblePairError",
    "ArtefactError",
    "DataError",
    "ModelError",
]


class FitflowError(Exception):
    """Base class of every error fitflow raises about its input."""

    def __reduce__(self):
        # Pickling (a process pool sending the error back) rebuilds an exception by calling
        # its class with ``args``, which keyword-only constructors refuse: the pool then
        # dies with BrokenProcessPool instead of the message. Rebuild from the message and
        # the attributes instead.
        return _rebuild, (type(self), self.args, self.__dict__)


def _rebuild(cls, args, state):
    base = next(b for b in cls.__mro__ if b.__module__ == "builtins")  # OSError for ArtefactError
    error = base.__new__(cls, *args)
    base.__init__(error, *args)
    error.__dict__.update(state)
    return error


class ConfigError(FitflowError, ValueError):
    """An experiment config is invalid.

    ``source`` is the file (or ``"<config>"``), ``key`` the dotted path of the
    offending entry and ``value`` what was found there.
    """

    def __init__(self, message, *, source="<config>", key=None, value=None):
        self.source = source
        self.key = key
        self.value = value
        where = f"{source}" + (f", key '{key}'" if key else "")
        if value is not None and repr(value) not in message:
            message = f"{message}; got {value!r}"
        self.reason = message  # the message without its "file, key" prefix
        super().__init__(f"{where}: {message}")


class SettingsError(FitflowError, ValueError):
    """A plugin was given an unknown or ill-typed setting."""

    def __init__(self, message, *, plugin, key, value=None):
        self.plugin = plugin
        self.key = key
        self.value = value
        super().__init__(message)


class PluginNotFoundError(FitflowError, LookupError):
    """No plugin of that name is registered; ``available`` lists the names that are."""

    def __init__(self, group, name, available):
        self.group = group
        self.name = name
        self.available = sorted(available)
        listing = ", ".join(self.available) or "(none)"
        super().__init__(
            f"no {group} plugin named '{name}'; available: {listing}. Run 'fitflow plugins' to see what is installed."
        )


class PluginLoadError(FitflowError, ImportError):
    """A registered plugin's entry point failed to import; the cause is chained."""

    def __init__(self, group, name, distribution, cause):
        self.group = group
        self.name = name
        self.distribution = distribution
        self.cause = cause
        super().__init__(
            f"{group} plugin '{name}' from distribution '{distribution}' failed to "
            f"load: {type(cause).__name__}: {cause}"
        )


class IncompatiblePairError(FitflowError, ValueError):
    """A config asked for a method on a problem whose kind it does not serve."""

    def __init__(self, problem, method, problem_caps, method_caps):
        self.problem = problem
        self.method = method
        super().__init__(
            f"method '{method}' cannot fit problem '{problem}': the method serves "
            f"{sorted(method_caps)} but the problem is {sorted(problem_caps)}"
        )


class ArtefactError(FitflowError, OSError):
    """An artefact on disk is missing, truncated or of the wrong format."""


class DataError(FitflowError, ValueError):
    """A data file cannot be used as observations.

    ``file`` is the path, ``key`` the column (or ``None`` for the whole file),
    ``row`` the 1-based data row where one is at fault, and ``value`` what was found.
    """

    def __init__(self, message, *, file, key=None, value=None, row=None):
        self.file = str(file)
        self.key = key
        self.value = value
        self.row = row
        where = f"data file '{file}'"
        if key is not None:
            where += f", column '{key}'"
        if row is not None:
            where += f", row {row}"
        if value is not None and repr(value) not in message:
            message = f"{message}; got {value!r}"
        super().__init__(f"{where}: {message}")


class ModelError(FitflowError, ValueError):
    """A user's model (expression or callable) cannot be used; ``model`` is its text."""

    def __init__(self, message, *, model):
        self.model = model
        super().__init__(f"model {model!r}: {message}")
