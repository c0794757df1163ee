"""Run strategies on fleets over seeds and noise levels; summarize; write files.

:func:`run_benchmark` is the library entry point (any fleet or fleet factory,
any strategies); :func:`benchmark` is what the ``freqopt benchmark`` command
calls with its options. Both return a :class:`BenchmarkResult` and write
``benchmark.json`` plus PNG plots to the output directory.

Every (noise, seed, strategy) run gets a fresh fleet from the factory
(seeded by ``seed``) and its own random generator (seeded by ``seed`` and the
strategy name). Measurements use common random numbers: the ``r``-th
replicate of model ``m`` at interval ``j`` gets the same noise in every
strategy of a seed, so differences between strategies are not noise draws.
"""

from __future__ import annotations

import json
import logging
import time
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from freqopt.bench.fleet import Oracle, Outcome, TruthFleet
from freqopt.bench.metrics import (
    DEFAULT_TRIAL_DAYS,
    TraceMetrics,
    confidence_interval,
    evaluate_trace,
)
from freqopt.bench.trace import Strategy
from freqopt.errors import DataError

__all__ = [
    "BenchmarkResult",
    "DEFAULT_BUDGET_CAPS",
    "DEFAULT_NOISES",
    "GoalCheck",
    "OPTIONAL_STRATEGIES",
    "ProgressEvent",
    "RunRecord",
    "STRATEGY_NAMES",
    "SimFleetFactory",
    "StrategySummary",
    "SummaryRow",
    "benchmark",
    "format_table",
    "make_strategy",
    "run_benchmark",
    "with_relative_noise",
]

logger = logging.getLogger(__name__)

#: Strategy names :func:`make_strategy` knows, in table order.
STRATEGY_NAMES: tuple[str, ...] = (
    "grid",
    "coarse_to_fine",
    "random",
    "skopt",
    "independent_gp",
    "freqopt",
    "cold_start",
)

#: Strategy names :func:`make_strategy` also knows that need an optional extra
#: and are run only when asked for (``ax`` needs ``pip install freqopt[ax]``).
OPTIONAL_STRATEGIES: tuple[str, ...] = ("ax",)

#: Noise levels of the default benchmark (fraction of each model's gain range).
DEFAULT_NOISES: tuple[float, ...] = (0.05, 0.2)

#: Lower budgets per model for the slowest baselines in :func:`benchmark`,
#: so the default benchmark fits in about 20 minutes on two cores.
DEFAULT_BUDGET_CAPS: Mapping[str, float] = {
    "skopt": 4.0,
    "independent_gp": 4.0,
    "ax": 4.0,
}

#: Experiments per model at which the summary table is shown.
TABLE_K: tuple[float, ...] = (0, 1, 2, 3, 4, 6, 12)

FleetFactory = Callable[[int, float], TruthFleet]


@dataclass(frozen=True)
class SimFleetFactory:
    """Builds a simulated fleet for a seed and noise level.

    Attributes:
        n_models: Models per fleet.
        n_clusters: Generating clusters per fleet.
    """

    n_models: int = 120
    n_clusters: int = 6

    def __call__(self, seed: int, noise: float) -> TruthFleet:
        """Draw the fleet of ``seed`` with observation noise ``noise``."""
        from freqopt.sim import simulate_fleet

        return simulate_fleet(
            n_models=self.n_models, n_clusters=self.n_clusters, noise=noise, seed=seed
        )


def with_relative_noise(fleet: TruthFleet, noise: float) -> TruthFleet:
    """The same fleet with noise sd = ``noise`` x each model's gain range.

    Args:
        fleet: Any fleet with known truth.
        noise: Fraction of the gain range over allowed intervals, >= 0.

    Returns:
        A copy whose ``noise_sd`` is replaced.
    """
    gain = np.where(fleet.allowed, fleet.true_gain, np.nan)
    gain_range = np.nanmax(gain, axis=1) - np.nanmin(gain, axis=1)
    return replace(fleet, noise_sd=noise * gain_range)


@dataclass(frozen=True)
class ProgressEvent:
    """One finished run, for a progress display.

    Attributes:
        done: Runs finished so far.
        total: Runs in the benchmark.
        noise: Noise level of the finished run (NaN for a fleet's own noise).
        seed: Its seed.
        strategy: Its strategy.
        seconds: Wall-clock seconds it took.
    """

    done: int
    total: int
    noise: float
    seed: int
    strategy: str
    seconds: float

    @property
    def description(self) -> str:
        """One line saying what finished."""
        return f"{self.strategy} seed={self.seed} noise={self.noise:g}"


@dataclass(frozen=True)
class RunRecord:
    """The scores of one strategy on one fleet and seed.

    Attributes:
        noise: Noise level (NaN when the fleet's own noise was used).
        seed: Seed of the fleet and the strategy.
        metrics: The scores.
        n_experiments: Experiments the strategy ran.
        seconds: Wall-clock seconds the run took (oracle included).
        notes: The strategy's remarks.
    """

    noise: float
    seed: int
    metrics: TraceMetrics
    n_experiments: int
    seconds: float
    notes: tuple[str, ...]


@dataclass(frozen=True)
class StrategySummary:
    """One strategy at one noise level, over seeds: means and 95 % intervals.

    Every ``(mean, low, high)`` triple holds float64 arrays (n_k,) (or
    floats): the mean over seeds and a Student-t 95 % confidence interval.

    Attributes:
        noise: Noise level.
        strategy: Strategy name.
        n_seeds: Seeds summarized.
        k: Experiments per model scored, float64 (n_k,).
        share_within_2pct: Share of models with regret <= 0.02.
        share_within_5pct: Share of models with regret <= 0.05.
        median_regret: Median regret over models.
        experiments_per_model: Experiments actually run per model.
        compute_cost: Compute the experiments spent, money.
        seconds_per_decision: Wall-clock seconds per decision.
        k_to_share: ``"within_2pct"``/``"within_5pct"`` -> target share (as
            text, e.g. ``"0.9"``) -> smallest ``k`` at which the mean share
            reaches it, or None.
    """

    noise: float
    strategy: str
    n_seeds: int
    k: np.ndarray
    share_within_2pct: tuple[np.ndarray, np.ndarray, np.ndarray]
    share_within_5pct: tuple[np.ndarray, np.ndarray, np.ndarray]
    median_regret: tuple[np.ndarray, np.ndarray, np.ndarray]
    experiments_per_model: tuple[np.ndarray, np.ndarray, np.ndarray]
    compute_cost: tuple[np.ndarray, np.ndarray, np.ndarray]
    seconds_per_decision: tuple[float, float, float]
    k_to_share: Mapping[str, Mapping[str, float | None]]

    def at(self, k: float) -> int:
        """Column of ``k`` in the summary arrays, or -1."""
        hits = np.flatnonzero(np.isclose(self.k, k))
        return int(hits[0]) if hits.size else -1


@dataclass(frozen=True)
class SummaryRow:
    """One row of the summary table: a strategy at a noise level and ``k``.

    Attributes:
        noise: Noise level.
        strategy: Strategy name.
        k: Experiments per model.
        share_within_2pct: Mean share of models within 2 % regret.
        share_within_2pct_low: Lower end of its 95 % interval.
        share_within_2pct_high: Upper end of its 95 % interval.
        share_within_5pct: Mean share within 5 %.
        share_within_5pct_low: Lower end of its 95 % interval.
        share_within_5pct_high: Upper end of its 95 % interval.
        median_regret: Mean over seeds of the median regret.
        compute_cost: Mean compute the experiments spent, money.
        seconds_per_decision: Mean wall-clock seconds per decision.
    """

    noise: float
    strategy: str
    k: float
    share_within_2pct: float
    share_within_2pct_low: float
    share_within_2pct_high: float
    share_within_5pct: float
    share_within_5pct_low: float
    share_within_5pct_high: float
    median_regret: float
    compute_cost: float
    seconds_per_decision: float


@dataclass(frozen=True)
class GoalCheck:
    """Whether a stated target was met.

    Attributes:
        name: Short snake_case name.
        description: The target in words.
        passed: Whether it was met (on means over seeds).
        measured: The numbers compared, by name.
    """

    name: str
    description: str
    passed: bool
    measured: Mapping[str, float]


@dataclass(frozen=True)
class BenchmarkResult:
    """Everything a benchmark produced.

    Attributes:
        settings: The settings, JSON-ready.
        summaries: One per (noise, strategy), noise ascending then in the
            order strategies were given.
        runs: One per (noise, seed, strategy).
        goals: Checks of the stated targets that the settings allow.
        files: Files written (JSON, PNG).
        elapsed_seconds: Wall-clock seconds of the whole benchmark.
    """

    settings: Mapping[str, Any]
    summaries: tuple[StrategySummary, ...]
    runs: tuple[RunRecord, ...]
    goals: tuple[GoalCheck, ...]
    files: tuple[Path, ...]
    elapsed_seconds: float

    def summary(self, noise: float, strategy: str) -> StrategySummary:
        """The summary of one strategy at one noise level.

        Raises:
            KeyError: If there is none.
        """
        for s in self.summaries:
            if s.strategy == strategy and np.isclose(s.noise, noise, equal_nan=True):
                return s
        raise KeyError(f"no summary for strategy {strategy!r} at noise {noise:g}")

    def table(self, k_values: Sequence[float] = TABLE_K) -> list[SummaryRow]:
        """Summary rows at the given experiments per model (those scored).

        A strategy that runs no experiment (``cold_start``) gets one row, at
        ``k = 0``.
        """
        rows = []
        for s in self.summaries:
            # A strategy that runs no experiment is shown once, at k = 0.
            never = np.all(np.nan_to_num(s.experiments_per_model[0]) == 0)
            for k in [0.0] if never else k_values:
                i = s.at(k)
                if i < 0 or not np.isfinite(s.share_within_2pct[0][i]):
                    continue
                rows.append(_row(s, i))
        return rows

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready document with stable snake_case keys."""
        return {
            "settings": dict(self.settings),
            "elapsed_seconds": round(self.elapsed_seconds, 3),
            "goals": [
                {
                    "name": g.name,
                    "description": g.description,
                    "passed": g.passed,
                    "measured": {k: _num(v) for k, v in g.measured.items()},
                }
                for g in self.goals
            ],
            "table": [_row_dict(r) for r in self.table()],
            "summaries": [_summary_dict(s) for s in self.summaries],
            "runs": [_run_dict(r) for r in self.runs],
            "files": [p.name for p in self.files],
        }


def make_strategy(name: str) -> Strategy:
    """A strategy with default settings by name.

    Args:
        name: One of :data:`STRATEGY_NAMES` or :data:`OPTIONAL_STRATEGIES`.

    Raises:
        DataError: If the name is unknown, or names an optional strategy whose
            package is not installed.
    """
    if name == "ax":
        import importlib.util

        from freqopt.bench.ax_strategy import AxPerModel

        if importlib.util.find_spec("ax") is None:
            raise DataError(
                "strategy 'ax' needs the ax-platform package, which is not "
                "installed; run `pip install freqopt[ax]` or drop 'ax'."
            )
        return AxPerModel()

    from freqopt.bench import gp_strategies as gp
    from freqopt.bench import strategies as base

    makers: dict[str, Callable[[], Strategy]] = {
        "grid": base.FullGrid,
        "coarse_to_fine": base.CoarseToFine,
        "random": base.RandomSearch,
        "skopt": base.SkoptPerModel,
        "independent_gp": gp.IndependentGP,
        "freqopt": gp.FreqoptStrategy,
        "cold_start": gp.ColdStart,
    }
    if name not in makers:
        raise DataError(
            f"unknown strategy {name!r}; choose from "
            f"{', '.join((*STRATEGY_NAMES, *OPTIONAL_STRATEGIES))}."
        )
    return makers[name]()


class _CommonNoiseOracle:
    """Passes each replicate of a (model, interval) the same noise stream."""

    def __init__(self, inner: Oracle, seed: int) -> None:
        self._inner = inner
        self._seed = seed
        self._count: dict[tuple[int, int], int] = {}

    @property
    def fleet(self) -> TruthFleet:
        return self._inner.fleet

    def run(
        self, model_index: int, interval_index: int, rng: np.random.Generator
    ) -> Outcome:
        key = (int(model_index), int(interval_index))
        replicate = self._count.get(key, 0)
        self._count[key] = replicate + 1
        stream = np.random.default_rng([self._seed, *key, replicate])
        return self._inner.run(model_index, interval_index, stream)


def _strategy_seed(seed: int, name: str) -> np.random.Generator:
    """Generator for a strategy at a seed, independent of other strategies."""
    return np.random.default_rng([seed, zlib.crc32(name.encode())])


def _run_one(
    fleet_factory: FleetFactory,
    oracle_factory: Callable[[TruthFleet], Oracle],
    strategy: Strategy,
    seed: int,
    noise: float,
    budget: float,
    k: np.ndarray,
    trial_days: float,
) -> RunRecord:
    """Run one strategy on one fleet and score it."""
    started = time.perf_counter()
    fleet = fleet_factory(seed, noise)
    oracle = _CommonNoiseOracle(oracle_factory(fleet), seed)
    trace = strategy.run(fleet, oracle, budget, _strategy_seed(seed, strategy.name))
    metrics = _beyond_budget_unscored(
        evaluate_trace(fleet, trace, k, trial_days), budget
    )
    return RunRecord(
        noise=noise,
        seed=seed,
        metrics=metrics,
        n_experiments=int(trace.experiment_model.size),
        seconds=time.perf_counter() - started,
        notes=trace.notes,
    )


def _beyond_budget_unscored(metrics: TraceMetrics, budget: float) -> TraceMetrics:
    """Blank the scores at k above a capped strategy's budget."""
    beyond = metrics.k > budget + 1e-9
    if not beyond.any():
        return metrics
    nan_rows = np.where(beyond[:, None], np.nan, metrics.regret)
    return replace(
        metrics,
        regret=nan_rows,
        share_within_2pct=np.where(beyond, np.nan, metrics.share_within_2pct),
        share_within_5pct=np.where(beyond, np.nan, metrics.share_within_5pct),
        experiments_per_model=np.where(beyond, np.nan, metrics.experiments_per_model),
        compute_cost=np.where(beyond, np.nan, metrics.compute_cost),
    )


def run_benchmark(
    fleet: TruthFleet | FleetFactory,
    strategies: Sequence[Strategy | str],
    seeds: Sequence[int],
    budget_per_model: float,
    noises: Sequence[float] | None = None,
    out_dir: str | Path | None = None,
    progress: Callable[[ProgressEvent], None] | None = None,
    *,
    oracle_factory: Callable[[TruthFleet], Oracle] | None = None,
    budget_caps: Mapping[str, float] | None = None,
    trial_days: float = DEFAULT_TRIAL_DAYS,
    n_jobs: int = 1,
    settings: Mapping[str, Any] | None = None,
) -> BenchmarkResult:
    """Run every strategy on every seed and noise level, then summarize.

    Args:
        fleet: A fleet (the same for every seed; with ``noises`` given, its
            noise sd is replaced per level by :func:`with_relative_noise`)
            or a factory ``(seed, noise) -> TruthFleet``.
        strategies: Strategies or names from :data:`STRATEGY_NAMES`.
        seeds: Seeds; each gives a fleet (from a factory) and strategy seeds.
        budget_per_model: Mean experiments per model each strategy may run.
        noises: Noise levels (fraction of gain range). None: the factory's
            default (:data:`DEFAULT_NOISES`) or, for a fleet, its own noise.
        out_dir: Directory for ``benchmark.json`` and plots; None writes
            nothing.
        progress: Called after every finished run.
        oracle_factory: Builds the oracle of a fleet; default
            :class:`~freqopt.sim.SimOracle`.
        budget_caps: Strategy name -> lower budget per model for that
            strategy (e.g. to bound the run time of slow baselines).
        trial_days: Length of one trial in days, for compute spent.
        n_jobs: Runs in parallel (joblib processes); 1 runs in this process.
        settings: Extra settings to record in the result.

    Returns:
        The result; files are listed in ``result.files``.

    Raises:
        DataError: If there are no seeds or strategies, a strategy name is
            unknown, or the budget is negative.
    """
    started = time.perf_counter()
    resolved = [make_strategy(s) if isinstance(s, str) else s for s in strategies]
    _check_run(resolved, seeds, budget_per_model)
    factory, levels = _fleet_source(fleet, noises)
    oracle_factory = oracle_factory or _sim_oracle
    caps = dict(budget_caps or {})
    k = np.arange(0.0, budget_per_model + 1e-9, 1.0)
    if budget_per_model - k[-1] > 1e-9:
        k = np.append(k, budget_per_model)

    tasks = [
        (factory, oracle_factory, s, int(seed), float(noise),
         min(budget_per_model, caps.get(s.name, budget_per_model)), k, trial_days)
        for noise in levels
        for seed in seeds
        for s in resolved
    ]  # fmt: skip
    records = _execute(tasks, progress, n_jobs)

    summaries = _summaries(records, levels, [s.name for s in resolved])
    recorded = {
        "seeds": [int(s) for s in seeds],
        "budget_per_model": float(budget_per_model),
        "budget_caps": {name: float(v) for name, v in caps.items()},
        "noises": [_num(x) for x in levels],
        "strategies": [s.name for s in resolved],
        "trial_days": float(trial_days),
        **dict(settings or {}),
    }
    result = BenchmarkResult(
        settings=recorded,
        summaries=tuple(summaries),
        runs=tuple(records),
        goals=tuple(_goal_checks(summaries)),
        files=(),
        elapsed_seconds=time.perf_counter() - started,
    )
    if out_dir is not None:
        result = replace(result, files=_write(result, Path(out_dir)))
    return result


def _sim_oracle(fleet: TruthFleet) -> Oracle:
    from freqopt.sim import SimOracle

    return SimOracle(fleet)


def _check_run(
    strategies: Sequence[Strategy], seeds: Sequence[int], budget: float
) -> None:
    """Validate the benchmark's arguments."""
    if not strategies:
        raise DataError(
            f"no strategies given; choose from {', '.join(STRATEGY_NAMES)}."
        )
    if not len(seeds):
        raise DataError("no seeds given; pass at least one seed (e.g. --seeds 1).")
    if not budget >= 0:
        raise DataError(f"budget per model must be >= 0; got {budget}.")
    names = [s.name for s in strategies]
    if len(set(names)) != len(names):
        raise DataError(f"strategy names must be unique; got {names}.")


def _fleet_source(
    fleet: TruthFleet | FleetFactory, noises: Sequence[float] | None
) -> tuple[FleetFactory, list[float]]:
    """A factory and the noise levels to run."""
    if isinstance(fleet, TruthFleet):
        fixed = fleet
        if noises is None:
            return (lambda seed, noise: fixed), [float("nan")]
        return (lambda seed, noise: with_relative_noise(fixed, noise)), list(noises)
    return fleet, list(noises if noises is not None else DEFAULT_NOISES)


def _execute(
    tasks: list[tuple[Any, ...]],
    progress: Callable[[ProgressEvent], None] | None,
    n_jobs: int,
) -> list[RunRecord]:
    """Run the tasks, in this process or in joblib workers, reporting progress."""
    if n_jobs == 1:
        results = (_run_one(*task) for task in tasks)
    else:
        from joblib import Parallel, delayed

        parallel = Parallel(n_jobs=n_jobs, return_as="generator")
        results = parallel(delayed(_run_one)(*task) for task in tasks)

    records = []
    for done, record in enumerate(results, start=1):
        records.append(record)
        logger.debug(
            "%s seed=%d noise=%g: %.1f s",
            record.metrics.strategy,
            record.seed,
            record.noise,
            record.seconds,
        )
        if progress is not None:
            progress(
                ProgressEvent(
                    done=done,
                    total=len(tasks),
                    noise=record.noise,
                    seed=record.seed,
                    strategy=record.metrics.strategy,
                    seconds=record.seconds,
                )
            )
    return records


def _summaries(
    records: list[RunRecord], noises: list[float], names: list[str]
) -> list[StrategySummary]:
    """Aggregate runs over seeds, per noise level and strategy."""
    summaries = []
    for noise in noises:
        for name in names:
            runs = [
                r.metrics
                for r in records
                if r.metrics.strategy == name
                and np.isclose(r.noise, noise, equal_nan=True)
            ]
            summaries.append(_summarize(noise, name, runs))
    return summaries


def _summarize(noise: float, name: str, runs: list[TraceMetrics]) -> StrategySummary:
    """Mean and confidence interval over seeds of one strategy's scores."""

    def stat(values: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return confidence_interval(np.stack(values))

    def share(values: list[np.ndarray]) -> tuple[np.ndarray, ...]:
        # Shares live in [0, 1]; no checkpoint at some k means no share.
        missing = np.all([np.isnan(m.experiments_per_model) for m in runs], axis=0)
        return tuple(np.where(missing, np.nan, np.clip(x, 0, 1)) for x in stat(values))

    median_regret = [_median_regret(m.regret) for m in runs]
    share2 = share([m.share_within_2pct for m in runs])
    share5 = share([m.share_within_5pct for m in runs])

    seconds = confidence_interval(np.array([m.seconds_per_decision for m in runs]))
    k = runs[0].k
    return StrategySummary(
        noise=noise,
        strategy=name,
        n_seeds=len(runs),
        k=k,
        share_within_2pct=share2,  # type: ignore[arg-type]
        share_within_5pct=share5,  # type: ignore[arg-type]
        median_regret=stat(median_regret),
        experiments_per_model=stat([m.experiments_per_model for m in runs]),
        compute_cost=stat([m.compute_cost for m in runs]),
        seconds_per_decision=tuple(float(x) for x in seconds),  # type: ignore[arg-type]
        k_to_share={
            "within_2pct": _k_to_share(k, share2[0]),
            "within_5pct": _k_to_share(k, share5[0]),
        },
    )


def _median_regret(regret: np.ndarray) -> np.ndarray:
    """Median over models per k; NaN where a row has no scores."""
    out = np.full(regret.shape[0], np.nan)
    for i, row in enumerate(regret):
        if not np.all(np.isnan(row)):
            out[i] = float(np.median(row))
    return out


def _k_to_share(k: np.ndarray, share: np.ndarray) -> dict[str, float | None]:
    """Smallest k at which the mean share reaches 0.8 and 0.9 (None if never)."""
    found: dict[str, float | None] = {}
    for target in (0.8, 0.9):
        hits = np.flatnonzero(np.nan_to_num(share, nan=-1.0) >= target - 1e-12)
        found[str(target)] = float(k[hits[0]]) if hits.size else None
    return found


def _goal_checks(summaries: list[StrategySummary]) -> list[GoalCheck]:
    """The stated targets, where the strategies and budgets allow checking."""
    checks = []
    by_key = {(s.noise, s.strategy): s for s in summaries}
    for noise in sorted({s.noise for s in summaries}):
        ours = by_key.get((noise, "freqopt"))
        grid = by_key.get((noise, "grid"))
        if ours is None:
            continue
        if grid is not None and ours.at(2) >= 0 and grid.at(12) >= 0:
            a = float(ours.share_within_2pct[0][ours.at(2)])
            b = float(grid.share_within_2pct[0][grid.at(12)])
            checks.append(
                GoalCheck(
                    name=f"freqopt_k2_matches_grid_k12_noise_{noise:g}",
                    description=(
                        "freqopt with 2 experiments per model has at least the "
                        "share within 2 % that the full grid has with 12 "
                        f"(noise {noise:g})"
                    ),
                    passed=bool(a >= b - 1e-12),
                    measured={"freqopt_k2": a, "grid_k12": b},
                )
            )
        if ours.at(3) >= 0:
            share = np.nan_to_num(ours.share_within_5pct[0], nan=-1.0)
            reached = [k for k, x in zip(ours.k, share, strict=True) if x >= 0.9]
            first = float(min(reached)) if reached else float("nan")
            checks.append(
                GoalCheck(
                    name=f"freqopt_90pct_within_5pct_by_k3_noise_{noise:g}",
                    description=(
                        "freqopt has >= 90 % of models within 5 % regret with at "
                        f"most 3 experiments per model (noise {noise:g})"
                    ),
                    passed=bool(reached and min(reached) <= 3),
                    measured={
                        "share_k3": float(share[ours.at(3)]),
                        "first_k_at_90pct": first,
                    },
                )
            )
    return checks


def _row(s: StrategySummary, i: int) -> SummaryRow:
    """The summary table row of a strategy at column ``i``."""
    return SummaryRow(
        noise=s.noise,
        strategy=s.strategy,
        k=float(s.k[i]),
        share_within_2pct=float(s.share_within_2pct[0][i]),
        share_within_2pct_low=float(s.share_within_2pct[1][i]),
        share_within_2pct_high=float(s.share_within_2pct[2][i]),
        share_within_5pct=float(s.share_within_5pct[0][i]),
        share_within_5pct_low=float(s.share_within_5pct[1][i]),
        share_within_5pct_high=float(s.share_within_5pct[2][i]),
        median_regret=float(s.median_regret[0][i]),
        compute_cost=float(s.compute_cost[0][i]),
        seconds_per_decision=s.seconds_per_decision[0],
    )


def _num(x: float | None) -> float | None:
    """A JSON-safe number: NaN and infinities become None."""
    if x is None or not np.isfinite(x):
        return None
    return float(round(float(x), 6))


def _nums(values: np.ndarray) -> list[float | None]:
    return [_num(float(x)) for x in np.asarray(values).ravel()]


def _row_dict(row: SummaryRow) -> dict[str, Any]:
    return {
        name: (_num(value) if isinstance(value, float) else value)
        for name, value in row.__dict__.items()
    }


def _triple(t: tuple[Any, Any, Any]) -> dict[str, Any]:
    mean, low, high = t
    if np.ndim(mean) == 0:
        return {"mean": _num(mean), "low": _num(low), "high": _num(high)}
    return {"mean": _nums(mean), "low": _nums(low), "high": _nums(high)}


def _summary_dict(s: StrategySummary) -> dict[str, Any]:
    return {
        "noise": _num(s.noise),
        "strategy": s.strategy,
        "n_seeds": s.n_seeds,
        "k": _nums(s.k),
        "share_within_2pct": _triple(s.share_within_2pct),
        "share_within_5pct": _triple(s.share_within_5pct),
        "median_regret": _triple(s.median_regret),
        "experiments_per_model": _triple(s.experiments_per_model),
        "compute_cost": _triple(s.compute_cost),
        "seconds_per_decision": _triple(s.seconds_per_decision),
        "k_to_share": {
            key: {t: _num(v) for t, v in targets.items()}
            for key, targets in s.k_to_share.items()
        },
    }


def _run_dict(r: RunRecord) -> dict[str, Any]:
    m = r.metrics
    return {
        "noise": _num(r.noise),
        "seed": r.seed,
        "strategy": m.strategy,
        "n_experiments": r.n_experiments,
        "seconds": _num(r.seconds),
        "seconds_per_decision": _num(m.seconds_per_decision),
        "share_within_2pct": _nums(m.share_within_2pct),
        "share_within_5pct": _nums(m.share_within_5pct),
        "experiments_per_model": _nums(m.experiments_per_model),
        "compute_cost": _nums(m.compute_cost),
        "notes": list(r.notes),
    }


def _write(result: BenchmarkResult, out_dir: Path) -> tuple[Path, ...]:
    """Write plots and ``benchmark.json``; return the files written."""
    from freqopt.bench.plots import write_plots

    out_dir.mkdir(parents=True, exist_ok=True)
    files = write_plots(result, out_dir)
    path = out_dir / "benchmark.json"
    document = replace(result, files=(*files, path)).to_dict()
    path.write_text(json.dumps(document, indent=2, allow_nan=False) + "\n")
    return (*files, path)


def benchmark(
    fleet: str | TruthFleet = "sim",
    strategies: Sequence[str] | None = None,
    n_seeds: int = 5,
    budget: float = 12.0,
    noise: float | Sequence[float] | None = None,
    quick: bool = False,
    out_dir: str | Path = "benchmark",
    progress: Callable[[ProgressEvent], None] | None = None,
    *,
    n_jobs: int = 1,
    seed: int = 0,
    budget_caps: Mapping[str, float] | None = None,
    oracle_factory: Callable[[TruthFleet], Oracle] | None = None,
) -> BenchmarkResult:
    """The ``freqopt benchmark`` command as one call.

    Default: 120 simulated models in 6 clusters, 12 intervals, noise 5 % and
    20 % of each model's gain range, 5 seeds, 12 experiments per model, all
    strategies (``skopt`` and ``independent_gp`` capped at 4 per model, see
    :data:`DEFAULT_BUDGET_CAPS`). ``quick`` shrinks this to 30 models in 3
    clusters, 2 seeds and 4 experiments per model, at noise 20 % unless
    ``noise`` is given.

    Args:
        fleet: ``"sim"`` or a fleet with known truth.
        strategies: Names from :data:`STRATEGY_NAMES`; None runs all.
        n_seeds: Seeds ``seed, seed + 1, ...``.
        budget: Experiments per model on average.
        noise: One or more noise levels; None for the default levels.
        quick: Run the small setting (for CI).
        out_dir: Where ``benchmark.json`` and the plots go.
        progress: Called after every finished run.
        n_jobs: Parallel worker processes.
        seed: First seed.
        budget_caps: Strategy name -> lower budget per model; None for
            :data:`DEFAULT_BUDGET_CAPS`.
        oracle_factory: Builds the oracle of a given fleet; None for the
            simulator's (``fleet="real"`` uses the replay oracle).

    Returns:
        The result.

    Raises:
        DataError: If an option is out of range or a name is unknown.
    """
    names = list(strategies) if strategies else list(STRATEGY_NAMES)
    if isinstance(noise, (int, float)):
        noise = [float(noise)]
    if n_seeds < 1:
        raise DataError(f"--seeds must be >= 1; got {n_seeds}.")

    source: TruthFleet | FleetFactory
    if isinstance(fleet, TruthFleet):
        source = fleet
    elif fleet == "sim":
        source = SimFleetFactory(30, 3) if quick else SimFleetFactory()
    elif fleet == "real":
        from freqopt.replay import build_real_fleet

        real = build_real_fleet(n_jobs=max(n_jobs, 1), seed=seed)
        source, oracle_factory, noise = real.truth, _RealOracles(real), None
    else:
        raise DataError(
            f"unknown fleet {fleet!r}; choose 'sim', 'real' or pass a fleet with "
            "known truth."
        )

    if quick:
        n_seeds = min(n_seeds, 2)
        budget = min(budget, 4.0)
        noise = noise if noise is not None else [0.2]
    return run_benchmark(
        source,
        names,
        seeds=list(range(seed, seed + n_seeds)),
        budget_per_model=budget,
        noises=noise,
        out_dir=out_dir,
        progress=progress,
        oracle_factory=oracle_factory,
        n_jobs=n_jobs,
        budget_caps=DEFAULT_BUDGET_CAPS if budget_caps is None else budget_caps,
        settings={
            "fleet": fleet if isinstance(fleet, str) else "custom",
            "quick": quick,
        },
    )


class _RealOracles:
    """Picklable oracle factory of the real-data replay fleet."""

    def __init__(self, real: Any) -> None:
        self.real = real

    def __call__(self, fleet: TruthFleet) -> Oracle:
        return self.real.oracle()


def format_table(result: BenchmarkResult, k_values: Sequence[float] = TABLE_K) -> str:
    """The summary table as plain text, one line per row.

    Args:
        result: Benchmark result.
        k_values: Experiments per model to show (those scored).

    Returns:
        The table with a header line; shares are percentages with their 95 %
        interval, compute is money spent by the experiments, time is
        milliseconds per decision.
    """
    header = (
        f"{'noise':>6} {'strategy':<22} {'k':>4} {'within 2 %':>18} "
        f"{'within 5 %':>18} {'med regret':>10} {'compute':>11} {'ms/dec':>8}"
    )
    lines = [header, "-" * len(header)]
    for r in result.table(k_values):
        share2 = _percent(
            r.share_within_2pct, r.share_within_2pct_low, r.share_within_2pct_high
        )
        share5 = _percent(
            r.share_within_5pct, r.share_within_5pct_low, r.share_within_5pct_high
        )
        lines.append(
            f"{r.noise:>6g} {r.strategy:<22} {r.k:>4g} {share2:>18} {share5:>18} "
            f"{r.median_regret:>10.3f} {r.compute_cost:>11.4g} "
            f"{1e3 * r.seconds_per_decision:>8.2f}"
        )
    return "\n".join(lines)


def _percent(mean: float, low: float, high: float) -> str:
    return f"{100 * mean:5.1f} [{100 * low:3.0f},{100 * high:4.0f}]"
