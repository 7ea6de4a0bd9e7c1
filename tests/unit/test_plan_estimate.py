"""fitflow plan estimates files, disk and core-hours and warns past the limits (issue 57, item 3):
10,000,000 replicates with store: folders once planned without a word."""

from collections import namedtuple
import shutil

from conftest import REPO
from fitflow.run.config_file import read_config
from fitflow.run.estimate import FILES_PER_DATASET, FILES_PER_FIT, estimate, estimate_lines
from fitflow.run.experiment import build_plan

CONFIG = REPO / "config" / "config.yaml"


def plan_with(**changes):
    config = read_config(CONFIG)
    config.update(changes)
    return build_plan(config, source=str(CONFIG))


def test_the_files_follow_the_plan_and_the_bytes_what_fits_already_keep(tmp_path):
    plan = plan_with(replicates=3)
    found = estimate(plan)
    assert found["fits"] == len(plan.pairs) * 3
    assert found["files"] == found["fits"] * FILES_PER_FIT + len(plan.problems) * 3 * FILES_PER_DATASET + len(
        plan.pairs
    )
    # One existing fit of emcee keeping 1 MB of samples: every emcee fit is counted at 1 MB.
    pair = next(p for p in plan.pairs if p.method.label == "emcee")
    folder = tmp_path / "fits" / pair.problem.label / pair.problem.sid / "emcee" / pair.method.sid / "rep-0"
    folder.mkdir(parents=True)
    (folder / "result.npz").write_bytes(b"\0" * 1_000_000)
    measured = estimate(plan, str(tmp_path))
    emcee_pairs = sum(p.method.label == "emcee" for p in plan.pairs)
    assert measured["bytes"] - found["bytes"] == emcee_pairs * 3 * (1_000_000 - 6 * 4096)
    assert measured["measured"] == 1


def test_a_huge_plan_warns_with_the_setting_that_helps(tmp_path, monkeypatch):
    plan = plan_with(replicates=500_000)
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda path: usage(10**12, 0, 10**9))
    lines = estimate_lines(plan, str(tmp_path), cores=2)
    assert lines[0].startswith(f"estimate: {len(plan.pairs) * 500_000:,} fits, about ")
    warnings = [line for line in lines if line.startswith("warning:")]
    assert any("set store: compact" in w for w in warnings)
    assert any("1 GB free where the results go" in w for w in warnings)
    assert any("more than a day of all 2 cores" in w for w in warnings)
    compact = plan_with(replicates=500_000, store="compact")
    assert not any("set store: compact" in w for w in estimate_lines(compact, str(tmp_path), cores=2))
    default = estimate_lines(plan_with(), str(tmp_path), cores=2)
    assert not [line for line in default if line.startswith("warning:")]


def test_the_plan_command_prints_the_estimate():
    import io

    from fitflow.cli import show_plan

    out = io.StringIO()
    show_plan(CONFIG, out=out)
    assert "estimate: 160 fits, about 1,116 files" in out.getvalue()
