"""Ingest 100,000 result rows into a fresh SQLite store and time it.

Usage: python benchmarks/bench_ingest.py [--rows 100000] [--models 500]

Prints the seconds for validation + one-transaction write, and for a second
ingest of the same file (all duplicates). Target: <= 10 s for 100,000 rows.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from freqopt.api import Freqopt


def make_files(
    folder: Path, n_rows: int, n_models: int, seed: int
) -> tuple[Path, Path]:
    rng = np.random.default_rng(seed)
    fleet = pd.DataFrame(
        {
            "model_id": [f"model-{i:05d}" for i in range(n_models)],
            "value": rng.lognormal(3, 1, n_models).round(3),
            "cost_per_retrain": rng.lognormal(0, 1, n_models).round(3),
        }
    )
    intervals = np.array([0.25, 0.5, 1, 2, 4, 6, 12, 24, 48, 72, 168, 336])
    start = pd.Timestamp("2025-01-01", tz="UTC")
    frame = pd.DataFrame(
        {
            "model_id": fleet["model_id"].to_numpy()[rng.integers(0, n_models, n_rows)],
            "interval_hours": intervals[rng.integers(0, len(intervals), n_rows)],
            "gain": rng.normal(1, 0.5, n_rows).round(5),
            "gain_se": rng.uniform(0.05, 0.2, n_rows).round(5),
            "cost_per_day": rng.lognormal(1, 1, n_rows).round(5),
            "started_at": (
                start + pd.to_timedelta(np.arange(n_rows), unit="min")
            ).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "guardrail_fill_rate": rng.normal(0, 0.2, n_rows).round(4),
        }
    )
    fleet_path, results_path = folder / "fleet.csv", folder / "results.csv"
    fleet.to_csv(fleet_path, index=False)
    frame.to_csv(results_path, index=False)
    return fleet_path, results_path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--models", type=int, default=500)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        fleet_path, results_path = make_files(folder, args.rows, args.models, args.seed)
        fo = Freqopt.init(folder / "bench.db")
        fo.import_models(fleet_path)

        t0 = time.perf_counter()
        first = fo.ingest(results_path)
        t1 = time.perf_counter()
        again = fo.ingest(results_path)
        t2 = time.perf_counter()

    print(f"rows: {args.rows:,}  models: {args.models}")
    print(f"first ingest:  {t1 - t0:6.2f} s  ({first.n_inserted:,} inserted)")
    print(f"re-ingest:     {t2 - t1:6.2f} s  ({again.n_duplicates:,} duplicates)")


if __name__ == "__main__":
    main()
