"""Time one next-trial decision: fit_posterior + propose on a synthetic cluster.

Builds a cluster of ``--models`` models with ``--results`` noisy results on the
default allowed grid, then times ``fit_posterior`` followed by ``propose``
``--repeats`` times and prints the median and fastest wall time in seconds,
and the median CPU time of this process (less sensitive to other load on a
shared machine). Writes nothing.

Usage:
    python benchmarks/bench_next_trial.py --models 50 --results 500 --repeats 7
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings

import numpy as np

from freqopt.core.bandit import fit_posterior, propose
from freqopt.core.problem import ClusterProblem
from freqopt.core.roi import cost_per_day_from_metadata
from freqopt.policy import Policy


def synthetic_cluster(
    n_models: int, n_results: int, n_dims: int, seed: int
) -> ClusterProblem:
    """A cluster with saturating gain curves and noisy results.

    Args:
        n_models: Models in the cluster.
        n_results: Results, spread at random over models and intervals.
        n_dims: Embedding dimensions.
        seed: Seed for everything random.

    Returns:
        The cluster problem.
    """
    rng = np.random.default_rng(seed)
    intervals_hours = np.array(Policy().intervals_hours)
    embedding = rng.normal(size=(n_models, n_dims))
    staleness_hours = 24 * np.exp(0.8 * embedding[:, 0])
    amplitude = np.exp(0.3 * embedding[:, 1 % n_dims])
    value = np.exp(rng.normal(size=n_models))
    cost_per_retrain = value * amplitude / 200

    model = rng.integers(0, n_models, size=n_results)
    interval = rng.integers(0, len(intervals_hours), size=n_results)
    true_gain = amplitude[model] / (
        1 + intervals_hours[interval] / staleness_hours[model]
    )
    gain_se = np.where(rng.random(n_results) < 0.5, 0.05, np.nan)
    return ClusterProblem(
        model_ids=tuple(f"model-{i}" for i in range(n_models)),
        embedding=embedding,
        intervals_hours=intervals_hours,
        allowed=np.ones((n_models, len(intervals_hours)), dtype=bool),
        value=value,
        cost_per_day=cost_per_day_from_metadata(cost_per_retrain, intervals_hours),
        obs_model=model,
        obs_interval_hours=intervals_hours[interval],
        obs_gain=true_gain + 0.05 * rng.normal(size=n_results),
        obs_gain_se=gain_se,
    )


def main() -> None:
    """Parse arguments, time the decision, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=50)
    parser.add_argument("--results", type=int, default=500)
    parser.add_argument("--dims", type=int, default=8, help="embedding dims")
    parser.add_argument("--q", type=int, default=4, help="proposals per call")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    warnings.filterwarnings("ignore", category=DeprecationWarning)
    problem = synthetic_cluster(args.models, args.results, args.dims, args.seed)
    policy = Policy()

    # One untimed call pays the one-off import and first-call costs.
    propose(problem, fit_posterior(problem, policy), policy, q=args.q)
    seconds, cpu_seconds = [], []
    for _ in range(args.repeats):
        start, cpu_start = time.perf_counter(), time.process_time()
        posterior = fit_posterior(problem, policy, seed=args.seed)
        propose(problem, posterior, policy, q=args.q, seed=args.seed)
        seconds.append(time.perf_counter() - start)
        cpu_seconds.append(time.process_time() - cpu_start)

    print(
        f"fit_posterior + propose(q={args.q}): {args.models} models, "
        f"{args.results} results, {args.repeats} repeats: "
        f"median {statistics.median(seconds):.3f} s, "
        f"fastest {min(seconds):.3f} s, "
        f"median CPU {statistics.median(cpu_seconds):.3f} s"
    )


if __name__ == "__main__":
    main()
