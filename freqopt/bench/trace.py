"""The strategy interface of the benchmark and the trace a strategy leaves."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from freqopt.bench.fleet import Oracle, TruthFleet

__all__ = ["Strategy", "StrategyTrace"]


@dataclass(frozen=True)
class StrategyTrace:
    """What a strategy ran and what it would have recommended along the way.

    A checkpoint is taken after each round of experiments (and one before
    the first): the fleet's cumulative experiments so far and the interval
    each model would be recommended if the search stopped there.

    Attributes:
        strategy: Strategy name.
        n_experiments: Cumulative experiments over the whole fleet at each
            checkpoint, non-decreasing int64 array (n_checkpoints,).
        recommended: Interval index (column of ``intervals_hours``) each model
            would be recommended at each checkpoint, int64 array
            (n_checkpoints, n_models).
        experiment_model: Model index of every experiment in the order run,
            int64 array (n_experiments,).
        experiment_interval: Interval index of every experiment, int64 array
            (n_experiments,).
        experiment_gain: Measured gain of every experiment, float64 array
            (n_experiments,).
        decision_seconds: Wall-clock seconds the strategy spent deciding
            (choosing experiments, fitting, recommending); time inside the
            oracle is excluded.
        n_decisions: Number of decisions ``decision_seconds`` covers: the
            experiments chosen, or the models recommended for a strategy that
            runs none.
        notes: Remarks worth keeping with the result (e.g. what a
            zero-experiment strategy borrowed).
    """

    strategy: str
    n_experiments: np.ndarray
    recommended: np.ndarray
    experiment_model: np.ndarray
    experiment_interval: np.ndarray
    experiment_gain: np.ndarray
    decision_seconds: float
    n_decisions: int
    notes: tuple[str, ...] = ()

    @property
    def seconds_per_decision(self) -> float:
        """Mean wall-clock seconds per decision."""
        return self.decision_seconds / max(self.n_decisions, 1)


class Strategy(Protocol):
    """A way to pick experiments and recommend an interval per model."""

    @property
    def name(self) -> str:
        """Short snake_case name used in tables, JSON and plots."""
        ...

    def run(
        self,
        fleet: TruthFleet,
        oracle: Oracle,
        budget_per_model: float,
        rng: np.random.Generator,
    ) -> StrategyTrace:
        """Search the fleet through the oracle within the budget.

        Args:
            fleet: The fleet. A strategy may read ``metadata``,
                ``intervals_hours``, ``allowed``, ``value`` and
                ``cost_per_day`` (all known before any experiment), never the
                truth.
            oracle: Where every experiment runs.
            budget_per_model: Mean experiments per model the strategy may
                run; the fleet total is ``floor(budget_per_model * n_models)``.
            rng: Source of the strategy's randomness and the oracle's noise.

        Returns:
            The trace of experiments and recommendations.
        """
        ...
