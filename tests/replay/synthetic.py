"""Tiny synthetic streams, specs and frames whose drift is known."""

from __future__ import annotations

import numpy as np
import pandas as pd

from freqopt.replay import ReplaySpec, Stream, make_stream


def drifting_stream(
    *,
    n_days: int = 60,
    rows_per_day: int = 24,
    drift_per_day: float = 0.05,
    noise: float = 0.1,
    seed: int = 0,
    classification: bool = False,
) -> Stream:
    """y = (1 + drift × day) × x0 − x1 + noise: the first coefficient drifts."""
    rng = np.random.default_rng(seed)
    n_rows = n_days * rows_per_day
    hours = np.arange(n_rows) * (24.0 / rows_per_day)
    x = rng.normal(size=(n_rows, 2))
    slope = 1.0 + drift_per_day * hours / 24.0
    signal = slope * x[:, 0] - x[:, 1]
    if classification:
        target = (signal + noise * rng.logistic(size=n_rows) > 0).astype(np.float64)
        kind = "classification"
    else:
        target = signal + noise * rng.normal(size=n_rows)
        kind = "regression"
    return make_stream("synthetic", kind, hours, x, target, ("x0", "x1"), 1.0)


def spec_for(
    family: str = "ridge",
    *,
    period_hours: float = 24.0,
    window_hours: float = 72.0,
    max_interval_hours: float = 384.0,
    eval_window_hours: float | None = None,
    model_id: str = "synthetic",
    dataset: str = "fpp2/elecdemand",
    feature_set: str = "calendar_temperature",
    value: float = 1.0,
) -> ReplaySpec:
    """A spec with the given schedule; dataset fields matter only to loaders."""
    return ReplaySpec(
        model_id=model_id,
        dataset=dataset,
        target="demand",
        family=family,
        feature_set=feature_set,
        segment="",
        training_window_hours=window_hours,
        period_hours=period_hours,
        max_interval_hours=max_interval_hours,
        eval_window_hours=eval_window_hours or max_interval_hours,
        value=value,
    )


def elecdemand_frame(n_days: int = 56, seed: int = 0) -> pd.DataFrame:
    """A half-hourly frame shaped like fpp2/elecdemand whose temperature
    effect drifts linearly over time."""
    rng = np.random.default_rng(seed)
    n_rows = 48 * n_days
    day = np.arange(n_rows) / 48.0
    temperature = 15.0 + 8.0 * np.sin(2 * np.pi * day) + rng.normal(0, 2, n_rows)
    workday = ((np.floor(day) % 7) < 5).astype(int)
    effect = 0.02 + 0.004 * day
    demand = 4.0 + effect * temperature + 0.3 * workday + rng.normal(0, 0.05, n_rows)
    return pd.DataFrame(
        {"Demand": demand, "WorkDay": workday, "Temperature": temperature}
    )


class FrameReader:
    """A picklable reader that serves fixed frames by data set name."""

    def __init__(self, frames: dict[str, pd.DataFrame]) -> None:
        self.frames = frames
        self.calls: list[str] = []

    def __call__(self, name: str) -> pd.DataFrame:
        self.calls.append(name)
        return self.frames[name]
