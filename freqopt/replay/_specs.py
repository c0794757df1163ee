"""What one replayed model is: data set, target, family, features, windows.

A :class:`ReplaySpec` names everything that makes a replay reproducible. The
fleet list in :func:`list_models` is the real-data fleet; each entry's value is
a stand-in business weight (see the Notes of :func:`list_models`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from freqopt.errors import DataError

__all__ = [
    "FAMILIES",
    "INTERVALS_HOURS",
    "PRICE_PER_WORK_UNIT",
    "ReplaySpec",
    "allowed_mask",
    "list_models",
]

INTERVALS_HOURS: tuple[float, ...] = (
    1.0,
    2.0,
    4.0,
    6.0,
    12.0,
    24.0,
    48.0,
    72.0,
    168.0,
    336.0,
    720.0,
    1440.0,
    2160.0,
)
"""The one global grid of retraining intervals, in hours.

Hourly to sub-daily steps serve the streams with sub-hour timestamps (call
volumes, electricity demand); 24 h to 336 h are the usual daily, weekly and
fortnightly cadences; 720 h to 2160 h (30 to 90 days) are monthly to
quarterly cadences that only the multi-year daily series can measure over
many retrain cycles. Every entry from 6 h up divides by 6, and every entry
from 24 h up divides by 24, so a model whose period is 6 h or 24 h can run on
a contiguous tail of the grid.
"""

PRICE_PER_WORK_UNIT = 1e-6
"""Money per work unit: one money unit per million row-feature passes."""

FAMILIES: dict[str, tuple[str, int]] = {
    "ridge": ("regression", 1),
    "sgd_regressor": ("regression", 5),
    "hgb_regressor": ("regression", 30),
    "logistic": ("classification", 20),
    "sgd_classifier": ("classification", 5),
    "hgb_classifier": ("classification", 30),
}
"""Family name to (target kind, nominal passes over the data per fit).

The passes define the deterministic training work: ridge reads its rows once
to form the Gram matrix; logistic regression is charged 20 L-BFGS iterations
of one loss-and-gradient pass each; the SGD families run a fixed 5 epochs;
gradient boosting grows a fixed 30 trees, one histogram pass each.
"""


@dataclass(frozen=True)
class ReplaySpec:
    """One model of the real-data fleet.

    Attributes:
        model_id: Unique id, e.g. ``"flights-delay-logistic-weather-28d"``.
        dataset: Data set the stream comes from, e.g. ``"fpp2/elecdemand"``.
        target: Target name known to the data set's loader.
        family: Model family, a key of :data:`FAMILIES`.
        feature_set: Feature set name known to the data set's loader.
        segment: Rows kept, e.g. ``"origin=LGA"``; empty string for all.
        training_window_hours: Length of the trailing training window.
        period_hours: Replay period: the shortest allowed interval. Every
            allowed interval is a multiple of it.
        max_interval_hours: Longest allowed interval; it is also the
            baseline schedule that gains are measured against.
        eval_window_hours: Length of one experiment's evaluation window.
        value: Worth of one gain point per day, in money per gain point per
            day.
    """

    model_id: str
    dataset: str
    target: str
    family: str
    feature_set: str
    segment: str
    training_window_hours: float
    period_hours: float
    max_interval_hours: float
    eval_window_hours: float
    value: float

    @property
    def target_kind(self) -> str:
        """``"classification"`` or ``"regression"``, from the family."""
        return FAMILIES[self.family][0]

    @property
    def passes(self) -> int:
        """Nominal passes over the training rows per fit."""
        return FAMILIES[self.family][1]

    @property
    def n_ages(self) -> int:
        """Number of periods the longest interval spans."""
        return int(round(self.max_interval_hours / self.period_hours))

    @property
    def window_periods(self) -> int:
        """Number of periods in the training window."""
        return int(round(self.training_window_hours / self.period_hours))

    def validate(self) -> None:
        """Check that the spec is replayable.

        Raises:
            DataError: If the family is unknown, the windows and intervals
                are not whole multiples of the period, or the value is
                negative.
        """
        if not (np.isfinite(self.value) and self.value >= 0.0):
            raise DataError(
                f"model {self.model_id!r}: value={self.value!r} must be a finite "
                "number >= 0 (money per gain point per day)"
            )
        if not self.eval_window_hours >= self.period_hours:
            raise DataError(
                f"model {self.model_id!r}: eval_window_hours="
                f"{self.eval_window_hours:g} is shorter than one period of "
                f"{self.period_hours:g} h; use at least one period"
            )
        if self.family not in FAMILIES:
            raise DataError(
                f"model {self.model_id!r}: family {self.family!r} is unknown; "
                f"use one of {sorted(FAMILIES)}"
            )
        for name in ("training_window_hours", "max_interval_hours"):
            hours = float(getattr(self, name))
            ratio = hours / self.period_hours
            if self.period_hours <= 0 or ratio < 1 or ratio != round(ratio):
                raise DataError(
                    f"model {self.model_id!r}: {name}={hours:g} is not a whole "
                    f"multiple (>= 1) of period_hours={self.period_hours:g}; "
                    "pick values on the period's grid"
                )


def allowed_mask(spec: ReplaySpec, intervals_hours: np.ndarray) -> np.ndarray:
    """Which grid intervals a model may run at.

    Args:
        spec: The model.
        intervals_hours: Interval grid in hours, float64 array (n_intervals,).

    Returns:
        Bool array (n_intervals,): True where the interval is a whole multiple
        of the model's period and no longer than its longest interval.
    """
    ratio = np.asarray(intervals_hours, dtype=np.float64) / spec.period_hours
    whole = np.isclose(ratio, np.round(ratio)) & (ratio >= 1.0 - 1e-9)
    return whole & (intervals_hours <= spec.max_interval_hours + 1e-9)


_SCHEDULES: dict[str, tuple[float, float]] = {
    "nycflights13/flights": (24.0, 720.0),
    "fpp2/elecdemand": (6.0, 720.0),
    "fpp3/bank_calls": (1.0, 336.0),
    "modeldata/Chicago": (24.0, 2160.0),
    "mosaicData/Birthdays": (24.0, 2160.0),
}
"""Data set to (period hours, longest interval hours) of its models."""

EXPERIMENT_CYCLES = 4
"""Baseline cycles one experiment spans (``eval_window_hours`` over the longest).

A real A/B test of a retraining schedule must see several retrains of its
slowest arm to say anything, so it runs several baseline cycles: 120 days on
the flight and electricity models, two weeks x 4 on the call-centre models,
a year on the daily Chicago and births models. Longer windows shrink the
seasonal spread of the measured gain roughly as one over the square root of
the cycles; the window is capped at the evaluation span.
"""

_FLIGHTS, _ELEC, _CALLS = "nycflights13/flights", "fpp2/elecdemand", "fpp3/bank_calls"
_CHICAGO, _BIRTHS = "modeldata/Chicago", "mosaicData/Birthdays"


def _model(
    model_id: str,
    dataset: str,
    target: str,
    family: str,
    feature_set: str,
    *,
    window_days: float,
    value: float,
    segment: str = "",
    period_hours: float | None = None,
) -> ReplaySpec:
    """A spec on its data set's schedule; an experiment spans several cycles."""
    default_period, longest = _SCHEDULES[dataset]
    return ReplaySpec(
        model_id=model_id,
        dataset=dataset,
        target=target,
        family=family,
        feature_set=feature_set,
        segment=segment,
        training_window_hours=24.0 * window_days,
        period_hours=period_hours or default_period,
        max_interval_hours=longest,
        eval_window_hours=EXPERIMENT_CYCLES * longest,
        value=value,
    )


def list_models() -> tuple[ReplaySpec, ...]:
    """The real-data fleet, one spec per model.

    Returns:
        26 specs over 5 data sets, in fleet order; model ids are unique.

    Notes:
        ``value`` (money per gain point per day) is a stand-in business
        weight, not a measurement. Each was picked once, from the replayed
        gain curve and the deterministic cost, as a round number near the
        middle of the value range that puts the model's ROI optimum at a
        chosen interval; the chosen intervals spread over the grid (2 h to
        1440 h), so optima differ across the fleet and sit clear of ties. An
        experiment lasts :data:`EXPERIMENT_CYCLES` cycles of the baseline
        schedule (``eval_window_hours``), capped at the evaluation span.
        Even so, one experiment per interval picks an interval within 5 %
        of the optimum for only about a third of the models: the gain
        moves with the season and with the retrain phase of each arm by
        more than it differs between neighbouring intervals.
    """
    delay, arrival, weather = "dep_delayed", "arr_delay", "schedule_weather"
    temperature = "calendar_temperature"
    return (
        _model(
            "flights-delay-logistic-schedule-14d",
            _FLIGHTS,
            delay,
            "logistic",
            "schedule",
            window_days=14,
            value=3.5,
        ),
        _model(
            "flights-delay-logistic-weather-28d",
            _FLIGHTS,
            delay,
            "logistic",
            weather,
            window_days=28,
            value=20.0,
        ),
        _model(
            "flights-delay-sgd-weather-14d",
            _FLIGHTS,
            delay,
            "sgd_classifier",
            weather,
            window_days=14,
            value=5.2,
            period_hours=6.0,
        ),
        _model(
            "flights-delay-logistic-weather-14d-ewr",
            _FLIGHTS,
            delay,
            "logistic",
            weather,
            window_days=14,
            value=2.4,
            segment="origin=EWR",
        ),
        _model(
            "flights-delay-logistic-weather-14d-jfk",
            _FLIGHTS,
            delay,
            "logistic",
            weather,
            window_days=14,
            value=0.15,
            segment="origin=JFK",
        ),
        _model(
            "flights-delay-logistic-weather-14d-lga",
            _FLIGHTS,
            delay,
            "logistic",
            weather,
            window_days=14,
            value=8.6,
            segment="origin=LGA",
        ),
        _model(
            "flights-arrdelay-ridge-weather-28d",
            _FLIGHTS,
            arrival,
            "ridge",
            weather,
            window_days=28,
            value=0.24,
        ),
        _model(
            "flights-arrdelay-ridge-schedule-7d-ewr",
            _FLIGHTS,
            arrival,
            "ridge",
            "schedule",
            window_days=7,
            value=0.0051,
            segment="origin=EWR",
        ),
        _model(
            "elec-demand-ridge-calendar-28d",
            _ELEC,
            "demand",
            "ridge",
            "calendar",
            window_days=28,
            value=0.058,
        ),
        _model(
            "elec-demand-ridge-temperature-7d",
            _ELEC,
            "demand",
            "ridge",
            temperature,
            window_days=7,
            value=0.045,
        ),
        _model(
            "elec-demand-ridge-temperature-28d",
            _ELEC,
            "demand",
            "ridge",
            temperature,
            window_days=28,
            value=0.013,
        ),
        _model(
            "elec-demand-sgd-temperature-14d",
            _ELEC,
            "demand",
            "sgd_regressor",
            temperature,
            window_days=14,
            value=0.0036,
        ),
        _model(
            "elec-demand-hgb-temperature-28d",
            _ELEC,
            "demand",
            "hgb_regressor",
            temperature,
            window_days=28,
            value=0.23,
            period_hours=24.0,
        ),
        _model(
            "calls-ridge-calendar-7d",
            _CALLS,
            "calls",
            "ridge",
            "calendar",
            window_days=7,
            value=0.056,
        ),
        _model(
            "calls-ridge-calendar-28d",
            _CALLS,
            "calls",
            "ridge",
            "calendar",
            window_days=28,
            value=0.015,
        ),
        _model(
            "calls-ridge-lags-14d",
            _CALLS,
            "calls",
            "ridge",
            "calendar_lags",
            window_days=14,
            value=0.07,
        ),
        _model(
            "calls-sgd-calendar-14d",
            _CALLS,
            "calls",
            "sgd_regressor",
            "calendar",
            window_days=14,
            value=0.092,
        ),
        _model(
            "chicago-ridge-calendar-365d",
            _CHICAGO,
            "ridership",
            "ridge",
            "calendar",
            window_days=365,
            value=0.00015,
        ),
        _model(
            "chicago-ridge-weather-365d",
            _CHICAGO,
            "ridership",
            "ridge",
            "calendar_weather",
            window_days=365,
            value=0.0041,
        ),
        _model(
            "chicago-ridge-lagged-365d",
            _CHICAGO,
            "ridership",
            "ridge",
            "calendar_lagged",
            window_days=365,
            value=0.0028,
        ),
        _model(
            "chicago-sgd-weather-365d",
            _CHICAGO,
            "ridership",
            "sgd_regressor",
            "calendar_weather",
            window_days=365,
            value=0.00052,
        ),
        _model(
            "births-ridge-calendar-365d-ca",
            _BIRTHS,
            "births",
            "ridge",
            "calendar",
            window_days=365,
            value=6.1e-05,
            segment="state=CA",
        ),
        _model(
            "births-ridge-calendar-365d-tx",
            _BIRTHS,
            "births",
            "ridge",
            "calendar",
            window_days=365,
            value=0.00038,
            segment="state=TX",
        ),
        _model(
            "births-ridge-calendar-365d-ny",
            _BIRTHS,
            "births",
            "ridge",
            "calendar",
            window_days=365,
            value=0.0015,
            segment="state=NY",
        ),
        _model(
            "births-ridge-calendar-365d-il",
            _BIRTHS,
            "births",
            "ridge",
            "calendar",
            window_days=365,
            value=0.02,
            segment="state=IL",
        ),
        _model(
            "births-ridge-holiday-730d-ca",
            _BIRTHS,
            "births",
            "ridge",
            "calendar_holiday",
            window_days=730,
            value=0.0066,
            segment="state=CA",
        ),
    )
