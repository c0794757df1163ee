"""Per-model baseline strategies: budgets, masks, rules, reproducibility."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from freqopt.bench.metrics import normalized_regret
from freqopt.bench.strategies import (
    CoarseToFine,
    FullGrid,
    RandomSearch,
    SkoptPerModel,
    spread_order,
)
from freqopt.sim import SimOracle, simulate_fleet

CHEAP = [FullGrid(), CoarseToFine(), RandomSearch()]


@pytest.fixture(scope="module")
def fleet():
    fleet = simulate_fleet(n_models=10, n_clusters=2, noise=0.1, seed=2)
    allowed = fleet.allowed.copy()
    allowed[::3, :4] = False  # every third model may not run the 4 shortest
    return replace(
        fleet, allowed=allowed, true_gain=np.where(allowed, fleet.true_gain, np.nan)
    )


def _run(strategy, fleet, budget, seed=0):
    return strategy.run(fleet, SimOracle(fleet), budget, np.random.default_rng(seed))


def test_spread_order_starts_in_the_middle_then_the_ends() -> None:
    order = spread_order(12)
    assert sorted(order.tolist()) == list(range(12))
    assert order[:3].tolist() == [5, 0, 11]
    assert spread_order(1).tolist() == [0]


@pytest.mark.parametrize("strategy", CHEAP, ids=lambda s: s.name)
@pytest.mark.parametrize("budget", [0.0, 1.5, 3.0, 14.0])
def test_cheap_strategies_spend_exactly_their_budget(strategy, fleet, budget) -> None:
    trace = _run(strategy, fleet, budget)
    assert trace.experiment_model.size == int(budget * fleet.n_models)
    per_model = np.bincount(trace.experiment_model, minlength=fleet.n_models)
    assert per_model.max() - per_model.min() <= 1


@pytest.mark.parametrize("strategy", CHEAP, ids=lambda s: s.name)
def test_strategies_only_run_and_recommend_allowed_intervals(strategy, fleet) -> None:
    trace = _run(strategy, fleet, 6.0)
    assert fleet.allowed[trace.experiment_model, trace.experiment_interval].all()
    rows = np.arange(fleet.n_models)
    assert all(fleet.allowed[rows, rec].all() for rec in trace.recommended)


@pytest.mark.parametrize("strategy", CHEAP, ids=lambda s: s.name)
def test_the_same_seed_reproduces_the_run(strategy, fleet) -> None:
    a, b = _run(strategy, fleet, 3.0, seed=4), _run(strategy, fleet, 3.0, seed=4)
    np.testing.assert_array_equal(a.experiment_interval, b.experiment_interval)
    np.testing.assert_array_equal(a.experiment_gain, b.experiment_gain)
    np.testing.assert_array_equal(a.recommended, b.recommended)


def test_checkpoints_follow_each_round(fleet) -> None:
    trace = _run(FullGrid(), fleet, 2.5)
    assert trace.n_experiments.tolist() == [0, 10, 20, 25]
    assert trace.recommended.shape == (4, fleet.n_models)


def test_full_grid_tries_every_allowed_interval_once(fleet) -> None:
    trace = _run(FullGrid(), fleet, 12.0)
    counts = np.zeros(fleet.allowed.shape, dtype=int)
    np.add.at(counts, (trace.experiment_model, trace.experiment_interval), 1)
    # Models with 8 allowed intervals replicate the first 4 of their order.
    assert (counts[fleet.allowed] >= 1).all()
    assert (counts[~fleet.allowed] == 0).all()


def test_without_noise_the_full_grid_recommends_every_true_optimum() -> None:
    fleet = simulate_fleet(n_models=8, n_clusters=2, noise=0.0, seed=1)
    trace = _run(FullGrid(), fleet, 12.0)
    regret = normalized_regret(fleet.true_roi, trace.recommended[-1])
    assert np.all(regret == 0)


def test_coarse_to_fine_refines_next_to_the_incumbent() -> None:
    fleet = simulate_fleet(n_models=6, n_clusters=2, noise=0.0, seed=3)
    trace = _run(CoarseToFine(n_coarse=3), fleet, 4.0)
    roi = fleet.true_roi
    for m in range(fleet.n_models):
        tried = trace.experiment_interval[trace.experiment_model == m]
        coarse, fine = tried[:3], tried[3]
        incumbent = coarse[np.argmax(roi[m, coarse])]
        assert abs(int(fine) - int(incumbent)) == 1


def test_random_search_tries_distinct_intervals_before_replicating(fleet) -> None:
    trace = _run(RandomSearch(), fleet, 8.0)
    for m in range(fleet.n_models):
        tried = trace.experiment_interval[trace.experiment_model == m]
        assert np.unique(tried).size == min(tried.size, fleet.allowed[m].sum())


def test_skopt_spends_its_budget_on_allowed_intervals_reproducibly(fleet) -> None:
    pytest.importorskip("skopt")
    small = replace(
        fleet,
        metadata=fleet.metadata.iloc[:4],
        allowed=fleet.allowed[:4],
        true_gain=fleet.true_gain[:4],
        cost_per_day=fleet.cost_per_day[:4],
        value=fleet.value[:4],
        noise_sd=fleet.noise_sd[:4],
        true_cluster=fleet.true_cluster[:4],
    )
    a = _run(SkoptPerModel(n_initial_points=2), small, 3.0, seed=1)
    b = _run(SkoptPerModel(n_initial_points=2), small, 3.0, seed=1)
    assert a.experiment_model.size == 12
    assert small.allowed[a.experiment_model, a.experiment_interval].all()
    np.testing.assert_array_equal(a.experiment_interval, b.experiment_interval)
