"""Cluster labels for each candidate K, per method.

Each method computes what it can share across K once (agglomerative: one
Ward tree; spectral: one spectral embedding) and then labels the models for
every K asked. Labels are canonical: cluster 0 is the largest, ties broken by
the first member's row.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.sparse import csr_matrix
from sklearn.cluster import KMeans
from sklearn.exceptions import ConvergenceWarning
from sklearn.manifold import spectral_embedding
from sklearn.metrics import pairwise_distances_argmin
from sklearn.neighbors import kneighbors_graph

__all__ = [
    "MAX_EXACT_ROWS",
    "METHODS",
    "canonical_labels",
    "centroids_of",
    "label_path",
]

METHODS = ("kmeans", "agglomerative", "spectral")

# Agglomerative and spectral clustering fit at most this many rows; the rest
# take the label of their nearest fitted row.
MAX_EXACT_ROWS = 5000

_SPECTRAL_NEIGHBOURS = 10


def label_path(
    matrix: np.ndarray, ks: Sequence[int], method: str, seed: int
) -> dict[int, np.ndarray]:
    """Cluster the models at each K.

    Args:
        matrix: Embedding, float64 array (n_models, n_dims).
        ks: Numbers of clusters, each in [2, n_distinct_rows].
        method: ``"kmeans"``, ``"agglomerative"`` or ``"spectral"``.
        seed: Seed of every random choice.

    Returns:
        K to canonical labels, int64 array (n_models,) in [0, K).
    """
    if method == "kmeans":
        return {k: canonical_labels(_kmeans(matrix, k, seed)) for k in ks}

    # Fit the expensive part once, on a subsample when the fleet is large.
    rows = _fit_rows(len(matrix), seed)
    fit_on = matrix[rows]
    if method == "agglomerative":
        raw = _ward_path(fit_on, ks)
    else:
        raw = _spectral_path(fit_on, ks, seed)
    if len(rows) == len(matrix):
        return {k: canonical_labels(labels) for k, labels in raw.items()}

    nearest = pairwise_distances_argmin(matrix, fit_on)
    return {k: canonical_labels(labels[nearest]) for k, labels in raw.items()}


def canonical_labels(labels: np.ndarray) -> np.ndarray:
    """Renumber clusters by decreasing size, ties by first member's row.

    Args:
        labels: Any integer labels, array (n_models,).

    Returns:
        Labels in [0, K), int64 array (n_models,).
    """
    values, first, counts = np.unique(labels, return_index=True, return_counts=True)
    order = np.lexsort((first, -counts))
    rank = np.empty(len(values), dtype=np.int64)
    rank[order] = np.arange(len(values))
    return rank[np.searchsorted(values, labels)]


def centroids_of(matrix: np.ndarray, labels: np.ndarray, k: int) -> np.ndarray:
    """Mean embedding of each cluster.

    Args:
        matrix: Embedding, float64 array (n_models, n_dims).
        labels: Cluster of each model in [0, k), int array (n_models,).
        k: Number of clusters; each must have a member.

    Returns:
        Centroids, float64 array (k, n_dims).
    """
    sums = np.zeros((k, matrix.shape[1]))
    np.add.at(sums, labels, matrix)
    return sums / np.bincount(labels, minlength=k)[:, None]


def _fit_rows(n_models: int, seed: int) -> np.ndarray:
    if n_models <= MAX_EXACT_ROWS:
        return np.arange(n_models)
    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(n_models, size=MAX_EXACT_ROWS, replace=False))


def _kmeans(matrix: np.ndarray, k: int, seed: int) -> np.ndarray:
    n_init = 4 if len(matrix) <= 2000 else 2
    with warnings.catch_warnings():
        # Duplicate rows can leave fewer distinct centres than asked.
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = KMeans(n_clusters=k, n_init=n_init, random_state=seed)
        return model.fit(matrix).labels_.astype(np.int64)


def _ward_path(matrix: np.ndarray, ks: Sequence[int]) -> dict[int, np.ndarray]:
    tree = linkage(matrix, method="ward")
    return {k: fcluster(tree, t=k, criterion="maxclust") for k in ks}


def _spectral_path(
    matrix: np.ndarray, ks: Sequence[int], seed: int
) -> dict[int, np.ndarray]:
    n_neighbors = min(_SPECTRAL_NEIGHBOURS, len(matrix) - 1)
    graph = kneighbors_graph(matrix, n_neighbors=n_neighbors, include_self=True)
    affinity = csr_matrix(0.5 * (graph + graph.T))
    n_components = max(ks)
    # Small graphs take a dense eigendecomposition, which ARPACK cannot do.
    solver = "lobpcg" if len(matrix) < 5 * n_components + 1 else "arpack"
    with warnings.catch_warnings():
        # A graph with several components still embeds usefully.
        warnings.filterwarnings("ignore", message=".*not fully connected.*")
        maps = spectral_embedding(
            affinity,
            n_components=n_components,
            eigen_solver=solver,
            drop_first=False,
            random_state=seed,
        )
    return {k: _kmeans(maps[:, :k], k, seed) for k in ks}
