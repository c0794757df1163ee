"""Schedule losses read from a replay table: truth, staleness, experiments.

Under "retrain every K periods" with phase φ, period p is served by the model
trained at the start of the last retrain period r ≤ p, r ≡ φ (mod K), at age
a = p − r. Its loss on p is ``loss_sum[r − first_origin, a]``. Averaged over
the K phases, every age 0..K−1 serves p once, so the expected loss of the
schedule over the horizon is the mean of the staleness curve over ages
0..K−1. The true gain is the exact expectation of one experiment (one
uniformly placed evaluation window, one independent uniform phase per arm):
the relative loss reduction against the longest interval, averaged over
every window position and every pair of phases.

Evaluation periods start at ``first_origin + n_ages − 1``: the first period
every schedule, up to the longest, can serve with a fully trained model.
Pure functions; no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = [
    "WindowGain",
    "age_losses",
    "expected_window_gain",
    "phase_loss",
    "schedule_loss",
    "staleness_loss",
    "window_gain",
]


def _first_eval(first_origin: int, n_ages: int) -> int:
    return first_origin + n_ages - 1


def age_losses(loss_sum: np.ndarray, first_origin: int) -> np.ndarray:
    """Loss on each evaluation period of the model of each age.

    Args:
        loss_sum: Float64 array (n_origins, n_ages), see
            :class:`~freqopt.replay.ReplayTable`.
        first_origin: Period index of the first trained model.

    Returns:
        Float64 array (n_eval, n_ages): row i is evaluation period
        ``first_origin + n_ages − 1 + i``; column a holds the summed loss
        there of the model trained a periods earlier.
    """
    n_origins, n_ages = loss_sum.shape
    n_eval = n_origins - n_ages + 1
    rows = np.arange(n_eval)[:, None] + (n_ages - 1) - np.arange(n_ages)[None, :]
    return loss_sum[rows, np.arange(n_ages)[None, :]]


def staleness_loss(
    loss_sum: np.ndarray, n_rows: np.ndarray, first_origin: int
) -> np.ndarray:
    """Mean per-row loss of a model by its age, over the evaluation periods.

    Args:
        loss_sum: Float64 array (n_origins, n_ages), see
            :class:`~freqopt.replay.ReplayTable`.
        n_rows: Rows per period, int array (n_periods,).
        first_origin: Period index of the first trained model.

    Returns:
        Float64 array (n_ages,): entry a is the mean loss on the evaluation
        periods of the models that are a periods old there.
    """
    start = _first_eval(first_origin, loss_sum.shape[1])
    total_rows = float(n_rows[start:].sum())
    return age_losses(loss_sum, first_origin).sum(axis=0) / total_rows


def expected_window_gain(
    loss_sum: np.ndarray,
    first_origin: int,
    k_periods: np.ndarray,
    width: int,
) -> np.ndarray:
    """Expected gain of one experiment against the longest interval, exactly.

    An experiment picks one of the windows of ``width`` consecutive
    evaluation periods uniformly, a phase for the tested interval and an
    independent phase for the baseline (every ``n_ages`` periods), and
    measures ``100 × (1 − T / B)`` with T and B the two arms' summed losses
    on the window. As the phases are independent, its expectation on a
    window is ``100 × (1 − E[T] × E[1 / B])``; this returns the mean of that
    over all windows. Windows without rows count as gain 0.

    Args:
        loss_sum: Float64 array (n_origins, n_ages).
        first_origin: Period index of the first trained model.
        k_periods: Intervals in periods, each in 1..n_ages, int array (n_k,).
        width: Window length in periods, at least 1; clipped to the number
            of evaluation periods.

    Returns:
        Gain in percent, float64 array (n_k,). At the baseline itself it is
        the expected result of an A/A test: slightly below 0, because the
        baseline's loss is a noisy denominator.
    """
    by_age = age_losses(loss_sum, first_origin)
    n_eval, n_ages = by_age.shape
    width = int(min(max(width, 1), n_eval))
    start = first_origin + n_ages - 1

    def window_sums(per_period: np.ndarray) -> np.ndarray:
        running = np.cumsum(per_period, axis=-1)
        zero = np.zeros((*running.shape[:-1], 1))
        running = np.concatenate([zero, running], axis=-1)
        return running[..., width:] - running[..., :-width]

    # Baseline window sums under each of its phases, shape (n_ages, n_windows).
    periods = start + np.arange(n_eval)
    ages = np.mod(periods[None, :] - np.arange(n_ages)[:, None], n_ages)
    baseline = window_sums(by_age[np.arange(n_eval)[None, :], ages])
    usable = np.all(baseline > 0.0, axis=0)
    inverse = np.mean(1.0 / baseline[:, usable], axis=0)

    cumulative = np.cumsum(by_age, axis=1)
    gains = np.empty(len(k_periods))
    for i, k in enumerate(np.asarray(k_periods, dtype=np.int64)):
        tested = window_sums(cumulative[:, k - 1] / k)[usable]
        gains[i] = 100.0 * np.sum(1.0 - tested * inverse) / usable.shape[0]
    return gains


def schedule_loss(staleness: np.ndarray, k_periods: np.ndarray) -> np.ndarray:
    """Expected mean loss of retraining every K periods, phases averaged.

    Args:
        staleness: Mean loss by age, float64 array (n_ages,).
        k_periods: Intervals in periods, each in 1..n_ages, int array (n_k,).

    Returns:
        Float64 array (n_k,): mean of ``staleness[:K]`` for each K.
    """
    cumulative = np.cumsum(staleness)
    k = np.asarray(k_periods, dtype=np.int64)
    return cumulative[k - 1] / k


def phase_loss(
    loss_sum: np.ndarray,
    first_origin: int,
    periods: np.ndarray,
    k_periods: int,
    phase: int,
) -> np.ndarray:
    """Summed loss on each period under one schedule and phase.

    Args:
        loss_sum: Float64 array (n_origins, n_ages).
        first_origin: Period index of the first trained model.
        periods: Evaluation period indices, int array (n_window,); each at
            least ``first_origin + k_periods − 1``.
        k_periods: Retrain every this many periods, 1..n_ages.
        phase: Retrains happen at periods ≡ phase (mod k_periods).

    Returns:
        Float64 array (n_window,) of summed per-row loss.
    """
    age = np.mod(periods - phase, k_periods)
    return loss_sum[periods - age - first_origin, age]


@dataclass(frozen=True)
class WindowGain:
    """One experiment's result on one evaluation window.

    Attributes:
        gain: Relative loss reduction of the tested schedule against the
            baseline schedule, in percent (higher is better).
        gain_se: Standard error of ``gain`` from the per-period loss
            differences (ratio estimator); NaN with fewer than 2 periods.
        n_periods: Periods with data in the window.
    """

    gain: float
    gain_se: float
    n_periods: int


def window_gain(baseline_loss: np.ndarray, test_loss: np.ndarray) -> WindowGain:
    """Gain and its standard error from paired per-period losses.

    Args:
        baseline_loss: Summed loss of the baseline arm per period, float64
            array (n_window,).
        test_loss: Summed loss of the tested arm on the same periods, float64
            array (n_window,).

    Returns:
        The gain ``100 × (B − T) / B`` with B, T the summed losses, and its
        ratio-estimator standard error over periods. Periods where both arms
        have zero loss (no rows) are ignored.
    """
    keep = (baseline_loss != 0.0) | (test_loss != 0.0)
    base, test = baseline_loss[keep], test_loss[keep]
    n = int(base.shape[0])
    total = float(base.sum())
    if n == 0 or total <= 0.0:
        return WindowGain(gain=0.0, gain_se=float("nan"), n_periods=n)

    diff = base - test
    ratio = float(diff.sum()) / total
    if n < 2:
        return WindowGain(gain=100.0 * ratio, gain_se=float("nan"), n_periods=n)
    residual = diff - ratio * base
    se = np.sqrt(n / (n - 1.0) * float(np.sum(residual**2))) / total
    return WindowGain(gain=100.0 * ratio, gain_se=100.0 * se, n_periods=n)
