"""Fault injection, the ask/tell log (issue 34, items 6-7): two ``fitflow suggest`` calls at
once, and each small way a log goes wrong. Each is a clear error naming the file (and row),
or a preserved file; never a traceback or a silent rewrite."""

import csv
import io
import os
import subprocess
import sys
import threading

import pytest

from fitflow.campaigns import measurement_log
from fitflow.campaigns.measurement_log import suggest
from fitflow.cli import main
from fitflow.core.errors import ConfigError, DataError

CAMPAIGN = """\
parameters:
  x: [0, 1]
  gas: {choices: ["helium, pure", argon]}
log: shots.csv
seed: 4
"""


@pytest.fixture()
def campaign(tmp_path):
    path = tmp_path / "campaign.yaml"
    path.write_text(CAMPAIGN)
    return path


def measured_log(campaign, n=4):
    """A log with ``n`` measured rows (the first ``suggest`` filled in by hand)."""
    suggest(campaign, n)
    log = campaign.with_name("shots.csv")
    table = list(csv.reader(io.StringIO(log.read_text())))
    for i, row in enumerate(table[1:]):
        row[2] = str(0.1 * (i + 1))
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(table)
    log.write_text(out.getvalue())
    return log


def data_rows(log):
    return list(csv.DictReader(io.StringIO(log.read_text())))


# -- item 6: two calls at once ------------------------------------------------------------


def test_two_suggest_calls_at_once_take_turns_and_lose_nothing(campaign):
    log = measured_log(campaign)
    command = [sys.executable, "-m", "fitflow.cli", "suggest", str(campaign), "--n", "4"]
    runs = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [run.communicate(timeout=300) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], [err[-2000:] for _, err in outputs]
    table = data_rows(log)
    assert len(table) == 4 + 8  # both calls' rows, none lost
    points = [(r["x"], r["gas"]) for r in table]
    assert len(set(points)) == len(points)  # the second call saw the first's pending points
    assert main(["suggest", str(campaign), "--n", "1"]) == 0  # and the log reads back


def test_a_caller_waits_for_the_lock_then_fails_clearly(campaign, monkeypatch):
    import fcntl

    log = measured_log(campaign)
    monkeypatch.setattr(measurement_log, "LOCK_WAIT_S", 0.3)
    holder = os.open(log.with_name(".shots.csv.lock"), os.O_RDWR)
    fcntl.flock(holder, fcntl.LOCK_EX)
    try:
        with pytest.raises(DataError, match="another fitflow suggest has held the log for 0.3 s"):
            suggest(campaign, 2)
    finally:
        os.close(holder)
    assert len(data_rows(log)) == 4


# -- item 7: smaller faults ---------------------------------------------------------------


def test_an_option_with_a_comma_is_quoted_and_reads_back(campaign):
    log = measured_log(campaign, n=6)
    assert '"helium, pure"' in log.read_text()
    suggested, _ = suggest(campaign, 2)
    assert {p["gas"] for p in suggested} <= {"helium, pure", "argon"}


def test_a_utf8_byte_order_mark_is_dropped(campaign):
    log = measured_log(campaign)
    log.write_bytes(b"\xef\xbb\xbf" + log.read_bytes())
    suggested, best = suggest(campaign, 1)
    assert len(suggested) == 1 and best is not None


def test_latin1_bytes_are_a_clear_error_naming_the_row(campaign):
    log = measured_log(campaign)
    log.write_bytes(log.read_bytes() + "0.5,argon,0.3,,caf\xe9\n".encode("latin-1").replace(b",,", b",0.1,"))
    before = log.read_bytes()
    with pytest.raises(DataError, match=r"shots.csv.*row 6.*0xe9 is not UTF-8"):
        suggest(campaign, 1)
    assert log.read_bytes() == before


def test_a_read_only_log_is_refused_and_keeps_its_mode(campaign):
    log = measured_log(campaign)
    log.chmod(0o444)
    with pytest.raises(DataError, match=r"read-only \(mode 0444\)"):
        suggest(campaign, 1)
    assert oct(log.stat().st_mode & 0o777) == "0o444"


def test_a_log_keeps_its_permissions_when_rows_are_appended(campaign):
    log = measured_log(campaign)
    log.chmod(0o600)
    suggest(campaign, 1)
    assert oct(log.stat().st_mode & 0o777) == "0o600"


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into a read-only folder: the refusal cannot be seen")
def test_a_read_only_folder_is_a_clear_error(campaign):
    measured_log(campaign)
    campaign.parent.chmod(0o555)
    try:
        with pytest.raises(DataError, match="lock file|cannot write"):
            suggest(campaign, 1)
    finally:
        campaign.parent.chmod(0o755)


def test_a_damaged_state_file_is_a_clear_error(campaign):
    measured_log(campaign)
    campaign.with_name("shots.csv.fitflow.json").write_text('{"parameters": ')
    with pytest.raises(DataError, match=r"shots.csv.fitflow.json.*damaged"):
        suggest(campaign, 1)


def test_a_log_deleted_while_suggest_runs_is_not_recreated_with_only_new_rows(campaign, monkeypatch):
    log = measured_log(campaign)
    real = measurement_log._appended

    def delete_meanwhile(*args):
        result = real(*args)
        log.unlink()  # the user deletes (or a sync tool replaces) the log mid-call
        return result

    monkeypatch.setattr(measurement_log, "_appended", delete_meanwhile)
    with pytest.raises(DataError, match="changed \\(or was deleted\\) while fitflow suggest ran"):
        suggest(campaign, 1)
    assert not log.exists()


def test_a_log_edited_by_hand_while_suggest_runs_is_kept(campaign, monkeypatch):
    log = measured_log(campaign)
    real = measurement_log._appended
    edited = log.read_text() + "0.77,argon,0.9,\n"

    def edit_meanwhile(*args):
        result = real(*args)
        log.write_text(edited)
        return result

    monkeypatch.setattr(measurement_log, "_appended", edit_meanwhile)
    with pytest.raises(DataError, match="changed"):
        suggest(campaign, 1)
    assert log.read_text() == edited


@pytest.mark.parametrize("cell", ["1_000", "0_5"])
def test_underscores_in_numbers_are_refused_as_the_table_reader_refuses_them(campaign, cell):
    log = measured_log(campaign)
    log.write_text(log.read_text() + f"0.5,argon,{cell},,\n")
    with pytest.raises(DataError, match=r"column 'value', row 6: '.*' is not a number"):
        suggest(campaign, 1)


def test_an_unknown_campaign_key_still_names_the_file(campaign):
    campaign.write_text(CAMPAIGN + "budgett: 3\n")
    with pytest.raises(ConfigError, match="budgett"):
        suggest(campaign, 1)


def test_concurrent_calls_in_threads_of_one_process_also_take_turns(campaign):
    log = measured_log(campaign)
    errors = []

    def call():
        try:
            suggest(campaign, 2)
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=call) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(data_rows(log)) == 8
