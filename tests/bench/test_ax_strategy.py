"""The Ax peer strategy: budget, allowed intervals, reproducibility, logging."""

from __future__ import annotations

import logging
from dataclasses import replace

import numpy as np
import pytest

pytest.importorskip("ax")

from freqopt.bench.ax_strategy import AxPerModel  # noqa: E402
from freqopt.bench.runner import make_strategy  # noqa: E402
from freqopt.sim import SimOracle, simulate_fleet  # noqa: E402


@pytest.fixture(scope="module")
def fleet():
    fleet = simulate_fleet(n_models=4, n_clusters=2, seed=0)
    allowed = fleet.allowed.copy()
    allowed[0, :9] = False  # three allowed intervals: soon exhausted
    allowed[1, :11] = False  # a single allowed interval: no Ax client
    return replace(
        fleet, allowed=allowed, true_gain=np.where(allowed, fleet.true_gain, np.nan)
    )


@pytest.fixture(scope="module")
def traces(fleet):
    """Two runs with seed 3 and one with seed 4, budget 5 per model."""
    return [_run(fleet, seed) for seed in (3, 3, 4)]


def _run(fleet, seed):
    oracle = SimOracle(fleet)
    return AxPerModel().run(fleet, oracle, 5.0, np.random.default_rng(seed))


def test_ax_spends_exactly_its_budget_round_robin(fleet, traces) -> None:
    trace = traces[0]
    assert trace.experiment_model.size == 5 * fleet.n_models
    per_model = np.bincount(trace.experiment_model, minlength=fleet.n_models)
    assert per_model.tolist() == [5] * fleet.n_models
    assert trace.n_experiments.tolist() == [0, 4, 8, 12, 16, 20]


def test_ax_only_runs_and_recommends_allowed_intervals(fleet, traces) -> None:
    trace = traces[0]
    assert fleet.allowed[trace.experiment_model, trace.experiment_interval].all()
    rows = np.arange(fleet.n_models)
    assert all(fleet.allowed[rows, rec].all() for rec in trace.recommended)


def test_ax_tries_every_interval_of_a_small_model_before_replicating(
    fleet, traces
) -> None:
    trace = traces[0]
    first_three = trace.experiment_interval[trace.experiment_model == 0][:3]
    assert sorted(first_three.tolist()) == [9, 10, 11]


def test_ax_recommends_the_best_observed_roi(fleet, traces) -> None:
    trace = traces[0]
    roi = np.full(fleet.allowed.shape, -np.inf)
    for m in range(fleet.n_models):
        mine = trace.experiment_model == m
        for j in np.unique(trace.experiment_interval[mine]):
            gains = trace.experiment_gain[mine & (trace.experiment_interval == j)]
            roi[m, j] = fleet.value[m] * gains.mean() - fleet.cost_per_day[m, j]
    np.testing.assert_array_equal(trace.recommended[-1], np.argmax(roi, axis=1))


def test_ax_with_the_same_seed_reproduces_the_run(traces) -> None:
    a, b, _ = traces
    np.testing.assert_array_equal(a.experiment_interval, b.experiment_interval)
    np.testing.assert_array_equal(a.experiment_gain, b.experiment_gain)
    np.testing.assert_array_equal(a.recommended, b.recommended)


def test_ax_with_another_seed_explores_differently(traces) -> None:
    a, _, c = traces
    assert not np.array_equal(a.experiment_interval, c.experiment_interval)


def test_ax_leaves_ax_log_levels_as_it_found_them(traces) -> None:
    levels = {
        name: item.level
        for name, item in logging.Logger.manager.loggerDict.items()
        if isinstance(item, logging.Logger) and name.startswith("ax")
    }
    assert levels and logging.getLogger("ax").level == logging.DEBUG
    assert logging.getLogger("ax.api.client").level == logging.INFO


def test_make_strategy_builds_ax_by_name() -> None:
    strategy = make_strategy("ax")
    assert isinstance(strategy, AxPerModel)
    assert strategy.name == "ax"


def test_ax_prints_nothing_while_it_works(traces, capfd) -> None:
    one = simulate_fleet(n_models=1, n_clusters=1, seed=1)
    AxPerModel().run(one, SimOracle(one), 4.0, np.random.default_rng(0))
    out, err = capfd.readouterr()
    assert out == "" and err == ""
