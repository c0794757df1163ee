"""Experiments on replayed models: one random window, one phase per arm.

An experiment on model m at interval τ draws an evaluation window of the
model's ``eval_window_hours`` (several baseline cycles, see
:func:`~freqopt.replay.list_models`) uniformly within the evaluation periods,
and one retrain phase for each arm (τ, and the baseline: the longest allowed
interval). Both arms are scored on the same rows, so the comparison is paired.

The standard error computed from the per-period loss differences inside one
window cannot see where the window falls in the season nor which phases were
drawn, and is 2 to 3 times smaller than the real spread of experiments around
the truth. :class:`ReplayOracle` therefore reports, as ``gain_se``, the
calibrated spread measured when the fleet was built (the root mean square
deviation of simulated experiments from the truth, per model and interval):
the noise level a team would know from its history of past experiments.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from freqopt.bench.fleet import Outcome, TruthFleet
from freqopt.errors import DataError
from freqopt.replay._engine import ReplayTable
from freqopt.replay._schedule import WindowGain, phase_loss, window_gain
from freqopt.replay._specs import ReplaySpec

__all__ = ["ReplayOracle", "experiment_noise", "run_experiment", "window_periods"]


def window_periods(spec: ReplaySpec, table: ReplayTable) -> int:
    """Experiment length in periods, at most the number of evaluation periods.

    Args:
        spec: The model; its ``eval_window_hours`` sets the length.
        table: Its replay table.

    Returns:
        Number of periods, at least 1.
    """
    n_eval = table.n_periods - (table.first_origin + table.n_ages - 1)
    wanted = int(round(spec.eval_window_hours / table.period_hours))
    return min(n_eval, max(1, wanted))


def run_experiment(
    spec: ReplaySpec,
    table: ReplayTable,
    interval_hours: float,
    rng: np.random.Generator,
) -> WindowGain:
    """Replay one random evaluation window: tested interval vs baseline.

    Args:
        spec: The model.
        table: Its replay table.
        interval_hours: Tested interval; a whole multiple of the period, at
            most the longest interval.
        rng: Draws the window start and the two phases.

    Returns:
        The measured gain in percent and its standard error.
    """
    k_test = int(round(interval_hours / table.period_hours))
    k_base = table.n_ages
    start_eval = table.first_origin + table.n_ages - 1
    width = window_periods(spec, table)

    start = int(rng.integers(start_eval, table.n_periods - width + 1))
    periods = np.arange(start, start + width)
    base_phase, test_phase = int(rng.integers(k_base)), int(rng.integers(k_test))
    baseline = phase_loss(
        table.loss_sum, table.first_origin, periods, k_base, base_phase
    )
    tested = phase_loss(table.loss_sum, table.first_origin, periods, k_test, test_phase)
    return window_gain(baseline, tested)


def experiment_noise(
    specs: Sequence[ReplaySpec],
    tables: Sequence[ReplayTable],
    truth: TruthFleet,
    seed: int,
    n_draws: int = 200,
) -> tuple[np.ndarray, np.ndarray]:
    """How far one experiment lands from the truth, by simulation.

    Args:
        specs: One spec per model.
        tables: One table per model.
        truth: The fleet whose ``true_gain`` and ``allowed`` are used.
        seed: Seed of the simulated experiments.
        n_draws: Experiments per (model, interval).

    Returns:
        ``(gain_sd, gain_se_mean)``, float64 arrays (n_models, n_intervals),
        NaN where not allowed: the root mean square deviation of a measured
        gain from the true gain, and the mean standard error experiments
        report.
    """
    shape = truth.allowed.shape
    gain_sd, gain_se = np.full(shape, np.nan), np.full(shape, np.nan)
    streams = np.random.SeedSequence(seed).spawn(len(specs))

    for m, (spec, table) in enumerate(zip(specs, tables, strict=True)):
        rng = np.random.default_rng(streams[m])
        for j in np.flatnonzero(truth.allowed[m]):
            interval_hours = float(truth.intervals_hours[j])
            draws = [
                run_experiment(spec, table, interval_hours, rng) for _ in range(n_draws)
            ]
            error = np.array([d.gain for d in draws]) - truth.true_gain[m, j]
            gain_sd[m, j] = float(np.sqrt(np.mean(error**2)))
            gain_se[m, j] = float(np.nanmean([d.gain_se for d in draws]))
    return gain_sd, gain_se


class ReplayOracle:
    """Answers "run model m at interval j" by replaying a random window.

    Args:
        truth: The fleet the indices refer to.
        specs: One spec per model, in row order.
        tables: One replay table per model, in row order.
        rng: Generator or seed used when :meth:`run` gets none.
        gain_se: Standard error to report for each experiment, float64 array
            (n_models, n_intervals), in gain percent; normally
            :attr:`RealFleet.gain_sd`, the calibrated spread of experiments
            around the truth. None (or a non-finite or non-positive entry)
            reports the per-period standard error of the window instead,
            which understates the spread.

    Raises:
        DataError: If ``gain_se`` does not have the shape of
            ``truth.allowed``.
    """

    def __init__(
        self,
        truth: TruthFleet,
        specs: Sequence[ReplaySpec],
        tables: Sequence[ReplayTable],
        rng: np.random.Generator | int | None = None,
        gain_se: np.ndarray | None = None,
    ) -> None:
        if gain_se is not None:
            gain_se = np.asarray(gain_se, dtype=np.float64)
            if gain_se.shape != truth.allowed.shape:
                raise DataError(
                    f"gain_se has shape {gain_se.shape}; it needs one entry per "
                    f"model and interval, shape {truth.allowed.shape}"
                )
        self._truth = truth
        self._specs = tuple(specs)
        self._tables = tuple(tables)
        self._rng = np.random.default_rng(rng)
        self._gain_se = gain_se

    @property
    def fleet(self) -> TruthFleet:
        """The fleet this oracle measures."""
        return self._truth

    def run(
        self,
        model_index: int,
        interval_index: int,
        rng: np.random.Generator | None = None,
    ) -> Outcome:
        """Run one experiment and return its measurement.

        Args:
            model_index: Row of the model.
            interval_index: Column of the interval in ``fleet.intervals_hours``.
            rng: Random generator; default the oracle's own.

        Returns:
            Measured gain in percent, its standard error (the calibrated
            ``gain_se`` where given, else the window's per-period one), and
            the known cost per day at that interval.

        Raises:
            DataError: If an index is out of range, or the model may not run
                at that interval.
        """
        truth = self._truth
        n_models, n_intervals = truth.allowed.shape
        if not (0 <= model_index < n_models and 0 <= interval_index < n_intervals):
            raise DataError(
                f"experiment (model_index={model_index}, interval_index="
                f"{interval_index}) is outside the fleet of {n_models} models x "
                f"{n_intervals} intervals"
            )
        if not truth.allowed[model_index, interval_index]:
            allowed = truth.intervals_hours[truth.allowed[model_index]]
            raise DataError(
                f"model {truth.model_ids[model_index]!r} may not run at "
                f"interval_hours={truth.intervals_hours[interval_index]:g}; its "
                f"allowed intervals are {allowed.tolist()} h"
            )

        measured = run_experiment(
            self._specs[model_index],
            self._tables[model_index],
            float(truth.intervals_hours[interval_index]),
            rng if rng is not None else self._rng,
        )
        gain_se = measured.gain_se
        if self._gain_se is not None:
            calibrated = float(self._gain_se[model_index, interval_index])
            if np.isfinite(calibrated) and calibrated > 0.0:
                gain_se = calibrated
        return Outcome(
            gain=measured.gain,
            gain_se=gain_se,
            cost_per_day=float(truth.cost_per_day[model_index, interval_index]),
        )
