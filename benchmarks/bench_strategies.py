"""Compare strategies on simulated fleets: the figures and table of the README.

Runs :func:`freqopt.bench.runner.benchmark` (120 models in 6 clusters, 12
intervals, noise 5 % and 20 % of each model's gain range, 5 seeds, 12
experiments per model by default), prints the summary table, the stated goals
and the wall time, and writes ``benchmark.json`` and PNG plots to ``--out``.

``--variants`` adds ``freqopt_no_stop``: freqopt with both stopping rules
off, which shows what the stopping rules cost (or save) at each budget.

Usage:
    python benchmarks/bench_strategies.py --out bench-out
    python benchmarks/bench_strategies.py --quick --out bench-quick
    python benchmarks/bench_strategies.py --strategies freqopt grid --variants \\
        --seeds 3 --out bench-variants
"""

from __future__ import annotations

import argparse
import sys
import time

from freqopt.bench.gp_strategies import FreqoptStrategy
from freqopt.bench.runner import (
    DEFAULT_BUDGET_CAPS,
    STRATEGY_NAMES,
    SimFleetFactory,
    format_table,
    make_strategy,
    run_benchmark,
)
from freqopt.policy import Policy


def _variants() -> list[FreqoptStrategy]:
    """freqopt variants worth comparing with the shipped defaults."""
    no_stop = Policy(stop_ei_fraction=0.0, stop_delta=0.0)
    return [FreqoptStrategy(name="freqopt_no_stop", policy=no_stop)]


def main(argv: list[str] | None = None) -> int:
    """Parse options, run the benchmark, print the table; return 0."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--strategies", nargs="+", default=list(STRATEGY_NAMES))
    parser.add_argument("--variants", action="store_true")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--budget", type=float, default=12.0)
    parser.add_argument("--noise", type=float, nargs="+", default=[0.05, 0.2])
    parser.add_argument("--models", type=int, default=120)
    parser.add_argument("--clusters", type=int, default=6)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--out", default="bench-out")
    args = parser.parse_args(argv)

    if args.quick:
        args.models, args.clusters = 30, 3
        args.seeds, args.budget = min(args.seeds, 2), min(args.budget, 4.0)
        args.noise = [0.2]

    strategies = [make_strategy(name) for name in args.strategies]
    if args.variants:
        strategies += _variants()

    def progress(event) -> None:
        print(
            f"[{event.done:>3}/{event.total}] {event.description}: "
            f"{event.seconds:.1f} s",
            file=sys.stderr,
            flush=True,
        )

    started = time.perf_counter()
    result = run_benchmark(
        SimFleetFactory(args.models, args.clusters),
        strategies,
        seeds=list(range(args.seeds)),
        budget_per_model=args.budget,
        noises=args.noise,
        out_dir=args.out,
        progress=progress,
        budget_caps=DEFAULT_BUDGET_CAPS,
        n_jobs=args.n_jobs,
        settings={
            "fleet": "sim",
            "n_models": args.models,
            "n_clusters": args.clusters,
            "quick": args.quick,
        },
    )

    print(format_table(result))
    print()
    for goal in result.goals:
        numbers = ", ".join(f"{k}={v:.3f}" for k, v in goal.measured.items())
        print(f"{'PASS' if goal.passed else 'FAIL'} {goal.description}: {numbers}")
    print(f"\nwall time {time.perf_counter() - started:.0f} s; files in {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
