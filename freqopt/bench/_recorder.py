"""Book-keeping shared by every strategy: experiments, checkpoints, timing."""

from __future__ import annotations

import time

import numpy as np

from freqopt.bench.fleet import Oracle, TruthFleet
from freqopt.bench.trace import StrategyTrace


def per_model_budget(budget_per_model: float, n_models: int) -> np.ndarray:
    """Experiments each model may use under a fleet budget.

    The fleet gets ``floor(budget_per_model * n_models)`` experiments; every
    model gets the integer part and the first models one more for the rest.

    Args:
        budget_per_model: Mean experiments per model, >= 0.
        n_models: Number of models.

    Returns:
        Experiments per model, int64 array (n_models,).
    """
    total = fleet_budget(budget_per_model, n_models)
    base, extra = divmod(total, n_models)
    budget = np.full(n_models, base, dtype=np.int64)
    budget[:extra] += 1
    return budget


def fleet_budget(budget_per_model: float, n_models: int) -> int:
    """Total experiments a fleet of ``n_models`` may run."""
    return int(np.floor(budget_per_model * n_models + 1e-9))


def allocate(total: int, sizes: np.ndarray) -> np.ndarray:
    """Split ``total`` in proportion to ``sizes`` (largest remainder).

    Args:
        total: Experiments to split, >= 0.
        sizes: Group sizes, int array (n_groups,), positive.

    Returns:
        Experiments per group, int64 array (n_groups,), summing to ``total``.
    """
    share = total * sizes / sizes.sum()
    counts = np.floor(share).astype(np.int64)
    order = np.argsort(-(share - counts), kind="stable")
    counts[order[: total - int(counts.sum())]] += 1
    return counts


def middle_allowed(allowed: np.ndarray) -> np.ndarray:
    """The middle allowed interval of each model: the guess without data.

    Args:
        allowed: Bool array (n_models, n_intervals).

    Returns:
        Interval index per model, int64 array (n_models,).
    """
    guess = np.empty(allowed.shape[0], dtype=np.int64)
    for m, row in enumerate(allowed):
        options = np.flatnonzero(row)
        guess[m] = options[(options.size - 1) // 2]
    return guess


class Recorder:
    """Runs experiments through an oracle and records the strategy's path.

    Time spent inside the oracle is excluded from ``decision_seconds``; all
    other time between construction and :meth:`trace` counts as deciding.

    Args:
        fleet: The fleet (truth is not read; ``value``, ``cost_per_day`` and
            ``allowed`` are what a strategy knows).
        oracle: Where experiments run.
        rng: Passed to the oracle for its noise.
    """

    def __init__(
        self, fleet: TruthFleet, oracle: Oracle, rng: np.random.Generator
    ) -> None:
        n_models, n_intervals = fleet.allowed.shape
        self.fleet = fleet
        self._oracle = oracle
        self._rng = rng
        self.gain_sum = np.zeros((n_models, n_intervals))
        self.n_runs = np.zeros((n_models, n_intervals), dtype=np.int64)
        self.models: list[int] = []
        self.intervals: list[int] = []
        self.gains: list[float] = []
        self.gain_ses: list[float] = []
        self._checkpoints: list[int] = []
        self._recommended: list[np.ndarray] = []
        self._oracle_seconds = 0.0
        self._started = time.perf_counter()

    @property
    def n_experiments(self) -> int:
        """Experiments run so far."""
        return len(self.gains)

    def measure(self, model_index: int, interval_index: int) -> float:
        """Run one experiment, record it, and return the measured gain."""
        start = time.perf_counter()
        outcome = self._oracle.run(int(model_index), int(interval_index), self._rng)
        self._oracle_seconds += time.perf_counter() - start

        self.models.append(int(model_index))
        self.intervals.append(int(interval_index))
        self.gains.append(float(outcome.gain))
        self.gain_ses.append(float(outcome.gain_se))
        self.gain_sum[model_index, interval_index] += outcome.gain
        self.n_runs[model_index, interval_index] += 1
        return float(outcome.gain)

    def observed_roi(self) -> np.ndarray:
        """Mean observed ROI per model and interval; NaN where never run.

        ROI uses the mean of replicates and the known cost:
        ``value * mean_gain - cost_per_day``. Shape (n_models, n_intervals).
        """
        with np.errstate(invalid="ignore", divide="ignore"):
            mean_gain = self.gain_sum / self.n_runs
        roi = self.fleet.value[:, None] * mean_gain - self.fleet.cost_per_day
        return np.where(self.n_runs > 0, roi, np.nan)

    def best_observed(self) -> np.ndarray:
        """Interval with the best observed ROI per model (middle allowed if none).

        Returns:
            Interval index per model, int64 array (n_models,).
        """
        roi = self.observed_roi()
        tried = self.n_runs > 0
        best = np.argmax(np.where(tried, roi, -np.inf), axis=1)
        return np.where(tried.any(axis=1), best, middle_allowed(self.fleet.allowed))

    def checkpoint(self, recommended: np.ndarray) -> None:
        """Record what each model would be recommended now."""
        self._checkpoints.append(self.n_experiments)
        self._recommended.append(np.asarray(recommended, dtype=np.int64).copy())

    def trace(
        self,
        strategy: str,
        n_decisions: int | None = None,
        notes: tuple[str, ...] = (),
    ) -> StrategyTrace:
        """Close the record and return the strategy's trace.

        Args:
            strategy: Strategy name.
            n_decisions: Decisions timed; default the number of experiments
                (at least 1).
            notes: Free-text remarks to keep with the trace.
        """
        elapsed = time.perf_counter() - self._started - self._oracle_seconds
        n_models = self.fleet.allowed.shape[0]
        recommended = (
            np.stack(self._recommended)
            if self._recommended
            else np.zeros((0, n_models), dtype=np.int64)
        )
        return StrategyTrace(
            strategy=strategy,
            n_experiments=np.asarray(self._checkpoints, dtype=np.int64),
            recommended=recommended,
            experiment_model=np.asarray(self.models, dtype=np.int64),
            experiment_interval=np.asarray(self.intervals, dtype=np.int64),
            experiment_gain=np.asarray(self.gains, dtype=np.float64),
            decision_seconds=max(elapsed, 0.0),
            n_decisions=max(n_decisions or self.n_experiments, 1),
            notes=notes,
        )
