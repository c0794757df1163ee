"""How good a strategy's recommendations are, and what they cost to find.

Normalized regret of choosing interval ``j`` for a model, on its true ROI
over its allowed intervals::

    regret = (best_roi - roi[j]) / max(best_roi - median_roi, floor)

with ``floor = 1e-9 * (1 + |best_roi|)`` so a curve whose upper half is flat
does not divide by zero. Regret is 0 at the optimum and 1 at the median
interval; a missing or not-allowed choice has infinite regret.

A strategy is scored at ``k`` experiments per model on average: the last
checkpoint at which the fleet had run at most ``k * n_models`` experiments
(every experiment counts, also those spent on other models of a cluster).
Compute spent is what the experiments themselves cost: the model's
``cost_per_day`` at the tried interval times the trial length in days.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from freqopt.bench.fleet import TruthFleet
from freqopt.bench.trace import StrategyTrace

__all__ = [
    "DEFAULT_TRIAL_DAYS",
    "TraceMetrics",
    "checkpoint_at",
    "confidence_interval",
    "evaluate_trace",
    "normalized_regret",
    "share_within",
]

#: Length of one trial (experiment) in days, for the compute it spends.
DEFAULT_TRIAL_DAYS = 7.0


@dataclass(frozen=True)
class TraceMetrics:
    """One strategy's scores on one fleet and seed.

    Attributes:
        strategy: Strategy name.
        k: Experiments per model at which it is scored, float64 (n_k,).
        regret: Normalized regret per model at each ``k``, float64
            (n_k, n_models); NaN where the strategy had no checkpoint yet.
        share_within_2pct: Share of models with regret <= 0.02, (n_k,).
        share_within_5pct: Share of models with regret <= 0.05, (n_k,).
        experiments_per_model: Experiments actually run per model at each
            scored checkpoint, (n_k,).
        compute_cost: Compute the experiments up to each checkpoint spent, in
            money, (n_k,).
        seconds_per_decision: Strategy's wall-clock seconds per decision.
    """

    strategy: str
    k: np.ndarray
    regret: np.ndarray
    share_within_2pct: np.ndarray
    share_within_5pct: np.ndarray
    experiments_per_model: np.ndarray
    compute_cost: np.ndarray
    seconds_per_decision: float


def normalized_regret(true_roi: np.ndarray, choice: np.ndarray) -> np.ndarray:
    """Normalized regret of each model's chosen interval (see module docs).

    Args:
        true_roi: True ROI per model and interval, float64 array
            (n_models, n_intervals), ``-inf`` where not allowed.
        choice: Chosen interval index per model, int array (n_models,); a
            negative index means no choice.

    Returns:
        Regret per model, float64 array (n_models,): 0 at the optimum, 1 at
        the median allowed interval, ``inf`` for no or a forbidden choice.
    """
    choice = np.asarray(choice, dtype=np.int64)
    allowed = np.isfinite(true_roi)
    best = np.max(true_roi, axis=1)
    median = np.array(
        [np.median(row[ok]) for row, ok in zip(true_roi, allowed, strict=True)]
    )
    floor = 1e-9 * (1.0 + np.abs(best))
    scale = np.maximum(best - median, floor)

    valid = (choice >= 0) & (choice < true_roi.shape[1])
    picked = true_roi[np.arange(choice.size), np.where(valid, choice, 0)]
    picked = np.where(valid, picked, -np.inf)
    return np.maximum((best - picked) / scale, 0.0)


def share_within(regret: np.ndarray, threshold: float) -> float:
    """Share of models whose regret is at most ``threshold`` (NaN counts as not)."""
    return float(np.mean(np.nan_to_num(regret, nan=np.inf) <= threshold))


def checkpoint_at(trace: StrategyTrace, n_experiments: float) -> int:
    """Index of the last checkpoint with at most ``n_experiments`` run, or -1."""
    eligible = np.flatnonzero(trace.n_experiments <= n_experiments + 1e-9)
    return int(eligible[-1]) if eligible.size else -1


def evaluate_trace(
    fleet: TruthFleet,
    trace: StrategyTrace,
    k: np.ndarray,
    trial_days: float = DEFAULT_TRIAL_DAYS,
) -> TraceMetrics:
    """Score a trace at several budgets of experiments per model.

    Args:
        fleet: The fleet the trace was run on (its truth is read here).
        trace: The strategy's trace.
        k: Experiments per model to score at, float64 array (n_k,).
        trial_days: Length of one trial in days.

    Returns:
        The scores.
    """
    k = np.asarray(k, dtype=np.float64)
    true_roi = fleet.true_roi
    spent = fleet.cost_per_day[trace.experiment_model, trace.experiment_interval]
    cumulative_cost = np.concatenate([[0.0], np.cumsum(spent * trial_days)])

    regret = np.full((k.size, fleet.n_models), np.nan)
    used = np.full(k.size, np.nan)
    cost = np.full(k.size, np.nan)
    for i, k_i in enumerate(k):
        index = checkpoint_at(trace, k_i * fleet.n_models)
        if index < 0:
            continue
        regret[i] = normalized_regret(true_roi, trace.recommended[index])
        n_run = int(trace.n_experiments[index])
        used[i] = n_run / fleet.n_models
        cost[i] = cumulative_cost[n_run]

    return TraceMetrics(
        strategy=trace.strategy,
        k=k,
        regret=regret,
        share_within_2pct=np.array([share_within(r, 0.02) for r in regret]),
        share_within_5pct=np.array([share_within(r, 0.05) for r in regret]),
        experiments_per_model=used,
        compute_cost=cost,
        seconds_per_decision=trace.seconds_per_decision,
    )


def confidence_interval(
    samples: np.ndarray, level: float = 0.95
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean and Student-t confidence interval over seeds.

    Args:
        samples: Values per seed along axis 0, float64 array (n_seeds, ...).
            NaNs are ignored per column.
        level: Confidence level.

    Returns:
        ``(mean, low, high)``, each of shape ``samples.shape[1:]``. With one
        seed the interval collapses to the mean.
    """
    from scipy import stats

    samples = np.asarray(samples, dtype=np.float64)
    n = np.sum(np.isfinite(samples), axis=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        mean = np.nanmean(samples, axis=0)
        sd = np.nanstd(samples, axis=0, ddof=1)
    half = np.where(
        n > 1,
        stats.t.ppf(0.5 + level / 2, np.maximum(n - 1, 1)) * sd / np.sqrt(n),
        0.0,
    )
    half = np.nan_to_num(half)
    return mean, mean - half, mean + half
