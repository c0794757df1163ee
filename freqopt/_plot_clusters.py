"""Draw a fleet's clusters: a 2-D PCA of the embedding, coloured by cluster."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from freqopt.errors import DataError

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["plot_clusters"]

# Legend entries beyond this many are summarized in one line.
_MAX_LEGEND_ENTRIES = 20


def plot_clusters(
    matrix: np.ndarray,
    labels: np.ndarray,
    path: str | Path,
    *,
    title: str | None = None,
) -> Path:
    """Save a scatter plot of the embedding's first two principal components.

    Args:
        matrix: Embedding, float64 array (n_models, n_dims), finite.
        labels: Cluster of each model (labels or stable cluster ids), int
            array (n_models,).
        path: Image file to write; the suffix picks the format (``.png``,
            ``.svg``, ``.pdf``). Missing parent folders are created.
        title: Figure title; None for a default naming the model count.

    Returns:
        The path written.

    Raises:
        DataError: Shapes disagree or the embedding is not finite.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    matrix, labels = _check(matrix, labels)
    points, variance = _principal_plane(matrix)

    figure = Figure(figsize=(7.0, 5.5), layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    clusters, sizes = np.unique(labels, return_counts=True)
    colours = _colours(len(clusters))
    marker_size = float(np.clip(3000 / max(len(labels), 1), 4, 40))
    for i, (cluster, size) in enumerate(zip(clusters, sizes, strict=True)):
        members = labels == cluster
        axes.scatter(
            points[members, 0],
            points[members, 1],
            s=marker_size,
            color=colours[i],
            alpha=0.75,
            linewidths=0,
            label=f"cluster {cluster} ({size} models)",
        )

    axes.set_xlabel(f"PC 1 ({100 * variance[0]:.0f} % of variance)")
    axes.set_ylabel(f"PC 2 ({100 * variance[1]:.0f} % of variance)")
    axes.set_title(title or f"{len(labels)} models in {len(clusters)} clusters")
    _legend(axes, len(clusters))

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=120)
    return path


def _check(matrix: object, labels: object) -> tuple[np.ndarray, np.ndarray]:
    matrix = np.asarray(matrix, dtype=np.float64)
    labels = np.asarray(labels)
    if matrix.ndim != 2 or labels.shape != (matrix.shape[0],):
        raise DataError(
            f"embedding has shape {matrix.shape} and labels {labels.shape}; pass "
            "a (n_models, n_dims) embedding and one label per model."
        )
    if not np.isfinite(matrix).all():
        raise DataError("embedding holds non-finite values; it must be finite.")
    return matrix, labels


def _principal_plane(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Coordinates on the first two principal axes and their variance shares.

    Embeddings with fewer than two dimensions or no variance are padded with
    zeros, so every fleet can be drawn.
    """
    centred = matrix - matrix.mean(axis=0) if len(matrix) else matrix
    points = np.zeros((len(matrix), 2))
    variance = np.zeros(2)
    if centred.size == 0:
        return points, variance

    _, singular, axes = np.linalg.svd(centred, full_matrices=False)
    n_axes = min(2, len(singular))
    points[:, :n_axes] = centred @ axes[:n_axes].T
    total = float((singular**2).sum())
    if total > 0:
        variance[:n_axes] = singular[:n_axes] ** 2 / total
    return points, variance


def _colours(n_colours: int) -> list[tuple[float, ...]]:
    from matplotlib import colormaps

    name = "tab10" if n_colours <= 10 else "tab20"
    cmap = colormaps[name]
    if n_colours <= 20:
        return [cmap(i) for i in range(n_colours)]
    return [colormaps["turbo"](x) for x in np.linspace(0, 1, n_colours)]


def _legend(axes: Axes, n_clusters: int) -> None:
    handles, names = axes.get_legend_handles_labels()
    if n_clusters > _MAX_LEGEND_ENTRIES:
        hidden = n_clusters - _MAX_LEGEND_ENTRIES
        handles = handles[:_MAX_LEGEND_ENTRIES]
        names = names[:_MAX_LEGEND_ENTRIES]
        names[-1] += f" (+{hidden} more clusters not listed)"
    axes.legend(
        handles,
        names,
        loc="center left",
        bbox_to_anchor=(1.01, 0.5),
        fontsize="small",
        frameon=False,
    )
