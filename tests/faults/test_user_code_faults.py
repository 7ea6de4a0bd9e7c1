"""Fault injection, user code (issue 34, items 2-5): a program's ambiguous or non-UTF-8
output, a callable that crashes its process, exits, overflows or swallows its time-out,
and a program that leaves processes behind. Each case asserts what the user is owed: one
failed run or fit with its reason, and everything else complete."""

import os
import sys
import textwrap
import time

import pytest

from fitflow.core.isolation import ProcessDied, guarded, retrying, supervised
from fitflow.inputs.external import CallableRunner, ProgramRunner, parse_output

PY = sys.executable


def script(tmp_path, body, name="sim.py"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(body))
    return str(path)


# -- item 2: an ambiguous value is refused, naming the line -------------------------------


@pytest.mark.parametrize("line", ["2,699", "1.5,0.2", "x = 3,5"])
def test_a_decimal_comma_is_refused_as_ambiguous_not_read_as_value_and_error(line):
    with pytest.raises(ValueError, match=r"line 2 of stdout is ambiguous: .*decimal comma"):
        parse_output(f"starting\n{line}\n", "stdout")


@pytest.mark.parametrize(
    "text, expected",
    [("2.699", [2.699]), ("2.6 0.1", [2.6, 0.1]), ("2.6, 0.1", [2.6, 0.1]), ("[2.6, 0.1]", [2.6, 0.1])],
)
def test_unambiguous_values_are_read(text, expected):
    assert parse_output(text, "stdout") == expected


def test_a_program_printing_a_decimal_comma_is_a_failed_run(tmp_path):
    sim = script(tmp_path, "print('2,699')\n")
    record = ProgramRunner([PY, sim, "{a}"], ["a"]).run({"a": 1.0}, tmp_path / "run")
    assert record.status == "failed" and "ambiguous" in record.reason and "'2,699'" in record.reason


# -- item 3: bytes that are not UTF-8 ---------------------------------------------------


def test_latin1_on_stderr_is_kept_leniently_and_the_value_still_read(tmp_path):
    sim = script(tmp_path, "import sys\nsys.stderr.buffer.write('é'.encode('latin-1') + b'\\n')\nprint(1.25)\n")
    record = ProgramRunner([PY, sim, "{a}"], ["a"]).run({"a": 1.0}, tmp_path / "run")
    assert record.status == "ok" and record.outputs == [1.25]
    assert "\ufffd" in record.stderr  # the undecodable byte, replaced for the record


def test_a_result_line_that_is_not_utf8_is_a_failed_run_naming_the_byte(tmp_path):
    sim = script(tmp_path, "import sys\nsys.stdout.buffer.write(b'1.25\\xe9\\n')\n")
    record = ProgramRunner([PY, sim, "{a}"], ["a"]).run({"a": 1.0}, tmp_path / "run")
    assert record.status == "failed" and "not UTF-8" in record.reason and "0xe9" in record.reason


# -- item 4: a callable that takes its process down -------------------------------------


def _units(tokens, folder, crash=None, how=None, limit=None):
    """Write one file per unit: 'ok', or the reason an earlier attempt died in it."""
    for token in tokens:
        try:
            with guarded(token, seconds=limit):
                if token == crash:
                    how()
                outcome = f"ok serial={retrying()}"
        except ProcessDied as died:
            outcome = f"failed: {died.reason}"
        (folder / token).write_text(outcome)


def _segfault():
    import ctypes

    ctypes.string_at(0)


def _swallow_everything():
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            time.sleep(0.05)
        except BaseException:  # noqa: BLE001 - the hostile code under test
            pass


@pytest.mark.parametrize(
    "how, reason",
    [
        (_segfault, "its process died: killed by signal 11 (SIGSEGV)"),
        (lambda: os._exit(7), "its process died: exit status 7"),
        (lambda: os._exit(0), "it ended its process (os._exit(0))"),
        (lambda: sys.exit(3), "it called sys.exit(3)"),
        (lambda: os.abort(), "its process died: killed by signal 6 (SIGABRT)"),
    ],
    ids=["segfault", "os._exit(7)", "os._exit(0)", "sys.exit(3)", "abort"],
)
def test_a_unit_that_kills_its_process_fails_alone_and_the_rest_complete(tmp_path, how, reason):
    tokens = ["a", "b", "c", "d"]
    supervised(_units, tokens, tmp_path, crash="b", how=how)
    outcomes = {t: (tmp_path / t).read_text() for t in tokens}
    assert outcomes["b"] == f"failed: {reason}"
    assert all(outcomes[t].startswith("ok") for t in "acd"), outcomes
    assert outcomes["d"] == "ok serial=True"  # the rest ran in a fresh process


def test_a_unit_that_swallows_its_timeout_is_killed_at_its_hard_limit(tmp_path, monkeypatch):
    from fitflow.core import isolation

    monkeypatch.setattr(isolation, "GRACE_SECONDS", 0.5)
    start = time.monotonic()
    supervised(_units, ["a", "b"], tmp_path, crash="a", how=_swallow_everything, limit=0.5)
    assert time.monotonic() - start < 10  # not the 60 s the unit would spin
    assert (tmp_path / "a").read_text().startswith("failed: timed out: still running")
    assert (tmp_path / "b").read_text().startswith("ok")


def test_a_job_error_outside_any_unit_still_fails_the_job(tmp_path):
    def broken():
        raise KeyError("not a unit's fault")

    with pytest.raises(RuntimeError, match="exit status 1"):
        supervised(broken)


def _run_and_keep(runner, folder):
    record = runner.run({"a": 1.0})
    (folder / "record").write_text(f"{record.status}: {record.reason}")


def test_callable_runner_turns_overflow_and_swallowed_timeouts_into_failed_runs(tmp_path, monkeypatch):
    from fitflow.core import isolation

    (tmp_path / "user.py").write_text(
        "import time\n"
        "def huge(a):\n    return 10**400\n"
        "def stubborn(a):\n"
        "    end = time.monotonic() + 60\n"
        "    while time.monotonic() < end:\n"
        "        try:\n            time.sleep(0.05)\n        except BaseException:\n            pass\n"
        "    return 1.0\n"
    )
    monkeypatch.chdir(tmp_path)
    record = CallableRunner("user.py:huge", ["a"]).run({"a": 1.0})
    assert record.status == "ok" and record.outputs[0] != record.outputs[0]  # NaN: recorded infeasible

    monkeypatch.setattr(isolation, "GRACE_SECONDS", 0.5)
    supervised(_run_and_keep, CallableRunner("user.py:stubborn", ["a"], timeout_s=0.5), tmp_path)
    assert (tmp_path / "record").read_text().startswith("failed: user.py:stubborn: timed out: still running")


# -- item 5: nothing left behind at a time-out -------------------------------------------


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as stat:  # a zombie is not alive
        return stat.read().split(")")[-1].split()[0] != "Z"


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="needs /proc to see the processes left behind")
def test_a_time_out_kills_the_programs_whole_process_group(tmp_path):
    sim = script(
        tmp_path,
        """
        import subprocess, sys, time
        child = subprocess.Popen(["sleep", "301"])                    # a grandchild
        daemon = subprocess.Popen(["bash", "-c", "sleep 302 & echo $!"], stdout=subprocess.PIPE)
        print(child.pid, daemon.stdout.readline().decode().strip(), flush=True, file=open("pids", "w"))
        time.sleep(300)
    """,
    )
    start = time.monotonic()
    record = ProgramRunner([PY, sim, "{a}"], ["a"], timeout_s=1.0).run({"a": 1.0}, tmp_path / "run")
    assert record.status == "failed" and record.reason == "timed out after 1 s"
    assert time.monotonic() - start < 10
    pids = [int(p) for p in (tmp_path / "run" / "pids").read_text().split()]
    time.sleep(0.2)
    assert not [p for p in pids if _alive(p)], "processes of a timed-out program survived"


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="needs /proc to see the processes left behind")
def test_a_forked_child_holding_stdout_does_not_hold_the_run(tmp_path):
    sim = script(
        tmp_path,
        """
        import os, sys, time
        if os.fork() == 0:          # keeps stdout open long after its parent printed the value
            time.sleep(300)
            os._exit(0)
        print(2.5)
    """,
    )
    start = time.monotonic()
    record = ProgramRunner([PY, sim, "{a}"], ["a"], timeout_s=60).run({"a": 1.0}, tmp_path / "run")
    assert record.status == "ok" and record.outputs == [2.5]
    assert time.monotonic() - start < 10


def test_a_stray_sigkill_costs_no_unit_and_a_repeated_one_is_blamed(tmp_path):
    marker = tmp_path / "killed-once"

    def killed_once():
        if not marker.exists():
            marker.write_text("")
            os.kill(os.getpid(), 9)  # someone else's kill, the first time only

    supervised(_units, ["a", "b", "c"], tmp_path, crash="b", how=killed_once)
    assert all((tmp_path / t).read_text().startswith("ok") for t in "abc")

    supervised(_units, ["a", "b", "c"], tmp_path, crash="b", how=lambda: os.kill(os.getpid(), 9))
    assert (tmp_path / "b").read_text() == (
        "failed: its process died: killed by signal 9 (SIGKILL), twice (out of memory?)"
    )
    assert (tmp_path / "c").read_text().startswith("ok")
