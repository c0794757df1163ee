"""Tests of clustering, assignment, stable ids, descriptions and validation."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import adjusted_rand_score

from freqopt.core.clustering import (
    assign_to_clusters,
    cluster_fleet,
    describe_clusters,
    diff_clusters,
    match_cluster_ids,
    members_by_cluster,
    validate_clusters,
)
from freqopt.core.embedding import fit_embedding
from freqopt.errors import DataError, DataWarning

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _blobs(
    sizes: tuple[int, ...], n_dims: int = 4, spacing: float = 8.0, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Well separated Gaussian blobs and their true labels."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(0.0, spacing, size=(len(sizes), n_dims))
    truth = np.repeat(np.arange(len(sizes)), sizes)
    return centres[truth] + rng.normal(size=(len(truth), n_dims)), truth


def _load_make_fleet():
    spec = importlib.util.spec_from_file_location(
        "make_fleet", EXAMPLES / "make_fleet.py"
    )
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    sys.modules["make_fleet"] = module
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


# Clustering.


def test_auto_k_recovers_separated_blobs():
    matrix, truth = _blobs((40, 30, 20))

    clustering = cluster_fleet(matrix, n_bootstrap=5)

    assert clustering.k == 3
    assert adjusted_rand_score(truth, clustering.labels) == 1.0
    assert clustering.silhouette > 0.5
    assert [c.size for c in clustering.clusters] == [40, 30, 20]
    assert "K = 3 chosen among K = 2..12" in clustering.reason


@pytest.mark.parametrize("method", ["kmeans", "agglomerative", "spectral"])
def test_each_method_recovers_blobs_and_is_deterministic(method):
    matrix, truth = _blobs((25, 25, 25, 25), seed=1)

    first = cluster_fleet(matrix, method=method, seed=3, n_bootstrap=4)
    second = cluster_fleet(matrix, method=method, seed=3, n_bootstrap=4)

    assert first.k == 4
    assert adjusted_rand_score(truth, first.labels) == 1.0
    assert np.array_equal(first.labels, second.labels)
    assert first.stability_mean == second.stability_mean
    assert first.k_table == second.k_table


def test_k_table_lists_every_candidate_with_both_criteria():
    matrix, _ = _blobs((30, 30, 30))

    clustering = cluster_fleet(matrix, k_min=2, k_max=6, n_bootstrap=0)

    assert [row.k for row in clustering.k_table] == [2, 3, 4, 5, 6]
    assert all(row.silhouette is not None for row in clustering.k_table)
    assert all(row.calinski_harabasz > 0 for row in clustering.k_table)
    best = max(clustering.k_table, key=lambda row: row.silhouette)
    assert best.k == clustering.k == 3


def test_given_k_is_used_as_asked():
    matrix, _ = _blobs((30, 30, 30))

    clustering = cluster_fleet(matrix, k=5, n_bootstrap=0)

    assert clustering.k == 5
    assert clustering.reason == "K = 5 as asked."
    assert [row.k for row in clustering.k_table] == [5]


def test_fewer_distinct_rows_than_k_caps_k_with_a_warning():
    matrix = np.repeat(np.array([[0.0, 0.0], [5.0, 5.0], [0.0, 9.0]]), 10, axis=0)

    with pytest.warns(DataWarning, match="only 3 distinct rows"):
        given_k = cluster_fleet(matrix, k=6, n_bootstrap=0)
    auto = cluster_fleet(matrix, n_bootstrap=0)

    assert given_k.k == 3
    assert "capped at 3" in given_k.reason
    assert auto.k == 3
    assert auto.n_distinct == 3
    assert [row.k for row in auto.k_table] == [2, 3]


def test_one_distinct_row_is_one_cluster_with_a_reason():
    matrix = np.ones((12, 3))

    clustering = cluster_fleet(matrix)

    assert clustering.k == 1
    assert clustering.silhouette is None
    assert clustering.stability_mean is None
    assert np.all(clustering.labels == 0)
    assert "same embedding" in clustering.reason
    assert "silhouette undefined" in clustering.reason


def test_empty_embedding_of_constant_metadata_is_one_cluster():
    clustering = cluster_fleet(np.zeros((5, 0)))

    assert clustering.k == 1
    assert clustering.centroids.shape == (1, 0)


@pytest.mark.parametrize("n_dims", [2, 6])
def test_structureless_data_falls_back_to_one_cluster(n_dims):
    matrix = np.random.default_rng(4).normal(size=(200, n_dims))

    clustering = cluster_fleet(matrix, n_bootstrap=0)

    assert clustering.k == 1
    assert clustering.reason.startswith("no cluster structure")
    assert len(clustering.k_table) == 11


def test_silhouette_is_sampled_on_large_fleets():
    matrix, truth = _blobs((150, 150), seed=2)

    clustering = cluster_fleet(matrix, max_silhouette_rows=50, n_bootstrap=0)

    assert clustering.k == 2
    assert adjusted_rand_score(truth, clustering.labels) == 1.0
    assert all(c.silhouette > 0.5 for c in clustering.clusters)


def test_stability_is_high_for_clear_clusters_and_skippable():
    matrix, _ = _blobs((30, 30, 30))

    stable = cluster_fleet(matrix, n_bootstrap=10)
    skipped = cluster_fleet(matrix, n_bootstrap=0)

    assert stable.stability_mean > 0.95
    assert 0 <= stable.stability_std < 0.05
    assert skipped.stability_mean is None


def test_centroids_and_spread_describe_each_cluster():
    matrix, _ = _blobs((40, 20))

    clustering = cluster_fleet(matrix, k=2, n_bootstrap=0)

    for c in clustering.clusters:
        members = matrix[clustering.labels == c.index]
        centroid = members.mean(axis=0)
        distance = np.linalg.norm(members - centroid, axis=1)
        assert np.allclose(clustering.centroids[c.index], centroid)
        assert c.spread == pytest.approx(np.quantile(distance, 0.9))
        assert c.outlier_distance >= c.spread


def test_result_arrays_are_read_only_and_summary_is_json():
    clustering = cluster_fleet(_blobs((20, 20))[0], n_bootstrap=2)

    with pytest.raises(ValueError):
        clustering.labels[0] = 5
    summary = json.loads(json.dumps(clustering.to_dict()))
    assert summary["k"] == 2
    assert len(summary["clusters"]) == 2


@settings(max_examples=25, deadline=None)
@given(
    rows=st.lists(
        st.tuples(st.integers(-3, 3), st.integers(-3, 3)), min_size=1, max_size=40
    ),
    method=st.sampled_from(["kmeans", "agglomerative", "spectral"]),
)
def test_any_finite_embedding_gets_a_consistent_clustering(rows, method):
    matrix = np.array(rows, dtype=np.float64)

    clustering = cluster_fleet(matrix, method=method, n_bootstrap=2, k_max=5)

    n_distinct = len(set(rows))
    assert 1 <= clustering.k <= n_distinct
    assert clustering.n_distinct == n_distinct
    assert set(clustering.labels.tolist()) == set(range(clustering.k))
    assert clustering.sizes.sum() == len(rows)
    assert np.all(np.diff(clustering.sizes) <= 0)
    assert clustering.reason


def test_bad_inputs_are_refused():
    with pytest.raises(DataError, match="non-finite"):
        cluster_fleet(np.array([[0.0], [np.nan]]))
    with pytest.raises(DataError, match="method is 'dbscan'"):
        cluster_fleet(np.zeros((3, 2)), method="dbscan")  # type: ignore[arg-type]
    with pytest.raises(DataError, match="k_min=5, k_max=3"):
        cluster_fleet(np.zeros((3, 2)), k_min=5, k_max=3)


# Assignment of new models.


def test_new_models_go_to_the_nearest_cluster_and_far_ones_are_outliers():
    matrix, _ = _blobs((40, 40), seed=5)
    clustering = cluster_fleet(matrix, k=2, n_bootstrap=0)
    new = np.vstack([clustering.centroids + 0.1, [[500.0] * 4]])

    assignment = assign_to_clusters(new, clustering)

    assert assignment.labels[:2].tolist() == [0, 1]
    assert assignment.is_outlier.tolist() == [False, False, True]
    assert assignment.distance[0] == pytest.approx(0.2)


def test_assignment_checks_dimensions_and_accepts_no_rows():
    clustering = cluster_fleet(_blobs((20, 20))[0], n_bootstrap=0)

    with pytest.raises(DataError, match="live in 4 dimensions"):
        assign_to_clusters(np.zeros((2, 3)), clustering)
    assert assign_to_clusters(np.zeros((0, 4)), clustering).labels.shape == (0,)


def test_new_model_with_an_unseen_category_is_assigned():
    fleet = pd.DataFrame(
        {
            "model_id": [f"m{i}" for i in range(30)],
            "architecture": ["dnn"] * 15 + ["gbdt"] * 15,
            "n_parameters": [1e9] * 15 + [1e5] * 15,
        }
    )
    embedding = fit_embedding(fleet)
    clustering = cluster_fleet(embedding.matrix, k=2, n_bootstrap=0)
    new = pd.DataFrame(
        {"model_id": ["x"], "architecture": ["mmoe"], "n_parameters": [1e9]}
    )

    assignment = assign_to_clusters(embedding.embedder.transform(new), clustering)

    assert clustering.labels[0] == assignment.labels[0]


# Descriptions.


def test_descriptions_use_original_units():
    fleet = pd.DataFrame(
        {
            "model_id": ["a", "b", "c", "d"],
            "n_parameters": [1e9, 3e9, 1e5, 2e5],
            "architecture": ["dlrm", "dlrm", "gbdt", "dnn"],
            "feature_groups": ["user;ad", "user;ad;context", "query", "query;user"],
            "current_interval_hours": [1.0, 2.0, 3.0, 4.0],
        }
    )

    first, second = describe_clusters(fleet, np.array([7, 7, 9, 9]))

    assert (first.label, first.size) == (7, 2)
    assert first.medians == {"n_parameters": pytest.approx(2e9)}
    assert first.top_categories == {"architecture": ("dlrm", 1.0)}
    assert first.common_labels["feature_groups"] == (
        ("ad", 1.0),
        ("user", 1.0),
        ("context", 0.5),
    )
    assert second.top_categories["architecture"][1] == 0.5
    assert first.text.startswith("2 models: architecture dlrm (100 %)")
    assert "n_parameters 2e+09" in first.text


def test_descriptions_refuse_labels_of_another_length():
    with pytest.raises(DataError, match="one label per model"):
        describe_clusters(pd.DataFrame({"a": [1, 2]}), np.array([0]))


# Stable ids.


def test_split_keeps_the_id_on_the_larger_part_and_retires_none():
    previous = {3: {"a", "b", "c", "d", "e"}, 5: {"f", "g"}}
    labels = {"a": 0, "b": 0, "c": 0, "d": 1, "e": 1, "f": 2, "g": 2}

    matching = match_cluster_ids(previous, labels, next_free_id=6)

    assert matching.cluster_ids == {0: 3, 1: 6, 2: 5}
    assert matching.new_ids == (6,)
    assert matching.kept_ids == (3, 5)
    assert matching.retired_ids == ()
    assert matching.next_free_id == 7
    assert matching.overlap == {0: 3, 1: 0, 2: 2}


def test_merge_retires_the_smaller_old_id():
    previous = {0: {"a", "b", "c"}, 1: {"d"}}
    labels = {"a": 0, "b": 0, "c": 0, "d": 0}

    matching = match_cluster_ids(previous, labels, next_free_id=2)

    assert matching.cluster_ids == {0: 0}
    assert matching.retired_ids == (1,)
    assert matching.new_ids == ()


def test_first_clustering_gives_fresh_ids_in_label_order():
    matching = match_cluster_ids({}, {"a": 1, "b": 0}, next_free_id=0)

    assert matching.cluster_ids == {0: 0, 1: 1}
    assert matching.stable_labels({"a": 1, "b": 0}) == {"a": 1, "b": 0}


def test_next_free_id_must_exceed_previous_ids():
    with pytest.raises(DataError, match="next_free_id is 2.*go up to 4"):
        match_cluster_ids({4: {"a"}}, {"a": 0}, next_free_id=2)


def test_ids_stay_stable_when_reclustering_splits_one_cluster():
    rng = np.random.default_rng(6)
    left = rng.normal([0, 0], 0.5, size=(60, 2))
    right_a = rng.normal([20, 0], 0.5, size=(25, 2))
    right_b = rng.normal([20, 4], 0.5, size=(15, 2))
    model_ids = [f"m{i}" for i in range(100)]
    before = cluster_fleet(np.vstack([left, right_a, right_b]), k=2, n_bootstrap=0)
    first = match_cluster_ids(
        {}, dict(zip(model_ids, before.labels.tolist(), strict=True)), 0
    )
    previous = members_by_cluster(
        first.stable_labels(dict(zip(model_ids, before.labels.tolist(), strict=True)))
    )

    # The right cluster drifts apart into two.
    right_b_moved = right_b + np.array([0.0, 10.0])
    after = cluster_fleet(np.vstack([left, right_a, right_b_moved]), n_bootstrap=0)
    labels = dict(zip(model_ids, after.labels.tolist(), strict=True))
    matching = match_cluster_ids(previous, labels, first.next_free_id)
    current = members_by_cluster(matching.stable_labels(labels))

    assert after.k == 3
    assert current[first.cluster_ids[0]] == previous[first.cluster_ids[0]]
    right_id = first.cluster_ids[1]
    assert current[right_id] == {f"m{i}" for i in range(60, 85)}
    assert matching.new_ids == (2,)
    assert current[2] == {f"m{i}" for i in range(85, 100)}

    diff = diff_clusters(previous, current)
    assert [move.model_id for move in diff.moves] == sorted(current[2])
    assert {(m.old_cluster_id, m.new_cluster_id) for m in diff.moves} == {(right_id, 2)}
    assert diff.n_unchanged == 85
    assert diff.added_ids == (2,)


def test_diff_lists_models_that_joined_or_left():
    diff = diff_clusters({0: {"a", "b"}}, {0: {"a"}, 1: {"c"}})

    assert [(m.model_id, m.old_cluster_id, m.new_cluster_id) for m in diff.moves] == [
        ("b", 0, None),
        ("c", None, 1),
    ]
    assert diff.removed_ids == ()


@st.composite
def _reclusterings(draw: st.DrawFn):
    model_ids = [f"m{i}" for i in range(draw(st.integers(1, 30)))]
    old = draw(st.lists(st.integers(0, 5), min_size=len(model_ids)))
    new = draw(st.lists(st.integers(0, 6), min_size=len(model_ids)))
    kept = draw(st.lists(st.booleans(), min_size=len(model_ids)))
    previous: dict[int, set[str]] = {}
    for model_id, label, keep in zip(model_ids, old, kept, strict=False):
        if keep:
            previous.setdefault(label * 3, set()).add(model_id)
    labels = dict(zip(model_ids, new, strict=False))
    return previous, labels


@settings(max_examples=150, deadline=None)
@given(case=_reclusterings(), extra=st.integers(0, 5))
def test_matching_is_a_bijection_onto_distinct_ids(case, extra):
    previous, labels = case
    next_free_id = max(previous, default=-1) + 1 + extra

    matching = match_cluster_ids(previous, labels, next_free_id)

    ids = list(matching.cluster_ids.values())
    assert sorted(matching.cluster_ids) == sorted(set(labels.values()))
    assert len(set(ids)) == len(ids)
    assert set(matching.kept_ids) | set(matching.retired_ids) == set(previous)
    assert not set(matching.kept_ids) & set(matching.retired_ids)
    assert all(new_id >= next_free_id for new_id in matching.new_ids)
    assert matching.next_free_id == next_free_id + len(matching.new_ids)
    for label, stable_id in matching.cluster_ids.items():
        if stable_id in previous:
            members = {m for m, value in labels.items() if value == label}
            assert previous[stable_id] & members


# Validation against curves.


def _curves(scale: np.ndarray, noise: float, seed: int = 0) -> np.ndarray:
    """Saturating gain curves of the given scale per model, with noise."""
    rng = np.random.default_rng(seed)
    log_interval = np.log(np.array([1, 2, 4, 8, 24, 48, 168.0]))
    curves = scale[:, None] * np.exp(-log_interval / 3.0)[None, :]
    return curves + rng.normal(0.0, noise, size=curves.shape)


def test_clusters_matching_the_curves_are_supported():
    truth = np.repeat([0, 1, 2], 20)

    report = validate_clusters(
        truth, _curves(1.0 + 2.0 * truth, 0.1), n_permutations=199
    )

    assert report.supported
    assert report.ratio < 0.5
    assert report.p_value == pytest.approx(1 / 200)
    assert report.flagged == ()
    assert all(c.status == "tighter" for c in report.clusters)
    assert "clusters group models with similar curves" in report.message


def test_clusters_unrelated_to_the_curves_are_not_supported():
    truth = np.repeat([0, 1, 2], 20)
    labels = np.random.default_rng(1).permutation(truth)

    report = validate_clusters(
        labels, _curves(1.0 + 2.0 * truth, 0.1), n_permutations=199
    )

    assert not report.supported
    assert report.p_value > 0.05
    assert "better than chance" in report.message


def test_a_cluster_mixing_curves_is_flagged_by_label_with_numbers():
    labels = np.repeat([0, 1, 2], [15, 15, 30])
    scale = np.concatenate([np.full(15, 5.0), np.full(15, 5.5)])
    scale = np.concatenate([scale, np.repeat([0.0, 5.0, 10.0], 10)])

    report = validate_clusters(labels, _curves(scale, 0.05), n_permutations=99)

    mixed = report.clusters[2]
    assert report.flagged == (2,)
    assert mixed.status == "not tighter"
    assert mixed.ratio > 1
    assert f"cluster(s) 2 (ratio {mixed.ratio:.2f})" in report.message


def test_models_without_data_are_excluded_and_counted():
    truth = np.repeat([0, 1], 10)
    curves = _curves(1.0 + 2.0 * truth, 0.05)
    curves[:3] = np.nan
    curves[5, :4] = np.nan

    report = validate_clusters(truth, curves, n_permutations=49)

    assert report.n_excluded == 3
    assert report.n_with_data == 17
    assert report.clusters[0].n_models == 10
    assert report.clusters[0].n_with_data == 7
    assert report.supported


def test_best_log_intervals_can_stand_in_for_curves():
    truth = np.repeat([0, 1], 12)
    best = np.log(np.where(truth == 0, 4.0, 48.0))
    best += np.random.default_rng(0).normal(0, 0.1, size=24)

    report = validate_clusters(truth, best, n_permutations=99)

    assert report.supported


def test_validation_subsamples_many_models_and_says_how_many_it_used():
    truth = np.repeat([0, 1], 40)
    curves = _curves(1.0 + 2.0 * truth, 0.05)
    curves[0] = np.nan

    report = validate_clusters(truth, curves, n_permutations=49, max_models=30)

    assert (report.n_with_data, report.n_excluded, report.n_used) == (79, 1, 30)
    assert report.clusters[0].n_with_data == 39
    assert report.supported


def test_validation_without_enough_data_says_so():
    report = validate_clusters(np.array([0, 1]), np.full((2, 3), np.nan))

    assert report.p_value is None
    assert not report.supported
    assert report.message.startswith("cannot test")
    assert all(c.status == "too few curves" for c in report.clusters)


def test_validation_refuses_mismatched_shapes():
    with pytest.raises(DataError, match="one label and one curve"):
        validate_clusters(np.array([0, 1, 1]), np.zeros((2, 4)))


# The example fleet.


def test_example_fleet_file_is_what_the_script_writes():
    make_fleet = _load_make_fleet()
    frame, _ = make_fleet.make_fleet()

    stored = pd.read_csv(EXAMPLES / "fleet.csv")

    assert len(stored) == 300
    pd.testing.assert_frame_equal(
        stored, frame.astype({"feature_freshness_lag_hours": float}), check_dtype=False
    )


def test_clustering_the_example_fleet_recovers_its_families():
    make_fleet = _load_make_fleet()
    _, families = make_fleet.make_fleet()
    fleet = pd.read_csv(EXAMPLES / "fleet.csv")

    embedding = fit_embedding(fleet)
    clustering = cluster_fleet(embedding.matrix, n_bootstrap=5)

    assert adjusted_rand_score(families, clustering.labels) > 0.8
    assert clustering.stability_mean > 0.8
