"""Regret, shares, checkpoints and confidence intervals on hand-made cases."""

from __future__ import annotations

import numpy as np
import pytest

from freqopt.bench.fleet import TruthFleet
from freqopt.bench.metrics import (
    checkpoint_at,
    confidence_interval,
    evaluate_trace,
    normalized_regret,
    share_within,
)
from freqopt.bench.trace import StrategyTrace

# One model, five allowed intervals: best 10 at index 2, median 6 (index 3).
ROI = np.array([[2.0, 5.0, 10.0, 6.0, 8.0]])


def test_regret_is_zero_at_the_optimum_and_one_at_the_median() -> None:
    assert normalized_regret(ROI, np.array([2]))[0] == 0.0
    assert normalized_regret(ROI, np.array([3]))[0] == pytest.approx(1.0)
    assert normalized_regret(ROI, np.array([4]))[0] == pytest.approx(0.5)


def test_regret_ignores_intervals_that_are_not_allowed() -> None:
    roi = np.array([[-np.inf, 5.0, 10.0, 6.0, 8.0]])
    # Median of the allowed four is 7, so the scale is 3.
    assert normalized_regret(roi, np.array([3]))[0] == pytest.approx(4 / 3)


def test_no_choice_or_a_forbidden_choice_has_infinite_regret() -> None:
    roi = np.array([[-np.inf, 5.0, 10.0], [1.0, 2.0, 3.0]])
    regret = normalized_regret(roi, np.array([0, -1]))
    assert np.all(np.isinf(regret))


def test_a_flat_upper_half_does_not_divide_by_zero() -> None:
    roi = np.array([[1.0, 4.0, 4.0, 4.0]])
    regret = normalized_regret(roi, np.array([1]))
    assert regret[0] == 0.0
    worse = normalized_regret(roi, np.array([0]))
    assert np.isfinite(worse[0]) and worse[0] > 1


def test_share_within_counts_models_at_or_below_the_threshold() -> None:
    regret = np.array([0.0, 0.02, 0.03, np.nan, np.inf])
    assert share_within(regret, 0.02) == pytest.approx(0.4)


def test_checkpoint_at_is_the_last_one_within_the_experiments() -> None:
    trace = _trace(n_experiments=[0, 4, 8], recommended=[[0, 0], [1, 1], [2, 2]])
    assert checkpoint_at(trace, 3) == 0
    assert checkpoint_at(trace, 8) == 2
    assert checkpoint_at(trace, -1) == -1


def _trace(n_experiments, recommended, models=(), intervals=()) -> StrategyTrace:
    return StrategyTrace(
        strategy="hand",
        n_experiments=np.asarray(n_experiments),
        recommended=np.asarray(recommended),
        experiment_model=np.asarray(models, dtype=np.int64),
        experiment_interval=np.asarray(intervals, dtype=np.int64),
        experiment_gain=np.zeros(len(models)),
        decision_seconds=2.0,
        n_decisions=4,
    )


def _fleet() -> TruthFleet:
    """Two models on three intervals; optima at index 2 and index 0."""
    import pandas as pd

    gain = np.array([[3.0, 2.0, 1.5], [4.0, 1.0, 0.0]])
    cost = np.array([[3.0, 1.0, 0.0], [1.0, 0.5, 0.0]])
    return TruthFleet(
        metadata=pd.DataFrame({"model_id": ["a", "b"]}),
        intervals_hours=np.array([1.0, 10.0, 100.0]),
        allowed=np.ones((2, 3), dtype=bool),
        true_gain=gain,
        cost_per_day=cost,
        value=np.array([1.0, 1.0]),
        noise_sd=np.zeros(2),
        true_cluster=np.zeros(2, dtype=np.int64),
    )


def test_evaluate_trace_scores_each_budget_at_its_checkpoint() -> None:
    fleet = _fleet()  # true ROI: a = [0, 1, 1.5], b = [3, 0.5, 0]
    trace = _trace(
        n_experiments=[0, 2, 4],
        recommended=[[0, 2], [2, 1], [2, 0]],
        models=[0, 1, 0, 1],
        intervals=[2, 1, 1, 0],
    )
    metrics = evaluate_trace(fleet, trace, np.array([0.0, 1.0, 2.0]), trial_days=7)

    np.testing.assert_allclose(metrics.share_within_2pct, [0.0, 0.5, 1.0])
    np.testing.assert_allclose(metrics.experiments_per_model, [0.0, 1.0, 2.0])
    # Compute spent: cost_per_day of each trial x 7 days, cumulated.
    np.testing.assert_allclose(metrics.compute_cost, [0.0, 3.5, 17.5])
    assert metrics.seconds_per_decision == pytest.approx(0.5)


def test_a_budget_before_the_first_checkpoint_has_no_score() -> None:
    trace = _trace(
        n_experiments=[2], recommended=[[2, 0]], models=[0, 1], intervals=[2, 0]
    )
    metrics = evaluate_trace(_fleet(), trace, np.array([0.0, 1.0]))
    assert np.isnan(metrics.regret[0]).all()
    assert metrics.share_within_2pct[0] == 0.0
    assert metrics.share_within_2pct[1] == 1.0


def test_confidence_interval_is_the_student_t_interval() -> None:
    samples = np.array([[0.1], [0.3], [0.2], [0.4]])
    mean, low, high = confidence_interval(samples)
    half = 3.182446305284263 * samples.std(ddof=1) / 2
    assert mean[0] == pytest.approx(0.25)
    assert high[0] - mean[0] == pytest.approx(half)
    assert mean[0] - low[0] == pytest.approx(half)


def test_confidence_interval_of_one_seed_collapses_to_the_value() -> None:
    mean, low, high = confidence_interval(np.array([[0.7, np.nan]]))
    assert (mean[0], low[0], high[0]) == (0.7, 0.7, 0.7)
    assert np.isnan(mean[1])
