"""Schedule losses read from a table: phases, windows, standard errors."""

from __future__ import annotations

import numpy as np
import pytest

from freqopt.replay import (
    age_losses,
    expected_window_gain,
    phase_loss,
    schedule_loss,
    staleness_loss,
    window_gain,
)


@pytest.fixture
def table() -> tuple[np.ndarray, np.ndarray, int]:
    """A random (loss_sum, n_rows, first_origin) with 40 periods, 8 ages."""
    rng = np.random.default_rng(7)
    first_origin, n_periods, n_ages = 5, 40, 8
    n_rows = rng.integers(1, 20, size=n_periods)
    loss_sum = rng.gamma(2.0, 1.0, size=(n_periods - first_origin, n_ages))
    return loss_sum, n_rows, first_origin


def test_age_losses_pick_the_model_trained_age_periods_earlier(table) -> None:
    loss_sum, _, first = table
    by_age = age_losses(loss_sum, first)
    start = first + loss_sum.shape[1] - 1
    for i, age in [(0, 0), (3, 5), (10, 7)]:
        origin = start + i - age
        assert by_age[i, age] == loss_sum[origin - first, age]


def test_schedule_loss_is_the_mean_over_every_phase(table) -> None:
    loss_sum, n_rows, first = table
    n_ages = loss_sum.shape[1]
    periods = np.arange(first + n_ages - 1, n_rows.shape[0])
    stale = staleness_loss(loss_sum, n_rows, first)

    for k in (1, 3, 8):
        by_phase = [
            phase_loss(loss_sum, first, periods, k, phase).sum() for phase in range(k)
        ]
        expected = np.mean(by_phase) / n_rows[periods].sum()
        assert schedule_loss(stale, np.array([k]))[0] == pytest.approx(expected)


def test_phase_loss_serves_each_period_from_the_last_retrain(table) -> None:
    loss_sum, _, first = table
    periods = np.array([20, 21, 22, 23])
    served = phase_loss(loss_sum, first, periods, k_periods=3, phase=1)
    # Retrains at periods 19 and 22 (both 1 mod 3).
    expected = [
        loss_sum[19 - first, 1],
        loss_sum[19 - first, 2],
        loss_sum[22 - first, 0],
        loss_sum[22 - first, 1],
    ]
    np.testing.assert_array_equal(served, expected)


def test_expected_window_gain_is_the_mean_over_windows_and_phase_pairs(table) -> None:
    loss_sum, _, first = table
    n_ages, width = loss_sum.shape[1], 6
    periods = np.arange(first + n_ages - 1, first + loss_sum.shape[0])

    def measured(k: int) -> float:
        gains = []
        for s in range(periods.size - width + 1):
            window = periods[s : s + width]
            for base_phase in range(n_ages):
                base = phase_loss(loss_sum, first, window, n_ages, base_phase)
                for test_phase in range(k):
                    test = phase_loss(loss_sum, first, window, k, test_phase)
                    gains.append(window_gain(base, test).gain)
        return float(np.mean(gains))

    result = expected_window_gain(loss_sum, first, np.array([2, n_ages]), width)
    assert result[0] == pytest.approx(measured(2))
    assert result[1] == pytest.approx(measured(n_ages))
    assert result[1] < 0.0, "an A/A test of a ratio is biased a little low"


def test_window_gain_of_a_uniform_improvement_has_zero_standard_error() -> None:
    base = np.array([10.0, 20.0, 30.0, 40.0])
    result = window_gain(base, 0.9 * base)
    assert result.gain == pytest.approx(10.0)
    assert result.gain_se == pytest.approx(0.0, abs=1e-12)
    assert result.n_periods == 4


def test_window_gain_standard_error_follows_the_ratio_estimator() -> None:
    base = np.array([10.0, 12.0, 9.0, 11.0, 10.0])
    test = np.array([9.0, 11.5, 8.0, 10.5, 9.5])
    result = window_gain(base, test)

    ratio = (base - test).sum() / base.sum()
    residual = (base - test) - ratio * base
    n = base.size
    expected_se = 100 * np.sqrt(n / (n - 1) * (residual**2).sum()) / base.sum()
    assert result.gain == pytest.approx(100 * ratio)
    assert result.gain_se == pytest.approx(expected_se)


def test_window_gain_ignores_periods_without_rows() -> None:
    with_gaps = window_gain(np.array([10.0, 0.0, 20.0]), np.array([9.0, 0.0, 18.0]))
    assert with_gaps.n_periods == 2
    assert with_gaps.gain == pytest.approx(10.0)


def test_window_gain_of_one_period_has_no_standard_error() -> None:
    result = window_gain(np.array([10.0]), np.array([8.0]))
    assert result.gain == pytest.approx(20.0)
    assert np.isnan(result.gain_se)
