"""The cluster GP: merging replicates, embedding reduction, fit and fallbacks."""

from __future__ import annotations

import numpy as np
import pytest

from freqopt.core import gp
from freqopt.core.gp import (
    fit_gain_gp,
    merge_replicates,
    monotone_contradictions,
    reduce_embedding,
)

GRID = np.array([1.0, 2.0, 4.0, 8.0, 24.0, 72.0, 168.0])
NAN = np.nan


def merged_of(models, hours, gains, ses=None):
    ses = np.full(len(gains), NAN) if ses is None else np.asarray(ses, float)
    return merge_replicates(
        np.asarray(models),
        np.asarray(hours, float),
        np.asarray(gains, float),
        ses,
        GRID,
    )


def test_exact_and_near_duplicate_intervals_merge_into_one_point() -> None:
    merged = merged_of([0, 0, 0, 0], [24, 24, 24.2, 72], [1.0, 2.0, 3.0, 0.5])

    assert merged.n_points == 2
    at_24 = merged.grid_index == 4
    assert merged.count[at_24].tolist() == [3]
    assert merged.gain[at_24] == pytest.approx([2.0])
    assert merged.interval_hours[at_24] == pytest.approx([24.0])
    assert merged.sum_sq[at_24] == pytest.approx([2.0])


def test_replicates_with_known_se_are_inverse_variance_weighted() -> None:
    merged = merged_of([0, 0], [8, 8], [1.0, 3.0], ses=[1.0, 2.0])

    weights = np.array([1.0, 0.25])
    assert merged.gain[0] == pytest.approx(np.sum(weights * [1.0, 3.0]) / 1.25)
    assert merged.gain_se[0] == pytest.approx(1 / np.sqrt(1.25))


def test_a_replicate_without_se_makes_the_point_se_unknown() -> None:
    merged = merged_of([0, 0], [8, 8], [1.0, 3.0], ses=[1.0, NAN])
    assert np.isnan(merged.gain_se[0])
    assert merged.gain[0] == pytest.approx(2.0)


def test_off_grid_intervals_are_kept_and_marked() -> None:
    merged = merged_of([0, 1], [3.0, 3.01], [1.0, 2.0])

    assert merged.grid_index.tolist() == [-1, -1]
    assert merged.n_points == 2  # different models never merge


def test_non_finite_gains_are_dropped() -> None:
    merged = merged_of([0, 0], [8, 24], [NAN, 1.0])
    assert merged.n_points == 1


def test_embedding_is_reduced_to_at_most_three_coordinates() -> None:
    rng = np.random.default_rng(0)
    coords = reduce_embedding(rng.normal(size=(20, 10)))
    assert coords.shape == (20, 3)


def test_identical_embeddings_reduce_to_no_coordinates() -> None:
    assert reduce_embedding(np.ones((5, 4))).shape == (5, 0)
    assert reduce_embedding(np.zeros((1, 4))).shape == (1, 0)


def saturating(hours: np.ndarray, scale: float = 24.0) -> np.ndarray:
    return 1.0 / (1.0 + hours / scale)


def test_fitted_posterior_follows_the_data_and_is_surer_near_it() -> None:
    rng = np.random.default_rng(1)
    models = np.repeat([0, 1, 2], 4)
    hours = np.tile([1.0, 4.0, 24.0, 168.0], 3)
    gains = saturating(hours) + 0.01 * rng.normal(size=hours.size)
    merged = merged_of(models, hours, gains, ses=np.full(hours.size, 0.01))
    coords = np.array([[0.0], [0.1], [0.2]])

    post = fit_gain_gp(merged, coords, GRID, prior_sd=np.ones(3), seed=0)

    assert post.method == "gp"
    assert post.mean.shape == (3, GRID.size)
    assert post.cov.shape == (3 * GRID.size, 3 * GRID.size)
    assert np.allclose(post.cov, post.cov.T)
    measured = [0, 2, 4, 6]
    assert np.allclose(post.mean[0, measured], saturating(GRID[measured]), atol=0.05)
    sd = np.sqrt(np.diag(post.cov)).reshape(3, GRID.size)
    assert sd[0, 4] < sd[0, 5]  # measured 24 h vs unmeasured 72 h


def test_cold_start_model_borrows_its_neighbours_curve() -> None:
    models = np.repeat([0, 1], 4)
    hours = np.tile([1.0, 4.0, 24.0, 168.0], 2)
    merged = merged_of(models, hours, saturating(hours), ses=np.full(8, 0.01))
    coords = np.array([[0.0], [0.05], [0.02]])  # model 2 sits between them

    post = fit_gain_gp(merged, coords, GRID, prior_sd=np.ones(3), seed=0)

    assert post.mean[2, 0] > post.mean[2, -1]
    assert np.allclose(post.mean[2], saturating(GRID), atol=0.15)


def test_missing_se_without_replicates_learns_the_noise() -> None:
    hours = np.array([1.0, 4.0, 24.0, 168.0])
    merged = merged_of([0, 0, 0, 0], hours, saturating(hours))

    post = fit_gain_gp(merged, np.zeros((1, 0)), GRID, prior_sd=np.ones(1))

    assert "noise level learned" in post.notes
    assert np.all(post.noise_sd > 0)


def test_missing_se_with_replicates_estimates_the_noise() -> None:
    hours = [1.0, 1.0, 24.0, 24.0, 168.0, 168.0]
    gains = [1.0, 1.2, 0.5, 0.7, 0.1, 0.3]
    merged = merged_of([0] * 6, hours, gains)

    post = fit_gain_gp(merged, np.zeros((1, 0)), GRID, prior_sd=np.ones(1))

    assert any("estimated from replicates" in n for n in post.notes)
    assert post.noise_sd[0, 0] == pytest.approx(np.sqrt(0.02), rel=1e-6)


def test_known_se_is_the_noise_of_a_new_measurement() -> None:
    hours = np.array([1.0, 4.0, 24.0, 168.0])
    merged = merged_of([0] * 4, hours, saturating(hours), ses=np.full(4, 0.03))
    post = fit_gain_gp(merged, np.zeros((1, 0)), GRID, prior_sd=np.ones(1))
    assert np.allclose(post.noise_sd, 0.03)


def test_no_data_gives_the_wide_prior() -> None:
    empty = merged_of([], [], [])
    post = fit_gain_gp(empty, np.zeros((2, 1)), GRID, prior_sd=np.array([1.0, 3.0]))

    assert post.method == "prior"
    assert np.all(post.mean == 0)
    sd = np.sqrt(np.diag(post.cov)).reshape(2, GRID.size)
    assert np.allclose(sd[0], 1.0) and np.allclose(sd[1], 3.0)


def test_one_result_uses_fixed_hyperparameters_and_says_so() -> None:
    post = fit_gain_gp(merged_of([0], [24], [0.4]), np.zeros((1, 0)), GRID,
                       prior_sd=np.ones(1))  # fmt: skip
    assert post.method == "gp-fixed"
    assert any(n.startswith("one result") for n in post.notes)
    assert np.allclose(post.mean, 0.4)
    assert np.all(np.isfinite(post.cov))


def test_identical_gains_give_a_flat_uncertain_curve() -> None:
    merged = merged_of([0, 0, 0], [1, 24, 168], [0.3, 0.3, 0.3])
    post = fit_gain_gp(merged, np.zeros((1, 0)), GRID, prior_sd=np.ones(1))

    assert any(n.startswith("all gains identical") for n in post.notes)
    assert np.allclose(post.mean, 0.3)
    assert np.sqrt(post.cov[3, 3]) > 1e-3  # 8 h is not measured


def test_fit_failure_falls_back_and_says_why(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("singular")

    monkeypatch.setattr(gp, "_botorch_posterior", broken)
    hours = np.array([1.0, 4.0, 24.0, 168.0])
    merged = merged_of([0] * 4, hours, saturating(hours), ses=np.full(4, 0.01))

    post = fit_gain_gp(merged, np.zeros((1, 0)), GRID, prior_sd=np.ones(1))

    assert post.method == "gp-fixed"
    assert any("GP fit failed (RuntimeError: singular)" in n for n in post.notes)


def test_rising_cluster_trend_is_flattened_with_a_note() -> None:
    hours = np.array([1.0, 24.0, 168.0])
    merged = merged_of([0, 0, 0], hours, [0.1, 0.5, 0.9], ses=np.full(3, 0.01))
    post = fit_gain_gp(merged, np.zeros((1, 0)), GRID, prior_sd=np.ones(1))
    assert any("does not fall with interval" in n for n in post.notes)


def test_a_clearly_better_longer_interval_is_reported_as_contradiction() -> None:
    merged = merged_of([0, 0, 1, 1], [1, 168, 1, 168], [0.1, 0.9, 0.9, 0.1])
    found = monotone_contradictions(merged, np.full(4, 0.05))
    assert found == [(0, 1.0, 168.0, pytest.approx(0.8 / np.sqrt(0.005)))]


def test_a_model_with_larger_gains_gets_a_larger_scale() -> None:
    hours = [1, 4, 24, 168] * 3
    curve = np.array([3.0, 2.5, 1.0, 0.1])
    gains = np.concatenate([curve, curve, 2.0 * curve])
    merged = merged_of([0] * 4 + [1] * 4 + [2] * 4, hours, gains)
    x = (np.log(merged.interval_hours) - np.log(GRID[0])) / np.log(GRID[-1])

    scale = gp._model_scales(merged, x, 4, float(np.log(GRID[-1])))

    assert scale[2] > 1.1 * max(scale[0], scale[1])
    assert scale[3] == 1.0  # no trials: the cluster's scale


def test_a_model_with_one_point_keeps_the_cluster_scale() -> None:
    merged = merged_of([0, 0, 0, 1], [1, 8, 168, 8], [3.0, 2.0, 0.1, 9.0])
    x = (np.log(merged.interval_hours) - np.log(GRID[0])) / np.log(GRID[-1])

    scale = gp._model_scales(merged, x, 2, float(np.log(GRID[-1])))

    assert scale[1] == 1.0


def test_posterior_mean_follows_a_model_whose_gains_are_doubled() -> None:
    hours = [1, 4, 24, 168] * 2
    curve = np.array([3.0, 2.5, 1.0, 0.1])
    merged = merged_of([0] * 4 + [1] * 4, hours, np.concatenate([curve, 2 * curve]))

    post = fit_gain_gp(merged, np.zeros((2, 0)), GRID, prior_sd=np.ones(2))

    at = np.searchsorted(GRID, [1, 4, 24, 168])
    assert post.mean[1, at] == pytest.approx(2 * curve, abs=0.3)
    assert post.mean[0, at] == pytest.approx(curve, abs=0.3)
