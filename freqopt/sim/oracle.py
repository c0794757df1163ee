"""An oracle that answers experiments with the truth plus Gaussian noise."""

from __future__ import annotations

import numpy as np

from freqopt.bench.fleet import Outcome, TruthFleet
from freqopt.errors import DataError

__all__ = ["SimOracle"]


class SimOracle:
    """Measures a :class:`~freqopt.bench.fleet.TruthFleet` with Gaussian noise.

    One experiment on model ``m`` at interval ``j`` returns
    ``true_gain[m, j] + N(0, noise_sd[m] ** 2)`` as its gain, ``noise_sd[m]``
    as its standard error, and the fleet's known ``cost_per_day[m, j]``.
    Works on any fleet, simulated or replayed.

    Args:
        fleet: The fleet to measure.
    """

    def __init__(self, fleet: TruthFleet) -> None:
        self._fleet = fleet

    @property
    def fleet(self) -> TruthFleet:
        """The fleet this oracle measures."""
        return self._fleet

    def run(
        self, model_index: int, interval_index: int, rng: np.random.Generator
    ) -> Outcome:
        """Run one experiment and return its noisy measurement.

        Args:
            model_index: Row of the model in the fleet.
            interval_index: Column of the interval in ``fleet.intervals_hours``.
            rng: Source of the noise.

        Returns:
            The measured outcome.

        Raises:
            DataError: If the model or interval index is out of range, or the
                model may not run at that interval.
        """
        fleet = self._fleet
        n_models, n_intervals = fleet.allowed.shape
        if not (0 <= model_index < n_models and 0 <= interval_index < n_intervals):
            raise DataError(
                f"experiment (model_index={model_index}, "
                f"interval_index={interval_index}) is outside the fleet of "
                f"{n_models} models x {n_intervals} intervals."
            )
        if not fleet.allowed[model_index, interval_index]:
            hours = float(fleet.intervals_hours[interval_index])
            raise DataError(
                f"model {fleet.model_ids[model_index]!r} may not run at "
                f"interval_hours={hours:g}; pick an interval its allowed mask "
                "permits."
            )

        sd = float(fleet.noise_sd[model_index])
        truth = float(fleet.true_gain[model_index, interval_index])
        return Outcome(
            gain=truth + sd * float(rng.standard_normal()),
            gain_se=sd,
            cost_per_day=float(fleet.cost_per_day[model_index, interval_index]),
        )
