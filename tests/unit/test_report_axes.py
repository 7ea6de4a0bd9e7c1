"""The cost-versus-accuracy figure puts an axis on a log scale only where its values span decades."""

import matplotlib

matplotlib.use("Agg")

import pandas as pd
import pytest

from fitflow.report.figures import cost_accuracy_figure


class Experiment:
    """The three calls the figure makes, on a table of one problem's fits."""

    def __init__(self, rows):
        self._rows = pd.DataFrame(rows)

    def cases(self):
        return [("line", "default")]

    def rows(self, problem, psid):
        return self._rows

    def case_label(self, problem, psid):
        return problem


@pytest.mark.parametrize(
    "times, errors, xscale, yscale",
    [
        ([0.25, 0.29], [2e-5, 2e-2], "linear", "log"),  # times within a decade, errors over three
        ([0.01, 30.0], [0.5, 0.6], "log", "linear"),
        ([0.25, 0.29], [0.5, 0.6], "linear", "linear"),
    ],
)
def test_log_axes_only_where_values_span_decades(times, errors, xscale, yscale):
    rows = [{"method": m, "status": "ok", "rmse": e, "wall_time_s": t} for m, t, e in zip(["gp", "mlp"], times, errors)]
    fig = cost_accuracy_figure(Experiment(rows), {"gp": "C0", "mlp": "C1"})
    ax = fig.axes[0]
    assert (ax.get_xscale(), ax.get_yscale()) == (xscale, yscale)
    assert sorted(line.get_xdata()[0] for line in ax.lines[:2]) == times


def test_no_finite_error_draws_no_figure():
    rows = [{"method": "gp", "status": "failed", "rmse": float("nan"), "wall_time_s": 1.0}]
    assert cost_accuracy_figure(Experiment(rows), {"gp": "C0"}) is None


def test_the_wilson_interval_never_leaves_zero_to_one_nor_excludes_its_value():
    """At 60 of 60 rounding put the upper bound one ulp below 1 (0.9999999999999998), the
    error bar went negative and matplotlib refused to draw the calibration figure."""
    from fitflow.report.data import _binomial_interval

    for successes, trials in [(60, 60), (0, 60), (1, 1), (0, 1), (999, 1000), (7, 12)]:
        low, high = _binomial_interval(successes, trials)
        p = successes / trials
        assert 0.0 <= low <= p <= high <= 1.0, (successes, trials, low, high)
    assert _binomial_interval(60, 60)[1] == 1.0 and _binomial_interval(0, 60)[0] == 0.0


def test_a_fit_figure_is_the_same_bytes_whatever_style_the_process_set(tmp_path):
    """fit.png drawn on demand (fitflow show --figure, or a notebook) must equal the one its job
    drew, even after the report's figures set their style in the same process."""
    import matplotlib

    import fitflow
    from fitflow.evaluation.plots import plot_fit
    from fitflow.report import figures

    data = fitflow.generate("gaussian_peak", seed=0)
    result = fitflow.fit("nlls", data, seed=0)
    plot_fit(data, result, tmp_path / "fresh.png")
    with matplotlib.rc_context():
        figures._pyplot()  # the report's style, set globally
        matplotlib.rcParams["lines.linewidth"] = 7.0  # and a notebook's own
        plot_fit(data, result, tmp_path / "styled.png")
        assert matplotlib.rcParams["lines.linewidth"] == 7.0  # the caller's style is left as it was
    assert (tmp_path / "fresh.png").read_bytes() == (tmp_path / "styled.png").read_bytes()
