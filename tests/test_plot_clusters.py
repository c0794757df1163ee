"""Tests of the cluster picture."""

from __future__ import annotations

import numpy as np
import pytest

from freqopt._plot_clusters import plot_clusters
from freqopt.errors import DataError


def _embedding(n_models: int = 60, n_dims: int = 5) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    labels = np.arange(n_models) % 3
    return rng.normal(size=(n_models, n_dims)) + 4 * labels[:, None], labels


def test_plot_writes_a_png_with_the_given_title(tmp_path):
    matrix, labels = _embedding()

    path = plot_clusters(matrix, labels, tmp_path / "out" / "clusters.png", title="t")

    assert path == tmp_path / "out" / "clusters.png"
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_plot_format_follows_the_suffix(tmp_path):
    matrix, labels = _embedding()

    path = plot_clusters(matrix, labels, tmp_path / "clusters.svg")

    assert "<svg" in path.read_text()
    assert "cluster 0 (20 models)" in path.read_text()


@pytest.mark.parametrize("n_dims", [0, 1])
def test_plot_draws_embeddings_with_fewer_than_two_dimensions(tmp_path, n_dims):
    matrix, labels = _embedding(n_dims=n_dims)

    path = plot_clusters(matrix, labels, tmp_path / "flat.png")

    assert path.stat().st_size > 0


def test_plot_summarizes_a_long_legend(tmp_path):
    matrix = np.random.default_rng(1).normal(size=(50, 3))
    labels = np.arange(50) % 25

    path = plot_clusters(matrix, labels, tmp_path / "many.svg")

    assert "+5 more clusters not listed" in path.read_text()


def test_plot_refuses_labels_of_another_length(tmp_path):
    matrix, _ = _embedding()

    with pytest.raises(DataError, match="one label per model"):
        plot_clusters(matrix, np.zeros(3, dtype=int), tmp_path / "x.png")
