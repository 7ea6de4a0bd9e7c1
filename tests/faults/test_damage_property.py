"""Property (issue 57, item 5): whatever artefact or record is damaged, deleted or edited, with
its times kept or not, the documented check and a rerun serve a clean run's bytes, or refuse
with a clear message. Hypothesis chooses the target and the damage; each example copies the
tiny experiment's clean run and runs ``fitflow heal --full`` (the check that hashes everything)
and then the workflow."""

import os
from pathlib import Path
import re
import shutil
import subprocess
import sys

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
import pytest

from conftest import TINY_CONFIG, artefact_hashes, run_snakemake

pytestmark = pytest.mark.slow

ACTIONS = ("delete", "flip", "truncate", "digit")


def damage(path, action, keep_times):
    info = path.stat()
    data = path.read_bytes()
    if action == "delete":
        path.unlink()
        return
    if action == "truncate":
        path.write_bytes(data[: len(data) // 2])
    elif action == "flip" and data:
        middle = len(data) // 2
        path.write_bytes(data[:middle] + bytes([data[middle] ^ 0xFF]) + data[middle + 1 :])
    else:  # one digit changed, the size kept (a parameter's value edited by hand)
        text = data.decode("latin-1")
        match = re.search(r"\d", text)
        if match is None:
            return
        digit = "1" if match.group() != "1" else "2"
        path.write_bytes((text[: match.start()] + digit + text[match.end() :]).encode("latin-1"))
    if keep_times:
        os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns))


@settings(max_examples=5, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    target=st.integers(min_value=0, max_value=10**6),
    action=st.sampled_from(ACTIONS),
    keep_times=st.booleans(),
    record=st.sampled_from([None, "delete", "flip"]),
)
def test_damage_anywhere_is_healed_or_refused(tmp_path_factory, tiny_run, target, action, keep_times, record):
    work = tmp_path_factory.mktemp("damaged")
    root = work / "results" / "tiny"
    shutil.copytree(tiny_run, root)  # times kept: the records match
    artefacts = sorted(p for p in root.rglob("*") if p.is_file() and p.relative_to(root).parts[0] != "logs")
    victim = artefacts[target % len(artefacts)]
    damage(victim, action, keep_times)
    records = sorted(p for p in (root / "logs" / "written").rglob("*") if p.is_file())
    if record and records:
        damage(records[(target // 7) % len(records)], "delete" if record == "delete" else "flip", keep_times)
    check = subprocess.run(
        [sys.executable, "-m", "fitflow", "heal", "--full", str(TINY_CONFIG)],
        cwd=work, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert check.returncode == 0 or "fitflow" in check.stderr, check.stderr[-2000:]
    rerun = run_snakemake(work, check=False)
    if rerun.returncode == 0:
        assert artefact_hashes(root) == artefact_hashes(tiny_run), f"{action} {victim} (times kept: {keep_times})"
    else:  # refused: the message says what and where
        assert "fitflow" in rerun.stderr and str(Path("results") / "tiny") in rerun.stderr, rerun.stderr[-2000:]
