"""Decisions against the store: next trials, recommendations, reports.

Builds a :class:`~freqopt.core.problem.ClusterProblem` for one cluster from
the store (members, embedding, value, known cost, results, pending trials),
calls the pure bandit, and records every proposal as a ``proposed`` trial
with a decision record (inputs, posterior numbers, score, reason).
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import sqlalchemy as sa

from freqopt import _clusters
from freqopt.core.problem import ClusterProblem
from freqopt.errors import DataWarning, NotFoundError
from freqopt.policy import Policy
from freqopt.registry import list_models
from freqopt.store import Store, decisions, results, trials, utc_now

__all__ = [
    "ModelRecommendation",
    "ProposedTrial",
    "build_problem",
    "next_trials",
    "recommendations",
    "report",
]

logger = logging.getLogger(__name__)

PENDING = ("proposed", "running")
# A result or pending trial whose interval is within this factor of a grid
# interval counts as that grid interval.
GRID_TOLERANCE = 1.01


@dataclass(frozen=True)
class ProposedTrial:
    """One stored proposal of ``next-trial``.

    Attributes:
        trial_id: The new trial (status ``proposed``).
        model_id: Model to run.
        cluster_id: Its cluster.
        interval_hours: Interval to run it at, hours.
        score: Expected ROI improvement, money per day.
        is_replicate: Whether the point was already measured.
        reason: Why this trial.
        gain_mean, gain_lo, gain_hi: Posterior gain and its 90 % interval.
        roi_mean, roi_lo, roi_hi: Posterior ROI (money/day) and 90 % interval.
    """

    trial_id: int
    model_id: str
    cluster_id: int
    interval_hours: float
    score: float
    is_replicate: bool
    reason: str
    gain_mean: float
    gain_lo: float
    gain_hi: float
    roi_mean: float
    roi_lo: float
    roi_hi: float


@dataclass(frozen=True)
class ModelRecommendation:
    """The recommended interval for one model and the numbers behind it.

    ``status`` is ``settled``, ``exploring``, ``cold-start`` (no trials of
    its own) or ``infeasible`` (every interval ruled out). ``is_outlier`` marks
    a model assigned to its cluster although it lies beyond the cluster's
    usual spread.
    """

    model_id: str
    cluster_id: int
    interval_hours: float
    status: str
    gain_mean: float
    gain_lo: float
    gain_hi: float
    roi_mean: float
    roi_lo: float
    roi_hi: float
    max_expected_improvement: float
    prob_within_epsilon: float
    current_interval_hours: float | None
    roi_change_vs_current: float | None
    n_results: int
    ruled_out: tuple[tuple[float, str], ...]
    reason: str
    is_outlier: bool = False


@dataclass(frozen=True)
class _Built:
    problem: ClusterProblem
    cluster_id: int
    n_results: np.ndarray


def _grid_index(grid_log: np.ndarray, hours: float) -> int | None:
    """Index of the grid interval ``hours`` stands for, or None if off-grid."""
    distance = np.abs(grid_log - np.log(hours))
    j = int(distance.argmin())
    return j if distance[j] <= np.log(GRID_TOLERANCE) else None


def build_problem(store: Store, cluster_id: int, policy: Policy) -> _Built:
    """Gather one cluster's decision problem from the store.

    Raises:
        NotFoundError: No clustering, or no such cluster.

    Warns:
        DataWarning: A model has no value (1 is used) or neither
            ``cost_per_retrain`` nor a measured cost (0 is used).
    """
    from freqopt.core.roi import cost_per_day_from_metadata

    state = _clusters.require_state(store)
    found = _clusters.members(store, cluster_id)
    frame = _clusters.metadata_frame(store, [m.model_id for m in found])
    model_ids = tuple(str(m) for m in frame["model_id"])
    index = {m: i for i, m in enumerate(model_ids)}
    grid = np.asarray(policy.intervals_hours, dtype=np.float64)
    grid_log = np.log(grid)

    # Observations and pending trials of the cluster's models.
    with store.read() as conn:
        rows = conn.execute(
            sa.select(results)
            .where(results.c.model_id.in_(model_ids))
            .order_by(results.c.result_id)
        ).all()
        pending_rows = conn.execute(
            sa.select(trials.c.model_id, trials.c.interval_hours).where(
                trials.c.model_id.in_(model_ids), trials.c.status.in_(PENDING)
            )
        ).all()
    names = sorted({name for r in rows for name in r.guardrails})
    guardrails = {
        name: np.array([_nan(r.guardrails.get(name)) for r in rows], dtype=np.float64)
        for name in names
    }
    pending = [
        (index[m], j)
        for m, hours in pending_rows
        if (j := _grid_index(grid_log, hours)) is not None
    ]

    # Value and known cost.
    value = _column(frame, "value")
    missing_value = [m for m, v in zip(model_ids, value, strict=True) if np.isnan(v)]
    if missing_value:
        warnings.warn(
            f"{len(missing_value)} model(s) have no value ({_few(missing_value)}); "
            "using 1 money per gain unit per day. Add a value column to the fleet "
            "file so experiments go where the money is.",
            DataWarning,
            stacklevel=3,
        )
        value = np.where(np.isnan(value), 1.0, value)
    cost_per_retrain = _cost_per_retrain(frame, model_ids, rows, index)
    cost = cost_per_day_from_metadata(
        cost_per_retrain, grid, policy.fixed_overhead_per_day
    )
    if policy.cost_source == "observed":
        cost = _observed_cost(cost, rows, index, grid_log)

    n_results = np.zeros(len(model_ids), dtype=np.int64)
    for r in rows:
        n_results[index[r.model_id]] += 1
    problem = ClusterProblem(
        model_ids=model_ids,
        embedding=np.asarray(state.embedder.transform(frame), dtype=np.float64),
        intervals_hours=grid,
        allowed=_allowed(frame, grid),
        value=value,
        cost_per_day=cost,
        obs_model=np.array([index[r.model_id] for r in rows], dtype=np.int64),
        obs_interval_hours=np.array([r.interval_hours for r in rows], dtype=np.float64),
        obs_gain=np.array([r.gain for r in rows], dtype=np.float64),
        obs_gain_se=np.array([_nan(r.gain_se) for r in rows], dtype=np.float64),
        obs_guardrails=guardrails,
        pending=np.array(pending, dtype=np.int64).reshape(-1, 2),
        current_interval_hours=_column(frame, "current_interval_hours"),
    )
    return _Built(problem, cluster_id, n_results)


def _allowed(frame: Any, grid: np.ndarray) -> np.ndarray:
    """Per-model bounds from optional fleet columns, mask (n_models, n_intervals).

    ``min_interval_hours`` (e.g. the data's time resolution) and
    ``max_interval_hours`` (e.g. a model's freshness SLA) narrow the policy's
    grid for one model; blank means no bound.
    """
    low = np.nan_to_num(_column(frame, "min_interval_hours"), nan=0.0)
    high = np.nan_to_num(_column(frame, "max_interval_hours"), nan=np.inf)
    tolerance = GRID_TOLERANCE
    return (grid[None, :] * tolerance >= low[:, None]) & (
        grid[None, :] <= high[:, None] * tolerance
    )


def _nan(value: Any) -> float:
    return np.nan if value is None else float(value)


def _few(items: list[str], n: int = 5) -> str:
    shown = ", ".join(items[:n])
    return shown + (f" and {len(items) - n} more" if len(items) > n else "")


def _column(frame: Any, name: str) -> np.ndarray:
    if name not in frame.columns:
        return np.full(len(frame), np.nan)
    return frame[name].astype("float64").to_numpy(copy=True)


def _cost_per_retrain(
    frame: Any, model_ids: tuple[str, ...], rows: Sequence[Any], index: dict[str, int]
) -> np.ndarray:
    """Cost per retrain from metadata, else from measured cost per day."""
    per_retrain = _column(frame, "cost_per_retrain")
    measured: dict[int, list[float]] = {}
    for r in rows:
        measured.setdefault(index[r.model_id], []).append(
            r.cost_per_day * r.interval_hours / 24.0
        )
    lacking = []
    for i, m in enumerate(model_ids):
        if np.isnan(per_retrain[i]):
            if i in measured:
                per_retrain[i] = float(np.median(measured[i]))
            else:
                lacking.append(m)
    if lacking:
        warnings.warn(
            f"model(s) {_few(lacking)} have no cost_per_retrain in the fleet file and "
            "no measured cost; their ROI counts no compute cost (so the shortest "
            "interval looks free). Add cost_per_retrain (money per retrain) with "
            "`freqopt models import`, or ingest a result for them.",
            DataWarning,
            stacklevel=4,
        )
        for m in lacking:
            per_retrain[index[m]] = 0.0
    return per_retrain


def _observed_cost(
    cost: np.ndarray, rows: Sequence[Any], index: dict[str, int], grid_log: np.ndarray
) -> np.ndarray:
    """Replace metadata cost by the mean measured cost where measured."""
    sums = np.zeros_like(cost)
    counts = np.zeros_like(cost)
    for r in rows:
        j = _grid_index(grid_log, r.interval_hours)
        if j is not None:
            sums[index[r.model_id], j] += r.cost_per_day
            counts[index[r.model_id], j] += 1
    with np.errstate(invalid="ignore"):
        return np.where(counts > 0, sums / np.maximum(counts, 1), cost)


def _with_outlier_note(reason: str, is_outlier: bool) -> str:
    if not is_outlier:
        return reason
    return (
        "OUTLIER: this model lies farther from its cluster than the cluster's usual "
        "spread, so its neighbours' curves may not fit it; run a trial on it before "
        "trusting this. " + reason
    )


def _where_is(store: Store, model_id: str, cluster_id: int | None) -> str:
    """Why a model was not found, and where it is if it exists."""
    home = [m.cluster_id for m in _clusters.members(store) if m.model_id == model_id]
    if home:
        return (
            f"model {model_id!r} is in cluster {home[0]}, not cluster {cluster_id}; "
            f"use --cluster {home[0]}"
        )
    known = {r.model_id for r in list_models(store)}
    if model_id in known:
        return (
            f"model {model_id!r} is registered but not clustered; run `freqopt cluster`"
        )
    return (
        f"unknown model {model_id!r}; register it with `freqopt models import FILE` "
        "(new models join their nearest cluster)"
    )


def _policy_summary(policy: Policy) -> dict[str, Any]:
    return {
        "objective": policy.objective,
        "epsilon": policy.epsilon,
        "compute_price": policy.compute_price,
        "cost_source": policy.cost_source,
        "intervals_hours": list(policy.intervals_hours),
    }


def next_trials(
    store: Store,
    cluster_id: int,
    policy: Policy,
    *,
    q: int | None = None,
    model_id: str | None = None,
    seed: int | None = None,
) -> tuple[list[ProposedTrial], tuple[str, ...]]:
    """Propose and store the q most valuable distinct trials of a cluster.

    Returns:
        The stored proposals (possibly fewer than q, or none when every
        model is settled), and the posterior's notes.

    Raises:
        NotFoundError: No such cluster, or ``model_id`` is not in it.
    """
    from freqopt.core.bandit import fit_posterior, propose

    built = build_problem(store, cluster_id, policy)
    problem = built.problem
    model_index = None
    if model_id is not None and model_id not in problem.model_ids:
        raise NotFoundError(_where_is(store, model_id, cluster_id))
    if model_id is not None:
        model_index = problem.model_ids.index(model_id)
    seed = policy.seed if seed is None else seed
    q = policy.batch_size if q is None else q

    posterior = fit_posterior(problem, policy, seed=seed)
    proposals = propose(
        problem, posterior, policy, q=q, model_index=model_index, seed=seed
    )

    now = utc_now()
    stored: list[ProposedTrial] = []
    with store.begin() as conn:
        for p in proposals:
            mid = problem.model_ids[p.model_index]
            hours = float(problem.intervals_hours[p.interval_index])
            trial_id = conn.execute(
                trials.insert().returning(trials.c.trial_id),
                {
                    "model_id": mid,
                    "interval_hours": hours,
                    "status": "proposed",
                    "source": "freqopt",
                    "cluster_id": cluster_id,
                    "created_at": now,
                    "updated_at": now,
                },
            ).scalar_one()
            item = ProposedTrial(
                trial_id,
                mid,
                cluster_id,
                hours,
                p.score,
                p.is_replicate,
                p.reason,
                p.gain_mean,
                p.gain_lo,
                p.gain_hi,
                p.roi_mean,
                p.roi_lo,
                p.roi_hi,
            )
            stored.append(item)
            conn.execute(
                decisions.insert(),
                {
                    "kind": "proposal",
                    "cluster_id": cluster_id,
                    "model_id": mid,
                    "trial_id": trial_id,
                    "created_at": now,
                    "payload": {
                        "proposal": _jsonable(item),
                        "inputs": {
                            "n_models": problem.n_models,
                            "n_results": problem.n_obs,
                            "n_pending": int(problem.pending.shape[0]),
                            "value": float(problem.value[p.model_index]),
                            "cost_per_day": float(
                                problem.cost_per_day[p.model_index, p.interval_index]
                            ),
                            "policy": _policy_summary(policy),
                            "seed": seed,
                        },
                        "posterior": {
                            "method": posterior.method,
                            "notes": posterior.notes,
                        },
                    },
                },
            )
    for item in stored:
        logger.info(
            "proposed trial %d: %s every %g h (score %.3g)",
            item.trial_id,
            item.model_id,
            item.interval_hours,
            item.score,
        )
    return stored, posterior.notes


def _jsonable(item: Any) -> dict[str, Any]:
    out = {}
    for key, value in vars(item).items():
        if isinstance(value, float) and not np.isfinite(value):
            value = None
        out[key] = value
    return out


def recommendations(
    store: Store,
    policy: Policy,
    *,
    cluster_id: int | None = None,
    model_id: str | None = None,
    seed: int | None = None,
) -> tuple[list[ModelRecommendation], dict[int, tuple[str, ...]]]:
    """Recommend an interval for each model of a cluster, one model, or all.

    Returns:
        Recommendations ordered by cluster then model, and each cluster's
        posterior notes.

    Raises:
        NotFoundError: No clustering, no such cluster or model.
    """
    from freqopt.core.bandit import fit_posterior, recommend

    found = _clusters.members(store, cluster_id)
    if model_id is not None:
        found = [m for m in found if m.model_id == model_id]
        if not found:
            raise NotFoundError(_where_is(store, model_id, cluster_id))
    cluster_ids = sorted({m.cluster_id for m in found})
    seed = policy.seed if seed is None else seed
    outliers = {m.model_id for m in found if m.is_outlier}

    out: list[ModelRecommendation] = []
    notes: dict[int, tuple[str, ...]] = {}
    now = utc_now()
    for cid in cluster_ids:
        built = build_problem(store, cid, policy)
        problem = built.problem
        posterior = fit_posterior(problem, policy, seed=seed)
        notes[cid] = posterior.notes
        for rec in recommend(problem, posterior, policy, seed=seed):
            mid = problem.model_ids[rec.model_index]
            if model_id is not None and mid != model_id:
                continue
            currents = problem.current_interval_hours
            current = np.nan if currents is None else currents[rec.model_index]
            out.append(
                ModelRecommendation(
                    mid,
                    cid,
                    rec.interval_hours,
                    rec.status,
                    rec.gain_mean,
                    rec.gain_lo,
                    rec.gain_hi,
                    rec.roi_mean,
                    rec.roi_lo,
                    rec.roi_hi,
                    rec.max_expected_improvement,
                    rec.prob_within_epsilon,
                    None if np.isnan(current) else float(current),
                    rec.roi_change_vs_current,
                    int(built.n_results[rec.model_index]),
                    rec.ruled_out,
                    _with_outlier_note(rec.reason, mid in outliers),
                    mid in outliers,
                )
            )
    with store.begin() as conn:
        conn.execute(
            decisions.insert(),
            [
                {
                    "kind": "recommendation",
                    "cluster_id": r.cluster_id,
                    "model_id": r.model_id,
                    "trial_id": None,
                    "created_at": now,
                    "payload": {
                        "recommendation": _jsonable(r),
                        "policy": _policy_summary(policy),
                        "seed": seed,
                    },
                }
                for r in out
            ],
        )
    return out, notes


def report(
    store: Store,
    cluster_id: int,
    policy: Policy,
    out: str,
    *,
    seed: int | None = None,
    max_models: int = 12,
) -> str:
    """Plot one cluster's posterior gain and ROI curves to an image file."""
    from freqopt._plot_posterior import plot_cluster_posterior
    from freqopt.core.bandit import fit_posterior, recommend

    seed = policy.seed if seed is None else seed
    problem = build_problem(store, cluster_id, policy).problem
    posterior = fit_posterior(problem, policy, seed=seed)
    recs = recommend(problem, posterior, policy, seed=seed)
    path = plot_cluster_posterior(problem, posterior, recs, out, max_models=max_models)
    return str(path)
