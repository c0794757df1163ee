"""A seeded fleet of simulated models with known gain curves, value and cost.

Models come in clusters. Each cluster is an archetype (architecture, goal,
surface, core feature groups, typical size and traffic, drift speeds, and
whether very frequent retraining is unstable); its models scatter around it.
The scatter is tied to the metadata, so models that look alike also drift
alike, which is what sharing within a cluster exploits:

- latency (age of the newest example at go-live) = feature freshness lag +
  training wall time, and training time grows with FLOPs per example x
  examples per day;
- fast drift amplitude grows with traffic: ``(examples_per_day / cluster
  median) ** 0.3``;
- instability grows with size: ``(n_parameters / cluster median) ** 0.4``;
- each parameter also has a small idiosyncratic factor (lognormal, sd 0.15)
  that metadata does not reveal.

Gain curves follow :mod:`freqopt.sim.curves`. Cost of one retrain is
proportional to training compute (parameters x examples) plus a fixed
pipeline charge; ``cost_per_day = cost_per_retrain * 24 / interval_hours +
overhead_per_day``. A model cannot be retrained more often than one training
run takes, which gives per-model ``allowed`` masks.

Value (money per gain point per day) is ``revenue_share`` times a
cluster-wide price of a gain point times a lognormal factor (sd 0.2). The
cluster price is set so that the cluster's typical model has its ROI optimum at
a target interval; targets are spread log-uniformly between the third-shortest
and second-longest interval across clusters, so optima fall at different
intervals across the fleet and rarely at the ends.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from freqopt.bench.fleet import TruthFleet
from freqopt.errors import DataError
from freqopt.sim.curves import CurveParams, gain_curve

__all__ = [
    "DEFAULT_INTERVALS_HOURS",
    "SimulatedFleet",
    "simulate_fleet",
    "truth_frame",
    "write_fleet_csv",
    "write_truth",
]

DEFAULT_INTERVALS_HOURS = (0.25, 0.5, 1, 2, 4, 6, 12, 24, 48, 72, 168, 336)

_ARCHITECTURES = (
    "dlrm",
    "dcn_v2",
    "two_tower",
    "mmoe",
    "din",
    "wide_deep",
    "transformer_seq",
    "gbdt",
)
_GOALS = ("ctr", "cvr", "multi_task")
_SURFACES = ("feed", "search", "display_ads", "video", "shopping", "notifications")
_FEATURE_GROUPS = (
    "user_profile",
    "user_history",
    "item_content",
    "context",
    "ad_creative",
    "query_text",
    "social_graph",
    "realtime_counters",
    "geo",
    "device",
    "price",
    "video_stats",
)

# Training throughput and prices of the cost model.
_FLOPS_PER_GPU_HOUR = 1.8e16
_GPUS_PER_JOB = 8
_PRICE_PER_GPU_HOUR = 2.5
_FIXED_COST_PER_RETRAIN = 0.5
_OVERHEAD_PER_DAY = 1.0
_SCATTER = 0.25


@dataclass(frozen=True)
class SimulatedFleet(TruthFleet):
    """A :class:`~freqopt.bench.fleet.TruthFleet` that also keeps how it was made.

    Attributes:
        curve_params: Hidden gain-curve parameters of every model.
        noise: Observation noise as a fraction of each model's gain range.
        seed: Seed the fleet was drawn with.
    """

    curve_params: CurveParams
    noise: float
    seed: int


@dataclass(frozen=True)
class _Archetype:
    """What the models of one cluster share."""

    architecture: str
    goal: str
    surface: str
    core_groups: tuple[str, ...]
    log10_parameters: float
    flops_ratio: float
    log10_examples: float
    freshness_lag_hours: float
    revenue_share: float
    fast_amplitude: float
    fast_timescale_hours: float
    slow_amplitude: float
    slow_timescale_hours: float
    instability_amplitude: float
    instability_timescale_hours: float
    target_interval_hours: float


def simulate_fleet(
    n_models: int = 120,
    n_clusters: int = 6,
    intervals_hours: tuple[float, ...] = DEFAULT_INTERVALS_HOURS,
    noise: float = 0.05,
    seed: int = 0,
    *,
    baseline_interval_hours: float | None = None,
) -> SimulatedFleet:
    """Draw a fleet of models in clusters with known gain curves.

    Args:
        n_models: Number of models, at least ``n_clusters``.
        n_clusters: Number of generating clusters, at least 1.
        intervals_hours: Candidate intervals in hours, ascending, at least 3.
        noise: Standard deviation of one experiment's gain as a fraction of
            the model's true gain range over its allowed intervals, >= 0.
        seed: Seed; the same arguments give the same fleet.
        baseline_interval_hours: Interval of the stale baseline that gains are
            measured against; default twice the longest interval.

    Returns:
        The fleet, with metadata in fleet-file form (see module docstring).

    Raises:
        DataError: If an argument is out of range.
    """
    intervals = _check_arguments(n_models, n_clusters, intervals_hours, noise)
    baseline = float(baseline_interval_hours or 2.0 * intervals[-1])
    rng = np.random.default_rng(seed)

    targets = _target_intervals(rng, n_clusters, intervals)
    n_unstable = max(1, round(n_clusters / 3)) if n_clusters > 1 else 0
    unstable = rng.permutation(n_clusters) < n_unstable
    architectures = rng.permutation(len(_ARCHITECTURES))
    archetypes = [
        _draw_archetype(
            rng,
            _ARCHITECTURES[architectures[c % len(_ARCHITECTURES)]],
            float(targets[c]),
            bool(unstable[c]),
        )
        for c in range(n_clusters)
    ]
    cluster = rng.permutation(_cluster_of_models(rng, n_models, n_clusters))

    columns, params = _draw_models(rng, archetypes, cluster, baseline)
    price = _cluster_prices(archetypes, intervals, baseline)
    value_factor = rng.lognormal(0.0, 0.2, n_models)
    columns["value"] = np.round(
        price[cluster] * columns["revenue_share"] * value_factor, 4
    )

    metadata = _metadata_frame(columns)
    return _assemble(metadata, params, intervals, cluster, noise, seed)


def _check_arguments(
    n_models: int,
    n_clusters: int,
    intervals_hours: tuple[float, ...],
    noise: float,
) -> np.ndarray:
    """Validate the arguments of :func:`simulate_fleet`; return the grid."""
    if n_clusters < 1 or n_models < n_clusters:
        raise DataError(
            f"simulate_fleet needs n_clusters >= 1 and n_models >= n_clusters; "
            f"got n_models={n_models}, n_clusters={n_clusters}. "
            "Raise n_models or lower n_clusters."
        )
    intervals = np.asarray(intervals_hours, dtype=np.float64)
    if intervals.ndim != 1 or intervals.size < 3:
        raise DataError(
            f"intervals_hours must list at least 3 intervals; got {intervals_hours!r}."
        )
    if np.any(intervals <= 0) or np.any(np.diff(intervals) <= 0):
        raise DataError(
            "intervals_hours must be positive and strictly ascending; "
            f"got {intervals_hours!r}. Sort them and drop duplicates."
        )
    if not noise >= 0:
        raise DataError(f"noise must be >= 0 (a fraction of gain range); got {noise}.")
    return intervals


def _target_intervals(
    rng: np.random.Generator, n_clusters: int, intervals: np.ndarray
) -> np.ndarray:
    """ROI-optimum targets, one per cluster, spread log-uniformly in strata."""
    low = np.log(intervals[1])
    high = np.log(intervals[max(intervals.size - 2, 0)])
    strata = rng.permutation(n_clusters) + rng.uniform(0.15, 0.85, n_clusters)
    return np.exp(low + strata / n_clusters * (high - low))


def _draw_archetype(
    rng: np.random.Generator, architecture: str, target: float, unstable: bool
) -> _Archetype:
    """Draw one cluster's shared traits and curve centres."""
    n_core = int(rng.integers(3, 6))
    core = rng.choice(len(_FEATURE_GROUPS), size=n_core, replace=False)
    fast_timescale = float(np.exp(rng.uniform(np.log(2.0), np.log(48.0))))
    fast_amplitude = float(np.exp(rng.uniform(np.log(0.3), np.log(1.5))))
    slow_amplitude = float(np.exp(rng.uniform(np.log(0.5), np.log(3.0))))

    instability = rng.uniform(0.3, 0.8) * (fast_amplitude + slow_amplitude)
    return _Archetype(
        architecture=architecture,
        goal=str(rng.choice(_GOALS)),
        surface=str(rng.choice(_SURFACES)),
        core_groups=tuple(sorted(_FEATURE_GROUPS[i] for i in core)),
        log10_parameters=float(rng.uniform(6.5, 9.5)),
        flops_ratio=float(np.exp(rng.uniform(np.log(0.01), np.log(0.3)))),
        log10_examples=float(rng.uniform(6.5, 9.3)),
        freshness_lag_hours=float(np.exp(rng.uniform(np.log(0.05), np.log(6.0)))),
        revenue_share=float(np.exp(rng.uniform(np.log(0.002), np.log(0.05)))),
        fast_amplitude=fast_amplitude,
        fast_timescale_hours=fast_timescale,
        slow_amplitude=slow_amplitude,
        slow_timescale_hours=min(
            fast_timescale * float(np.exp(rng.uniform(np.log(8), np.log(30)))),
            2000.0,
        ),
        instability_amplitude=float(instability) if unstable else 0.0,
        instability_timescale_hours=float(rng.uniform(0.5, 3.0)),
        target_interval_hours=target,
    )


def _cluster_of_models(
    rng: np.random.Generator, n_models: int, n_clusters: int
) -> np.ndarray:
    """Cluster index of each model; sizes vary, every cluster is non-empty."""
    weights = rng.dirichlet(np.full(n_clusters, 8.0))
    extra = n_models - n_clusters
    sizes = np.ones(n_clusters, dtype=np.int64) + np.floor(weights * extra).astype(
        np.int64
    )
    remainder = n_models - int(sizes.sum())
    order = np.argsort(-(weights * extra - np.floor(weights * extra)))
    sizes[order[:remainder]] += 1
    return np.repeat(np.arange(n_clusters), sizes)


def _training(
    flops_per_example: np.ndarray, examples_per_day: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Training wall time (hours) and compute cost of one retrain (money).

    One retrain trains on one day of examples, forward and backward
    (3 x FLOPs per example), on a fixed-size GPU job.
    """
    gpu_hours = 3.0 * flops_per_example * examples_per_day / _FLOPS_PER_GPU_HOUR
    train_hours = 0.05 + gpu_hours / _GPUS_PER_JOB
    cost = _FIXED_COST_PER_RETRAIN + _PRICE_PER_GPU_HOUR * gpu_hours
    return train_hours, cost


def _draw_models(
    rng: np.random.Generator,
    archetypes: list[_Archetype],
    cluster: np.ndarray,
    baseline: float,
) -> tuple[dict[str, np.ndarray], CurveParams]:
    """Draw every model's metadata columns and hidden curve parameters."""
    n_models = cluster.size

    def centre(name: str) -> np.ndarray:
        return np.array([getattr(a, name) for a in archetypes])[cluster]

    def scatter(sd: float = _SCATTER) -> np.ndarray:
        return rng.lognormal(0.0, sd, n_models)

    # Size and traffic scatter around the cluster centre (log10 sd 0.25).
    z_parameters = rng.normal(0.0, 1.0, n_models)
    z_examples = rng.normal(0.0, 1.0, n_models)
    n_parameters = np.round(10 ** (centre("log10_parameters") + 0.25 * z_parameters))
    examples_per_day = np.round(10 ** (centre("log10_examples") + 0.25 * z_examples))
    flops = n_parameters * centre("flops_ratio") * scatter(0.1)
    flops_per_example = _round_significant(flops, 4)
    lag = np.round(centre("freshness_lag_hours") * scatter(0.3), 3)
    share = np.round(np.clip(centre("revenue_share") * scatter(0.4), 1e-5, 1.0), 6)

    train_hours, cost = _training(flops_per_example, examples_per_day)
    cost_per_retrain = np.round(cost * scatter(0.1), 4)

    columns: dict[str, np.ndarray] = {
        "n_parameters": n_parameters.astype(np.int64),
        "flops_per_example": flops_per_example,
        "examples_per_day": examples_per_day.astype(np.int64),
        "cost_per_retrain": cost_per_retrain,
        "architecture": centre("architecture"),
        "goal": centre("goal"),
        "surface": _with_strays(rng, centre("surface"), _SURFACES, 0.1),
        "feature_groups": _feature_groups(rng, archetypes, cluster),
        "revenue_share": share,
        "feature_freshness_lag_hours": lag,
        "train_hours": train_hours,
    }

    size_ratio = 10 ** (0.25 * z_parameters)
    traffic_ratio = 10 ** (0.25 * z_examples)
    params = CurveParams(
        latency_hours=lag + train_hours,
        fast_amplitude=centre("fast_amplitude") * traffic_ratio**0.3 * scatter(),
        fast_timescale_hours=centre("fast_timescale_hours") * scatter(),
        slow_amplitude=centre("slow_amplitude") * scatter(),
        slow_timescale_hours=centre("slow_timescale_hours") * scatter(),
        instability_amplitude=(
            centre("instability_amplitude") * size_ratio**0.4 * scatter()
        ),
        instability_timescale_hours=(
            centre("instability_timescale_hours") * scatter(0.1)
        ),
        baseline_interval_hours=baseline,
    )
    return columns, params


def _round_significant(x: np.ndarray, digits: int) -> np.ndarray:
    """Round positive numbers to ``digits`` significant digits."""
    scale = 10.0 ** (np.floor(np.log10(x)) - digits + 1)
    return np.round(x / scale) * scale


def _with_strays(
    rng: np.random.Generator,
    labels: np.ndarray,
    choices: tuple[str, ...],
    rate: float,
) -> np.ndarray:
    """Replace a fraction ``rate`` of labels with random choices."""
    labels = labels.astype(object).copy()
    stray = rng.uniform(size=labels.size) < rate
    labels[stray] = rng.choice(choices, size=int(stray.sum()))
    return labels


def _feature_groups(
    rng: np.random.Generator, archetypes: list[_Archetype], cluster: np.ndarray
) -> np.ndarray:
    """``;``-joined feature groups: the cluster core (p 0.9) plus strays (p 0.08)."""
    groups = []
    for c in cluster:
        core = set(archetypes[c].core_groups)
        keep = [
            g for g in _FEATURE_GROUPS if rng.uniform() < (0.9 if g in core else 0.08)
        ]
        groups.append(";".join(keep or sorted(core)[:1]))
    return np.array(groups, dtype=object)


def _cluster_prices(
    archetypes: list[_Archetype], intervals: np.ndarray, baseline: float
) -> np.ndarray:
    """Value per unit of revenue share, per cluster.

    Chosen so that the cluster's typical model (every trait at its centre)
    has its ROI optimum, over a fine log grid of intervals, as close as
    possible to the cluster's target interval.
    """
    fine = np.geomspace(intervals[0], intervals[-1], 400)
    prices = np.empty(len(archetypes))
    for c, a in enumerate(archetypes):
        flops = 10**a.log10_parameters * a.flops_ratio
        train_hours, cost = _training(
            np.array([flops]), np.array([10**a.log10_examples])
        )
        params = CurveParams(
            latency_hours=a.freshness_lag_hours + train_hours,
            fast_amplitude=np.array([a.fast_amplitude]),
            fast_timescale_hours=np.array([a.fast_timescale_hours]),
            slow_amplitude=np.array([a.slow_amplitude]),
            slow_timescale_hours=np.array([a.slow_timescale_hours]),
            instability_amplitude=np.array([a.instability_amplitude]),
            instability_timescale_hours=np.array([a.instability_timescale_hours]),
            baseline_interval_hours=baseline,
        )
        gain = gain_curve(params, fine)[0]
        anchor = 24.0 * cost[0] / (a.target_interval_hours * np.ptp(gain))
        values = anchor * np.geomspace(1e-3, 1e4, 800)
        roi = values[:, None] * gain[None, :] - 24.0 * cost[0] / fine[None, :]
        best = fine[np.argmax(roi, axis=1)]
        miss = np.abs(np.log(best) - np.log(a.target_interval_hours))
        prices[c] = values[int(np.argmin(miss))] / a.revenue_share
    return prices


def _metadata_frame(columns: dict[str, np.ndarray]) -> pd.DataFrame:
    """Fleet-file metadata, one row per model, in the documented column order."""
    n_models = columns["value"].size
    frame = pd.DataFrame(
        {
            "model_id": [f"model_{i:04d}" for i in range(n_models)],
            "n_parameters": columns["n_parameters"],
            "flops_per_example": columns["flops_per_example"],
            "examples_per_day": columns["examples_per_day"],
            "cost_per_retrain": columns["cost_per_retrain"],
            "architecture": columns["architecture"].astype(str),
            "goal": columns["goal"].astype(str),
            "surface": columns["surface"].astype(str),
            "feature_groups": columns["feature_groups"].astype(str),
            "revenue_share": columns["revenue_share"],
            "feature_freshness_lag_hours": columns["feature_freshness_lag_hours"],
            "value": columns["value"],
        }
    )
    return frame.assign(_train_hours=columns["train_hours"])


def _assemble(
    metadata: pd.DataFrame,
    params: CurveParams,
    intervals: np.ndarray,
    cluster: np.ndarray,
    noise: float,
    seed: int,
) -> SimulatedFleet:
    """Compute the truth from the (rounded) metadata and build the fleet."""
    train_hours = metadata.pop("_train_hours").to_numpy()
    allowed = intervals[None, :] >= train_hours[:, None]
    allowed[:, -1] = True

    gain = np.where(allowed, gain_curve(params, intervals), np.nan)
    cost_per_retrain = metadata["cost_per_retrain"].to_numpy(dtype=np.float64)
    cost_per_day = cost_per_retrain[:, None] * 24.0 / intervals[None, :]
    cost_per_day = cost_per_day + _OVERHEAD_PER_DAY

    gain_range = np.nanmax(gain, axis=1) - np.nanmin(gain, axis=1)
    return SimulatedFleet(
        metadata=metadata,
        intervals_hours=intervals,
        allowed=allowed,
        true_gain=gain,
        cost_per_day=cost_per_day,
        value=metadata["value"].to_numpy(dtype=np.float64),
        noise_sd=noise * gain_range,
        true_cluster=cluster.astype(np.int64),
        curve_params=params,
        noise=float(noise),
        seed=int(seed),
    )


def truth_frame(fleet: TruthFleet) -> pd.DataFrame:
    """The truth in long form: one row per model and allowed interval.

    Args:
        fleet: Any fleet with known truth.

    Returns:
        Frame with columns ``model_id``, ``interval_hours``, ``true_gain``,
        ``cost_per_day``, ``true_roi``, ``is_optimum`` (bool), ``true_cluster``;
        shape (n_allowed_pairs, 7).
    """
    roi = fleet.true_roi
    best = np.argmax(roi, axis=1)
    rows, cols = np.nonzero(fleet.allowed)
    return pd.DataFrame(
        {
            "model_id": np.asarray(fleet.model_ids, dtype=object)[rows],
            "interval_hours": fleet.intervals_hours[cols],
            "true_gain": fleet.true_gain[rows, cols],
            "cost_per_day": fleet.cost_per_day[rows, cols],
            "true_roi": roi[rows, cols],
            "is_optimum": best[rows] == cols,
            "true_cluster": fleet.true_cluster[rows],
        }
    )


def write_fleet_csv(fleet: TruthFleet, path: str | Path) -> Path:
    """Write the fleet's metadata as a fleet file (what a registry would load).

    Args:
        fleet: The fleet.
        path: Destination CSV file; parent directories are created.

    Returns:
        The path written.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fleet.metadata.to_csv(path, index=False)
    return path


def write_truth(fleet: TruthFleet, path: str | Path) -> Path:
    """Write the hidden truth: gains, costs, ROI and optimum per model.

    A ``.csv`` path gets :func:`truth_frame`. A ``.json`` path gets one
    document: ``intervals_hours`` and ``models``, a list with per model
    ``model_id``, ``true_cluster``, ``allowed``, ``true_gain``,
    ``cost_per_day``, ``true_roi`` (null where not allowed),
    ``best_interval_hours``, ``best_roi``, ``noise_sd`` and, for a simulated
    fleet, ``curve_params``.

    Args:
        fleet: The fleet.
        path: Destination ending in ``.csv`` or ``.json``.

    Returns:
        The path written.

    Raises:
        DataError: If the suffix is neither ``.csv`` nor ``.json``.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".json"):
        raise DataError(
            f"truth file {str(path)!r} must end in .csv or .json; got {suffix!r}."
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".csv":
        truth_frame(fleet).to_csv(path, index=False)
    else:
        import json

        path.write_text(json.dumps(_truth_document(fleet), indent=2) + "\n")
    return path


def _truth_document(fleet: TruthFleet) -> dict[str, object]:
    """JSON-ready truth of every model (see :func:`write_truth`)."""
    roi = fleet.true_roi
    best = np.argmax(roi, axis=1)
    params = getattr(fleet, "curve_params", None)

    def listed(row: np.ndarray, mask: np.ndarray) -> list[float | None]:
        return [float(x) if ok else None for x, ok in zip(row, mask, strict=True)]

    models = []
    for m, model_id in enumerate(fleet.model_ids):
        entry: dict[str, object] = {
            "model_id": model_id,
            "true_cluster": int(fleet.true_cluster[m]),
            "allowed": [bool(x) for x in fleet.allowed[m]],
            "true_gain": listed(fleet.true_gain[m], fleet.allowed[m]),
            "cost_per_day": [float(x) for x in fleet.cost_per_day[m]],
            "true_roi": listed(roi[m], fleet.allowed[m]),
            "best_interval_hours": float(fleet.intervals_hours[best[m]]),
            "best_roi": float(roi[m, best[m]]),
            "noise_sd": float(fleet.noise_sd[m]),
        }
        if params is not None:
            entry["curve_params"] = {
                name: float(values[m]) for name, values in params.to_columns().items()
            }
        models.append(entry)
    return {
        "intervals_hours": [float(x) for x in fleet.intervals_hours],
        "models": models,
    }
