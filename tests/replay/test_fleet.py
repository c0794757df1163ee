"""Building a replayed fleet: the truth contract, the cache, the oracle."""

from __future__ import annotations

import dataclasses
import logging

import numpy as np
import pandas as pd
import pytest

from freqopt.bench.fleet import Oracle, TruthFleet
from freqopt.errors import DataError, NotFoundError
from freqopt.replay import (
    EXPERIMENT_CYCLES,
    INTERVALS_HOURS,
    METADATA_COLUMNS,
    PRICE_PER_WORK_UNIT,
    RealFleet,
    ReplayOracle,
    build_real_fleet,
    list_models,
)
from tests.replay.synthetic import spec_for

SPECS = (
    spec_for(
        model_id="elec-ridge-7d",
        period_hours=6.0,
        window_hours=168.0,
        max_interval_hours=168.0,
        value=2.0,
    ),
    spec_for(
        "sgd_regressor",
        model_id="elec-sgd-3d-daily",
        period_hours=24.0,
        window_hours=72.0,
        max_interval_hours=336.0,
        feature_set="calendar",
        value=0.5,
    ),
)


@pytest.fixture
def fleet(tmp_path, elec_reader) -> RealFleet:
    return build_real_fleet(
        cache_dir=tmp_path / "cache", specs=SPECS, reader=elec_reader, seed=1
    )


def test_the_truth_follows_the_fleet_contract(fleet: RealFleet) -> None:
    truth = fleet.truth
    assert isinstance(truth, TruthFleet)
    np.testing.assert_array_equal(truth.intervals_hours, INTERVALS_HOURS)
    assert truth.true_gain.shape == truth.allowed.shape == (2, len(INTERVALS_HOURS))
    assert np.isnan(truth.true_gain[~truth.allowed]).all()
    assert np.isfinite(truth.true_gain[truth.allowed]).all()
    assert list(truth.metadata.columns) == list(METADATA_COLUMNS)
    assert truth.model_ids == ("elec-ridge-7d", "elec-sgd-3d-daily")
    assert (truth.true_cluster == -1).all()
    assert (truth.noise_sd > 0).all()


def test_allowed_intervals_are_multiples_of_the_period_up_to_the_longest(
    fleet: RealFleet,
) -> None:
    hours = fleet.truth.intervals_hours
    np.testing.assert_array_equal(
        hours[fleet.truth.allowed[0]], [6, 12, 24, 48, 72, 168]
    )
    np.testing.assert_array_equal(hours[fleet.truth.allowed[1]], [24, 48, 72, 168, 336])


def test_gain_is_about_zero_at_the_baseline_and_positive_under_drift(
    fleet: RealFleet,
) -> None:
    gain = fleet.truth.true_gain[0, fleet.truth.allowed[0]]
    # At the baseline the truth is the expected A/A result: a hair below 0.
    assert -1.0 < gain[-1] <= 0.0
    assert gain[0] > gain[-2] > 0.0
    assert fleet.horizon_gain[0, fleet.truth.allowed[0]][-1] == 0.0


def test_cost_per_day_is_cost_per_retrain_times_retrains_per_day(
    fleet: RealFleet,
) -> None:
    truth = fleet.truth
    per_retrain = truth.metadata["cost_per_retrain"].to_numpy()
    expected = per_retrain[:, None] * 24.0 / truth.intervals_hours[None, :]
    np.testing.assert_allclose(truth.cost_per_day, expected)
    work = fleet.tables[0].work_units_per_retrain
    assert per_retrain[0] == pytest.approx(PRICE_PER_WORK_UNIT * work)
    # 7 days of half-hourly rows, 52 features, one pass.
    assert work == 7 * 48 * 52


def test_a_second_build_reads_identical_tables_from_the_cache(
    tmp_path, elec_reader, fleet: RealFleet
) -> None:
    again = build_real_fleet(
        cache_dir=tmp_path / "cache", specs=SPECS, reader=elec_reader, seed=1
    )
    assert fleet.n_replayed == 2 and again.n_replayed == 0
    for first, second in zip(fleet.tables, again.tables, strict=True):
        assert dataclasses.asdict(first).keys() == dataclasses.asdict(second).keys()
        np.testing.assert_array_equal(first.loss_sum, second.loss_sum)
        np.testing.assert_array_equal(first.n_rows, second.n_rows)
        assert first.work_units_per_retrain == second.work_units_per_retrain
    np.testing.assert_array_equal(fleet.truth.true_gain, again.truth.true_gain)
    np.testing.assert_array_equal(fleet.truth.noise_sd, again.truth.noise_sd)


def test_a_changed_spec_misses_the_cache(tmp_path, elec_reader, fleet) -> None:
    longer = (dataclasses.replace(SPECS[0], training_window_hours=336.0),)
    again = build_real_fleet(
        cache_dir=tmp_path / "cache", specs=longer, reader=elec_reader, seed=1
    )
    assert again.n_replayed == 1


def test_a_new_value_reuses_the_cached_replay(tmp_path, elec_reader, fleet) -> None:
    repriced = (dataclasses.replace(SPECS[0], value=99.0),)
    again = build_real_fleet(
        cache_dir=tmp_path / "cache", specs=repriced, reader=elec_reader, seed=1
    )
    assert again.n_replayed == 0
    assert again.truth.value[0] == 99.0


def test_a_damaged_cache_file_is_replayed_with_a_warning(
    tmp_path, elec_reader, fleet, caplog
) -> None:
    for path in (tmp_path / "cache").glob("*.npz"):
        path.write_bytes(b"garbage")
    with caplog.at_level(logging.WARNING, logger="freqopt.replay._cache"):
        again = build_real_fleet(
            cache_dir=tmp_path / "cache", specs=SPECS, reader=elec_reader, seed=1
        )
    assert again.n_replayed == 2
    assert "unreadable replay cache file" in caplog.text
    np.testing.assert_array_equal(again.truth.true_gain, fleet.truth.true_gain)


def test_the_cache_folder_defaults_to_the_environment(
    tmp_path, monkeypatch, elec_reader
) -> None:
    monkeypatch.setenv("FREQOPT_CACHE", str(tmp_path / "env"))
    build_real_fleet(specs=SPECS[:1], reader=elec_reader)
    assert len(list((tmp_path / "env" / "replay").glob("elec-ridge-7d-*.npz"))) == 1


def test_progress_reports_every_model(tmp_path, elec_reader) -> None:
    seen: list[tuple[str, int, int]] = []
    build_real_fleet(
        specs=SPECS,
        reader=elec_reader,
        use_cache=False,
        progress=lambda model_id, done, total: seen.append((model_id, done, total)),
    )
    assert {model_id for model_id, _, _ in seen} == {s.model_id for s in SPECS}
    assert [done for _, done, _ in seen] == [1, 2]
    assert {total for _, _, total in seen} == {2}


def test_repeated_model_ids_are_refused(elec_reader) -> None:
    with pytest.raises(DataError, match=r"repeated: \['elec-ridge-7d'\]"):
        build_real_fleet(specs=SPECS[:1] * 2, reader=elec_reader, use_cache=False)


def test_a_missing_data_set_stops_the_build_with_its_name() -> None:
    def missing(name: str) -> pd.DataFrame:
        raise NotFoundError(f"data set {name!r} not found")

    with pytest.raises(NotFoundError, match="'fpp2/elecdemand' not found"):
        build_real_fleet(specs=SPECS[:1], reader=missing, use_cache=False)


def test_the_oracle_follows_the_oracle_protocol(fleet: RealFleet) -> None:
    oracle: Oracle = fleet.oracle(0)
    j = int(np.flatnonzero(fleet.truth.allowed[0])[0])
    outcome = oracle.run(0, j, np.random.default_rng(2))
    assert oracle.fleet is fleet.truth
    assert outcome.cost_per_day == fleet.truth.cost_per_day[0, j]
    assert np.isfinite(outcome.gain) and outcome.gain_se > 0


def test_oracle_gains_scatter_around_the_truth_by_the_stated_sd(
    fleet: RealFleet,
) -> None:
    # noise_sd was estimated with seed 1; these draws use another seed.
    oracle = fleet.oracle()
    rng = np.random.default_rng(12345)
    m, j = 0, int(np.flatnonzero(fleet.truth.allowed[0])[1])
    gains = np.array([oracle.run(m, j, rng).gain for _ in range(3000)])

    error = gains - fleet.truth.true_gain[m, j]
    rms = np.sqrt(np.mean(error**2))
    assert rms == pytest.approx(fleet.gain_sd[m, j], rel=0.1)
    assert abs(error.mean()) < 4.0 * rms / np.sqrt(gains.size)
    noise_sd = np.sqrt(np.nanmean(fleet.gain_sd[m] ** 2))
    assert fleet.truth.noise_sd[m] == pytest.approx(noise_sd)


def test_the_reported_se_matches_the_spread_of_experiments_around_the_truth(
    fleet: RealFleet,
) -> None:
    # gain_sd was estimated with seed 1; these draws use another seed.
    oracle = fleet.oracle()
    rng = np.random.default_rng(777)
    ratios = []
    for m, j in zip(*np.nonzero(fleet.truth.allowed), strict=True):
        outcomes = [oracle.run(int(m), int(j), rng) for _ in range(400)]
        error = np.array([o.gain for o in outcomes]) - fleet.truth.true_gain[m, j]
        reported = np.array([o.gain_se for o in outcomes])
        rms = np.sqrt(np.mean(error**2))
        assert np.all(reported == fleet.gain_sd[m, j])
        assert abs(error.mean()) < 4.0 * rms / np.sqrt(error.size) + 1e-9
        ratios.append(reported.mean() / rms)
    assert np.median(ratios) == pytest.approx(1.0, abs=0.1)
    assert np.all((np.array(ratios) > 0.7) & (np.array(ratios) < 1.4))


def test_an_oracle_without_calibration_reports_the_window_se(
    fleet: RealFleet,
) -> None:
    plain = ReplayOracle(fleet.truth, fleet.specs, fleet.tables, 3)
    calibrated = fleet.oracle(3)
    j = int(np.flatnonzero(fleet.truth.allowed[0])[1])
    first, second = plain.run(0, j), calibrated.run(0, j)
    assert first.gain == second.gain
    assert second.gain_se == fleet.gain_sd[0, j]
    assert first.gain_se != second.gain_se


def test_a_calibration_of_the_wrong_shape_is_refused(fleet: RealFleet) -> None:
    with pytest.raises(DataError, match=r"gain_se has shape \(2,\)"):
        ReplayOracle(fleet.truth, fleet.specs, fleet.tables, gain_se=np.ones(2))


def test_the_same_generator_state_gives_the_same_outcome(fleet: RealFleet) -> None:
    oracle = fleet.oracle()
    first = oracle.run(1, 6, np.random.default_rng(9))
    second = oracle.run(1, 6, np.random.default_rng(9))
    assert first == second


def test_the_oracle_refuses_intervals_outside_the_mask(fleet: RealFleet) -> None:
    with pytest.raises(DataError, match="may not run at interval_hours=1; its allowed"):
        fleet.oracle(0).run(0, 0)
    with pytest.raises(DataError, match="outside the fleet of 2 models"):
        fleet.oracle(0).run(5, 0)


def test_staleness_curve_starts_at_zero_and_grows_under_drift(fleet: RealFleet) -> None:
    curve = fleet.staleness(0)
    assert curve.model_id == "elec-ridge-7d"
    assert curve.age_hours[:3].tolist() == [0.0, 6.0, 12.0]
    assert curve.relative_loss[0] == 0.0
    assert curve.relative_loss[-1] > 0.0
    with pytest.raises(DataError, match="model_index=7 is out of range"):
        fleet.staleness(7)


def test_metadata_is_written_as_a_fleet_csv(tmp_path, fleet: RealFleet) -> None:
    path = fleet.write_metadata_csv(tmp_path / "out" / "fleet.csv")
    frame = pd.read_csv(path)
    assert list(frame.columns) == list(METADATA_COLUMNS)
    assert frame["model_id"].tolist() == list(fleet.truth.model_ids)


def test_default_experiments_span_several_baseline_cycles() -> None:
    for spec in list_models():
        assert spec.eval_window_hours == EXPERIMENT_CYCLES * spec.max_interval_hours


def test_the_default_fleet_spans_data_sets_and_intervals() -> None:
    specs = list_models()
    assert len(specs) >= 20
    assert len({s.dataset for s in specs}) >= 4
    assert len({s.model_id for s in specs}) == len(specs)
    assert len({s.family for s in specs}) >= 4
    for spec in specs:
        spec.validate()


@pytest.mark.slow
def test_the_real_fleet_builds_with_optima_spread_over_the_grid(tmp_path) -> None:
    real = build_real_fleet(cache_dir=tmp_path, n_jobs=2)
    truth = real.truth
    best = truth.intervals_hours[np.argmax(truth.true_roi, axis=1)]
    shortest = np.array([truth.intervals_hours[a][0] for a in truth.allowed])
    longest = np.array([truth.intervals_hours[a][-1] for a in truth.allowed])
    assert truth.n_models >= 20
    assert len(set(truth.metadata["dataset"])) >= 4
    assert len(set(best.tolist())) >= 5
    assert ((best > shortest) & (best < longest)).mean() > 0.5
    assert np.isfinite(truth.noise_sd).all()


@pytest.mark.slow
def test_a_parallel_build_equals_a_serial_build(elec_reader) -> None:
    serial = build_real_fleet(specs=SPECS, reader=elec_reader, use_cache=False)
    parallel = build_real_fleet(
        specs=SPECS, reader=elec_reader, use_cache=False, n_jobs=2
    )
    for first, second in zip(serial.tables, parallel.tables, strict=True):
        np.testing.assert_array_equal(first.loss_sum, second.loss_sum)
    np.testing.assert_array_equal(serial.truth.true_gain, parallel.truth.true_gain)
