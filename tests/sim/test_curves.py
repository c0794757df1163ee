"""The gain-curve formulas of the simulator."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import integrate

from freqopt.sim.curves import CurveParams, gain_curve, mean_decay


def _params(**overrides: float) -> CurveParams:
    values = {
        "latency_hours": 2.0,
        "fast_amplitude": 1.0,
        "fast_timescale_hours": 6.0,
        "slow_amplitude": 2.0,
        "slow_timescale_hours": 120.0,
        "instability_amplitude": 0.0,
        "instability_timescale_hours": 1.0,
    }
    values.update(overrides)
    arrays = {name: np.array([value]) for name, value in values.items()}
    return CurveParams(**arrays, baseline_interval_hours=672.0)


@pytest.mark.parametrize("interval", [0.25, 3.0, 48.0, 500.0])
def test_mean_decay_equals_average_of_decay_over_the_cycle(interval: float) -> None:
    latency, amplitude, timescale = 1.5, 0.8, 10.0

    def decay(age: float) -> float:
        return amplitude * (1 - np.exp(-age / timescale))

    average = integrate.quad(decay, latency, latency + interval)[0] / interval
    closed = mean_decay(
        np.array(interval), np.array(latency), np.array(amplitude), np.array(timescale)
    )
    assert closed == pytest.approx(average, rel=1e-9)


def test_slow_drift_mean_age_is_latency_plus_half_the_interval() -> None:
    latency, interval, timescale = 3.0, 4.0, 1e5
    closed = mean_decay(
        np.array(interval), np.array(latency), np.array(1.0), np.array(timescale)
    )
    linear = (latency + interval / 2) / timescale
    assert closed == pytest.approx(linear, rel=1e-4)


def test_gain_is_zero_at_the_baseline_interval() -> None:
    params = _params(instability_amplitude=0.5)
    gain = gain_curve(params, np.array([params.baseline_interval_hours]))
    assert gain[0, 0] == pytest.approx(0.0, abs=1e-12)


def test_stable_gain_falls_as_the_interval_grows() -> None:
    gain = gain_curve(_params(), np.geomspace(0.25, 336, 40))[0]
    assert np.all(np.diff(gain) < 0)


def test_instability_makes_the_shortest_interval_worse_than_a_middle_one() -> None:
    intervals = np.geomspace(0.25, 336, 40)
    gain = gain_curve(_params(instability_amplitude=1.5), intervals)[0]
    assert np.argmax(gain) > 0
    assert gain[0] < gain.max()
