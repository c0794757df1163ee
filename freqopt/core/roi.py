"""Cost per day and ROI: the known (grey-box) part of the decision.

Cost at an interval is known from metadata or telemetry; only gain is learned.
ROI = value x gain - compute price x cost per day, so a Gaussian belief about
gain maps to a Gaussian belief about ROI by a scale and a shift.
"""

from __future__ import annotations

import numpy as np

__all__ = ["cost_per_day_from_metadata", "roi_from_gain"]

_HOURS_PER_DAY = 24.0


def cost_per_day_from_metadata(
    cost_per_retrain: np.ndarray,
    intervals_hours: np.ndarray,
    fixed_overhead_per_day: float = 0.0,
) -> np.ndarray:
    """Compute cost per day from the cost of one retrain.

    Retraining every ``interval_hours`` means ``24 / interval_hours`` retrains
    a day; each costs ``cost_per_retrain``; ``fixed_overhead_per_day`` is paid
    at every interval.

    Args:
        cost_per_retrain: Cost of one retrain per model, in cost units,
            float array of shape (n_models,).
        intervals_hours: Intervals in hours, positive, float array of shape
            (n_intervals,).
        fixed_overhead_per_day: Cost per day paid regardless of interval.

    Returns:
        Cost per day in cost units per day, float64 array of shape
        (n_models, n_intervals).
    """
    per_retrain = np.asarray(cost_per_retrain, dtype=np.float64)
    retrains_per_day = _HOURS_PER_DAY / np.asarray(intervals_hours, dtype=np.float64)
    return per_retrain[:, None] * retrains_per_day[None, :] + fixed_overhead_per_day


def roi_from_gain(
    gain_mean: np.ndarray,
    gain_sd: np.ndarray,
    value: np.ndarray,
    cost_per_day: np.ndarray,
    compute_price: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Map a Gaussian belief about gain to one about ROI.

    Args:
        gain_mean: Posterior mean gain, float array (n_models, n_intervals).
        gain_sd: Posterior standard deviation of gain, same shape.
        value: Money per gain unit per day, float array (n_models,).
        cost_per_day: Known cost per day, float array (n_models, n_intervals).
        compute_price: Money per cost unit.

    Returns:
        ROI mean and standard deviation in money per day, float64 arrays of
        shape (n_models, n_intervals).
    """
    scale = np.asarray(value, dtype=np.float64)[:, None]
    roi_mean = scale * gain_mean - compute_price * cost_per_day
    roi_sd = np.abs(scale) * gain_sd
    return roi_mean, roi_sd
