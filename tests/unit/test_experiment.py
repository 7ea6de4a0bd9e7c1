import copy

import pytest

from fitflow import ConfigError
from fitflow.run.experiment import batches, build_plan, settings_id

BASE = {
    "experiment": "demo",
    "seed": 1,
    "replicates": 3,
    "problems": {
        "cosine_series": {"settings": {"n_samples": 20}, "sweep": {"noise": [0.1, 0.2], "n_modes": [2, 3, 4]}},
        "gaussian_peak": {},
    },
    "methods": {"ols": {}, "nlls": {"sweep": {"bounded": [True, False]}}},
}


def config(**changes):
    cfg = copy.deepcopy(BASE)
    cfg.update(changes)
    return cfg


def test_sweeps_expand_as_a_grid_and_pairs_follow_capabilities():
    plan = build_plan(config())
    cosine = [c for c in plan.problems if c.label == "cosine_series"]
    assert len(cosine) == 6  # 2 noise levels x 3 mode counts
    assert {c.sid for c in cosine} >= {"n_modes-2__noise-0.1", "n_modes-4__noise-0.2"}
    assert all(c.settings["n_samples"] == 20 for c in cosine)
    # cosine_series (linear, parametric): ols + 2 nlls variants; gaussian_peak: the 2 nlls only.
    assert len(plan.pairs) == 6 * 3 + 2
    assert not any(p.problem.label == "gaussian_peak" and p.method.label == "ols" for p in plan.pairs)
    assert plan.n_fits == len(plan.pairs) * 3


def test_settings_id_and_batches():
    assert settings_id({}) == "default"
    assert settings_id({"noise": 0.05, "kind": "a/b"}) == "kind-a_b__noise-0.05"
    assert batches(7, 3) == [[0, 1, 2], [3, 4, 5], [6]]
    from fitflow.run.experiment import batch_replicates, n_batches

    for n, size in [(1, 1), (7, 3), (9, 3), (10, 1), (1_000_000, 7)]:
        assert n_batches(n, size) == -(-n // size)
        last = n_batches(n, size) - 1
        assert batch_replicates(n, size, last)[-1] == n - 1  # computed in constant time, never listed
        assert batch_replicates(n, size, "0") == list(range(min(size, n)))


def expect_error(cfg, key, *fragments):
    with pytest.raises(ConfigError) as info:
        build_plan(cfg, source="my.yaml")
    message = str(info.value)
    assert message.startswith("my.yaml") and info.value.key == key, message
    for fragment in fragments:
        assert fragment in message, message
    return info.value


def test_explicit_impossible_pair_is_an_error():
    cfg = config()
    cfg["problems"]["gaussian_peak"] = {"methods": ["ols"]}
    expect_error(cfg, "problems.gaussian_peak.methods", "'ols' cannot fit problem 'gaussian_peak'")


def test_explicit_pairs_restrict_the_methods():
    cfg = config()
    cfg["problems"]["cosine_series"]["methods"] = ["ols"]
    plan = build_plan(cfg)
    assert {p.method.label for p in plan.pairs if p.problem.label == "cosine_series"} == {"ols"}


def test_unknown_plugin_lists_the_available_ones():
    cfg = config(methods={"olss": {}})
    expect_error(cfg, "methods.olss.plugin", "no fitflow.methods plugin named 'olss'", "nlls", "ols")


def test_unknown_and_ill_typed_settings_name_key_and_value():
    cfg = config()
    cfg["problems"]["gaussian_peak"] = {"settings": {"nosie": 0.1}}
    expect_error(cfg, "problems.gaussian_peak.settings.nosie", "nosie", "0.1")
    cfg["problems"]["gaussian_peak"] = {"settings": {"n_points": "many"}}
    expect_error(cfg, "problems.gaussian_peak.settings.n_points", "'many'")
    cfg["problems"]["gaussian_peak"] = {"sweep": {"noise": [0.1, "x"]}}
    expect_error(cfg, "problems.gaussian_peak.sweep.noise", "'x'")


def test_sweep_over_a_non_setting_is_an_error():
    cfg = config()
    cfg["problems"]["gaussian_peak"] = {"sweep": {"temperature": [1, 2]}}
    expect_error(cfg, "problems.gaussian_peak.sweep.temperature", "no such setting")


@pytest.mark.parametrize("value", [0, -3, 1.5, True])
def test_replicates_must_be_a_positive_whole_number(value):
    expect_error(config(replicates=value), "replicates", repr(value))


def test_plot_fits_is_true_false_or_all():
    config = {"experiment": "p", "seed": 1, "replicates": 2, "problems": {"cosine_series": {}}, "methods": {"ols": {}}}
    assert build_plan(config).plot_fits is True
    assert build_plan({**config, "plot_fits": "all"}).plot_fits == "all"
    with pytest.raises(ConfigError, match="key 'plot_fits'.*'some' is not one of \\[True, False, 'all'\\]"):
        build_plan({**config, "plot_fits": "some"})


def test_figures_for_the_representative_replicate_only(tmp_path):
    from fitflow.run.jobs import fit_batch, generate_batch

    config = {
        "experiment": "p",
        "seed": 1,
        "replicates": 2,
        "batch_size": 2,
        "problems": {"gaussian_peak": {}},
        "methods": {"emcee": {"settings": {"n_steps": 200}}},
    }
    for mode, expected in ((True, [True, False]), ("all", [True, True])):
        plan = build_plan({**config, "plot_fits": mode})
        root = tmp_path / str(mode)
        generate_batch(plan, root, "gaussian_peak", "default", 0)
        fit_batch(plan, root, plan.pairs[0].key, 0, plot=plan.plot_fits)
        folders = [root / f"fits/gaussian_peak/default/emcee/default/rep-{r}" for r in (0, 1)]
        assert [(f / "fig-traces.png").is_file() for f in folders] == expected
        assert [(f / "fit.png").is_file() for f in folders] == expected


def test_chunks_auto_chunks_a_local_run_and_gives_a_cluster_a_job_per_batch():
    """The plain config takes the fast path by itself: one chunk job with a worker per core
    locally, a job per batch (0) and one worker when the executor submits to a cluster."""
    import os

    assert (build_plan(config(), cores=1).chunks, build_plan(config(), cores=1).chunk_workers) == (1, 1)
    local = build_plan(config(), cores=64)  # never more workers than the machine has cores
    assert (local.chunks, local.chunk_workers) == (1, min(64, os.cpu_count()))
    cluster = build_plan(config(), on_cluster=True, cores=3)
    assert (cluster.chunks, cluster.chunk_workers) == (0, 1)


def test_chunks_auto_gives_a_method_with_a_long_runtime_a_job_per_batch():
    slow = config(methods={"ols": {}, "nlls": {"resources": {"runtime": 120}}})
    assert build_plan(slow, cores=2).chunks == 0
    hinted = config(methods={"ols": {}, "nlls": {"resources": {"runtime": 60}}})  # at the limit: still cheap
    assert build_plan(hinted, cores=2).chunks == 1


def test_an_explicit_layout_wins_over_auto():
    plan = build_plan(config(chunks=0, chunk_workers=2), cores=8)
    assert (plan.chunks, plan.chunk_workers) == (0, 2)
    plan = build_plan(config(chunks=3), on_cluster=True)
    assert plan.chunks == 3
    assert build_plan(config(store="compact"), on_cluster=True).chunks == 8
    with pytest.raises(ConfigError, match="chunks"):
        build_plan(config(chunks="many"))
    with pytest.raises(ConfigError, match="chunk_workers"):
        build_plan(config(chunk_workers=0))
