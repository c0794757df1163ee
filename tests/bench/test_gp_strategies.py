"""Strategies on the GP core: freqopt, independent GP, cold start."""

from __future__ import annotations

import numpy as np
import pytest

from freqopt.bench.gp_strategies import (
    ColdStart,
    FreqoptStrategy,
    IndependentGP,
    cluster_models,
    embed_metadata,
)
from freqopt.sim import SimOracle, simulate_fleet

pytest.importorskip("botorch")


@pytest.fixture(scope="module")
def fleet():
    return simulate_fleet(n_models=12, n_clusters=2, noise=0.1, seed=4)


def _run(strategy, fleet, budget, seed=0):
    return strategy.run(fleet, SimOracle(fleet), budget, np.random.default_rng(seed))


def test_embedding_and_clusters_recover_the_generating_groups() -> None:
    fleet = simulate_fleet(n_models=40, n_clusters=3, seed=1)
    labels = cluster_models(embed_metadata(fleet.metadata), seed=0)
    from sklearn.metrics import adjusted_rand_score

    assert adjusted_rand_score(fleet.true_cluster, labels) > 0.8


def test_freqopt_stays_within_budget_and_allowed_intervals(fleet) -> None:
    trace = _run(FreqoptStrategy(), fleet, 2.0)
    assert 0 < trace.experiment_model.size <= 24
    assert fleet.allowed[trace.experiment_model, trace.experiment_interval].all()
    assert trace.n_experiments[0] == 0
    assert np.all(np.diff(trace.n_experiments) >= 0)
    rows = np.arange(fleet.n_models)
    assert all(fleet.allowed[rows, rec].all() for rec in trace.recommended)


def test_freqopt_is_reproducible_with_a_seed(fleet) -> None:
    a = _run(FreqoptStrategy(), fleet, 1.0, seed=3)
    b = _run(FreqoptStrategy(), fleet, 1.0, seed=3)
    np.testing.assert_array_equal(a.experiment_interval, b.experiment_interval)
    np.testing.assert_array_equal(a.recommended, b.recommended)


def test_independent_gp_gives_each_model_at_most_its_budget(fleet) -> None:
    trace = _run(IndependentGP(), fleet, 1.0)
    per_model = np.bincount(trace.experiment_model, minlength=fleet.n_models)
    assert per_model.max() <= 1
    assert fleet.allowed[trace.experiment_model, trace.experiment_interval].all()


def test_cold_start_charges_no_experiment_and_recommends_every_model(fleet) -> None:
    trace = _run(ColdStart(n_folds=2), fleet, 5.0)
    assert trace.experiment_model.size == 0
    assert trace.n_experiments.tolist() == [0]
    rows = np.arange(fleet.n_models)
    assert fleet.allowed[rows, trace.recommended[0]].all()
    assert trace.n_decisions == fleet.n_models
    assert "not charged" in trace.notes[0]
