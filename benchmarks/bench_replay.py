"""Build the real-data replay fleet cold and warm; print each model's truth.

A cold build replays every model into an empty cache folder (a temporary
one unless ``--cache-dir`` is given); a warm build then reads the same folder.
For every model the table shows its allowed intervals, the true ROI optimum,
the true gain at a few intervals, one experiment's noise (sd around the
truth) against the standard error experiments report, the cost of a
retrain, its value and the measured CPU seconds of one fit.

Run from the repository root::

    python benchmarks/bench_replay.py [--n-jobs 2] [--cache-dir DIR] [--json FILE]

Targets on a 2-core machine with ``--n-jobs 2``: cold build at most about 6
minutes, warm build a few seconds.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from freqopt.bench.metrics import normalized_regret, share_within
from freqopt.replay import DATASETS, RealFleet, build_real_fleet

GAIN_AT_HOURS = (1.0, 6.0, 24.0, 168.0, 720.0)


def timed_build(cache_dir: Path, n_jobs: int, seed: int) -> tuple[RealFleet, float]:
    """Build the fleet and return it with the wall-clock seconds taken."""
    started = time.perf_counter()
    fleet = build_real_fleet(
        cache_dir=cache_dir,
        n_jobs=n_jobs,
        seed=seed,
        progress=lambda model_id, done, total: print(
            f"  [{done:2d}/{total}] {model_id}", flush=True
        ),
    )
    return fleet, time.perf_counter() - started


def summary(fleet: RealFleet) -> pd.DataFrame:
    """One row per model: allowed range, optimum, gains, noise, cost, value.

    Args:
        fleet: The replayed fleet.

    Returns:
        Frame of shape (n_models, n_columns), gains in percent.
    """
    truth = fleet.truth
    hours = truth.intervals_hours
    best = np.argmax(truth.true_roi, axis=1)

    rows = []
    for m, model_id in enumerate(truth.model_ids):
        allowed = hours[truth.allowed[m]]
        row = {
            "model_id": model_id,
            "allowed_hours": f"{allowed[0]:g}-{allowed[-1]:g}",
            "optimum_hours": hours[best[m]],
            "gain_at_optimum": truth.true_gain[m, best[m]],
        }
        for h in GAIN_AT_HOURS:
            j = int(np.flatnonzero(hours == h)[0])
            row[f"gain_{h:g}h"] = truth.true_gain[m, j]
        row["noise_sd"] = truth.noise_sd[m]
        row["window_se"] = float(np.nanmean(fleet.gain_se_mean[m]))
        row["cost_per_retrain"] = truth.metadata["cost_per_retrain"].iloc[m]
        row["value"] = truth.value[m]
        row["cpu_s_per_fit"] = fleet.tables[m].cpu_seconds_per_retrain
        rows.append(row)
    return pd.DataFrame(rows)


def grid_shares(
    fleet: RealFleet, n_repeats: int = 20, seed: int = 0
) -> tuple[float, float]:
    """Mean share of models a full grid puts within 2 % and 5 % of the optimum.

    Args:
        fleet: The replayed fleet.
        n_repeats: Independent full grids, each one experiment per allowed
            (model, interval).
        seed: Seed of the experiments.

    Returns:
        ``(share_within_2pct, share_within_5pct)``, each averaged over the
        repeats.
    """
    truth = fleet.truth
    oracle = fleet.oracle()
    rng = np.random.default_rng(seed)
    shares = []
    for _ in range(n_repeats):
        measured = np.full(truth.allowed.shape, -np.inf)
        for m, j in zip(*np.nonzero(truth.allowed), strict=True):
            outcome = oracle.run(int(m), int(j), rng)
            measured[m, j] = truth.value[m] * outcome.gain - outcome.cost_per_day
        regret = normalized_regret(truth.true_roi, np.argmax(measured, axis=1))
        shares.append((share_within(regret, 0.02), share_within(regret, 0.05)))
    within_2, within_5 = np.mean(shares, axis=0)
    return float(within_2), float(within_5)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cache-dir", type=Path, default=None)
    parser.add_argument("--json", type=Path, default=None, help="also write figures")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as scratch:
        cache_dir = args.cache_dir or Path(scratch)
        print(f"cold build into {cache_dir} with n_jobs={args.n_jobs}")
        cold, cold_seconds = timed_build(cache_dir, args.n_jobs, args.seed)
        print("warm build")
        warm, warm_seconds = timed_build(cache_dir, args.n_jobs, args.seed)

    table = summary(warm)
    with pd.option_context("display.width", 250, "display.max_columns", 30):
        print(table.to_string(index=False, float_format=lambda x: f"{x:.3g}"))

    best = table["optimum_hours"]
    print()
    n_datasets = warm.truth.metadata["dataset"].nunique()
    print(f"models: {len(table)} from {n_datasets} data sets")
    print(f"distinct optimum intervals: {sorted(set(best.tolist()))}")
    print(f"cold build: {cold_seconds:.1f} s ({cold.n_replayed} replayed)")
    print(f"warm build: {warm_seconds:.1f} s ({warm.n_replayed} replayed)")
    allowed = warm.truth.allowed
    sd = float(np.nanmedian(warm.gain_sd[allowed]))
    window_se = float(np.nanmedian(warm.gain_se_mean[allowed]))
    print(f"median experiment sd {sd:.3g}, median per-period window se {window_se:.3g}")
    within_2, within_5 = grid_shares(warm, seed=args.seed)
    print(f"full grid within 2 %: {within_2:.0%}, within 5 %: {within_5:.0%}")
    for name, info in DATASETS.items():
        print(f"  {name}: {info['license']} — {info['source']}")

    if args.json:
        document = {
            "cold_seconds": cold_seconds,
            "warm_seconds": warm_seconds,
            "n_jobs": args.n_jobs,
            "grid_share_within_2pct": within_2,
            "grid_share_within_5pct": within_5,
            "models": json.loads(table.to_json(orient="records")),
        }
        args.json.write_text(json.dumps(document, indent=2))


if __name__ == "__main__":
    main()
