"""Group a fleet's models by their metadata embedding.

- :func:`cluster_fleet` clusters an embedding (k-means by default,
  agglomerative or spectral), choosing K automatically or as given, and
  reports quality (silhouette, sizes) and stability (agreement under
  resampling).
- :func:`assign_to_clusters` puts new models in the nearest cluster without
  re-clustering and flags those far from every cluster.
- :func:`describe_clusters` says what each cluster holds, in the metadata's
  own units.
- :func:`match_cluster_ids` keeps cluster ids stable across re-clustering;
  :func:`diff_clusters` lists the models that moved.
- :func:`validate_clusters` checks clusters against measured gain curves.

Everything here is pure: arrays and frames in, frozen results out.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from scipy.stats import iqr
from sklearn.metrics import (
    calinski_harabasz_score,
    pairwise_distances,
    pairwise_distances_argmin,
    silhouette_samples,
    silhouette_score,
)
from sklearn.metrics.cluster import adjusted_rand_score
from threadpoolctl import threadpool_limits

from freqopt.core._cl_describe import ClusterDescription, describe_clusters
from freqopt.core._cl_ids import (
    ClusterDiff,
    IdMatching,
    ModelMove,
    diff_clusters,
    match_cluster_ids,
    members_by_cluster,
)
from freqopt.core._cl_methods import METHODS, centroids_of, label_path
from freqopt.core._cl_validate import (
    ClusterValidation,
    ValidationReport,
    validate_clusters,
)
from freqopt.errors import DataError, DataWarning

__all__ = [
    "Assignment",
    "ClusterDescription",
    "ClusterDiff",
    "ClusterStats",
    "ClusterValidation",
    "Clustering",
    "IdMatching",
    "KScore",
    "METHODS",
    "ModelMove",
    "ValidationReport",
    "assign_to_clusters",
    "cluster_fleet",
    "describe_clusters",
    "diff_clusters",
    "match_cluster_ids",
    "members_by_cluster",
    "validate_clusters",
]

logger = logging.getLogger(__name__)

Method = Literal["kmeans", "agglomerative", "spectral"]

# Share of the fleet's spread quantile used as a cluster's "usual" spread.
_SPREAD_QUANTILE = 0.9

# Uniform reference fleets drawn to tell structure from none.
_N_REFERENCE_DRAWS = 3
_MAX_REFERENCE_ROWS = 1000

# Rows drawn per bootstrap resample at most (m-out-of-n on large fleets).
_MAX_BOOTSTRAP_ROWS = 2000


@dataclass(frozen=True)
class KScore:
    """Quality of the clustering at one K.

    Attributes:
        k: Number of clusters.
        silhouette: Mean silhouette in [-1, 1] (higher is better), on a
            sample of rows for large fleets; None where undefined.
        calinski_harabasz: Calinski–Harabasz index (higher is better);
            None where undefined.
    """

    k: int
    silhouette: float | None
    calinski_harabasz: float | None


@dataclass(frozen=True)
class ClusterStats:
    """One cluster's size, quality and spread.

    Attributes:
        index: Cluster label in [0, k).
        size: Number of models.
        silhouette: Mean silhouette of its models, None when undefined
            (a single cluster).
        spread: 90th percentile of its models' distances to the centroid,
            in embedding units.
        outlier_distance: Distance to the centroid beyond which a model is
            an outlier: the larger of ``spread`` and Q3 + 1.5 IQR of the
            members' distances.
    """

    index: int
    size: int
    silhouette: float | None
    spread: float
    outlier_distance: float


@dataclass(frozen=True, eq=False)
class Clustering:
    """A fleet's clustering, its quality and how K was chosen.

    Attributes:
        labels: Cluster of each model, int64 array (n_models,) in [0, k);
            cluster 0 is the largest.
        k: Number of clusters.
        method: ``"kmeans"``, ``"agglomerative"`` or ``"spectral"``.
        silhouette: Mean silhouette of the chosen clustering, None when
            undefined (k = 1, or a cluster per model).
        clusters: Size, silhouette and spread of each cluster, length k.
        k_table: Scores of every K tried, ascending K.
        stability_mean: Mean adjusted Rand index between this clustering
            and clusterings of bootstrap resamples (1 = identical), None when
            k = 1 or no resamples were drawn.
        stability_std: Standard deviation of those indices, None likewise.
        centroids: Mean embedding of each cluster, float64 array
            (k, n_dims).
        reason: Why this K, in words and numbers.
        seed: Seed used.
        n_distinct: Distinct embedding rows in the fleet.
    """

    labels: np.ndarray
    k: int
    method: str
    silhouette: float | None
    clusters: tuple[ClusterStats, ...]
    k_table: tuple[KScore, ...]
    stability_mean: float | None
    stability_std: float | None
    centroids: np.ndarray
    reason: str
    seed: int
    n_distinct: int

    @property
    def n_models(self) -> int:
        """Number of models clustered."""
        return int(self.labels.shape[0])

    @property
    def sizes(self) -> np.ndarray:
        """Models per cluster, int64 array (k,)."""
        return np.array([c.size for c in self.clusters], dtype=np.int64)

    @property
    def spread(self) -> np.ndarray:
        """Each cluster's usual spread, float64 array (k,), embedding units."""
        return np.array([c.spread for c in self.clusters], dtype=np.float64)

    @property
    def outlier_distance(self) -> np.ndarray:
        """Each cluster's outlier threshold, float64 array (k,)."""
        return np.array([c.outlier_distance for c in self.clusters])

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready summary with stable snake_case keys (no labels)."""
        return {
            "k": self.k,
            "method": self.method,
            "n_models": self.n_models,
            "n_distinct": self.n_distinct,
            "silhouette": _round(self.silhouette),
            "stability_mean": _round(self.stability_mean),
            "stability_std": _round(self.stability_std),
            "reason": self.reason,
            "seed": self.seed,
            "clusters": [
                {
                    "index": c.index,
                    "size": c.size,
                    "silhouette": _round(c.silhouette),
                    "spread": _round(c.spread),
                    "outlier_distance": _round(c.outlier_distance),
                }
                for c in self.clusters
            ],
            "k_table": [
                {
                    "k": row.k,
                    "silhouette": _round(row.silhouette),
                    "calinski_harabasz": _round(row.calinski_harabasz),
                }
                for row in self.k_table
            ],
        }


@dataclass(frozen=True, eq=False)
class Assignment:
    """Where new models fall among existing clusters.

    Attributes:
        labels: Nearest cluster of each new model, int64 array (n_new,).
        distance: Distance to that cluster's centroid, float64 array
            (n_new,), embedding units.
        is_outlier: Whether the distance exceeds the cluster's
            ``outlier_distance``, bool array (n_new,).
    """

    labels: np.ndarray
    distance: np.ndarray
    is_outlier: np.ndarray


def cluster_fleet(
    matrix: np.ndarray,
    *,
    k: int | Literal["auto"] = "auto",
    method: Method = "kmeans",
    k_min: int = 2,
    k_max: int = 12,
    seed: int = 0,
    n_bootstrap: int = 20,
    min_silhouette: float = 0.25,
    silhouette_tolerance: float = 0.02,
    reference_margin: float = 0.05,
    max_silhouette_rows: int = 2500,
    n_threads: int | None = 1,
) -> Clustering:
    """Cluster a fleet's embedding, choosing K or taking it as given.

    With ``k="auto"``, every K from ``k_min`` to ``k_max`` (capped at the
    number of distinct embedding rows) is scored by silhouette and
    Calinski–Harabasz. Among the K whose silhouette is within
    ``silhouette_tolerance`` of the best, the one with the highest
    Calinski–Harabasz index wins. The fleet is then one cluster (K = 1)
    when it shows no structure: the best silhouette is below
    ``min_silhouette``, or not above the silhouette the same method reaches
    on structureless data (uniform in the box spanned by the embedding's
    principal axes, as in the gap statistic) by ``reference_margin``.

    Args:
        matrix: Embedding, float64 array (n_models, n_dims), finite.
        k: Number of clusters, or ``"auto"``. A given K above the number of
            distinct rows is capped there (with a warning).
        method: ``"kmeans"``, ``"agglomerative"`` (Ward) or ``"spectral"``
            (k-nearest-neighbour graph).
        k_min: Smallest K tried by ``"auto"``, at least 2.
        k_max: Largest K tried by ``"auto"``.
        seed: Seed of every random choice; the same seed gives the same
            clustering.
        n_bootstrap: Resamples drawn to measure stability; 0 skips it.
        min_silhouette: Best silhouette below which ``"auto"`` returns K = 1.
        silhouette_tolerance: Silhouette gap within which K are compared by
            Calinski–Harabasz.
        reference_margin: Silhouette margin over structureless reference
            data needed to keep K > 1.
        max_silhouette_rows: Silhouettes are computed on a seeded sample of
            at most this many rows.
        n_threads: Threads the numeric libraries may use while clustering;
            None leaves their default. One thread is fastest on small or
            shared machines, where threads of k-means wait on each other.

    Returns:
        The clustering with its quality, stability, centroids and spreads.

    Raises:
        DataError: The matrix is empty, not 2-D or not finite; or an option
            is out of range.

    Warns:
        DataWarning: A given K exceeds the number of distinct rows.

    Notes:
        Agglomerative and spectral clustering fit at most 5,000 rows; the
        other rows take the label of their nearest fitted row. Silhouette
        and Calinski–Harabasz measure compact, convex clusters, so they
        undervalue the elongated clusters spectral clustering can find.
        Stability compares the clustering with clusterings of bootstrap
        resamples of at most 2,000 rows, extended to every model by nearest
        centroid (k-means) or nearest resampled row (other methods).
    """
    matrix = _check_matrix(matrix)
    _check_cluster_options(k, method, k_min, k_max, n_bootstrap, max_silhouette_rows)
    options = _Options(
        k=k,
        method=method,
        k_min=k_min,
        k_max=k_max,
        seed=seed,
        n_bootstrap=n_bootstrap,
        min_silhouette=min_silhouette,
        silhouette_tolerance=silhouette_tolerance,
        reference_margin=reference_margin,
        max_silhouette_rows=max_silhouette_rows,
    )
    with threadpool_limits(limits=n_threads):
        result = _cluster(matrix, options)
    logger.debug("clustered %d models: %s", len(matrix), result.reason)
    return result


@dataclass(frozen=True)
class _Options:
    k: int | str
    method: str
    k_min: int
    k_max: int
    seed: int
    n_bootstrap: int
    min_silhouette: float
    silhouette_tolerance: float
    reference_margin: float
    max_silhouette_rows: int


def _cluster(matrix: np.ndarray, options: _Options) -> Clustering:
    k, method, seed = options.k, options.method, options.seed
    n_models = len(matrix)
    n_distinct = int(np.unique(matrix, axis=0).shape[0])
    rng = np.random.default_rng(seed)

    # Fleets that cannot hold two clusters.
    if n_distinct < 2:
        reason = (
            f"all {n_models} models have the same embedding: one cluster "
            "(silhouette undefined)."
        )
        return _one_cluster(matrix, method, seed, n_distinct, reason, ())
    if k != "auto" and min(int(k), n_distinct) == 1:
        reason = "K = 1 as asked: one cluster (silhouette undefined)."
        return _one_cluster(matrix, method, seed, n_distinct, reason, ())

    # Score every candidate K.
    ks = _candidate_ks(k, options.k_min, options.k_max, n_distinct)
    paths = label_path(matrix, ks, method, seed)
    sample = _silhouette_rows(n_models, options.max_silhouette_rows, rng)
    distances = pairwise_distances(matrix[sample])
    table = tuple(
        _score(matrix, k_try, paths[k_try], sample, distances) for k_try in ks
    )

    # Choose K, or fall back to one cluster.
    if k == "auto":
        chosen, reason = _choose_k(table, options.silhouette_tolerance)
        flat = _no_structure(matrix, table, chosen, options)
        if flat is not None:
            return _one_cluster(matrix, method, seed, n_distinct, flat, table)
    else:
        chosen, reason = _given_k(int(k), n_distinct, ks[0])

    return _finish(
        matrix, chosen, paths[chosen], n_distinct, reason, table, rng, options
    )


def _check_matrix(matrix: object) -> np.ndarray:
    array = np.asarray(matrix, dtype=np.float64)
    if array.ndim != 2 or array.shape[0] == 0:
        raise DataError(
            f"embedding must be a 2-D array with at least one row, got shape "
            f"{array.shape}; embed the metadata with fit_embedding first."
        )
    if not np.isfinite(array).all():
        bad = np.argwhere(~np.isfinite(array))[0]
        raise DataError(
            f"embedding holds a non-finite value {array[tuple(bad)]!r} at row "
            f"{bad[0]}, dimension {bad[1]}; embeddings must be finite."
        )
    return array


def _check_cluster_options(
    k: object,
    method: str,
    k_min: int,
    k_max: int,
    n_bootstrap: int,
    max_silhouette_rows: int,
) -> None:
    if method not in METHODS:
        raise DataError(f"method is {method!r}; use one of {list(METHODS)}.")
    k_ok = k == "auto" or (
        isinstance(k, int | np.integer) and not isinstance(k, bool) and k >= 1
    )
    if not k_ok:
        raise DataError(f"k is {k!r}; use a positive int or 'auto'.")
    if not 2 <= k_min <= k_max:
        raise DataError(f"k_min={k_min!r}, k_max={k_max!r}; need 2 <= k_min <= k_max.")
    if n_bootstrap < 0:
        raise DataError(f"n_bootstrap is {n_bootstrap!r}; use 0 or more.")
    if max_silhouette_rows < 10:
        raise DataError(
            f"max_silhouette_rows is {max_silhouette_rows!r}; use 10 or more."
        )


def _candidate_ks(k: int | str, k_min: int, k_max: int, n_distinct: int) -> list[int]:
    if k != "auto":
        return [min(int(k), n_distinct)]
    high = min(k_max, n_distinct)
    return list(range(min(k_min, high), high + 1))


def _silhouette_rows(
    n_models: int, max_rows: int, rng: np.random.Generator
) -> np.ndarray:
    if n_models <= max_rows:
        return np.arange(n_models)
    return np.sort(rng.choice(n_models, size=max_rows, replace=False))


def _score(
    matrix: np.ndarray,
    k: int,
    labels: np.ndarray,
    sample: np.ndarray,
    distances: np.ndarray,
) -> KScore:
    n_found = int(labels.max()) + 1
    sampled = labels[sample]
    n_sampled = np.unique(sampled).size
    silhouette = None
    if 2 <= n_sampled <= len(sample) - 1:
        score = silhouette_score(distances, sampled, metric="precomputed")
        silhouette = float(score)
    ch = None
    if 2 <= n_found <= len(matrix) - 1:
        ch = float(calinski_harabasz_score(matrix, labels))
    return KScore(k=k, silhouette=silhouette, calinski_harabasz=ch)


def _choose_k(table: tuple[KScore, ...], tolerance: float) -> tuple[int, str]:
    silhouettes = {r.k: r.silhouette for r in table if r.silhouette is not None}
    if not silhouettes:
        return table[0].k, "silhouette undefined"
    best = max(silhouettes.values())
    near = [r for r in table if silhouettes.get(r.k, -np.inf) >= best - tolerance]
    winner = max(near, key=lambda row: (row.calinski_harabasz or 0.0, -row.k))
    tried = f"{table[0].k}..{table[-1].k}" if len(table) > 1 else str(table[0].k)
    reason = (
        f"K = {winner.k} chosen among K = {tried}: highest Calinski–Harabasz "
        f"({winner.calinski_harabasz or 0.0:.1f}) among K whose silhouette is within "
        f"{tolerance:g} of the best ({best:.3f}): "
        f"{', '.join(str(row.k) for row in near)}."
    )
    return winner.k, reason


def _given_k(k: int, n_distinct: int, k_used: int) -> tuple[int, str]:
    if k <= n_distinct:
        return k_used, f"K = {k} as asked."
    warnings.warn(
        f"k={k} asked, but the embedding has only {n_distinct} distinct rows; "
        f"using K = {n_distinct}. Ask for fewer clusters or add metadata that "
        "tells the models apart.",
        DataWarning,
        stacklevel=4,
    )
    return k_used, f"K = {k} asked, capped at {n_distinct} distinct embeddings."


def _no_structure(
    matrix: np.ndarray, table: tuple[KScore, ...], chosen: int, options: _Options
) -> str | None:
    min_silhouette, margin = options.min_silhouette, options.reference_margin
    scored = [row for row in table if row.silhouette is not None]
    if not scored:
        return (
            "no cluster structure can be measured (silhouette undefined with "
            f"{len(matrix)} models): one cluster."
        )
    best = max(scored, key=lambda row: row.silhouette or 0.0)
    if (best.silhouette or 0.0) < min_silhouette:
        return (
            f"no cluster structure: best silhouette {best.silhouette:.3f} "
            f"(K = {best.k}) is below {min_silhouette:g}: one cluster."
        )

    # Compare with what the same method finds in structureless data.
    row = next(row for row in table if row.k == chosen)
    assert row.silhouette is not None
    reference = _reference_silhouette(matrix, chosen, options.method, options.seed)
    if reference is not None and row.silhouette <= reference + margin:
        return (
            f"no cluster structure: silhouette {row.silhouette:.3f} at "
            f"K = {chosen} is not above structureless reference data "
            f"({reference:.3f}) by {margin:g}: one cluster."
        )
    return None


def _reference_silhouette(
    matrix: np.ndarray, k: int, method: str, seed: int
) -> float | None:
    """Mean silhouette at K of uniform data in the embedding's PCA box."""
    rng = np.random.default_rng(seed + 1)
    centred = matrix - matrix.mean(axis=0)
    rows = _silhouette_rows(len(matrix), _MAX_REFERENCE_ROWS, rng)
    _, singular, axes = np.linalg.svd(centred[rows], full_matrices=False)
    axes = axes[singular > 1e-9 * max(singular.max(), 1e-300)]
    projected = centred @ axes.T
    low, high = projected.min(axis=0), projected.max(axis=0)

    scores = []
    n_rows = min(len(matrix), _MAX_REFERENCE_ROWS)
    for draw in range(_N_REFERENCE_DRAWS):
        reference = rng.uniform(low, high, size=(n_rows, len(low)))
        labels = label_path(reference, [k], method, seed + draw)[k]
        if 2 <= np.unique(labels).size <= n_rows - 1:
            scores.append(float(silhouette_score(reference, labels)))
    return float(np.mean(scores)) if scores else None


def _one_cluster(
    matrix: np.ndarray,
    method: str,
    seed: int,
    n_distinct: int,
    reason: str,
    table: tuple[KScore, ...],
) -> Clustering:
    labels = np.zeros(len(matrix), dtype=np.int64)
    centroids, clusters = _cluster_stats(matrix, labels, 1, {})
    return _frozen(
        labels=labels,
        k=1,
        method=method,
        silhouette=None,
        clusters=clusters,
        k_table=table,
        stability_mean=None,
        stability_std=None,
        centroids=centroids,
        reason=reason,
        seed=seed,
        n_distinct=n_distinct,
    )


def _finish(
    matrix: np.ndarray,
    chosen: int,
    labels: np.ndarray,
    n_distinct: int,
    reason: str,
    table: tuple[KScore, ...],
    rng: np.random.Generator,
    options: _Options,
) -> Clustering:
    k = int(labels.max()) + 1
    max_rows, method, seed = options.max_silhouette_rows, options.method, options.seed
    per_cluster = _cluster_silhouettes(matrix, labels, k, max_rows, rng)
    centroids, clusters = _cluster_stats(matrix, labels, k, per_cluster)
    stability = _stability(matrix, labels, k, method, seed, options.n_bootstrap, rng)
    silhouette = next(row.silhouette for row in table if row.k == chosen)
    return _frozen(
        labels=labels,
        k=k,
        method=method,
        silhouette=silhouette,
        clusters=clusters,
        k_table=table,
        stability_mean=stability[0],
        stability_std=stability[1],
        centroids=centroids,
        reason=reason,
        seed=seed,
        n_distinct=n_distinct,
    )


def _frozen(**fields: Any) -> Clustering:
    for name in ("labels", "centroids"):
        fields[name] = np.ascontiguousarray(fields[name])
        fields[name].setflags(write=False)
    return Clustering(**fields)


def _cluster_silhouettes(
    matrix: np.ndarray,
    labels: np.ndarray,
    k: int,
    max_rows: int,
    rng: np.random.Generator,
) -> dict[int, float]:
    """Mean silhouette per cluster on a sample stratified by cluster.

    A model's silhouette depends on mean distances to each cluster, which a
    stratified sample estimates without bias, so small clusters keep enough
    sampled members to be measured.
    """
    sizes = np.bincount(labels, minlength=k)
    take = np.minimum(sizes, np.maximum(20, np.ceil(max_rows * sizes / len(labels))))
    rows = [
        rng.choice(np.flatnonzero(labels == c), size=int(take[c]), replace=False)
        for c in range(k)
    ]
    sample = np.sort(np.concatenate(rows))
    sampled = labels[sample]
    if not 2 <= np.unique(sampled).size <= len(sample) - 1:
        return {}
    values = silhouette_samples(matrix[sample], sampled)
    return {c: float(values[sampled == c].mean()) for c in range(k)}


def _cluster_stats(
    matrix: np.ndarray,
    labels: np.ndarray,
    k: int,
    silhouettes: dict[int, float],
) -> tuple[np.ndarray, tuple[ClusterStats, ...]]:
    centroids = centroids_of(matrix, labels, k)
    distance = np.linalg.norm(matrix - centroids[labels], axis=1)
    stats = []
    for c in range(k):
        members = distance[labels == c]
        spread = float(np.quantile(members, _SPREAD_QUANTILE))
        fence = float(np.quantile(members, 0.75) + 1.5 * iqr(members))
        stats.append(
            ClusterStats(
                index=c,
                size=int(members.size),
                silhouette=silhouettes.get(c),
                spread=spread,
                outlier_distance=max(spread, fence),
            )
        )
    return centroids, tuple(stats)


def _stability(
    matrix: np.ndarray,
    labels: np.ndarray,
    k: int,
    method: str,
    seed: int,
    n_bootstrap: int,
    rng: np.random.Generator,
) -> tuple[float | None, float | None]:
    """Adjusted Rand index between the clustering and resampled ones."""
    n_rows = min(len(matrix), _MAX_BOOTSTRAP_ROWS)
    scores = []
    for b in range(n_bootstrap):
        rows = rng.integers(0, len(matrix), size=n_rows)
        resample = matrix[rows]
        k_b = min(k, int(np.unique(resample, axis=0).shape[0]))
        if k_b < 2:
            continue
        fitted = label_path(resample, [k_b], method, seed + 1 + b)[k_b]
        if method == "kmeans":
            centres = centroids_of(resample, fitted, int(fitted.max()) + 1)
            extended = pairwise_distances_argmin(matrix, centres)
        else:
            extended = fitted[pairwise_distances_argmin(matrix, resample)]
        scores.append(adjusted_rand_score(labels, extended))
    if not scores:
        return None, None
    return float(np.mean(scores)), float(np.std(scores))


def assign_to_clusters(matrix: np.ndarray, clustering: Clustering) -> Assignment:
    """Put new models in the nearest existing cluster.

    Args:
        matrix: New models' embedding from the same fitted embedder, float64
            array (n_new, n_dims), finite. ``n_new`` may be 0.
        clustering: The fleet's clustering.

    Returns:
        Nearest cluster, distance to its centroid and an outlier flag per
        new model.

    Raises:
        DataError: The matrix is not finite, or its dimensions differ from
            the clustering's.

    Notes:
        Nearest centroid is exact for k-means and an approximation for
        agglomerative and spectral clusters, which need not be round.
    """
    array = np.asarray(matrix, dtype=np.float64)
    n_dims = clustering.centroids.shape[1]
    if array.ndim != 2 or array.shape[1] != n_dims:
        raise DataError(
            f"new models' embedding has shape {array.shape}, but the clusters "
            f"live in {n_dims} dimensions; embed new models with the embedder "
            "that built the clusters."
        )
    if len(array):
        _check_matrix(array)

    # Plain algebra, so empty fleets and zero-dimension embeddings work too.
    centroids = clustering.centroids
    squared = (
        (array**2).sum(axis=1)[:, None]
        + (centroids**2).sum(axis=1)[None, :]
        - 2.0 * array @ centroids.T
    )
    distances = np.sqrt(np.maximum(squared, 0.0))
    labels = np.argmin(distances, axis=1).astype(np.int64)
    nearest = np.linalg.norm(array - centroids[labels], axis=1)
    outlier = nearest > clustering.outlier_distance[labels] + 1e-12
    return Assignment(labels=labels, distance=nearest, is_outlier=outlier)


def _round(value: float | None) -> float | None:
    return None if value is None else round(float(value), 6)
