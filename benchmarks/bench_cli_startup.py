"""Time `freqopt --help` (CLI start-up) over several runs.

Usage: python benchmarks/bench_cli_startup.py [--repeats 7]

Prints the median wall-clock seconds. Target: <= 0.3 s; the CLI must not
import torch, botorch or pandas to print its help.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()

    exe = shutil.which("freqopt") or str(Path(sys.executable).with_name("freqopt"))
    seconds = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        subprocess.run([exe, "--help"], check=True, capture_output=True)
        seconds.append(time.perf_counter() - start)
    print(f"freqopt --help: median {statistics.median(seconds):.3f} s "
          f"(min {min(seconds):.3f}, max {max(seconds):.3f}, {args.repeats} runs)")


if __name__ == "__main__":
    main()
