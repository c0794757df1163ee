"""The simulated fleet: truth, metadata, structure, files."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from freqopt.errors import DataError
from freqopt.sim import simulate_fleet, truth_frame, write_fleet_csv, write_truth

FLEET_COLUMNS = [
    "model_id",
    "n_parameters",
    "flops_per_example",
    "examples_per_day",
    "cost_per_retrain",
    "architecture",
    "goal",
    "surface",
    "feature_groups",
    "revenue_share",
    "feature_freshness_lag_hours",
    "value",
]


@pytest.fixture(scope="module")
def fleet():
    return simulate_fleet(n_models=120, n_clusters=6, noise=0.05, seed=3)


def _documented_gain(p, tau: np.ndarray) -> np.ndarray:
    """The module docstring's formula, written out again independently."""
    tau = tau[None, :]
    tau_b = p.baseline_interval_hours
    lat = p.latency_hours[:, None]

    def big_d(t):
        total = 0.0
        for a, s in (
            (p.fast_amplitude, p.fast_timescale_hours),
            (p.slow_amplitude, p.slow_timescale_hours),
        ):
            a, s = a[:, None], s[:, None]
            total = total + a * (1 - (s / t) * np.exp(-lat / s) * (1 - np.exp(-t / s)))
        return total

    def big_u(t):
        b = p.instability_amplitude[:, None]
        return b * np.exp(-t / p.instability_timescale_hours[:, None])

    return (big_d(tau_b) - big_d(tau)) - (big_u(tau) - big_u(tau_b))


def test_true_gain_matches_the_documented_formula(fleet) -> None:
    expected = _documented_gain(fleet.curve_params, fleet.intervals_hours)
    ok = fleet.allowed
    np.testing.assert_allclose(fleet.true_gain[ok], expected[ok], rtol=1e-10)
    assert np.all(np.isnan(fleet.true_gain[~ok]))


def test_cost_per_day_is_retrains_per_day_times_cost_plus_overhead(fleet) -> None:
    per_retrain = fleet.metadata["cost_per_retrain"].to_numpy()
    variable = per_retrain[:, None] * 24.0 / fleet.intervals_hours[None, :]
    overhead = fleet.cost_per_day - variable
    assert np.allclose(overhead, overhead[0, 0])
    assert overhead[0, 0] >= 0


def test_value_in_metadata_is_the_fleet_value(fleet) -> None:
    np.testing.assert_array_equal(fleet.metadata["value"].to_numpy(), fleet.value)


def test_metadata_has_the_fleet_file_columns(fleet) -> None:
    assert list(fleet.metadata.columns) == FLEET_COLUMNS
    assert fleet.metadata["model_id"].is_unique
    groups = fleet.metadata["feature_groups"]
    assert groups.str.contains(";").mean() > 0.9
    assert not groups.str.contains(",").any()


def test_same_seed_gives_the_same_fleet_and_another_seed_does_not() -> None:
    a = simulate_fleet(n_models=30, n_clusters=3, seed=7)
    b = simulate_fleet(n_models=30, n_clusters=3, seed=7)
    c = simulate_fleet(n_models=30, n_clusters=3, seed=8)
    pd.testing.assert_frame_equal(a.metadata, b.metadata)
    np.testing.assert_array_equal(a.true_gain, b.true_gain)
    assert not np.allclose(a.value, c.value)


def test_noise_sd_is_the_fraction_of_each_models_gain_range() -> None:
    fleet = simulate_fleet(n_models=30, n_clusters=3, noise=0.2, seed=1)
    gain_range = np.nanmax(fleet.true_gain, axis=1) - np.nanmin(fleet.true_gain, axis=1)
    np.testing.assert_allclose(fleet.noise_sd, 0.2 * gain_range)


def test_roi_optima_fall_at_many_intervals_and_rarely_at_the_ends(fleet) -> None:
    best = np.argmax(fleet.true_roi, axis=1)
    assert np.unique(best).size >= 5
    at_ends = np.isin(best, [0, fleet.intervals_hours.size - 1]).mean()
    assert at_ends < 0.2


def test_some_curves_peak_before_the_shortest_interval(fleet) -> None:
    first_allowed = np.argmax(fleet.allowed, axis=1)
    peak = np.nanargmax(fleet.true_gain, axis=1)
    assert np.mean(peak > first_allowed) > 0.05


def test_clusters_share_architecture_and_differ_between_each_other(fleet) -> None:
    per_cluster = fleet.metadata.groupby(fleet.true_cluster)["architecture"]
    assert (per_cluster.nunique() == 1).all()
    assert per_cluster.first().is_unique


def test_curve_parameters_follow_the_metadata(fleet) -> None:
    lag = fleet.metadata["feature_freshness_lag_hours"]
    latency = pd.Series(fleet.curve_params.latency_hours)
    assert lag.corr(latency, method="spearman") > 0.5

    # Between clusters, the drift time scale differs far more than within.
    scale = pd.Series(np.log(fleet.curve_params.fast_timescale_hours))
    within = scale.groupby(fleet.true_cluster).std().mean()
    assert scale.std() > 1.5 * within


def test_models_cannot_retrain_faster_than_training_takes() -> None:
    fleets = [simulate_fleet(n_models=60, n_clusters=6, seed=s) for s in range(3)]
    masked = sum(int((~f.allowed).sum()) for f in fleets)
    assert masked > 0
    for f in fleets:
        # A mask only ever removes the shortest intervals.
        first = np.argmax(f.allowed, axis=1)
        expected = np.arange(f.intervals_hours.size)[None, :] >= first[:, None]
        np.testing.assert_array_equal(f.allowed, expected)


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"n_models": 2, "n_clusters": 3}, "n_models >= n_clusters"),
        ({"intervals_hours": (4.0, 2.0, 8.0)}, "ascending"),
        ({"intervals_hours": (1.0, 2.0)}, "at least 3"),
        ({"noise": -0.1}, "noise must be >= 0"),
    ],
)
def test_invalid_arguments_raise_data_error(kwargs: dict, words: str) -> None:
    with pytest.raises(DataError, match=words):
        simulate_fleet(**kwargs)


def test_fleet_csv_round_trips_the_metadata(fleet, tmp_path) -> None:
    path = write_fleet_csv(fleet, tmp_path / "fleet" / "models.csv")
    loaded = pd.read_csv(path)
    assert list(loaded.columns) == FLEET_COLUMNS
    np.testing.assert_allclose(loaded["value"], fleet.value)


def test_truth_csv_marks_one_optimum_per_model(fleet, tmp_path) -> None:
    path = write_truth(fleet, tmp_path / "truth.csv")
    truth = pd.read_csv(path)
    assert len(truth) == int(fleet.allowed.sum())
    assert (truth.groupby("model_id")["is_optimum"].sum() == 1).all()
    np.testing.assert_allclose(truth["true_roi"], truth_frame(fleet)["true_roi"])


def test_truth_json_lists_every_model_with_its_optimum(fleet, tmp_path) -> None:
    document = json.loads(write_truth(fleet, tmp_path / "truth.json").read_text())
    assert len(document["models"]) == fleet.n_models
    first = document["models"][0]
    best = int(np.argmax(fleet.true_roi[0]))
    assert first["best_interval_hours"] == fleet.intervals_hours[best]
    assert set(first["curve_params"]) >= {"latency_hours", "fast_amplitude"}


def test_truth_file_with_another_suffix_is_refused(fleet, tmp_path) -> None:
    with pytest.raises(DataError, match=r"\.csv or \.json"):
        write_truth(fleet, tmp_path / "truth.parquet")
