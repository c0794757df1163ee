"""Time embedding and clustering a large synthetic fleet.

Draws a fleet of models (10,000 by default) with about 30 metadata columns
(heavy-tailed numbers, bounded numbers, categories, multi-hot feature
groups, some missing values) from a few latent families, then embeds it and
clusters it with automatic K. Prints the seconds each phase took, the total,
and how well the clusters recover the families (adjusted Rand index).

Run from the repository root::

    python benchmarks/bench_cluster.py [--n-models 10000] [--method kmeans]

Target: total at most 30 s for 10,000 models with k-means on a 2-core
machine.
"""

from __future__ import annotations

import argparse
import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import adjusted_rand_score

from freqopt.core.clustering import (
    assign_to_clusters,
    cluster_fleet,
    describe_clusters,
)
from freqopt.core.embedding import fit_embedding
from freqopt.errors import DataWarning

N_FAMILIES = 8
N_HEAVY = 10
N_BOUNDED = 8
N_CATEGORIES = 7
N_SETS = 4
LABELS_PER_SET = 8


def synthesize_fleet(n_models: int, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    """Draw a fleet's metadata from latent families.

    Args:
        n_models: Models to draw.
        seed: Seed of the generator.

    Returns:
        Metadata with ``model_id`` and 29 metadata columns, shape
        (n_models, 30), and each model's family, int array (n_models,).
    """
    rng = np.random.default_rng(seed)
    family = rng.integers(0, N_FAMILIES, size=n_models)
    columns: dict[str, Any] = {"model_id": [f"m{i:06d}" for i in range(n_models)]}

    # Heavy-tailed sizes, counts and costs: lognormal around a family level.
    for j in range(N_HEAVY):
        level = rng.normal(6.0, 2.0, size=N_FAMILIES)
        columns[f"n_units_{j}"] = 10 ** rng.normal(level[family], 1.0)

    # Bounded quantities, with some missing values.
    for j in range(N_BOUNDED):
        centre = rng.uniform(0.1, 0.9, size=N_FAMILIES)
        values = np.clip(rng.normal(centre[family], 0.15), 0.0, 1.0)
        values[rng.random(n_models) < 0.03] = np.nan
        columns[f"share_{j}"] = values

    # Categories: the family's favourite with probability 0.6.
    for j in range(N_CATEGORIES):
        favourite = rng.integers(0, 6, size=N_FAMILIES)
        other = rng.integers(0, 6, size=n_models)
        chosen = np.where(rng.random(n_models) < 0.6, favourite[family], other)
        columns[f"category_{j}"] = [f"c{j}_{value}" for value in chosen]

    # Feature groups: each label with a family-specific probability.
    for j in range(N_SETS):
        odds = rng.choice([0.15, 0.8], size=(N_FAMILIES, LABELS_PER_SET))
        held = rng.random((n_models, LABELS_PER_SET)) < odds[family]
        columns[f"groups_{j}"] = [
            ";".join(f"g{j}_{k}" for k in np.flatnonzero(row)) for row in held
        ]
    return pd.DataFrame(columns), family


def _timed(name: str, times: dict[str, float], work: Callable[[], Any]) -> Any:
    start = time.perf_counter()
    result = work()
    times[name] = time.perf_counter() - start
    print(f"{name:<12} {times[name]:7.2f} s")
    return result


def main() -> None:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-models", type=int, default=10_000)
    parser.add_argument("--method", default="kmeans")
    parser.add_argument("--pca", default="off", help="'off', 'auto' or an int")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    pca = int(args.pca) if args.pca.isdigit() else args.pca

    times: dict[str, float] = {}
    fleet, family = _timed(
        "synthesize", times, lambda: synthesize_fleet(args.n_models, args.seed)
    )
    print(f"fleet: {fleet.shape[0]} models x {fleet.shape[1] - 1} metadata columns")

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        embedding = _timed(
            "embed", times, lambda: fit_embedding(fleet, pca=pca, seed=args.seed)
        )
    print(f"embedding: {embedding.report.n_dims} dims")

    clustering = _timed(
        "cluster",
        times,
        lambda: cluster_fleet(embedding.matrix, method=args.method, seed=args.seed),
    )
    _timed(
        "describe",
        times,
        lambda: describe_clusters(
            fleet, clustering.labels, kinds=embedding.report.kinds
        ),
    )
    new = fleet.head(1000)
    _timed(
        "assign_1000",
        times,
        lambda: assign_to_clusters(embedding.embedder.transform(new), clustering),
    )

    total = sum(value for key, value in times.items() if key != "synthesize")
    ari = adjusted_rand_score(family, clustering.labels)
    print(f"{'total':<12} {total:7.2f} s (embed + cluster + describe + assign)")
    print(
        f"K = {clustering.k}, silhouette {clustering.silhouette:.3f}, "
        f"stability {clustering.stability_mean:.3f}, ARI vs families {ari:.3f}"
    )
    print(clustering.reason)


if __name__ == "__main__":
    main()
