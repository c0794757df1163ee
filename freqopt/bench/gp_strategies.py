"""Strategies built on freqopt's GP core: freqopt, independent GP, cold start.

- ``freqopt``: embed the fleet's metadata, cluster it, and run one
  :class:`~freqopt.core.problem.ClusterProblem` per cluster. Each round every
  cluster with budget left fits its posterior, records the recommendation,
  proposes a batch of ``ceil(batch_fraction * n_models_in_cluster)``
  experiments (fewer near the end of its budget, or none once the core finds
  nothing worth running), and the whole batch runs through the oracle. The
  budget is per cluster: ``budget_per_model * n_models_in_cluster`` (split by
  largest remainder), spent on whichever models the core picks.
- ``independent_gp``: the same core on one-model problems without embedding
  coordinates (``n_dims = 0``), one proposal per model per round.
- ``cold_start``: what freqopt recommends for a model with no experiments of
  its own. Every other model of its cluster first runs each of its allowed
  intervals once (a full sweep through the oracle, not charged to the
  held-out model); the held-out models are then recommended from that data
  alone. A cluster's models are split at random into ``n_folds`` folds
  (default 5) held out together, one fit per fold; ``n_folds=None`` holds
  out each model on its own (leave-one-out, one fit per model). A model
  alone in its cluster gets the prior's recommendation. The trace has one
  checkpoint at zero experiments and counts one decision per model.

The GP core is imported when a strategy runs, and torch runs on one thread.
"""

from __future__ import annotations

import math
import warnings
from collections import Counter
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from freqopt.bench._recorder import (
    Recorder,
    allocate,
    fleet_budget,
    middle_allowed,
)
from freqopt.bench.fleet import Oracle, TruthFleet
from freqopt.bench.trace import StrategyTrace
from freqopt.core.problem import ClusterProblem

__all__ = [
    "ColdStart",
    "FreqoptStrategy",
    "IndependentGP",
    "cluster_models",
    "embed_metadata",
]


def embed_metadata(metadata: pd.DataFrame, seed: int = 0) -> np.ndarray:
    """Numeric embedding of fleet metadata, one row per model.

    Uses :func:`freqopt.core.embedding.fit_embedding`; warnings about dropped
    columns are silenced (a fleet file may carry constant columns).

    Args:
        metadata: Fleet metadata, shape (n_models, n_columns).
        seed: Seed of any randomized step.

    Returns:
        Embedding, float64 array (n_models, n_dims).
    """
    from freqopt.core.embedding import fit_embedding
    from freqopt.errors import DataWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        embedding = fit_embedding(metadata, seed=seed)
    return np.array(embedding.matrix, dtype=np.float64)


def cluster_models(
    embedding: np.ndarray, n_clusters: int | str = "auto", seed: int = 0
) -> np.ndarray:
    """Cluster label per model from its embedding.

    Uses :func:`freqopt.core.clustering.cluster_fleet` when available, else
    k-means with k chosen by silhouette between 2 and ``min(10, n / 4)``.

    Args:
        embedding: Float array (n_models, n_dims).
        n_clusters: Number of clusters, or ``"auto"``.
        seed: Seed of the clustering.

    Returns:
        Cluster label per model, int64 array (n_models,), labels 0..k-1.
    """
    n_models = embedding.shape[0]
    if n_models < 4 or embedding.shape[1] == 0:
        return np.zeros(n_models, dtype=np.int64)
    try:
        from freqopt.core.clustering import cluster_fleet
    except ImportError:
        return _kmeans_labels(embedding, n_clusters, seed)

    from freqopt.errors import DataWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        k: Any = n_clusters
        result = cluster_fleet(embedding, k=k, seed=seed, n_bootstrap=0)
    labels = np.asarray(getattr(result, "labels", result))
    return np.unique(labels, return_inverse=True)[1].astype(np.int64)


def _kmeans_labels(
    embedding: np.ndarray, n_clusters: int | str, seed: int
) -> np.ndarray:
    """k-means labels; k by silhouette when ``n_clusters`` is ``"auto"``."""
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score

    def fit(k: int) -> np.ndarray:
        return KMeans(k, n_init=10, random_state=seed).fit_predict(embedding)

    if n_clusters != "auto":
        return fit(int(n_clusters)).astype(np.int64)

    candidates = range(2, max(2, min(10, embedding.shape[0] // 4)) + 1)
    fits = {k: fit(k) for k in candidates}
    best = max(fits, key=lambda k: silhouette_score(embedding, fits[k]))
    return fits[best].astype(np.int64)


def _gp_core() -> Any:
    """Import the GP core and pin torch to one thread."""
    import torch

    torch.set_num_threads(1)
    from freqopt.core import bandit

    return bandit


def _policy(fleet: TruthFleet, batch_size: int, seed: int, base: Any) -> Any:
    """The policy the core runs with: the fleet's grid, the given batch size."""
    from dataclasses import replace

    from freqopt.policy import Policy

    policy = base if base is not None else Policy()
    return replace(
        policy,
        intervals_hours=tuple(float(x) for x in fleet.intervals_hours),
        batch_size=max(int(batch_size), 1),
        seed=int(seed),
    )


def _no_stopping() -> Any:
    """The default policy with both stopping rules turned off."""
    from freqopt.policy import Policy

    return Policy(stop_ei_fraction=0.0, stop_delta=0.0)


def _problem(
    fleet: TruthFleet, recorder: Recorder, models: np.ndarray, coords: np.ndarray
) -> ClusterProblem:
    """The cluster problem of ``models`` with every observation so far."""
    local = np.full(fleet.n_models, -1, dtype=np.int64)
    local[models] = np.arange(models.size)
    obs_model = local[np.asarray(recorder.models, dtype=np.int64)]
    keep = obs_model >= 0
    intervals = np.asarray(recorder.intervals, dtype=np.int64)[keep]

    ids = fleet.model_ids
    return ClusterProblem(
        model_ids=tuple(ids[m] for m in models),
        embedding=coords,
        intervals_hours=fleet.intervals_hours,
        allowed=fleet.allowed[models],
        value=fleet.value[models],
        cost_per_day=fleet.cost_per_day[models],
        obs_model=obs_model[keep],
        obs_interval_hours=fleet.intervals_hours[intervals],
        obs_gain=np.asarray(recorder.gains, dtype=np.float64)[keep],
        obs_gain_se=np.asarray(recorder.gain_ses, dtype=np.float64)[keep],
    )


@dataclass
class _Group:
    """One problem of a GP strategy: its models and their coordinates."""

    models: np.ndarray
    coords: np.ndarray
    batch_size: int
    budget: int
    spent: int = 0
    stale: bool = True
    done: bool = False


def _run_rounds(
    name: str,
    fleet: TruthFleet,
    oracle: Oracle,
    rng: np.random.Generator,
    groups: list[_Group],
    base_policy: Any,
    notes: tuple[str, ...],
) -> StrategyTrace:
    """Fit, recommend, propose and measure, round by round, per group.

    Proposals of intervals a model may not run, repeated proposals within a
    batch, and recommendations of intervals a model may not run are dropped
    and counted in the trace notes, as are the posterior methods.
    """
    bandit = _gp_core()
    recorder = Recorder(fleet, oracle, rng)
    recommended = middle_allowed(fleet.allowed)
    seed = int(rng.integers(2**31 - 1))
    tally: Counter[str] = Counter()

    for round_index in range(10_000):
        batch: list[tuple[int, int]] = []
        for g, group in enumerate(groups):
            if group.stale:
                policy = _policy(fleet, group.batch_size, seed + g, base_policy)
                step = _GroupStep(bandit, fleet, recorder, group, policy, tally)
                step.recommend(recommended, seed + round_index)
                batch += step.propose(seed + round_index)

        recorder.checkpoint(recommended)
        if not batch:
            break
        for m, j in batch:
            recorder.measure(m, j)

    counts = ", ".join(f"{key}={n}" for key, n in sorted(tally.items()))
    return recorder.trace(name, notes=(*notes, counts))


@dataclass
class _GroupStep:
    """One group's fit, recommendations and proposals in one round."""

    bandit: Any
    fleet: TruthFleet
    recorder: Recorder
    group: _Group
    policy: Any
    tally: Counter[str]

    def __post_init__(self) -> None:
        self.problem = _problem(
            self.fleet, self.recorder, self.group.models, self.group.coords
        )
        self.post: Any = None

    def recommend(self, recommended: np.ndarray, seed: int) -> None:
        """Fit the posterior and update the group's recommendations."""
        self.post = self.bandit.fit_posterior(self.problem, self.policy, seed=seed)
        self.tally[f"posterior_{self.post.method}"] += 1
        recs = self.bandit.recommend(self.problem, self.post, self.policy, seed=seed)
        for rec in recs:
            m = int(self.group.models[rec.model_index])
            j = int(rec.interval_index)
            if 0 <= j < self.fleet.allowed.shape[1] and self.fleet.allowed[m, j]:
                recommended[m] = j
            else:
                self.tally["infeasible_recommendation"] += 1
        self.group.stale = False

    def propose(self, seed: int) -> list[tuple[int, int]]:
        """Fleet (model, interval) pairs to run next; marks the group."""
        group = self.group
        q = min(group.batch_size, group.budget - group.spent)
        if q <= 0 or group.done:
            return []

        props = self.bandit.propose(
            self.problem, self.post, self.policy, q=q, seed=seed
        )
        pairs = [(int(p.model_index), int(p.interval_index)) for p in props]

        allowed = self.problem.allowed
        feasible = [
            (m, j) for m, j in pairs if 0 <= j < allowed.shape[1] and allowed[m, j]
        ]
        distinct = list(dict.fromkeys(feasible))
        self.tally["infeasible_proposal"] += len(pairs) - len(feasible)
        self.tally["duplicate_proposal"] += len(feasible) - len(distinct)
        feasible = distinct
        group.done = not feasible
        group.spent += len(feasible)
        group.stale = bool(feasible)
        return [(int(group.models[m]), j) for m, j in feasible]


@dataclass(frozen=True)
class FreqoptStrategy:
    """freqopt: cluster by metadata, one shared GP bandit per cluster.

    Attributes:
        name: Strategy name.
        batch_fraction: Proposals per cluster and round as a fraction of the
            cluster's models (rounded up).
        n_clusters: Clusters to form, or ``"auto"``.
        policy: Base policy (default ``Policy()``); its grid, batch size and
            seed are set per run.
    """

    name: str = "freqopt"
    batch_fraction: float = 1.0
    n_clusters: int | str = "auto"
    policy: Any = None

    def run(
        self,
        fleet: TruthFleet,
        oracle: Oracle,
        budget_per_model: float,
        rng: np.random.Generator,
    ) -> StrategyTrace:
        """Run the strategy (see :class:`~freqopt.bench.trace.Strategy`)."""
        seed = int(rng.integers(2**31 - 1))
        embedding = embed_metadata(fleet.metadata, seed=seed)
        labels = cluster_models(embedding, self.n_clusters, seed=seed)

        sizes = np.bincount(labels)
        budgets = allocate(fleet_budget(budget_per_model, fleet.n_models), sizes)
        groups = [
            _Group(
                models=np.flatnonzero(labels == c),
                coords=embedding[labels == c],
                batch_size=max(1, math.ceil(self.batch_fraction * sizes[c])),
                budget=int(budgets[c]),
            )
            for c in range(sizes.size)
        ]
        note = f"{sizes.size} clusters of sizes {sorted(sizes.tolist())}"
        notes = (note,)
        return _run_rounds(self.name, fleet, oracle, rng, groups, self.policy, notes)


@dataclass(frozen=True)
class IndependentGP:
    """The GP core on each model alone: no sharing, no embedding.

    Attributes:
        name: Strategy name.
        policy: Base policy; default ``Policy()`` with both stopping rules
            off, so that it spends its budget like the other per-model
            baselines (with the default rules a lone model settles after
            very few results).
    """

    name: str = "independent_gp"
    policy: Any = None

    def run(
        self,
        fleet: TruthFleet,
        oracle: Oracle,
        budget_per_model: float,
        rng: np.random.Generator,
    ) -> StrategyTrace:
        """Run the strategy (see :class:`~freqopt.bench.trace.Strategy`)."""
        n_models = fleet.n_models
        budgets = allocate(
            fleet_budget(budget_per_model, n_models), np.ones(n_models, dtype=int)
        )
        groups = [
            _Group(
                models=np.array([m]),
                coords=np.zeros((1, 0)),
                batch_size=1,
                budget=int(budgets[m]),
            )
            for m in range(n_models)
        ]
        policy = self.policy if self.policy is not None else _no_stopping()
        return _run_rounds(self.name, fleet, oracle, rng, groups, policy, ())


@dataclass(frozen=True)
class ColdStart:
    """freqopt's recommendation for models with no experiments of their own.

    Attributes:
        name: Strategy name.
        n_folds: Folds per cluster (at most the cluster's size); None holds
            out each model on its own.
        n_clusters: Clusters to form, or ``"auto"``.
        policy: Base policy (default ``Policy()``).
    """

    name: str = "cold_start"
    n_folds: int | None = 5
    n_clusters: int | str = "auto"
    policy: Any = None

    def run(
        self,
        fleet: TruthFleet,
        oracle: Oracle,
        budget_per_model: float,
        rng: np.random.Generator,
    ) -> StrategyTrace:
        """Run the strategy (see :class:`~freqopt.bench.trace.Strategy`).

        ``budget_per_model`` is ignored: held-out models run no experiment.
        """
        bandit = _gp_core()
        seed = int(rng.integers(2**31 - 1))
        embedding = embed_metadata(fleet.metadata, seed=seed)
        labels = cluster_models(embedding, self.n_clusters, seed=seed)

        # The neighbours' sweep is measured first and kept out of the trace.
        sweep = Recorder(fleet, oracle, rng)
        for m, j in zip(*np.nonzero(fleet.allowed), strict=True):
            sweep.measure(int(m), int(j))
        recorder = Recorder(fleet, oracle, rng)

        recommended = middle_allowed(fleet.allowed)
        policy = _policy(fleet, 1, seed, self.policy)
        for c in range(int(labels.max()) + 1):
            models = np.flatnonzero(labels == c)
            for held_out in self._folds(models, rng):
                picks = _held_out_recommendation(
                    bandit, fleet, sweep, models, embedding[models], held_out, policy
                )
                recommended[held_out] = np.where(
                    picks >= 0, picks, recommended[held_out]
                )
        recorder.checkpoint(recommended)

        folds = "leave-one-out" if self.n_folds is None else str(self.n_folds)
        note = (
            f"neighbours' full sweep ({sweep.n_experiments} experiments) not "
            f"charged; folds={folds}"
        )
        return recorder.trace(self.name, n_decisions=fleet.n_models, notes=(note,))

    def _folds(self, models: np.ndarray, rng: np.random.Generator) -> list[np.ndarray]:
        """Groups of a cluster's models held out together."""
        if self.n_folds is None or self.n_folds >= models.size:
            return [np.array([m]) for m in models]
        return [
            f for f in np.array_split(rng.permutation(models), self.n_folds) if f.size
        ]


def _held_out_recommendation(
    bandit: Any,
    fleet: TruthFleet,
    sweep: Recorder,
    models: np.ndarray,
    coords: np.ndarray,
    held_out: np.ndarray,
    policy: Any,
) -> np.ndarray:
    """Recommend for ``held_out`` from the other models' sweep only.

    Returns:
        Interval index per held-out model, int64 array (n_held_out,); -1
        where the core's recommendation is not an allowed interval.
    """
    from dataclasses import replace

    problem = _problem(fleet, sweep, models, coords)
    visible = ~np.isin(models[problem.obs_model], held_out)
    problem = replace(
        problem,
        obs_model=problem.obs_model[visible],
        obs_interval_hours=problem.obs_interval_hours[visible],
        obs_gain=problem.obs_gain[visible],
        obs_gain_se=problem.obs_gain_se[visible],
    )
    post = bandit.fit_posterior(problem, policy, seed=policy.seed)
    recs = bandit.recommend(problem, post, policy, seed=policy.seed)
    picks = {r.model_index: int(r.interval_index) for r in recs}

    local = np.searchsorted(models, held_out)
    chosen = np.array([picks.get(int(i), -1) for i in local], dtype=np.int64)
    ok = (chosen >= 0) & (chosen < problem.allowed.shape[1])
    ok[ok] = problem.allowed[local[ok], chosen[ok]]
    return np.where(ok, chosen, -1)
