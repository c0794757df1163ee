"""Acquisition on ROI: expected improvement, its noisy variant, believers.

All functions are vectorized numpy over (n_models, n_intervals) arrays and
work in money per day. Log-space expected improvement keeps the ranking of
candidates exact where the improvement itself underflows to zero.
"""

from __future__ import annotations

import numpy as np
from scipy.special import erfcx, log_ndtr, ndtr

__all__ = [
    "believer_update",
    "log_noise_factor",
    "efficiency_incumbent",
    "efficiency_scores",
    "log_expected_improvement",
    "net_value_scores",
]

_SQRT_HALF_PI = np.sqrt(np.pi / 2)
_LOG_SQRT_2PI = 0.5 * np.log(2 * np.pi)


def _log_h(z: np.ndarray) -> np.ndarray:
    """log(z * Phi(z) + phi(z)), accurate for very negative z."""
    z = np.asarray(z, dtype=np.float64)
    log_phi = -0.5 * z**2 - _LOG_SQRT_2PI
    out = np.empty_like(z)

    # For z >= -1 the direct form is exact enough.
    upper = z >= -1
    zu = z[upper]
    out[upper] = np.log(zu * ndtr(zu) + np.exp(log_phi[upper]))

    # Below, h = phi(z) * (1 + z * Phi(z) / phi(z)) with the Mills ratio from
    # the scaled complementary error function.
    zl = np.maximum(z[~upper], -1e6)
    mills = _SQRT_HALF_PI * erfcx(-zl / np.sqrt(2))
    out[~upper] = log_phi[~upper] + np.log(np.maximum(1 + zl * mills, 1e-300))
    return out


def log_expected_improvement(
    mean: np.ndarray, sd: np.ndarray, best: np.ndarray
) -> np.ndarray:
    """Log of E[max(Y - best, 0)] for Y ~ N(mean, sd**2).

    Args:
        mean: Posterior mean, float array (...).
        sd: Posterior standard deviation, >= 0, same shape.
        best: Value to improve on, broadcastable to ``mean``.

    Returns:
        Log expected improvement, float64 array of ``mean``'s shape; -inf
        where ``sd`` is 0 and ``mean`` does not exceed ``best``.
    """
    mean, sd, best = np.broadcast_arrays(
        np.asarray(mean, dtype=np.float64),
        np.asarray(sd, dtype=np.float64),
        np.asarray(best, dtype=np.float64),
    )
    out = np.full(mean.shape, -np.inf)
    certain = sd <= 0
    gap = mean - best
    with np.errstate(divide="ignore"):
        out[certain] = np.log(np.maximum(gap[certain], 0.0))
    uncertain = ~certain
    z = gap[uncertain] / sd[uncertain]
    out[uncertain] = np.log(sd[uncertain]) + _log_h(z)
    return out


def log_noise_factor(sd: np.ndarray, noise_sd: np.ndarray) -> np.ndarray:
    """Log of 1 - noise / sqrt(sd^2 + noise^2): worth of one noisy look.

    Multiplying expected improvement by this factor (augmented expected
    improvement) discounts points whose remaining uncertainty is small next
    to the measurement noise, such as points already measured.

    Args:
        sd: Posterior sd of the latent quantity, float array (...).
        noise_sd: Sd of one measurement, same shape.

    Returns:
        Log factor in (-inf, 0], float64 array of the same shape.
    """
    total = np.sqrt(sd**2 + noise_sd**2)
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = np.where(total > 0, 1 - noise_sd / total, 0.0)
        return np.log(np.maximum(factor, 0.0))


def net_value_scores(
    roi_mean: np.ndarray, roi_sd: np.ndarray, incumbent: np.ndarray
) -> np.ndarray:
    """Log expected ROI improvement over the incumbent, per point.

    The incumbent is the model's best posterior-mean ROI; the improvement is
    that of the latent (noise-free) ROI.

    Args:
        roi_mean: ROI posterior mean, money/day, (n_models, n_intervals).
        roi_sd: ROI posterior sd (latent), money/day, same shape.
        incumbent: Incumbent interval index per model, int (n_models,); -1
            for a model without feasible intervals.

    Returns:
        Log score, float64 array (n_models, n_intervals); exp() is money/day.
    """
    rows = np.arange(roi_mean.shape[0])
    best = roi_mean[rows, np.clip(incumbent, 0, None)]
    return log_expected_improvement(roi_mean, roi_sd, best[:, None])


def efficiency_incumbent(
    gain_mean: np.ndarray,
    cost_per_day: np.ndarray,
    feasible: np.ndarray,
    epsilon: float,
) -> np.ndarray:
    """Cheapest feasible interval whose expected gain is within epsilon.

    The tolerance is ``epsilon`` times the larger of the best gain's size and
    the spread of expected gain over the feasible intervals.

    Args:
        gain_mean: Posterior mean gain, (n_models, n_intervals).
        cost_per_day: Cost per day, (n_models, n_intervals).
        feasible: Feasible intervals, bool (n_models, n_intervals).
        epsilon: Relative tolerance on gain.

    Returns:
        Interval index per model, int64 (n_models,); -1 without feasible ones.
    """
    masked = np.where(feasible, gain_mean, -np.inf)
    best = masked.max(axis=1, initial=-np.inf)
    worst = np.where(feasible, gain_mean, np.inf).min(axis=1, initial=np.inf)
    tolerance = epsilon * np.maximum(np.abs(best), best - worst)
    within = feasible & (masked >= (best - tolerance)[:, None])

    # Cheapest first; among equal costs, the higher gain.
    order_key = np.where(within, cost_per_day, np.inf)
    pick = np.lexsort((-masked, order_key), axis=1)[:, 0]
    return np.where(feasible.any(axis=1), pick, -1).astype(np.int64)


def efficiency_scores(
    gain_mean: np.ndarray,
    gain_sd: np.ndarray,
    value: np.ndarray,
    money_cost: np.ndarray,
    feasible: np.ndarray,
    incumbent: np.ndarray,
    epsilon: float,
) -> np.ndarray:
    """Log expected worth of one more trial under the efficiency objective.

    Two ways a trial helps: a cheaper interval may turn out to be within
    tolerance (expected saving = P(within) x cost difference), or an interval
    may beat the best gain seen so far (value x expected gain improvement).
    Both are money per day; the score is their sum.

    Args:
        gain_mean: Posterior mean gain, (n_models, n_intervals).
        gain_sd: Posterior sd of gain (latent), same shape.
        value: Money per gain unit per day, (n_models,).
        money_cost: Compute price x cost per day, (n_models, n_intervals).
        feasible: Feasible intervals, bool (n_models, n_intervals).
        incumbent: From :func:`efficiency_incumbent`, (n_models,).
        epsilon: Relative tolerance on gain.

    Returns:
        Log score, float64 array (n_models, n_intervals).
    """
    masked = np.where(feasible, gain_mean, -np.inf)
    best = masked.max(axis=1, initial=-np.inf)
    worst = np.where(feasible, gain_mean, np.inf).min(axis=1, initial=np.inf)
    tolerance = epsilon * np.maximum(np.abs(best), best - worst)
    threshold = np.where(np.isfinite(best), best - tolerance, 0.0)[:, None]

    rows = np.arange(gain_mean.shape[0])
    saving = money_cost[rows, np.clip(incumbent, 0, None)][:, None] - money_cost
    safe_sd = np.maximum(gain_sd, 1e-300)
    p_within = np.exp(log_ndtr((gain_mean - threshold) / safe_sd))
    expected_saving = np.maximum(saving, 0.0) * p_within

    finite_best = np.where(np.isfinite(best), best, 0.0)[:, None]
    log_gain_ei = log_expected_improvement(gain_mean, gain_sd, finite_best)
    gain_ei = np.abs(value)[:, None] * np.exp(log_gain_ei)
    with np.errstate(divide="ignore"):
        return np.log(expected_saving + gain_ei)


def believer_update(cov: np.ndarray, index: int, noise_var: float) -> np.ndarray:
    """Condition a joint covariance on a pending measurement at one point.

    With the believed outcome equal to the posterior mean (Kriging
    believer), the mean does not change and the covariance shrinks by a
    rank-one update.

    Args:
        cov: Joint covariance, float64 array (n_points, n_points).
        index: Flat index of the measured point.
        noise_var: Noise variance of the measurement.

    Returns:
        The conditioned covariance, a new array of the same shape.
    """
    column = cov[:, index]
    denominator = cov[index, index] + noise_var
    if denominator <= 0:
        return cov.copy()
    updated = cov - np.outer(column, column) / denominator
    diagonal = np.einsum("ii->i", updated)
    np.maximum(diagonal, 0.0, out=diagonal)
    return updated
