"""Plugin classes for the registry tests, reached through fake entry points."""

from fitflow import FitResult, Method, Problem


class GoodMethod(Method):
    name = "good"
    version = "1"
    description = "a method that does nothing"
    capabilities = frozenset({"linear"})

    def fit(self, dataset, rng):
        return FitResult(diagnostics={"nothing": True})


class MisnamedMethod(GoodMethod):
    name = "something_else"


NOT_A_CLASS = 42


class AProblem(Problem):
    name = "good"
