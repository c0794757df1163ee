"""The main job, end to end: a fleet with known truth run through freqopt.

The loop uses the same store, files and API a user would: write the fleet
file, import it, cluster, then per round ask ``next_trial`` for every
cluster, run the proposed experiments on the oracle, write their results to a
results file and ingest it, until every model is settled or the budget is
spent. At the end every model's recommendation is scored against the true
optimum, and against a full grid search that ran one experiment at every
allowed interval of every model.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from freqopt.api import Freqopt
from freqopt.bench.fleet import Oracle, TruthFleet
from freqopt.bench.metrics import normalized_regret, share_within
from freqopt.policy import Policy

__all__ = ["DemoModel", "DemoResult", "DemoRound", "fleet_file_frame", "run_demo"]

logger = logging.getLogger(__name__)

EPOCH = datetime(2026, 1, 5, tzinfo=UTC)
TRIAL_DAYS = 7


@dataclass(frozen=True)
class DemoModel:
    """One model's outcome: freqopt's pick, the truth and the grid's pick."""

    model_id: str
    cluster_id: int
    status: str
    freqopt_interval_hours: float
    true_best_interval_hours: float
    grid_interval_hours: float
    freqopt_regret: float
    grid_regret: float
    n_experiments: int
    n_grid_experiments: int


@dataclass(frozen=True)
class DemoRound:
    """The fleet's state after one round of experiments."""

    round: int
    experiments_per_model: float
    share_within_2pct: float
    share_within_5pct: float
    n_settled: int


@dataclass(frozen=True)
class DemoResult:
    """What the demo found, with where it wrote its files."""

    models: tuple[DemoModel, ...]
    rounds: tuple[DemoRound, ...]
    n_clusters: int
    freqopt_experiments_per_model: float
    grid_experiments_per_model: float
    freqopt_share_within_2pct: float
    freqopt_share_within_5pct: float
    grid_share_within_2pct: float
    grid_share_within_5pct: float
    out_dir: str
    files: tuple[str, ...]


def fleet_file_frame(truth: TruthFleet) -> pd.DataFrame:
    """The fleet file for a truth fleet, with per-model interval bounds."""
    grid = truth.intervals_hours
    low = [grid[row].min() for row in truth.allowed]
    high = [grid[row].max() for row in truth.allowed]
    return truth.metadata.assign(min_interval_hours=low, max_interval_hours=high)


def run_demo(
    truth: TruthFleet,
    oracle: Oracle,
    out_dir: str | Path,
    *,
    budget_per_model: float = 3.0,
    seed: int = 0,
    progress: Callable[[str, float, float], None] | None = None,
) -> DemoResult:
    """Run freqopt's loop on a fleet with known truth and score it.

    Args:
        truth: The fleet and its true gain curves.
        oracle: Answers experiments with noisy outcomes.
        out_dir: Folder for the store, the files and the plots.
        budget_per_model: Experiments per model on average, at most.
        seed: Seed of clustering, proposals and the oracle's noise.
        progress: Called with (what, done, total) as work proceeds.

    Returns:
        Per-model outcomes, the learning curve by round, and summary shares.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for stale in out.glob("demo.db*"):
        stale.unlink()
    report = progress or (lambda *_: None)

    # Register and cluster the fleet through files and the store.
    fleet_path = out / "fleet.csv"
    fleet_file_frame(truth).to_csv(fleet_path, index=False)
    fo = Freqopt.init(out / "demo.db")
    fo.import_models(fleet_path)
    clusters = fo.cluster(seed=seed).clusters
    policy = Policy(
        intervals_hours=tuple(float(h) for h in truth.intervals_hours), seed=seed
    )

    # Loop: propose, run, ingest, until settled or out of budget.
    row_of = {m: i for i, m in enumerate(truth.model_ids)}
    rng = np.random.default_rng(seed)
    budget = int(round(budget_per_model * truth.n_models))
    spent, rounds = 0, []
    for round_no in range(1, 10_000):
        rows: list[dict[str, Any]] = []
        for info in clusters:
            left = budget - spent - len(rows)
            if left <= 0:
                break
            proposals, _ = fo.next_trial(
                info.cluster_id, q=min(info.size, left), policy=policy
            )
            rows += [_run(oracle, p, row_of, truth, rng, round_no) for p in proposals]
        if not rows:
            break
        path = out / "results" / f"round-{round_no:02d}.csv"
        path.parent.mkdir(exist_ok=True)
        pd.DataFrame(rows).to_csv(path, index=False)
        fo.ingest(path)
        spent += len(rows)
        rounds.append(_score_round(fo, policy, truth, row_of, round_no, spent))
        report("experiments", spent, budget)
        if spent >= budget:
            break

    result = _finish(
        fo, policy, truth, oracle, row_of, rounds, out, seed, len(clusters)
    )
    fo.close()
    return result


def _run(
    oracle: Oracle,
    proposal: Any,
    row_of: dict[str, int],
    truth: TruthFleet,
    rng: np.random.Generator,
    round_no: int,
) -> dict[str, Any]:
    """Run one proposed trial on the oracle; return its results-file row."""
    i = row_of[proposal.model_id]
    j = int(np.abs(np.log(truth.intervals_hours / proposal.interval_hours)).argmin())
    outcome = oracle.run(i, j, rng)
    start = EPOCH + timedelta(days=TRIAL_DAYS * (round_no - 1))
    return {
        "trial_id": proposal.trial_id,
        "model_id": proposal.model_id,
        "interval_hours": proposal.interval_hours,
        "gain": outcome.gain,
        "gain_se": outcome.gain_se,
        "cost_per_day": outcome.cost_per_day,
        "started_at": start.isoformat().replace("+00:00", "Z"),
        "ended_at": (start + timedelta(days=TRIAL_DAYS))
        .isoformat()
        .replace("+00:00", "Z"),
    }


def _choices(recs: list[Any], truth: TruthFleet, row_of: dict[str, int]) -> np.ndarray:
    choice = np.full(truth.n_models, -1, dtype=np.int64)
    grid_log = np.log(truth.intervals_hours)
    for r in recs:
        if math.isfinite(r.interval_hours):
            choice[row_of[r.model_id]] = int(
                np.abs(grid_log - math.log(r.interval_hours)).argmin()
            )
    return choice


def _score_round(
    fo: Freqopt,
    policy: Policy,
    truth: TruthFleet,
    row_of: dict[str, int],
    round_no: int,
    spent: int,
) -> DemoRound:
    recs, _ = fo.recommend(policy=policy)
    regret = normalized_regret(truth.true_roi, _choices(recs, truth, row_of))
    return DemoRound(
        round_no,
        spent / truth.n_models,
        share_within(regret, 0.02),
        share_within(regret, 0.05),
        sum(r.status == "settled" for r in recs),
    )


def _grid_search(
    truth: TruthFleet, oracle: Oracle, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """One experiment at every allowed interval; pick the best observed ROI."""
    rng = np.random.default_rng(seed + 1)
    observed = np.full(truth.allowed.shape, -np.inf)
    for i, j in zip(*np.nonzero(truth.allowed), strict=True):
        outcome = oracle.run(int(i), int(j), rng)
        observed[i, j] = truth.value[i] * outcome.gain - outcome.cost_per_day
    return observed.argmax(axis=1), truth.allowed.sum(axis=1)


def _finish(
    fo: Freqopt,
    policy: Policy,
    truth: TruthFleet,
    oracle: Oracle,
    row_of: dict[str, int],
    rounds: list[DemoRound],
    out: Path,
    seed: int,
    n_clusters: int,
) -> DemoResult:
    recs, _ = fo.recommend(policy=policy)
    choice = _choices(recs, truth, row_of)
    regret = normalized_regret(truth.true_roi, choice)
    grid_choice, grid_counts = _grid_search(truth, oracle, seed)
    grid_regret = normalized_regret(truth.true_roi, grid_choice)
    best = truth.true_roi.argmax(axis=1)
    n_exp = {m: 0 for m in truth.model_ids}
    for t in fo.trials(status="completed"):
        n_exp[t.model_id] += 1

    grid = truth.intervals_hours
    models = tuple(
        DemoModel(
            r.model_id,
            r.cluster_id,
            r.status,
            r.interval_hours,
            float(grid[best[row_of[r.model_id]]]),
            float(grid[grid_choice[row_of[r.model_id]]]),
            float(regret[row_of[r.model_id]]),
            float(grid_regret[row_of[r.model_id]]),
            n_exp[r.model_id],
            int(grid_counts[row_of[r.model_id]]),
        )
        for r in recs
    )
    files = _write_outputs(fo, policy, models, rounds, truth, out, grid_counts)
    return DemoResult(
        models,
        tuple(rounds),
        n_clusters,
        sum(n_exp.values()) / truth.n_models,
        float(grid_counts.mean()),
        share_within(regret, 0.02),
        share_within(regret, 0.05),
        share_within(grid_regret, 0.02),
        share_within(grid_regret, 0.05),
        str(out),
        files,
    )


def _write_outputs(
    fo: Freqopt,
    policy: Policy,
    models: tuple[DemoModel, ...],
    rounds: list[DemoRound],
    truth: TruthFleet,
    out: Path,
    grid_counts: np.ndarray,
) -> tuple[str, ...]:
    """Per-model table, learning-curve plot and posterior plots per cluster."""
    import dataclasses

    files = []
    table = out / "recommendations.csv"
    pd.DataFrame([dataclasses.asdict(m) for m in models]).to_csv(table, index=False)
    files.append(str(table))
    files.append(_plot_rounds(rounds, truth, models, out / "learning_curve.png"))
    for info in fo.clusters():
        path = out / f"posterior_cluster_{info.cluster_id}.png"
        files.append(fo.report(info.cluster_id, path, policy=policy))
    return tuple(files)


def _plot_rounds(
    rounds: list[DemoRound],
    truth: TruthFleet,
    models: tuple[DemoModel, ...],
    path: Path,
) -> str:
    """Share of models within 2 % / 5 % of the optimum against experiments."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7, 4.5))
    ax = fig.add_subplot()
    x = [r.experiments_per_model for r in rounds]
    ax.plot(x, [r.share_within_2pct for r in rounds], "o-", label="freqopt, within 2 %")
    ax.plot(
        x, [r.share_within_5pct for r in rounds], "s--", label="freqopt, within 5 %"
    )
    grid_x = float(np.mean([m.n_grid_experiments for m in models]))
    grid_2 = float(np.mean([m.grid_regret <= 0.02 for m in models]))
    grid_5 = float(np.mean([m.grid_regret <= 0.05 for m in models]))
    ax.plot([grid_x], [grid_2], "k*", markersize=12, label="full grid, within 2 %")
    ax.plot([grid_x], [grid_5], "kx", markersize=10, label="full grid, within 5 %")
    ax.set_xlabel("experiments per model (average)")
    ax.set_ylabel("share of models")
    ax.set_ylim(0, 1.02)
    ax.set_title(f"{truth.n_models} models: freqopt's loop against a full grid")
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    return str(path)
