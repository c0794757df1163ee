"""The benchmark runner: end to end, files, reproducibility, errors."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from freqopt.bench.runner import (
    STRATEGY_NAMES,
    BenchmarkResult,
    SimFleetFactory,
    benchmark,
    make_strategy,
    run_benchmark,
    with_relative_noise,
)
from freqopt.errors import DataError
from freqopt.sim import simulate_fleet

CHEAP = ["grid", "coarse_to_fine", "random"]
TINY = SimFleetFactory(n_models=10, n_clusters=2)


@pytest.fixture(scope="module")
def result(tmp_path_factory) -> BenchmarkResult:
    out = tmp_path_factory.mktemp("bench")
    return run_benchmark(
        TINY, CHEAP, seeds=[0, 1], budget_per_model=4, noises=[0.05, 0.2], out_dir=out
    )


def test_benchmark_writes_json_with_stable_keys_and_plots(result) -> None:
    names = {p.name for p in result.files}
    assert "benchmark.json" in names
    assert "share_within_2pct_noise_0.05.png" in names
    assert "regret_k2_noise_0.2.png" in names
    assert all(p.stat().st_size > 0 for p in result.files)

    path = next(p for p in result.files if p.name == "benchmark.json")
    document = json.loads(path.read_text())
    assert set(document) == {
        "elapsed_seconds", "files", "goals", "runs", "settings", "summaries", "table",
    }  # fmt: skip
    assert document["settings"]["strategies"] == CHEAP
    assert len(document["runs"]) == 2 * 2 * 3
    summary = document["summaries"][0]
    assert set(summary["share_within_2pct"]) == {"mean", "low", "high"}


def test_summary_table_has_one_row_per_noise_strategy_and_budget(result) -> None:
    rows = result.table(k_values=(1, 2, 4))
    assert len(rows) == 2 * 3 * 3
    for row in rows:
        assert 0 <= row.share_within_2pct_low <= row.share_within_2pct + 1e-12
        assert row.share_within_2pct <= row.share_within_5pct + 1e-12


def test_same_seeds_reproduce_the_same_scores(result) -> None:
    again = run_benchmark(
        TINY, CHEAP, seeds=[0, 1], budget_per_model=4, noises=[0.05, 0.2]
    )
    for a, b in zip(result.runs, again.runs, strict=True):
        np.testing.assert_array_equal(a.metrics.regret, b.metrics.regret)


def test_strategies_see_common_noise_for_the_same_experiment() -> None:
    fleet = simulate_fleet(n_models=6, n_clusters=2, noise=0.3, seed=0)
    a = run_benchmark(fleet, ["grid"], seeds=[3], budget_per_model=1, noises=[0.3])
    b = run_benchmark(
        fleet, ["coarse_to_fine"], seeds=[3], budget_per_model=1, noises=[0.3]
    )
    # Both start every model at its middle interval: same regret, same draws.
    np.testing.assert_array_equal(a.runs[0].metrics.regret, b.runs[0].metrics.regret)


def test_progress_is_reported_after_every_run() -> None:
    events = []
    run_benchmark(
        TINY, CHEAP, seeds=[0], budget_per_model=1, noises=[0.1], progress=events.append
    )
    assert [e.done for e in events] == [1, 2, 3]
    assert {e.total for e in events} == {3}
    assert events[0].description.startswith("grid seed=0")


def test_budget_caps_limit_a_strategy() -> None:
    result = run_benchmark(
        TINY, ["grid", "random"], seeds=[0], budget_per_model=4, noises=[0.1],
        budget_caps={"random": 2},
    )  # fmt: skip
    spent = {r.metrics.strategy: r.n_experiments for r in result.runs}
    assert spent == {"grid": 40, "random": 20}
    assert np.isnan(result.summary(0.1, "random").share_within_2pct[0][-1])


def test_a_fixed_fleet_uses_its_own_noise_unless_levels_are_given() -> None:
    fleet = simulate_fleet(n_models=6, n_clusters=2, noise=0.1, seed=0)
    own = run_benchmark(fleet, ["grid"], seeds=[0, 1], budget_per_model=1)
    assert len(own.summaries) == 1 and np.isnan(own.summaries[0].noise)

    noisier = with_relative_noise(fleet, 0.3)
    np.testing.assert_allclose(noisier.noise_sd, 3 * fleet.noise_sd)


def test_goal_checks_compare_freqopt_with_the_grid() -> None:
    fake = replace(make_strategy("grid"), name="freqopt")
    result = run_benchmark(
        TINY, ["grid", fake], seeds=[0], budget_per_model=12, noises=[0.0]
    )
    names = [g.name for g in result.goals]
    assert names == [
        "freqopt_k2_matches_grid_k12_noise_0",
        "freqopt_90pct_within_5pct_by_k3_noise_0",
    ]
    assert result.goals[0].measured["grid_k12"] == 1.0


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"strategies": ["grid", "bogus"]}, "unknown strategy 'bogus'"),
        ({"strategies": []}, "no strategies"),
        ({"seeds": []}, "no seeds"),
        ({"budget_per_model": -1}, "budget per model must be >= 0"),
    ],
)
def test_bad_arguments_raise_data_error(kwargs: dict, words: str) -> None:
    arguments = {"strategies": ["grid"], "seeds": [0], "budget_per_model": 1}
    with pytest.raises(DataError, match=words):
        run_benchmark(TINY, **{**arguments, **kwargs})


def test_the_command_function_refuses_an_unknown_fleet(tmp_path) -> None:
    with pytest.raises(DataError, match="unknown fleet 'replay'"):
        benchmark(fleet="replay", out_dir=tmp_path)


def test_every_named_strategy_can_be_made() -> None:
    assert [make_strategy(n).name for n in STRATEGY_NAMES] == list(STRATEGY_NAMES)


@pytest.mark.slow
def test_quick_benchmark_runs_every_strategy_end_to_end(tmp_path) -> None:
    result = benchmark(quick=True, out_dir=tmp_path, n_seeds=1)
    assert result.settings["strategies"] == list(STRATEGY_NAMES)
    assert (tmp_path / "benchmark.json").is_file()
    assert {r.metrics.strategy for r in result.runs} == set(STRATEGY_NAMES)


@pytest.mark.slow
def test_parallel_runs_give_the_same_scores_as_serial_ones() -> None:
    serial = run_benchmark(TINY, CHEAP, seeds=[0, 1], budget_per_model=2, noises=[0.1])
    parallel = run_benchmark(
        TINY, CHEAP, seeds=[0, 1], budget_per_model=2, noises=[0.1], n_jobs=2
    )
    for a, b in zip(serial.runs, parallel.runs, strict=True):
        np.testing.assert_array_equal(a.metrics.regret, b.metrics.regret)
