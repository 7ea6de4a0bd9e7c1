"""The campaign figures draw a parameter as it was written: a choice's axis labelled with its
options, a log-scale knob on a log axis."""

import matplotlib

matplotlib.use("Agg")

import numpy as np

from fitflow.report.campaigns import points_figure, slices_figure


def summary():
    x = np.array([[0.8, 0.0], [1.2, 1.0], [1.6, 2.0], [1.1, 1.0]])
    return {
        "method": "bayesopt",
        "names": ["power", "gas"],
        "parameters": {"power": [0.5, 2.0], "gas": {"choices": ["helium", "argon", "neon"]}},
        "history": {"x": x.tolist(), "round": [0, 0, 0, 1], "status": ["ok"] * 4},
        "recommended": {"x": [1.1, 1.0], "params": {"power": 1.1, "gas": "argon"}},
        "slices": [
            {"name": "power", "grid": np.linspace(0.5, 2, 5).tolist(), "mean": [1, 0.5, 0, 0.5, 1], "sd": [0.1] * 5},
            {"name": "gas", "grid": [0, 1, 2], "mean": [0.5, 0.0, 0.8], "sd": [0.05] * 3},
        ],
    }


def test_choice_axes_show_the_options():
    fig = points_figure(summary())
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == ["helium", "argon", "neon"]
    fig = slices_figure(summary(), "C0")
    assert [t.get_text() for t in fig.axes[1].get_xticklabels()] == ["helium", "argon", "neon"]
    # The recommended option's line sits at its index, not at a string's category position.
    assert fig.axes[1].lines[-1].get_xdata()[0] == 1.0


def test_a_log_parameter_gets_a_log_axis():
    logged = summary()
    logged["parameters"]["power"] = {"bounds": [0.5, 2.0], "type": "float", "scale": "log"}
    fig = points_figure(logged)
    assert fig.axes[0].get_xscale() == "log" and fig.axes[0].get_yscale() == "linear"
    fig = slices_figure(logged, "C0")
    assert fig.axes[0].get_xscale() == "log" and fig.axes[1].get_xscale() == "linear"
    assert points_figure(summary()).axes[0].get_xscale() == "linear"
