"""Clusterings in the store: fit, version, keep ids stable, assign, diff.

The pure work (embedding, clustering, id matching, validation) lives in
``freqopt.core``; this module reads metadata and results from the store and
writes each clustering as a new version in one transaction.

Notes:
    The fitted embedder and clustering are pickled into the store so new
    models can be assigned later without re-clustering. Open only stores
    you trust, as with any pickle.
"""

from __future__ import annotations

import logging
import pickle
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

from freqopt.errors import DataError, NotFoundError
from freqopt.store import Store, cluster_members, clusterings, clusters, models, utc_now

__all__ = [
    "Assigned",
    "ClusterInfo",
    "ClusterRun",
    "Member",
    "assign_new_models",
    "current_state",
    "diff",
    "list_clusters",
    "members",
    "metadata_frame",
    "run_clustering",
]

logger = logging.getLogger(__name__)

FIRST_CLUSTER_ID = 1


@dataclass(frozen=True)
class ClusterInfo:
    """One current cluster.

    Attributes:
        cluster_id: Stable id (keeps its meaning across re-clustering).
        size: Number of member models.
        model_ids: Member model ids, sorted.
        silhouette: Mean silhouette of its members when clustered, None
            when undefined.
        description: One line in the metadata's units.
        n_outliers: Members assigned later that lie far from the cluster.
    """

    cluster_id: int
    size: int
    model_ids: tuple[str, ...]
    silhouette: float | None
    description: str
    n_outliers: int


@dataclass(frozen=True)
class ClusterRun:
    """What one ``freqopt cluster`` did.

    Attributes:
        version: The new clustering's version in the store.
        clusters: The clusters it made, by id.
        summary: K, method, silhouette, stability, K table, and why this K.
        embedding: Columns used, dropped, log-scaled, missing values, PCA.
        kept_ids: Cluster ids carried over from the previous clustering.
        new_ids: Fresh cluster ids.
        retired_ids: Ids of the previous clustering no longer used.
        n_moved: Models whose cluster id changed.
    """

    version: int
    clusters: tuple[ClusterInfo, ...]
    summary: dict[str, Any]
    embedding: dict[str, Any]
    kept_ids: tuple[int, ...]
    new_ids: tuple[int, ...]
    retired_ids: tuple[int, ...]
    n_moved: int


@dataclass(frozen=True)
class Member:
    """One model of a cluster."""

    model_id: str
    cluster_id: int
    distance: float | None
    assigned: bool
    is_outlier: bool


@dataclass(frozen=True)
class Assigned:
    """A model registered after clustering, put in its nearest cluster."""

    model_id: str
    cluster_id: int
    distance: float
    is_outlier: bool


@dataclass(frozen=True)
class _State:
    version: int
    embedder: Any
    clustering: Any
    label_to_id: dict[int, int]


def metadata_frame(
    store: Store, model_ids: Sequence[str] | None = None
) -> pd.DataFrame:
    """Registered models as a fleet frame, shape (n_models, n_columns)."""
    query = sa.select(models).order_by(models.c.model_id)
    if model_ids is not None:
        query = query.where(models.c.model_id.in_(list(model_ids)))
    with store.read() as conn:
        rows = conn.execute(query).all()
    records = [
        {
            "model_id": r.model_id,
            **r.metadata,
            "value": r.value,
            "cost_per_retrain": r.cost_per_retrain,
            "current_interval_hours": r.current_interval_hours,
        }
        for r in rows
    ]
    frame = pd.DataFrame.from_records(records)
    # Columns never filled carry no information and would only be dropped.
    return frame.dropna(axis=1, how="all") if len(frame) else frame


def run_clustering(
    store: Store,
    *,
    k: int | str = "auto",
    method: str = "kmeans",
    pca: int | str | None = None,
    seed: int = 0,
    exclude: Sequence[str] = (),
    weights: Mapping[str, float] | None = None,
    k_max: int = 12,
) -> ClusterRun:
    """Embed and cluster the fleet, keep ids stable, store a new version.

    Raises:
        DataError: The fleet is empty or its metadata cannot be embedded.
    """
    from freqopt.core.clustering import (
        cluster_fleet,
        describe_clusters,
        match_cluster_ids,
    )
    from freqopt.core.embedding import fit_embedding

    frame = metadata_frame(store)
    if frame.empty:
        raise DataError(
            "the fleet is empty; register models with `freqopt models import FILE`"
        )

    # Embed and cluster.
    unknown = sorted(set(exclude) - set(frame.columns))
    if unknown:
        raise DataError(
            f"--exclude names unknown column(s) {', '.join(unknown)}; metadata "
            f"columns are: {', '.join(c for c in frame.columns if c != 'model_id')}"
        )
    # Interval bounds say what a model may run at, not what it is like.
    bounds = [c for c in ("min_interval_hours", "max_interval_hours") if c in frame]
    embedding = fit_embedding(
        frame,
        exclude=[*exclude, *bounds],
        weights=weights,
        pca=pca,  # type: ignore[arg-type]  # the CLI passes only allowed values
        seed=seed,
    )
    result = cluster_fleet(
        embedding.matrix,
        k=k,  # type: ignore[arg-type]
        method=method,  # type: ignore[arg-type]
        seed=seed,
        k_max=k_max,
    )
    pairs = zip(embedding.model_ids, result.labels, strict=True)
    labels = {m: int(label) for m, label in pairs}

    # Keep ids stable against the previous version.
    previous = _previous_members(store)
    next_free = _next_free_id(store)
    matching = match_cluster_ids(previous, labels, next_free)
    stable = matching.stable_labels(labels)
    label_to_id = {int(k_): int(v) for k_, v in matching.cluster_ids.items()}

    ids = np.array([stable[m] for m in embedding.model_ids])
    descriptions = {
        d.label: d.text
        for d in describe_clusters(frame, ids, kinds=embedding.report.kinds)
    }
    distances = np.linalg.norm(
        embedding.matrix - result.centroids[result.labels], axis=1
    )

    # Store the new version in one transaction.
    state = {
        "embedder": embedding.embedder,
        "clustering": result,
        "label_to_id": label_to_id,
    }
    params = {
        "k": k,
        "method": method,
        "pca": pca,
        "seed": seed,
        "exclude": list(exclude),
        "weights": dict(weights or {}),
    }
    summary = result.to_dict()
    now = utc_now()
    with store.begin() as conn:
        version = conn.execute(
            clusterings.insert().returning(clusterings.c.version),
            {
                "created_at": now,
                "params": params,
                "report": {
                    "clustering": summary,
                    "embedding": embedding.report.to_dict(),
                },
                "embedder": pickle.dumps(state),
            },
        ).scalar_one()
        conn.execute(
            cluster_members.insert(),
            [
                {
                    "version": version,
                    "model_id": m,
                    "cluster_id": stable[m],
                    "distance": float(d),
                    "assigned": False,
                    "is_outlier": False,
                }
                for m, d in zip(embedding.model_ids, distances, strict=True)
            ],
        )
        _update_cluster_table(conn, version, matching, descriptions)

    n_moved = sum(
        1
        for cid, members_ in previous.items()
        for m in members_
        if m in stable and stable[m] != cid
    )
    silhouettes = {label_to_id[c.index]: c.silhouette for c in result.clusters}
    infos = tuple(
        ClusterInfo(
            cid,
            int((ids == cid).sum()),
            tuple(sorted(m for m in embedding.model_ids if stable[m] == cid)),
            silhouettes.get(cid),
            descriptions.get(cid, ""),
            0,
        )
        for cid in sorted(set(stable.values()))
    )
    logger.info("clustering v%d: k=%d, %d models moved", version, result.k, n_moved)
    return ClusterRun(
        version,
        infos,
        summary,
        embedding.report.to_dict(),
        tuple(matching.kept_ids),
        tuple(matching.new_ids),
        tuple(matching.retired_ids),
        n_moved,
    )


def _update_cluster_table(
    conn: Any, version: int, matching: Any, descriptions: Mapping[int, str]
) -> None:
    for cid in matching.retired_ids:
        conn.execute(
            clusters.update()
            .where(clusters.c.cluster_id == cid)
            .values(retired_version=version)
        )
    for cid in matching.new_ids:
        conn.execute(
            clusters.insert().values(
                cluster_id=cid,
                created_version=version,
                retired_version=None,
                description={"text": descriptions.get(cid, "")},
            )
        )
    for cid in matching.kept_ids:
        conn.execute(
            clusters.update()
            .where(clusters.c.cluster_id == cid)
            .values(description={"text": descriptions.get(cid, "")})
        )


def _latest_version(conn: Any) -> int | None:
    return conn.execute(sa.select(sa.func.max(clusterings.c.version))).scalar()


def _previous_members(store: Store) -> dict[int, set[str]]:
    with store.read() as conn:
        version = _latest_version(conn)
        if version is None:
            return {}
        rows = conn.execute(
            sa.select(cluster_members.c.model_id, cluster_members.c.cluster_id).where(
                cluster_members.c.version == version
            )
        ).all()
    grouped: dict[int, set[str]] = {}
    for model_id, cid in rows:
        grouped.setdefault(cid, set()).add(model_id)
    return grouped


def _next_free_id(store: Store) -> int:
    with store.read() as conn:
        top = conn.execute(sa.select(sa.func.max(clusters.c.cluster_id))).scalar()
    return FIRST_CLUSTER_ID if top is None else int(top) + 1


def current_state(store: Store) -> _State | None:
    """The latest clustering with its fitted embedder, or None if none exists."""
    with store.read() as conn:
        version = _latest_version(conn)
        if version is None:
            return None
        blob = conn.execute(
            sa.select(clusterings.c.embedder).where(clusterings.c.version == version)
        ).scalar_one()
    state = pickle.loads(blob)
    return _State(version, state["embedder"], state["clustering"], state["label_to_id"])


def require_state(store: Store) -> _State:
    """The latest clustering, or a NotFoundError saying to cluster first."""
    state = current_state(store)
    if state is None:
        raise NotFoundError(
            "the fleet has not been clustered yet; run `freqopt cluster` first"
        )
    return state


def members(store: Store, cluster_id: int | None = None) -> list[Member]:
    """Members of the current clustering (one cluster's, or all)."""
    state = require_state(store)
    query = sa.select(cluster_members).where(cluster_members.c.version == state.version)
    if cluster_id is not None:
        query = query.where(cluster_members.c.cluster_id == cluster_id)
    with store.read() as conn:
        rows = conn.execute(query.order_by(cluster_members.c.model_id)).all()
    if cluster_id is not None and not rows:
        known = sorted({m.cluster_id for m in members(store)})
        raise NotFoundError(
            f"no cluster {cluster_id} in the current clustering; "
            f"current cluster ids: {', '.join(map(str, known))}"
        )
    return [
        Member(
            r.model_id, r.cluster_id, r.distance, bool(r.assigned), bool(r.is_outlier)
        )
        for r in rows
    ]


def list_clusters(store: Store) -> list[ClusterInfo]:
    """The current clusters with their members."""
    state = require_state(store)
    with store.read() as conn:
        report = conn.execute(
            sa.select(clusterings.c.report).where(
                clusterings.c.version == state.version
            )
        ).scalar_one()
        texts = {
            r.cluster_id: r.description.get("text", "")
            for r in conn.execute(sa.select(clusters))
        }
    silhouettes = {
        state.label_to_id[c["index"]]: c["silhouette"]
        for c in report["clustering"]["clusters"]
    }
    grouped: dict[int, list[Member]] = {}
    for m in members(store):
        grouped.setdefault(m.cluster_id, []).append(m)
    return [
        ClusterInfo(
            cid,
            len(ms),
            tuple(m.model_id for m in ms),
            silhouettes.get(cid),
            texts.get(cid, ""),
            sum(m.is_outlier for m in ms),
        )
        for cid, ms in sorted(grouped.items())
    ]


def assign_new_models(store: Store, model_ids: Sequence[str]) -> list[Assigned]:
    """Put newly registered models in their nearest current cluster.

    Returns an empty list when the fleet has not been clustered yet.
    """
    from freqopt.core.clustering import assign_to_clusters

    state = current_state(store)
    if state is None or not model_ids:
        return []
    frame = metadata_frame(store, model_ids)
    matrix = state.embedder.transform(frame)
    assignment = assign_to_clusters(matrix, state.clustering)
    assigned = [
        Assigned(m, state.label_to_id[int(label)], float(d), bool(out))
        for m, label, d, out in zip(
            frame["model_id"],
            assignment.labels,
            assignment.distance,
            assignment.is_outlier,
            strict=True,
        )
    ]
    with store.begin() as conn:
        conn.execute(
            cluster_members.delete().where(
                cluster_members.c.version == state.version,
                cluster_members.c.model_id.in_([a.model_id for a in assigned]),
            )
        )
        conn.execute(
            cluster_members.insert(),
            [
                {
                    "version": state.version,
                    "model_id": a.model_id,
                    "cluster_id": a.cluster_id,
                    "distance": a.distance,
                    "assigned": True,
                    "is_outlier": a.is_outlier,
                }
                for a in assigned
            ],
        )
    return assigned


def diff(store: Store) -> Any:
    """How the current clustering differs from the one before it."""
    from freqopt.core.clustering import diff_clusters, members_by_cluster

    with store.read() as conn:
        versions = (
            conn.execute(
                sa.select(clusterings.c.version)
                .order_by(clusterings.c.version.desc())
                .limit(2)
            )
            .scalars()
            .all()
        )
        if not versions:
            raise NotFoundError(
                "the fleet has not been clustered yet; run `freqopt cluster` first"
            )
        query = sa.select(cluster_members.c.model_id, cluster_members.c.cluster_id)
        by_version = {
            v: {
                str(model_id): int(cid)
                for model_id, cid in conn.execute(
                    query.where(cluster_members.c.version == v)
                )
            }
            for v in versions
        }
    if len(versions) == 1:
        raise NotFoundError(
            f"only one clustering exists (version {versions[0]}); nothing to compare. "
            "Run `freqopt cluster` again after the fleet changes"
        )
    current = members_by_cluster(by_version[versions[0]])
    previous = members_by_cluster(by_version[versions[1]]) if len(versions) > 1 else {}
    return diff_clusters(previous, current)


def gain_curves(
    store: Store, model_ids: Sequence[str], intervals_hours: Sequence[float]
) -> np.ndarray:
    """Each model's mean measured gain at each grid interval, on a common scale.

    Results are put on the nearest grid interval (in log hours) and averaged;
    each model's curve is divided by its largest absolute gain so models of
    different scale compare by shape.

    Returns:
        Float64 array (n_models, n_intervals), NaN where not measured.
    """
    from freqopt.store import results

    grid = np.log(np.asarray(intervals_hours, dtype=np.float64))
    index = {m: i for i, m in enumerate(model_ids)}
    sums = np.zeros((len(model_ids), grid.size))
    counts = np.zeros_like(sums)
    with store.read() as conn:
        rows = conn.execute(
            sa.select(
                results.c.model_id, results.c.interval_hours, results.c.gain
            ).where(results.c.model_id.in_(list(model_ids)))
        ).all()
    for model_id, hours, gain in rows:
        j = int(np.abs(grid - np.log(hours)).argmin())
        sums[index[model_id], j] += gain
        counts[index[model_id], j] += 1
    with np.errstate(invalid="ignore", divide="ignore"):
        curves = sums / counts
        scale = np.nanmax(np.abs(curves), axis=1, initial=0.0, where=counts > 0)
        curves = curves / np.where(scale > 0, scale, 1.0)[:, None]
    return np.where(counts > 0, curves, np.nan)


def validate(
    store: Store, intervals_hours: Sequence[float], *, n_permutations: int, seed: int
) -> Any:
    """Check current clusters against measured gain curves (permutation test)."""
    from freqopt.core.clustering import validate_clusters

    found = members(store)
    model_ids = [m.model_id for m in found]
    curves = gain_curves(store, model_ids, intervals_hours)
    labels = np.array([m.cluster_id for m in found])
    return validate_clusters(labels, curves, n_permutations=n_permutations, seed=seed)


def plot(store: Store, out: str) -> str:
    """Draw the fleet in 2-D (PCA of the embedding), coloured by cluster."""
    from freqopt._plot_clusters import plot_clusters

    state = require_state(store)
    found = members(store)
    frame = metadata_frame(store, [m.model_id for m in found])
    order = {m: i for i, m in enumerate(frame["model_id"])}
    labels = np.empty(len(found), dtype=np.int64)
    for m in found:
        labels[order[m.model_id]] = m.cluster_id
    matrix = state.embedder.transform(frame)
    title = f"{len(found)} models in {len(set(labels))} clusters (v{state.version})"
    return str(plot_clusters(matrix, labels, out, title=title))
