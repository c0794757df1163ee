"""True gain curves of simulated models: quality lost to stale training data.

A model trained on data up to time ``t0`` and served at time ``t`` sees data of
age ``a = t - t0`` hours. Its loss grows with that age; the growth (in percent
of the baseline's normalized entropy) has a fast and a slow drift component::

    d(a) = A_f * (1 - exp(-a / T_f)) + A_s * (1 - exp(-a / T_s))

A model retrained every ``tau`` hours whose new version goes live ``l`` hours
(training latency plus feature freshness lag) after its last example serves,
over one cycle, data aged ``l + t`` for ``t`` in ``[0, tau)``. Its mean decay is
the average of ``d`` over that window, in closed form per component::

    D(tau) = sum_i A_i * (1 - (T_i / tau) * exp(-l / T_i) * (1 - exp(-tau / T_i)))

so for slow drift ``D(tau) ~ d(l + tau / 2)``: the mean age is latency plus
half the interval. Some models also lose quality when retrained very often
(small, unstable incremental updates)::

    U(tau) = B * exp(-tau / T_u)

The gain at interval ``tau`` is the decay avoided against a stale baseline
that retrains every ``tau_b`` hours (higher is better, in percent)::

    gain(tau) = [D(tau_b) - D(tau)] - [U(tau) - U(tau_b)]

``gain(tau_b) = 0``; without instability (``B = 0``) gain falls as ``tau``
grows, with diminishing returns at short intervals; with it, gain peaks at an
interval of a few ``T_u`` and falls again towards the shortest intervals.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["CurveParams", "gain_curve", "mean_decay"]


@dataclass(frozen=True)
class CurveParams:
    """Hidden parameters of each simulated model's gain curve.

    All arrays are float64 of shape (n_models,); amplitudes are in percent of
    the baseline loss, time scales and latencies in hours.

    Attributes:
        latency_hours: Age of the newest example when a retrained model goes
            live (``l``): training time plus feature freshness lag.
        fast_amplitude: Loss added by fast drift at infinite age (``A_f``).
        fast_timescale_hours: Time scale of fast drift (``T_f``).
        slow_amplitude: Loss added by slow drift at infinite age (``A_s``).
        slow_timescale_hours: Time scale of slow drift (``T_s``).
        instability_amplitude: Loss from very frequent retraining at interval
            zero (``B``); 0 for stable models.
        instability_timescale_hours: Interval over which the instability
            loss fades (``T_u``).
        baseline_interval_hours: Interval of the stale baseline schedule
            (``tau_b``), a float shared by all models.
    """

    latency_hours: np.ndarray
    fast_amplitude: np.ndarray
    fast_timescale_hours: np.ndarray
    slow_amplitude: np.ndarray
    slow_timescale_hours: np.ndarray
    instability_amplitude: np.ndarray
    instability_timescale_hours: np.ndarray
    baseline_interval_hours: float

    def to_columns(self) -> dict[str, np.ndarray]:
        """The per-model arrays by name, for tables and JSON."""
        return {
            "latency_hours": self.latency_hours,
            "fast_amplitude": self.fast_amplitude,
            "fast_timescale_hours": self.fast_timescale_hours,
            "slow_amplitude": self.slow_amplitude,
            "slow_timescale_hours": self.slow_timescale_hours,
            "instability_amplitude": self.instability_amplitude,
            "instability_timescale_hours": self.instability_timescale_hours,
        }


def mean_decay(
    interval_hours: np.ndarray,
    latency_hours: np.ndarray,
    amplitude: np.ndarray,
    timescale_hours: np.ndarray,
) -> np.ndarray:
    """Mean loss added by one drift component over a retraining cycle.

    Computes ``A * (1 - (T / tau) * exp(-l / T) * (1 - exp(-tau / T)))``, the
    average of ``A * (1 - exp(-a / T))`` over ages ``a`` in ``[l, l + tau)``.

    Args:
        interval_hours: Retraining intervals ``tau``, hours, float64 array
            broadcastable against the others, e.g. (1, n_intervals).
        latency_hours: Latency ``l`` in hours, e.g. (n_models, 1).
        amplitude: Amplitude ``A`` in percent, e.g. (n_models, 1).
        timescale_hours: Time scale ``T`` in hours, e.g. (n_models, 1).

    Returns:
        Mean decay in percent, float64 array of the broadcast shape, e.g.
        (n_models, n_intervals).
    """
    ratio = timescale_hours / interval_hours
    window = -np.expm1(-interval_hours / timescale_hours)
    return amplitude * (1.0 - ratio * np.exp(-latency_hours / timescale_hours) * window)


def gain_curve(params: CurveParams, intervals_hours: np.ndarray) -> np.ndarray:
    """True gain of every model at every interval (the formula of this module).

    Args:
        params: Curve parameters of n_models models.
        intervals_hours: Intervals in hours, float64 array (n_intervals,).

    Returns:
        Gain in percent (higher is better), float64 array
        (n_models, n_intervals).
    """
    tau = np.asarray(intervals_hours, dtype=np.float64)[None, :]
    tau_b = np.array([[params.baseline_interval_hours]])
    col = {name: value[:, None] for name, value in params.to_columns().items()}

    def decay(interval: np.ndarray) -> np.ndarray:
        fast = mean_decay(
            interval,
            col["latency_hours"],
            col["fast_amplitude"],
            col["fast_timescale_hours"],
        )
        slow = mean_decay(
            interval,
            col["latency_hours"],
            col["slow_amplitude"],
            col["slow_timescale_hours"],
        )
        return fast + slow

    def instability(interval: np.ndarray) -> np.ndarray:
        scale = col["instability_timescale_hours"]
        return col["instability_amplitude"] * np.exp(-interval / scale)

    return (decay(tau_b) - decay(tau)) - (instability(tau) - instability(tau_b))
