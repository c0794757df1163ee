"""Replaying one stream: loss table semantics, drift ordering, cost."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from freqopt.errors import DataError
from freqopt.replay import (
    fit_ridge,
    make_estimator,
    make_stream,
    replay_stream,
    schedule_loss,
    staleness_loss,
)
from tests.replay.synthetic import drifting_stream, spec_for


def _reference_table(stream, spec) -> np.ndarray:
    """The loss table by brute force: refit at every origin with scikit-learn."""
    period = np.floor(stream.hours / spec.period_hours).astype(int)
    n_periods = period[-1] + 1
    first, n_ages = spec.window_periods, spec.n_ages
    table = np.full((n_periods - first, n_ages), np.nan)
    for origin in range(first, n_periods):
        train = (period >= origin - first) & (period < origin)
        model = make_estimator(spec.family).fit(
            stream.features[train], stream.target[train]
        )
        for age in range(min(n_ages, n_periods - origin)):
            rows = period == origin + age
            if not rows.any():
                table[origin - first, age] = 0.0
                continue
            if stream.target_kind == "regression":
                loss = (model.predict(stream.features[rows]) - stream.target[rows]) ** 2
            else:
                p = model.predict_proba(stream.features[rows])[:, 1]
                p = np.clip(p, 1e-7, 1 - 1e-7)
                y = stream.target[rows]
                loss = -(y * np.log(p) + (1 - y) * np.log(1 - p))
            table[origin - first, age] = loss.sum()
    return table


def test_ridge_fit_equals_scikit_learn_scaler_and_ridge() -> None:
    rng = np.random.default_rng(3)
    x = rng.normal(size=(200, 5)) * [1.0, 10.0, 0.1, 1.0, 1.0] + 4.0
    x[:, 3] = 2.5  # a constant column is left unscaled, as scikit-learn does
    y = x @ rng.normal(size=5) + rng.normal(size=200)

    ours = fit_ridge(x, y)
    theirs = make_estimator("ridge").fit(x, y)
    np.testing.assert_allclose(ours.score(x), theirs.predict(x), rtol=1e-9)


@pytest.mark.parametrize("family", ["ridge", "sgd_regressor", "hgb_regressor"])
def test_regression_table_equals_brute_force_refits(family: str) -> None:
    stream = drifting_stream(n_days=20, rows_per_day=12)
    spec = spec_for(family, window_hours=72.0, max_interval_hours=96.0)

    table = replay_stream(stream, spec)
    np.testing.assert_allclose(
        table.loss_sum, _reference_table(stream, spec), rtol=1e-8
    )


@pytest.mark.parametrize("family", ["logistic", "sgd_classifier"])
def test_classification_table_equals_brute_force_refits(family: str) -> None:
    stream = drifting_stream(n_days=16, rows_per_day=24, classification=True)
    spec = spec_for(family, window_hours=72.0, max_interval_hours=96.0)

    table = replay_stream(stream, spec)
    np.testing.assert_allclose(
        table.loss_sum, _reference_table(stream, spec), rtol=1e-6
    )


def test_periods_without_rows_reuse_the_model_and_match_brute_force() -> None:
    # Rows only in the first 12 hours of each day: the night periods add no
    # data, so their windows equal the previous one and reuse its model.
    full = drifting_stream(n_days=12, rows_per_day=24)
    daytime = (full.hours % 24.0) < 12.0
    stream = make_stream(
        "gappy",
        "regression",
        full.hours[daytime],
        full.features[daytime],
        full.target[daytime],
        full.feature_names,
        1.0,
    )
    spec = spec_for(period_hours=6.0, window_hours=48.0, max_interval_hours=48.0)

    table = replay_stream(stream, spec)
    np.testing.assert_allclose(
        table.loss_sum, _reference_table(stream, spec), rtol=1e-8
    )
    assert table.n_fits < table.loss_sum.shape[0]


def test_drifting_coefficient_makes_shorter_intervals_lose_less() -> None:
    stream = drifting_stream(n_days=90, drift_per_day=0.05)
    spec = spec_for(window_hours=72.0, max_interval_hours=384.0)
    table = replay_stream(stream, spec)

    stale = staleness_loss(table.loss_sum, table.n_rows, table.first_origin)
    losses = schedule_loss(stale, np.array([1, 2, 4, 8, 16]))
    assert np.all(np.diff(losses) > 0), losses
    assert np.all(np.diff(stale) > 0), "a model only gets worse with age here"


def test_stationary_stream_gains_nothing_from_fresher_models() -> None:
    stream = drifting_stream(n_days=90, drift_per_day=0.0)
    spec = spec_for(window_hours=72.0, max_interval_hours=384.0)
    table = replay_stream(stream, spec)

    stale = staleness_loss(table.loss_sum, table.n_rows, table.first_origin)
    losses = schedule_loss(stale, np.array([1, 16]))
    assert abs(losses[1] / losses[0] - 1.0) < 0.02


def test_training_cost_is_deterministic_rows_times_features_times_passes() -> None:
    stream = drifting_stream(n_days=30, rows_per_day=24)
    spec = spec_for("sgd_regressor", window_hours=72.0, max_interval_hours=96.0)

    first, second = replay_stream(stream, spec), replay_stream(stream, spec)
    assert first.work_units_per_retrain == second.work_units_per_retrain
    np.testing.assert_array_equal(first.loss_sum, second.loss_sum)
    # 3 days x 24 rows in every window, 2 features, 5 epochs.
    assert first.work_units_per_retrain == 72 * 2 * 5
    assert first.cpu_seconds_per_retrain >= 0.0


def test_a_window_with_one_class_predicts_its_base_rate() -> None:
    stream = drifting_stream(n_days=12, classification=True)
    target = stream.target.copy()
    target[stream.hours < 72.0] = 0.0
    only_zeros = make_stream(
        "one-class",
        "classification",
        stream.hours,
        stream.features,
        target,
        stream.feature_names,
        1.0,
    )
    table = replay_stream(only_zeros, spec_for("logistic", max_interval_hours=96.0))
    assert np.isfinite(table.loss_sum[0]).all()


def test_a_period_finer_than_the_data_is_refused() -> None:
    stream = drifting_stream(n_days=30, rows_per_day=1)
    coarse = make_stream(
        "daily",
        "regression",
        stream.hours,
        stream.features,
        stream.target,
        stream.feature_names,
        24.0,
    )
    with pytest.raises(DataError, match="finer than the data's resolution"):
        replay_stream(coarse, spec_for(period_hours=6.0, window_hours=72.0))


def test_a_window_plus_interval_longer_than_the_data_is_refused() -> None:
    stream = drifting_stream(n_days=10)
    with pytest.raises(DataError, match="shorten them"):
        replay_stream(stream, spec_for(window_hours=72.0, max_interval_hours=384.0))


def test_a_window_that_is_not_a_whole_number_of_periods_is_refused() -> None:
    stream = drifting_stream(n_days=30)
    with pytest.raises(DataError, match="training_window_hours=36 is not a whole"):
        replay_stream(stream, spec_for(window_hours=36.0))


def test_an_unknown_family_is_refused_with_the_known_ones() -> None:
    with pytest.raises(DataError, match="family 'xgboost' is unknown.*ridge"):
        replay_stream(drifting_stream(n_days=30), spec_for("xgboost"))


def test_a_negative_value_is_refused() -> None:
    spec = dataclasses.replace(spec_for(), value=-1.0)
    with pytest.raises(DataError, match="value=-1.0 must be a finite number >= 0"):
        spec.validate()
