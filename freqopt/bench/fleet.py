"""The contract between a fleet with known truth and the benchmark.

A :class:`TruthFleet` holds every model's true gain curve on a grid of
intervals, its value and its cost; an :class:`Oracle` answers "run model m at
interval j" with a noisy measurement, as a production experiment would. The
simulator and the real-data replay both produce these; every benchmark
strategy consumes them through the same interface.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np
import pandas as pd

__all__ = ["Oracle", "Outcome", "TruthFleet"]


@dataclass(frozen=True)
class TruthFleet:
    """A fleet whose true gain curves are known.

    Attributes:
        metadata: One row per model in fleet-file form: ``model_id``,
            ``value``, ``cost_per_retrain`` and any metadata columns,
            shape (n_models, n_columns).
        intervals_hours: Allowed intervals in hours, ascending, float64
            array (n_intervals,).
        allowed: Whether a model may run at an interval, bool array
            (n_models, n_intervals).
        true_gain: Noise-free gain at each interval (higher is better),
            float64 array (n_models, n_intervals); NaN where not allowed.
        cost_per_day: Compute cost at each interval in money per day,
            float64 array (n_models, n_intervals).
        value: Worth of one unit of gain per day, float64 array (n_models,).
        noise_sd: Standard deviation of one experiment's gain, float64 array
            (n_models,).
        true_cluster: Generating group of each model, int array (n_models,);
            -1 where unknown.
    """

    metadata: pd.DataFrame
    intervals_hours: np.ndarray
    allowed: np.ndarray
    true_gain: np.ndarray
    cost_per_day: np.ndarray
    value: np.ndarray
    noise_sd: np.ndarray
    true_cluster: np.ndarray

    @property
    def n_models(self) -> int:
        """Number of models."""
        return int(self.value.shape[0])

    @property
    def model_ids(self) -> tuple[str, ...]:
        """Model ids in row order."""
        return tuple(str(m) for m in self.metadata["model_id"])

    @property
    def true_roi(self) -> np.ndarray:
        """True ROI per day, shape (n_models, n_intervals); -inf where not allowed."""
        roi = self.value[:, None] * self.true_gain - self.cost_per_day
        return np.where(self.allowed, roi, -np.inf)


@dataclass(frozen=True)
class Outcome:
    """One experiment's measurement.

    Attributes:
        gain: Measured gain (higher is better).
        gain_se: Standard error of ``gain``.
        cost_per_day: Compute cost measured at that interval, money per day.
    """

    gain: float
    gain_se: float
    cost_per_day: float


class Oracle(Protocol):
    """Answers experiments on a :class:`TruthFleet` with noisy outcomes."""

    @property
    def fleet(self) -> TruthFleet:
        """The fleet this oracle measures."""
        ...

    def run(
        self, model_index: int, interval_index: int, rng: np.random.Generator
    ) -> Outcome:
        """Run one experiment and return its measurement."""
        ...
