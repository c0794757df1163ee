"""Time `next-trial` through the library API and the store, in process.

Usage: python benchmarks/bench_next_trial_store.py [--repeats 5]

A cluster of 50 models with 500 ingested results: each repeat reads the
cluster from the store, fits its GP, proposes 4 trials and stores them with
their decision records. Prints the median seconds. Target: <= 0.5 s.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    import torch

    torch.set_num_threads(1)
    from freqopt.api import Freqopt

    rng = np.random.default_rng(0)
    grid = np.array([0.25, 0.5, 1, 2, 4, 6, 12, 24, 48, 72, 168, 336])
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        fleet = pd.DataFrame(
            {
                "model_id": [f"m{i:02d}" for i in range(50)],
                "n_parameters": rng.lognormal(15, 0.3, 50).round(),
                "architecture": "dnn",
                "value": rng.lognormal(3, 0.5, 50).round(2),
                "cost_per_retrain": rng.lognormal(0, 0.5, 50).round(3),
            }
        )
        fleet.to_csv(folder / "fleet.csv", index=False)
        model = rng.integers(0, 50, 500)
        interval = grid[rng.integers(0, grid.size, 500)]
        results = pd.DataFrame(
            {
                "model_id": fleet["model_id"].to_numpy()[model],
                "interval_hours": interval,
                "gain": (3 * np.exp(-interval / 48) + rng.normal(0, 0.2, 500)).round(4),
                "gain_se": 0.2,
                "cost_per_day": (
                    fleet["cost_per_retrain"].to_numpy()[model] * 24 / interval
                ),
                "started_at": [
                    f"2026-{1 + i // 672:02d}-{1 + i // 24 % 28:02d}"
                    f"T{i % 24:02d}:00:00Z"
                    for i in range(500)
                ],
            }
        )
        results.to_csv(folder / "results.csv", index=False)

        fo = Freqopt.init(folder / "bench.db")
        fo.import_models(folder / "fleet.csv")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            cluster_id = fo.cluster(k=1).clusters[0].cluster_id
        fo.ingest(folder / "results.csv")
        fo.next_trial(cluster_id, q=4)  # warm-up: imports torch and botorch

        seconds = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            fo.next_trial(cluster_id, q=4)
            seconds.append(time.perf_counter() - start)
    print(
        f"next_trial via store: 50 models, 500 results, q=4: "
        f"median {statistics.median(seconds):.3f} s (min {min(seconds):.3f}, "
        f"{args.repeats} repeats)"
    )


if __name__ == "__main__":
    main()
