"""Stable cluster ids across re-clustering, and what moved."""

from __future__ import annotations

from collections.abc import Mapping, Set
from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment

from freqopt.errors import DataError

__all__ = [
    "ClusterDiff",
    "IdMatching",
    "ModelMove",
    "diff_clusters",
    "match_cluster_ids",
    "members_by_cluster",
]


@dataclass(frozen=True)
class IdMatching:
    """Which stable cluster id each new cluster takes.

    Attributes:
        cluster_ids: New cluster label to stable cluster id; distinct ids.
        kept_ids: Previous ids carried over to a new cluster, ascending.
        new_ids: Fresh ids given to new clusters, ascending.
        retired_ids: Previous ids no new cluster took, ascending. They are
            never given out again.
        overlap: New cluster label to the number of models it shares with
            the previous cluster whose id it took (0 for fresh ids).
        next_free_id: Smallest id never given out, for the next matching.
    """

    cluster_ids: Mapping[int, int]
    kept_ids: tuple[int, ...]
    new_ids: tuple[int, ...]
    retired_ids: tuple[int, ...]
    overlap: Mapping[int, int]
    next_free_id: int

    def stable_labels(self, labels: Mapping[str, int]) -> dict[str, int]:
        """Model id to stable cluster id.

        Args:
            labels: Model id to new cluster label, as matched.

        Returns:
            Model id to stable cluster id.
        """
        return {model_id: self.cluster_ids[label] for model_id, label in labels.items()}


@dataclass(frozen=True)
class ModelMove:
    """One model whose cluster changed.

    Attributes:
        model_id: The model.
        old_cluster_id: Its previous stable cluster id, None if it is new.
        new_cluster_id: Its current stable cluster id, None if it left.
    """

    model_id: str
    old_cluster_id: int | None
    new_cluster_id: int | None


@dataclass(frozen=True)
class ClusterDiff:
    """How two clusterings of a fleet differ, in stable ids.

    Attributes:
        moves: Models that changed cluster, joined or left, by model id.
        n_unchanged: Models in the same cluster in both.
        added_ids: Cluster ids only in the current clustering, ascending.
        removed_ids: Cluster ids only in the previous one, ascending.
    """

    moves: tuple[ModelMove, ...]
    n_unchanged: int
    added_ids: tuple[int, ...]
    removed_ids: tuple[int, ...]


def members_by_cluster(labels: Mapping[str, int]) -> dict[int, frozenset[str]]:
    """Group model ids by cluster.

    Args:
        labels: Model id to cluster label or stable cluster id.

    Returns:
        Cluster to the set of its model ids.
    """
    groups: dict[int, set[str]] = {}
    for model_id, label in labels.items():
        groups.setdefault(int(label), set()).add(model_id)
    return {label: frozenset(ids) for label, ids in sorted(groups.items())}


def match_cluster_ids(
    previous: Mapping[int, Set[str]],
    labels: Mapping[str, int],
    next_free_id: int,
) -> IdMatching:
    """Give new clusters the stable ids of the old clusters they continue.

    Old and new clusters are paired to maximize the total number of shared
    models (optimal assignment; ties go to the pairs with the higher Jaccard
    overlap, and are otherwise broken deterministically). A paired new
    cluster keeps the old id, so when a cluster splits, the part with more
    of its models keeps the id.
    Unpaired new clusters, and any pair sharing no model, get fresh ids
    from ``next_free_id`` upward in ascending label order; unpaired old ids
    are retired.

    Args:
        previous: Stable cluster id to the model ids it held. May be empty.
        labels: Model id to new cluster label.
        next_free_id: Smallest id never given out; above every id in
            ``previous``.

    Returns:
        The new label to stable id mapping and what was kept, created and
        retired.

    Raises:
        DataError: ``next_free_id`` is not above every previous id.
    """
    if previous and next_free_id <= max(previous):
        raise DataError(
            f"next_free_id is {next_free_id}, but previous cluster ids go up to "
            f"{max(previous)}; pass an id above every id ever given out."
        )
    old_ids = sorted(previous)
    new_members = members_by_cluster(labels)
    new_labels = list(new_members)

    # Pair old and new clusters on shared models.
    shared = np.array(
        [[len(previous[o] & new_members[n]) for n in new_labels] for o in old_ids],
        dtype=np.float64,
    ).reshape(len(old_ids), len(new_labels))
    union = np.array(
        [[len(previous[o] | new_members[n]) for n in new_labels] for o in old_ids],
        dtype=np.float64,
    ).reshape(shared.shape)
    jaccard = np.divide(shared, union, out=np.zeros_like(shared), where=union > 0)
    tie_break = jaccard / (min(shared.shape) + 1)
    rows, cols = linear_sum_assignment(shared + tie_break, maximize=True)

    cluster_ids: dict[int, int] = {}
    overlap: dict[int, int] = {}
    for r, c in zip(rows, cols, strict=True):
        if shared[r, c] > 0:
            cluster_ids[new_labels[c]] = old_ids[r]
            overlap[new_labels[c]] = int(shared[r, c])

    # Fresh ids for the rest; retire the old ids nobody took.
    fresh: list[int] = []
    for label in new_labels:
        if label not in cluster_ids:
            cluster_ids[label] = next_free_id + len(fresh)
            overlap[label] = 0
            fresh.append(cluster_ids[label])
    kept = sorted(set(cluster_ids.values()) - set(fresh))
    return IdMatching(
        cluster_ids=dict(sorted(cluster_ids.items())),
        kept_ids=tuple(kept),
        new_ids=tuple(fresh),
        retired_ids=tuple(sorted(set(old_ids) - set(kept))),
        overlap=dict(sorted(overlap.items())),
        next_free_id=next_free_id + len(fresh),
    )


def diff_clusters(
    previous: Mapping[int, Set[str]], current: Mapping[int, Set[str]]
) -> ClusterDiff:
    """List the models whose stable cluster id changed.

    Args:
        previous: Stable cluster id to model ids, before.
        current: Stable cluster id to model ids, after.

    Returns:
        Moves sorted by model id (models that joined or left included), the
        count of unchanged models, and cluster ids added and removed.
    """
    before = {m: cid for cid, members in previous.items() for m in members}
    after = {m: cid for cid, members in current.items() for m in members}
    moves = [
        ModelMove(model_id, before.get(model_id), after.get(model_id))
        for model_id in sorted(before.keys() | after.keys())
        if before.get(model_id) != after.get(model_id)
    ]
    unchanged = sum(1 for m, cid in after.items() if before.get(m) == cid)
    return ClusterDiff(
        moves=tuple(moves),
        n_unchanged=unchanged,
        added_ids=tuple(sorted(set(current) - set(previous))),
        removed_ids=tuple(sorted(set(previous) - set(current))),
    )
