"""Print a benchmark.json as the Markdown table README shows.

Usage: python benchmarks/readme_table.py bench-out/sim/benchmark.json [--k 1 2 3 4 12]

Each cell is the share of models within 2 % / within 5 % of their true ROI
optimum (mean over seeds) after k experiments per model; cold_start, which
runs no experiment of its own, is shown at k = 0.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def _noise(value: float | None) -> str:
    """Noise level as shown; a fleet with its own noise (real data) shows "own"."""
    if value is None or value != value:
        return "own"
    return f"{value:g}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", type=Path)
    parser.add_argument("--k", type=float, nargs="+", default=[1, 2, 3, 4, 12])
    args = parser.parse_args()

    document = json.loads(args.path.read_text())
    cells = {
        (_noise(row["noise"]), row["strategy"], row["k"]): row
        for row in document["table"]
    }
    noises = sorted({n for n, _, _ in cells})
    header = ["noise", "strategy", *(f"k={k:g}" for k in args.k)]
    print("| " + " | ".join(header) + " |")
    print("|" + " --- |" * len(header))
    for noise in noises:
        for name in document["settings"]["strategies"]:
            ks = [0.0] if name == "cold_start" else args.k
            shown = []
            for k in args.k:
                row = cells.get((noise, name, float(k)))
                if name == "cold_start":
                    row = cells.get((noise, name, 0.0)) if k == args.k[0] else None
                shown.append(
                    "" if row is None else
                    f"{row['share_within_2pct']:.0%} / {row['share_within_5pct']:.0%}"
                )
            label = "cold_start (k=0)" if ks == [0.0] else name
            print(f"| {noise} | {label} | " + " | ".join(shown) + " |")


if __name__ == "__main__":
    main()
