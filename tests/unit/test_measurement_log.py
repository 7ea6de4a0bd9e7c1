"""Ask/tell with a measurement log: ``fitflow suggest`` and every way a log can be broken."""

import csv
import io
import shutil

import numpy as np
import pytest

from fitflow.campaigns.measurement_log import suggest
from fitflow.cli import main
from fitflow.core.errors import ConfigError, DataError
from fitflow_plugins.problems.synthetic.black_box import BENCHMARKS

CAMPAIGN = """\
parameters:
  x1: [-5, 10]
  x2: [0, 15]
direction: minimise
log: shots.csv
seed: 4
noise_sd: null
"""


@pytest.fixture()
def campaign(tmp_path):
    path = tmp_path / "campaign.yaml"
    path.write_text(CAMPAIGN)
    return path


def rows(path):
    return list(csv.DictReader(io.StringIO(path.read_text())))


def measure(path, function, noise=0.0, rng=None):
    """Fill every pending row of the log, as the experimenter would."""
    table = list(csv.reader(io.StringIO(path.read_text())))
    for row in table[1:]:
        if row[2] == "":
            value = function(np.array([float(row[0]), float(row[1])]))
            row[2] = repr(float(value + (noise * rng.standard_normal() if noise else 0.0)))
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(table)
    path.write_text(out.getvalue())


def test_first_suggestion_starts_the_log_with_pending_rows(campaign, capsys):
    assert main(["suggest", str(campaign), "--n", "6"]) == 0
    log = campaign.with_name("shots.csv")
    table = rows(log)
    assert len(table) == 6 and all(r["value"] == "" for r in table)
    assert all(-5 <= float(r["x1"]) <= 10 and 0 <= float(r["x2"]) <= 15 for r in table)
    printed = capsys.readouterr().out
    assert "measure next (6 rows appended" in printed and table[0]["x1"] in printed
    assert campaign.with_name("shots.csv.fitflow.json").exists()


def test_same_log_and_seed_give_the_same_suggestions(campaign, tmp_path):
    suggest(campaign, 5)
    measure(campaign.with_name("shots.csv"), BENCHMARKS["branin"][0])
    copy = tmp_path / "copy"
    copy.mkdir()
    shutil.copy(campaign, copy / "campaign.yaml")
    shutil.copy(campaign.with_name("shots.csv"), copy / "shots.csv")
    first, _ = suggest(campaign, 3)
    second, _ = suggest(copy / "campaign.yaml", 3)
    assert first == second

    def without_times(path):  # the rows but the time each was suggested
        return [{k: v for k, v in row.items() if k != "suggested"} for row in rows(path)]

    assert without_times(campaign.with_name("shots.csv")) == without_times(copy / "shots.csv")


def test_pending_points_are_not_suggested_again(campaign):
    suggest(campaign, 5)
    log = campaign.with_name("shots.csv")
    measure(log, BENCHMARKS["branin"][0])
    first, _ = suggest(campaign, 2)
    second, _ = suggest(campaign, 2)  # the first two are still pending
    points = [(p["x1"], p["x2"]) for p in first + second]
    assert len(set(points)) == 4
    assert sum(r["value"] == "" for r in rows(log)) == 4


@pytest.mark.slow
def test_ask_tell_on_noisy_branin_recommends_a_near_optimal_point(campaign):
    """Ten rounds of 4 noisy measurements (sd 1) after an initial 8: the recommended point's
    true regret is below 1 (Branin spans 0.4 to 300; random search at 48 points gets ~2)."""
    branin, *_, optimum, _ = BENCHMARKS["branin"]
    log, rng = campaign.with_name("shots.csv"), np.random.default_rng(0)
    suggest(campaign, 8)
    for _ in range(10):
        measure(log, branin, noise=1.0, rng=rng)
        suggest(campaign, 4)
    measure(log, branin, noise=1.0, rng=rng)
    _, best = suggest(campaign, 1)
    assert branin(best.x) - optimum < 1.0
    assert np.isfinite(best.sd) and best.sd > 0


@pytest.mark.parametrize(
    "edit, words",
    [
        (lambda t: t.replace(",,", ",abc,", 1), r"column 'value', row 2: 'abc' is not a number"),
        (lambda t: t + "oops,3,1.0,,\n", "column 'x1', row 4: 'oops' is not a number"),
        (lambda t: t + "1,2\n", "row 4: 2 fields where the header has 5"),
        (lambda t: t + "1,2,inf,,\n", "column 'value', row 4: inf is not finite"),
        (lambda t: t + "1,2,3,-1,\n", "column 'error', row 4: -1 must be a number >= 0"),
        (lambda t: t.replace("x2,", "y2,", 1), "no column 'x2'"),
    ],
)
def test_a_broken_log_names_its_row_and_column(campaign, edit, words):
    suggest(campaign, 2)
    log = campaign.with_name("shots.csv")
    log.write_text(edit(log.read_text()))
    before = log.read_bytes()
    with pytest.raises(DataError, match=words) as error:
        suggest(campaign, 1)
    assert str(log) in str(error.value)
    assert log.read_bytes() == before  # nothing appended to a log that does not parse


def test_repeated_shots_are_rows_of_their_own_and_give_the_noise(campaign, capsys):
    """Issue 58: a repeated setting was refused ("average repeated measurements into one row").
    Repeats are the best evidence of the shot-to-shot noise: kept, and the noise they show said."""
    suggest(campaign, 3)
    log = campaign.with_name("shots.csv")
    measure(log, BENCHMARKS["branin"][0])
    table = list(csv.reader(io.StringIO(log.read_text())))
    first = table[1]
    repeats = [1.5, 2.5, 1.0]  # the first setting measured three more times
    for value in repeats:
        table.append([first[0], first[1], repr(float(first[2]) + value), "", ""])
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(table)
    log.write_text(out.getvalue())
    capsys.readouterr()
    assert main(["suggest", str(campaign), "--n", "1"]) == 0
    printed = capsys.readouterr().out
    values = np.array([float(first[2]), *(float(first[2]) + v for v in repeats)])
    sd = np.std(values, ddof=1)  # one setting measured four times: 3 degrees of freedom
    assert (
        f"repeated settings: 1 measured more than once; their spread gives a shot-to-shot noise sd of {sd:.3g} (3 degrees of freedom)"
        in printed
    )
    assert "6 measured (0 failed)" in printed


def test_a_shot_measured_outside_the_bounds_is_kept_with_a_warning(campaign, capsys):
    """Issue 58: power = 3.01 against [0.5, 3] was refused and nothing appended."""
    suggest(campaign, 2)
    log = campaign.with_name("shots.csv")
    measure(log, BENCHMARKS["branin"][0])
    log.write_text(log.read_text() + "10.02,3,17.5,,\n")
    capsys.readouterr()
    suggested, _ = suggest(campaign, 2, out=__import__("sys").stdout)
    printed = capsys.readouterr().out
    assert "measured outside the bounds, kept: row 4: x1 = 10.02 outside [-5, 10] (suggestions stay inside)" in printed
    assert "3 measured" in printed
    assert all(-5 <= p["x1"] <= 10 and 0 <= p["x2"] <= 15 for p in suggested)


def test_asking_again_before_measuring_lists_the_pending_shots_and_appends_nothing(campaign, capsys):
    """Issue 58: each call without filling anything in appended 4 more pending rows (5, 9, 13)."""
    assert main(["suggest", str(campaign), "--n", "4"]) == 0
    log = campaign.with_name("shots.csv")
    before = log.read_bytes()
    capsys.readouterr()
    assert main(["suggest", str(campaign)]) == 0
    printed = capsys.readouterr().out
    assert log.read_bytes() == before
    stamp = rows(log)[0]["suggested"]
    assert stamp.endswith(" UTC") and f"rows 2 ({stamp}), 3 ({stamp})" in printed
    assert "nothing appended: 4 rows are pending" in printed
    assert main(["suggest", str(campaign), "--n", "2"]) == 0  # more, asked for explicitly
    assert sum(r["value"] == "" for r in rows(log)) == 6


def test_a_lost_shot_is_neither_measured_nor_pending_and_a_half_filled_row_is_named(tmp_path, capsys):
    path = tmp_path / "campaign.yaml"
    path.write_text(CAMPAIGN + "constraints: {spread: '<= 0.5'}\n")
    suggest(path, 3)
    log = tmp_path / "shots.csv"
    table = list(csv.reader(io.StringIO(log.read_text())))
    header = table[0]
    table[1][header.index("value")] = "lost"
    table[2][header.index("spread")] = "0.2"  # a diagnostic read, no value yet
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(table)
    log.write_text(out.getvalue())
    capsys.readouterr()
    suggest(path, 0, out=__import__("sys").stdout)
    printed = capsys.readouterr().out
    assert "0 measured (0 failed), 2 pending" in printed
    assert "lost shots, left out: row 2" in printed
    assert "row 3 has spread but no value: pending; write the value, 'failed'" in printed


@pytest.mark.parametrize(
    "extra, key",
    [
        ("parameters:\n  value: [0, 1]\n  x2: [0, 15]\n", "parameters.value"),
        ("constraints: {x1: '<= 3'}\n", "constraints.x1"),
        ("objectives: {x2: minimise, charge: maximise}\n", "objectives.x2"),
        ("constraints: {error: '<= 3'}\n", "constraints.error"),
    ],
)
def test_a_name_that_would_corrupt_the_log_is_refused_up_front(tmp_path, extra, key):
    """Issue 58: a parameter named value, or a constraint or objective named after a parameter,
    was accepted; the first suggest then wrote a duplicated header."""
    text = (
        CAMPAIGN.replace("parameters:\n  x1: [-5, 10]\n  x2: [0, 15]\n", "") if extra.startswith("param") else CAMPAIGN
    )
    path = tmp_path / "campaign.yaml"
    path.write_text(extra + text if extra.startswith("param") else text + extra)
    with pytest.raises(ConfigError) as error:
        suggest(path, 2)
    assert error.value.key == key
    assert not (tmp_path / "shots.csv").exists()


def test_a_changed_bound_is_refused(campaign):
    suggest(campaign, 2)
    campaign.write_text(CAMPAIGN.replace("x2: [0, 15]", "x2: [0, 20]"))
    with pytest.raises(ConfigError, match=r"parameter 'x2' changed from \[0.0, 15.0\] to \[0.0, 20.0\]") as error:
        suggest(campaign, 1)
    assert error.value.key == "parameters.x2"


def test_failed_measurements_are_kept_out_and_reported(campaign, capsys):
    suggest(campaign, 4)
    log = campaign.with_name("shots.csv")
    measure(log, BENCHMARKS["branin"][0])
    lines = log.read_text().splitlines()
    cells = lines[2].split(",")
    cells[2] = "failed"
    lines[2] = ",".join(cells)
    log.write_text("\n".join(lines) + "\n")
    main(["suggest", str(campaign), "--n", "1"])
    assert "4 measured (1 failed)" in capsys.readouterr().out


def test_campaign_file_errors_name_the_key(tmp_path, capsys):
    path = tmp_path / "c.yaml"
    path.write_text(CAMPAIGN.replace("direction: minimise", "direction: sideways"))
    assert main(["suggest", str(path)]) == 2
    assert "key 'direction'" in capsys.readouterr().err
    path.write_text(CAMPAIGN + "budgett: 3\n")
    with pytest.raises(ConfigError, match="unknown key"):
        suggest(path, 1)


def test_a_choice_is_written_and_read_as_its_option(tmp_path, capsys):
    path = tmp_path / "campaign.yaml"
    path.write_text(
        "parameters:\n  power: [0.5, 2.0]\n  gas: {choices: [helium, argon, neon]}\nlog: shots.csv\nseed: 1\n"
    )
    assert main(["suggest", str(path), "--n", "3"]) == 0
    log = path.with_name("shots.csv")
    table = rows(log)
    assert sorted(r["gas"] for r in table) == ["argon", "helium", "neon"]  # a first design shows every option
    assert "argon" in capsys.readouterr().out
    text = log.read_text().splitlines()
    text[1] = text[1].replace(",,", ",0.4,")
    log.write_text("\n".join(text).replace(table[1]["gas"], "krypton", 1) + "\n")
    with pytest.raises(DataError) as error:
        suggest(path, 1)
    assert (
        error.value.key == "gas" and error.value.row == 3 and "'krypton' is not one of the choices" in str(error.value)
    )


def _fill(path, outputs):
    """Fill every pending row's measured columns with ``outputs(row) -> {column: value}``."""
    table = list(csv.DictReader(io.StringIO(path.read_text())))
    header = list(table[0].keys()) if table else []
    for row in table:
        measured = outputs(row)
        if all(row[name] == "" for name in measured):
            row.update({name: repr(float(value)) for name, value in measured.items()})
    out = io.StringIO()
    writer = csv.DictWriter(out, header, lineterminator="\n")
    writer.writeheader()
    writer.writerows(table)
    path.write_text(out.getvalue())


def test_several_objectives_ask_and_tell_through_the_log(tmp_path, capsys):
    """Two squared distances to (0.2, 0.5) and (0.8, 0.5): the log gets a column per objective
    (a row pending while both are empty), and after 26 measured rows the front printed holds
    at least 0.8 of the true front's hypervolume (0.5, 0.5 as reference; measured 0.969-0.975
    for seeds 1-3)."""
    from fitflow.campaigns.pareto import hypervolume

    path = tmp_path / "campaign.yaml"
    path.write_text(
        "parameters: {x: [0, 1], y: [0, 1]}\nlog: shots.csv\nseed: 1\nnoise_sd: 0\n"
        "objectives: {f1: minimise, f2: minimise}\n"
    )
    log = tmp_path / "shots.csv"

    def outputs(row):
        x, y = float(row["x"]), float(row["y"])
        return {"f1": (x - 0.2) ** 2 + (y - 0.5) ** 2, "f2": (x - 0.8) ** 2 + (y - 0.5) ** 2}

    suggest(path, 6)
    assert list(rows(log)[0]) == ["x", "y", "f1", "f2", "suggested"]
    for _ in range(5):
        _fill(log, outputs)
        suggest(path, 4)
    _fill(log, outputs)
    capsys.readouterr()
    assert main(["suggest", str(path), "--n", "0"]) == 0
    printed = capsys.readouterr().out
    assert "Pareto front so far" in printed
    measured = np.array([[float(r["f1"]), float(r["f2"])] for r in rows(log)])
    t = np.linspace(0, 0.6, 20001)
    best = hypervolume(np.column_stack([t**2, (0.6 - t) ** 2]), [0.5, 0.5])
    assert hypervolume(measured, [0.5, 0.5]) >= 0.8 * best


def test_a_constraint_column_keeps_the_recommendation_feasible(tmp_path):
    """Minimise (x - 0.8)^2 with x itself reported as 'position' and required <= 0.5: the
    recommendation is the measured row nearest 0.5 from below, never the unconstrained 0.8."""
    path = tmp_path / "campaign.yaml"
    path.write_text(
        "parameters: {x: [0, 1]}\nlog: shots.csv\nseed: 2\nnoise_sd: 0\nconstraints: {position: '<= 0.5'}\n"
    )
    log = tmp_path / "shots.csv"
    suggest(path, 5)
    assert list(rows(log)[0]) == ["x", "value", "position", "error", "suggested"]
    for _ in range(4):
        _fill(log, lambda row: {"value": (float(row["x"]) - 0.8) ** 2, "position": float(row["x"])})
        suggest(path, 2)
    _fill(log, lambda row: {"value": (float(row["x"]) - 0.8) ** 2, "position": float(row["x"])})
    _, best = suggest(path, 0)
    measured = [float(r["x"]) for r in rows(log)]
    assert best.x[0] <= 0.5 and best.x[0] == max(x for x in measured if x <= 0.5)
    assert any(x > 0.5 for x in measured)  # infeasible rows were measured and kept
    # a constrained column that does not parse names its column and row
    log.write_text(log.read_text().replace("\n", "\n", 1) + "0.25,0.3,abc,,\n")
    with pytest.raises(DataError, match=r"column 'position', row \d+: 'abc' is not a number"):
        suggest(path, 1)


def test_repeats_that_contradict_the_stated_noise_are_said(tmp_path, capsys):
    path = tmp_path / "campaign.yaml"
    path.write_text("parameters: {x: [0, 1]}\nlog: shots.csv\nseed: 1\nnoise_sd: 0\n")
    (tmp_path / "shots.csv").write_text("x,value,error,suggested\n0.2,1.0,,\n0.2,1.3,,\n0.5,2.0,,\n")
    suggest(path, 0, out=__import__("sys").stdout)
    printed = capsys.readouterr().out
    assert "the campaign's noise_sd is 0, but the repeats show 0.212" in printed  # sd of 1.0, 1.3


def test_each_suggestion_says_what_it_is_for(campaign, capsys):
    """Issue 58: say what the next batch is for."""
    suggest(campaign, 4, out=__import__("sys").stdout)
    first = capsys.readouterr().out
    assert first.count("initial design: spread over the box") == 4
    measure(campaign.with_name("shots.csv"), BENCHMARKS["branin"][0])
    suggest(campaign, 4, out=__import__("sys").stdout)
    printed = capsys.readouterr().out
    # bayesopt's batch of four: three refine near the best in the local box, one explores.
    assert printed.count("refine near the best so far: expected improvement in the local box") == 3
    assert printed.count("explore: expected improvement over the whole box") == 1
