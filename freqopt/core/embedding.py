"""Turn model metadata into numeric vectors for clustering.

:func:`fit_embedding` reads a metadata frame (one row per model) and returns
an :class:`Embedding`: the matrix, a fitted :class:`MetadataEmbedder` that
embeds new models the same way later, and an :class:`EmbeddingReport` that
says what was done to each column.

What happens to each column:

- numbers are standardized; sizes, counts, FLOPs, money and other
  heavy-tailed positives are log-scaled first (by name or by skew; the user
  can force either way);
- categories are one-hot encoded; a category unseen at fit time embeds as
  all zeros in that column's block instead of failing;
- set-valued text such as ``"user;ad;context"`` is multi-hot encoded;
- missing numbers take the column median and gain a 0/1 missing indicator;
  missing categories become a ``"(missing)"`` category; missing sets are
  empty;
- constant and near-constant columns (and text unique to every model) are
  dropped with a :class:`~freqopt.errors.DataWarning` naming them;
- each column's dimensions may be weighted, and the result optionally
  reduced with PCA.

``model_id`` and ``current_interval_hours`` are never embedded: one names the
model, the other is what freqopt decides.
"""

from __future__ import annotations

import logging
import warnings
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.decomposition import PCA
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder
from threadpoolctl import threadpool_limits

from freqopt.core._emb_columns import (
    CATEGORICAL,
    DEFAULT_EXCLUDE,
    MISSING_CATEGORY,
    MULTI_HOT,
    NUMERIC,
    as_categories,
    as_numbers,
    as_sets,
    dominant_share,
    infer_kinds,
    read_columns,
    row_names,
    wants_log,
)
from freqopt.core._emb_encoders import DimWeights, MultiHotEncoder, NumericEncoder
from freqopt.errors import DataError, DataWarning

__all__ = [
    "DEFAULT_EXCLUDE",
    "DroppedColumn",
    "EmbeddedColumn",
    "Embedding",
    "EmbeddingReport",
    "MetadataEmbedder",
    "TransformNotes",
    "fit_embedding",
]

logger = logging.getLogger(__name__)

PcaOption = int | Literal["auto", "off"] | None

# Text columns with at least this many values, all different, are identifiers.
_MIN_ROWS_FOR_IDENTIFIER = 20


@dataclass(frozen=True)
class EmbeddedColumn:
    """How one metadata column entered the embedding.

    Attributes:
        name: Column name.
        kind: ``"numeric"``, ``"categorical"`` or ``"multi_hot"``.
        log_scaled: Whether the numbers were log-scaled before scaling.
        n_missing: Models without a value in this column.
        n_dims: Embedding dimensions made from the column (before PCA).
        weight: User weight applied to those dimensions.
    """

    name: str
    kind: str
    log_scaled: bool
    n_missing: int
    n_dims: int
    weight: float


@dataclass(frozen=True)
class DroppedColumn:
    """A metadata column (or one label of a set column) left out.

    Attributes:
        name: Column name, or ``column:label`` for one label of a set column.
        reason: ``"constant"``, ``"near-constant"`` or ``"identifier"``.
        detail: What was seen, e.g. ``"'us' in 100.0 % of models"``.
    """

    name: str
    reason: str
    detail: str


@dataclass(frozen=True)
class EmbeddingReport:
    """What the embedding did to the metadata.

    Attributes:
        n_models: Models embedded.
        columns: Columns used, in embedding order.
        dropped: Columns or labels dropped for carrying no information.
        excluded: Columns left out by default or by the user.
        feature_names: Name of each dimension before PCA, length n_features.
        n_dims: Dimensions of the final embedding (after PCA when used).
        pca_components: Number of PCA components, None without PCA.
        explained_variance_ratio: Share of variance each PCA component
            explains, empty without PCA.
    """

    n_models: int
    columns: tuple[EmbeddedColumn, ...]
    dropped: tuple[DroppedColumn, ...]
    excluded: tuple[str, ...]
    feature_names: tuple[str, ...]
    n_dims: int
    pca_components: int | None = None
    explained_variance_ratio: tuple[float, ...] = ()

    @property
    def n_features(self) -> int:
        """Dimensions before PCA."""
        return len(self.feature_names)

    @property
    def explained_variance(self) -> float | None:
        """Total share of variance kept by PCA, None without PCA."""
        if self.pca_components is None:
            return None
        return float(sum(self.explained_variance_ratio))

    @property
    def kinds(self) -> dict[str, str]:
        """Column name to kind, for :func:`describe_clusters`."""
        return {column.name: column.kind for column in self.columns}

    @property
    def log_scaled(self) -> tuple[str, ...]:
        """Names of the log-scaled columns."""
        return tuple(column.name for column in self.columns if column.log_scaled)

    @property
    def missing(self) -> dict[str, int]:
        """Column name to number of models missing a value, where any are."""
        return {c.name: c.n_missing for c in self.columns if c.n_missing}

    @property
    def dropped_constant(self) -> tuple[str, ...]:
        """Names of columns or labels dropped as constant or near-constant."""
        return tuple(d.name for d in self.dropped if d.reason != "identifier")

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready summary with stable snake_case keys."""
        return {
            "n_models": self.n_models,
            "n_features": self.n_features,
            "n_dims": self.n_dims,
            "columns": [vars(column).copy() for column in self.columns],
            "dropped": [vars(dropped).copy() for dropped in self.dropped],
            "excluded": list(self.excluded),
            "log_scaled": list(self.log_scaled),
            "missing": self.missing,
            "pca_components": self.pca_components,
            "explained_variance_ratio": [
                round(ratio, 6) for ratio in self.explained_variance_ratio
            ],
        }


@dataclass(frozen=True)
class TransformNotes:
    """What a fitted embedder notices about new metadata before embedding it.

    Attributes:
        n_models: Rows in the new metadata.
        missing_columns: Embedded columns the new metadata lacks; every model
            is imputed there.
        extra_columns: Columns of the new metadata the embedder ignores.
        unseen_categories: Column name to categories not seen at fit time
            (they embed as zeros in that column's block).
        n_missing: Column name to number of new models missing a value.
    """

    n_models: int
    missing_columns: tuple[str, ...]
    extra_columns: tuple[str, ...]
    unseen_categories: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    n_missing: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class _ColumnPlan:
    name: str
    kind: str
    log: bool = False
    indicator: bool = False
    labels: tuple[str, ...] = ()
    weight: float = 1.0


class MetadataEmbedder:
    """A fitted, picklable map from metadata rows to embedding vectors.

    Built by :func:`fit_embedding`; keep it (e.g. pickled in the store) to
    embed models registered later without refitting.

    Attributes:
        id_column: Column naming models in error messages.
        sep: Separator of labels in set-valued columns.
        n_threads: Threads the numeric libraries may use in transforms.
        pipeline: The fitted scikit-learn pipeline (columns, weights, PCA),
            None when every column was dropped.
        feature_names: Name of each dimension before PCA.
        n_dims: Dimensions of the output.
    """

    def __init__(
        self,
        plans: tuple[_ColumnPlan, ...],
        pipeline: Pipeline | None,
        *,
        n_dims: int,
        feature_names: tuple[str, ...],
        id_column: str = "model_id",
        sep: str = ";",
        n_threads: int | None = 1,
    ) -> None:
        self._plans = plans
        self.pipeline = pipeline
        self.n_dims = n_dims
        self.feature_names = feature_names
        self.id_column = id_column
        self.sep = sep
        self.n_threads = n_threads

    @property
    def columns(self) -> tuple[str, ...]:
        """Metadata columns the embedder reads, in embedding order."""
        return tuple(plan.name for plan in self._plans)

    def transform(self, metadata: pd.DataFrame) -> np.ndarray:
        """Embed metadata rows the way the fleet was embedded.

        Extra columns are ignored; missing columns are imputed for every
        model (with a warning); unseen categories embed as zeros in their
        column's block.

        Args:
            metadata: One row per model, shape (n_models, n_columns).

        Returns:
            Embedding, float64 array of shape (n_models, n_dims), finite.

        Raises:
            DataError: A numeric column holds text or a non-finite number, or
                a log-scaled column holds a negative number (naming the
                model, the column and the value).
        """
        _check_frame(metadata)
        absent = [plan.name for plan in self._plans if plan.name not in metadata]
        if absent:
            warnings.warn(
                f"metadata lacks column(s) {absent}; every model is imputed "
                "there (median number, '(missing)' category, empty set). Add "
                "the column(s) to embed these models fully.",
                DataWarning,
                stacklevel=2,
            )
        if self.pipeline is None:
            return np.zeros((len(metadata), 0), dtype=np.float64)

        prepared = _prepare(metadata, self._plans, self.id_column, self.sep)
        with threadpool_limits(limits=self.n_threads):
            matrix = self.pipeline.transform(prepared)
        return np.ascontiguousarray(matrix, dtype=np.float64)

    def inspect(self, metadata: pd.DataFrame) -> TransformNotes:
        """Say what :meth:`transform` will meet in new metadata.

        Args:
            metadata: One row per model, shape (n_models, n_columns).

        Returns:
            Missing and extra columns, unseen categories, missing values.
        """
        _check_frame(metadata)
        present = [plan for plan in self._plans if plan.name in metadata]
        unseen: dict[str, tuple[str, ...]] = {}
        n_missing: dict[str, int] = {}
        for plan in present:
            count = int(metadata[plan.name].isna().sum())
            if count:
                n_missing[plan.name] = count
            if plan.kind == CATEGORICAL:
                known = set(self._categories(plan.name))
                values = set(as_categories(metadata[plan.name]).tolist())
                new = sorted(values - known - {MISSING_CATEGORY})
                if new:
                    unseen[plan.name] = tuple(new)

        used = set(self.columns) | {self.id_column}
        return TransformNotes(
            n_models=len(metadata),
            missing_columns=tuple(p.name for p in self._plans if p not in present),
            extra_columns=tuple(str(c) for c in metadata.columns if c not in used),
            unseen_categories=unseen,
            n_missing=n_missing,
        )

    def _categories(self, column: str) -> list[str]:
        assert self.pipeline is not None
        names = [plan.name for plan in self._plans]
        columns_step = self.pipeline.named_steps["columns"]
        encoder = columns_step.named_transformers_[f"c{names.index(column)}"]
        return [str(value) for value in encoder.categories_[0]]


@dataclass(frozen=True, eq=False)
class Embedding:
    """A fleet's embedding and how it was made.

    Attributes:
        model_ids: Model ids in row order, length n_models.
        matrix: Embedding, read-only float64 array (n_models, n_dims), finite.
        embedder: The fitted embedder, for models registered later.
        report: What was done to each column.
    """

    model_ids: tuple[str, ...]
    matrix: np.ndarray
    embedder: MetadataEmbedder
    report: EmbeddingReport


def fit_embedding(
    metadata: pd.DataFrame,
    *,
    exclude: Iterable[str] = (),
    weights: Mapping[str, float] | None = None,
    log_columns: Iterable[str] = (),
    linear_columns: Iterable[str] = (),
    numeric: Iterable[str] = (),
    categorical: Iterable[str] = (),
    multi_hot: Iterable[str] = (),
    sep: str = ";",
    pca: PcaOption = None,
    pca_variance: float = 0.9,
    near_constant_share: float = 0.995,
    max_categories: int = 30,
    id_column: str = "model_id",
    seed: int = 0,
    n_threads: int | None = 1,
) -> Embedding:
    """Embed a fleet's metadata: one numeric vector per model.

    Args:
        metadata: One row per model, shape (n_models, n_columns), with a
            ``model_id`` column (else rows are named by position). Every
            column except ``model_id``, ``current_interval_hours`` and those
            in ``exclude`` is embedded.
        exclude: Further columns to leave out.
        weights: Column name to a non-negative weight multiplying that
            column's dimensions (default 1). Weight 0 excludes the column.
        log_columns: Numeric columns to log-scale whatever their name or
            shape (values must not be negative).
        linear_columns: Numeric columns never to log-scale.
        numeric: Columns to read as numbers whatever their dtype.
        categorical: Columns to read as categories (e.g. integer codes).
        multi_hot: Columns to read as ``sep``-separated sets of labels.
        sep: Separator of labels in set-valued columns.
        pca: PCA on the embedding: None or ``"off"`` for none, an int for
            that many components, ``"auto"`` for the fewest components
            keeping ``pca_variance`` of the variance.
        pca_variance: Share of variance ``"auto"`` keeps, in (0, 1).
        near_constant_share: A column (or set label) whose most common value,
            missing included, covers at least this share of models is
            dropped. In (0.5, 1].
        max_categories: Categories beyond this many per column, the rarest,
            share one "infrequent" dimension.
        id_column: Column holding model ids.
        seed: Seed of the randomized PCA solver on large fleets.
        n_threads: Threads the numeric libraries may use, here and in the
            embedder's later transforms; None leaves their default. One
            thread is fastest on small or shared machines.

    Returns:
        The embedding, the fitted embedder and the report.

    Raises:
        DataError: The metadata is empty, has duplicate model ids, names an
            unknown column in an option, holds text or non-finite values in
            a numeric column, or negative values in a log-scaled column; or
            an option is out of range.

    Warns:
        DataWarning: Columns were dropped as constant, near-constant or
            identifier-like (named in the message and the report); PCA was
            asked for but there is nothing to reduce.

    Notes:
        Missing numbers are imputed with the median of the column after the
        log, so an imputed model sits at the fleet's typical value plus the
        missing indicator. Numbers of a log-scaled column below the smallest
        fitted value divided by e (zero included) embed as that bound.
    """
    weights = dict(weights or {})
    _check_frame(metadata)
    _check_options(metadata, weights, pca, pca_variance, near_constant_share)
    named = (log_columns, linear_columns, numeric, categorical, multi_hot)
    _check_named(metadata, [name for names in named for name in names])
    model_ids = _model_ids(metadata, id_column)

    # Choose the columns and read their values.
    excluded = {*DEFAULT_EXCLUDE, *exclude, id_column}
    excluded |= {name for name, weight in weights.items() if weight == 0}
    columns = [str(c) for c in metadata.columns if c not in excluded]
    kinds = infer_kinds(
        metadata,
        columns,
        numeric=numeric,
        categorical=categorical,
        multi_hot=multi_hot,
        sep=sep,
        id_column=id_column,
    )
    values = read_columns(metadata, kinds, id_column, sep)
    forced = (set(log_columns), set(linear_columns))
    plans, dropped = _plan_columns(
        metadata, kinds, values, weights, forced, near_constant_share, id_column
    )
    if dropped:
        warnings.warn(_dropped_message(dropped), DataWarning, stacklevel=2)

    # Fit the pipeline and embed.
    prepared = _frame_of(values, plans)
    with threadpool_limits(limits=n_threads):
        fitted = _fit_pipeline(
            prepared, plans, len(metadata), pca, pca_variance, max_categories, seed
        )
    pipeline, names, dims, pca_step, matrix = fitted
    matrix.setflags(write=False)

    # Report.
    embedder = MetadataEmbedder(
        plans,
        pipeline,
        n_dims=matrix.shape[1],
        feature_names=names,
        id_column=id_column,
        sep=sep,
        n_threads=n_threads,
    )
    report = _report(metadata, plans, dims, dropped, excluded, names, matrix, pca_step)
    logger.debug(
        "embedded %d models: %d columns, %d features, %d dims",
        len(model_ids),
        len(plans),
        len(names),
        matrix.shape[1],
    )
    return Embedding(model_ids, matrix, embedder, report)


def _check_frame(metadata: object) -> None:
    if not isinstance(metadata, pd.DataFrame):
        raise DataError(
            f"metadata must be a pandas DataFrame, got {type(metadata).__name__}; "
            "read the models file with pandas first."
        )


def _check_options(
    metadata: pd.DataFrame,
    weights: Mapping[str, float],
    pca: object,
    pca_variance: float,
    near_constant_share: float,
) -> None:
    if len(metadata) == 0:
        raise DataError("metadata has no rows; register at least one model.")
    _check_named(metadata, list(weights))
    for name, weight in weights.items():
        if not np.isfinite(weight) or weight < 0:
            raise DataError(
                f"weight of column '{name}' is {weight!r}; weights must be "
                "finite and >= 0 (0 excludes the column)."
            )
    pca_ok = pca in (None, "off", "auto") or (
        isinstance(pca, int | np.integer) and not isinstance(pca, bool) and pca >= 1
    )
    if not pca_ok:
        raise DataError(
            f"pca is {pca!r}; use a positive int (components), 'auto' or 'off'."
        )
    if not 0 < pca_variance < 1:
        raise DataError(f"pca_variance is {pca_variance!r}; use a share in (0, 1).")
    if not 0.5 < near_constant_share <= 1:
        raise DataError(
            f"near_constant_share is {near_constant_share!r}; use a share in "
            "(0.5, 1] (1 drops only constant columns)."
        )


def _check_named(metadata: pd.DataFrame, names: list[str]) -> None:
    unknown = sorted({str(n) for n in names} - {str(c) for c in metadata.columns})
    if unknown:
        raise DataError(
            f"column(s) {unknown} named in the embedding options are not in the "
            f"metadata; columns are {[str(c) for c in metadata.columns]}."
        )


def _model_ids(metadata: pd.DataFrame, id_column: str) -> tuple[str, ...]:
    if id_column not in metadata:
        return tuple(str(i) for i in range(len(metadata)))
    ids = tuple(str(value) for value in metadata[id_column].tolist())
    duplicated = pd.Series(ids).duplicated()
    if duplicated.any():
        first = ids[int(np.flatnonzero(duplicated.to_numpy())[0])]
        raise DataError(
            f"model id '{first}' appears more than once in column '{id_column}' "
            f"({int(duplicated.sum())} duplicate row(s)); keep one row per model."
        )
    return ids


def _plan_columns(
    metadata: pd.DataFrame,
    kinds: Mapping[str, str],
    values: Mapping[str, Any],
    weights: Mapping[str, float],
    forced_log: tuple[set[str], set[str]],
    near_constant_share: float,
    id_column: str,
) -> tuple[tuple[_ColumnPlan, ...], tuple[DroppedColumn, ...]]:
    plans: list[_ColumnPlan] = []
    dropped: list[DroppedColumn] = []
    for name, kind in kinds.items():
        weight = float(weights.get(name, 1.0))
        if kind == MULTI_HOT:
            plan, lost = _plan_sets(values[name], name, weight, near_constant_share)
            plans += [plan] if plan else []
            dropped += lost
            continue

        lost_column = _dropped_if_flat(name, kind, values[name], near_constant_share)
        if lost_column:
            dropped.append(lost_column)
        elif kind == CATEGORICAL:
            plans.append(_ColumnPlan(name, kind, weight=weight))
        else:
            numbers = values[name]
            log = _decide_log(metadata, name, numbers, forced_log, id_column)
            indicator = bool(np.isnan(numbers).any())
            plans.append(
                _ColumnPlan(name, kind, log=log, indicator=indicator, weight=weight)
            )
    return tuple(plans), tuple(dropped)


def _plan_sets(
    sets: list[frozenset[str]], name: str, weight: float, near_constant_share: float
) -> tuple[_ColumnPlan | None, list[DroppedColumn]]:
    counts = Counter(label for members in sets for label in members)
    kept, dropped = [], []
    for label in sorted(counts):
        share = counts[label] / len(sets)
        flat = max(share, 1 - share)
        if flat < near_constant_share:
            kept.append(label)
            continue
        reason = "constant" if flat == 1.0 else "near-constant"
        where = "in" if share >= 0.5 else "absent from"
        detail = f"{where} {100 * flat:.1f} % of models"
        dropped.append(DroppedColumn(f"{name}:{label}", reason, detail))
    if not kept:
        if not counts:
            dropped.append(DroppedColumn(name, "constant", "empty in every model"))
        return None, dropped
    return _ColumnPlan(name, MULTI_HOT, labels=tuple(kept), weight=weight), dropped


def _dropped_if_flat(
    name: str, kind: str, keys: np.ndarray, near_constant_share: float
) -> DroppedColumn | None:
    top, share = dominant_share(keys)
    what = "missing" if top is None else repr(top)
    detail = f"{what} in {100 * share:.1f} % of models"
    if share >= near_constant_share:
        reason = "constant" if share == 1.0 else "near-constant"
        return DroppedColumn(name, reason, detail)

    # Text unique to every model names the model; it cannot group models.
    if kind != CATEGORICAL:
        return None
    present = keys[keys != MISSING_CATEGORY]
    is_identifier = len(present) >= _MIN_ROWS_FOR_IDENTIFIER and len(
        set(present)
    ) == len(present)
    if is_identifier:
        detail = f"{len(present)} different values, one per model"
        return DroppedColumn(name, "identifier", detail)
    return None


def _decide_log(
    metadata: pd.DataFrame,
    name: str,
    values: np.ndarray,
    forced_log: tuple[set[str], set[str]],
    id_column: str,
) -> bool:
    log_columns, linear_columns = forced_log
    if name in linear_columns:
        return False
    if name not in log_columns:
        return wants_log(name, values)

    negative = np.flatnonzero(values < 0)
    if negative.size:
        i = int(negative[0])
        raise DataError(
            f"column '{name}' is asked to be log-scaled, but "
            f"{row_names(metadata, id_column)[i]} has {values[i]!r}; log scaling "
            "needs values >= 0. Fix the value or drop the column from log_columns."
        )
    return True


def _dropped_message(dropped: tuple[DroppedColumn, ...]) -> str:
    parts = [f"'{d.name}' ({d.reason}: {d.detail})" for d in dropped]
    return (
        f"dropped {len(dropped)} metadata column(s) or label(s) that cannot "
        f"tell models apart: {', '.join(parts)}. Nothing to do unless this is "
        "unexpected; exclude them to silence this warning."
    )


def _prepare(
    metadata: pd.DataFrame,
    plans: tuple[_ColumnPlan, ...],
    id_column: str,
    sep: str,
) -> pd.DataFrame:
    """Read new metadata into the frame the fitted pipeline expects."""
    n_models = len(metadata)
    values: dict[str, Any] = {}
    for plan in plans:
        if plan.name in metadata:
            series = metadata[plan.name]
        else:
            series = pd.Series([None] * n_models, dtype=object)
        if plan.kind == NUMERIC:
            values[plan.name] = _numbers(metadata, plan, id_column)
        elif plan.kind == CATEGORICAL:
            values[plan.name] = as_categories(series)
        else:
            values[plan.name] = as_sets(series, sep)
    return _frame_of(values, plans)


def _frame_of(
    values: Mapping[str, Any], plans: tuple[_ColumnPlan, ...]
) -> pd.DataFrame:
    columns = {
        plan.name: pd.Series(
            values[plan.name], dtype=np.float64 if plan.kind == NUMERIC else object
        )
        for plan in plans
    }
    return pd.DataFrame(columns)


def _numbers(metadata: pd.DataFrame, plan: _ColumnPlan, id_column: str) -> np.ndarray:
    if plan.name not in metadata:
        return np.full(len(metadata), np.nan)
    values = as_numbers(metadata, plan.name, id_column=id_column)
    negative = np.flatnonzero(values < 0) if plan.log else np.array([], dtype=int)
    if negative.size:
        i = int(negative[0])
        raise DataError(
            f"column '{plan.name}' is log-scaled and takes values >= 0, but "
            f"{row_names(metadata, id_column)[i]} has {values[i]!r}; fix the value."
        )
    return values


def _fit_pipeline(
    prepared: pd.DataFrame,
    plans: tuple[_ColumnPlan, ...],
    n_models: int,
    pca: PcaOption,
    pca_variance: float,
    max_categories: int,
    seed: int,
) -> tuple[Pipeline | None, tuple[str, ...], tuple[int, ...], PCA | None, np.ndarray]:
    if not plans:
        _warn_no_pca(pca, "every metadata column was dropped", stacklevel=4)
        return None, (), (), None, np.zeros((n_models, 0), dtype=np.float64)

    # One transformer per column, so each column's dimensions are known.
    transformers = [
        (f"c{i}", _encoder(plan, max_categories), [plan.name])
        for i, plan in enumerate(plans)
    ]
    columns = ColumnTransformer(transformers, remainder="drop", sparse_threshold=0.0)
    encoded = columns.fit_transform(prepared)

    names: list[str] = []
    dims: list[int] = []
    weights: list[float] = []
    for i, plan in enumerate(plans):
        encoder = columns.named_transformers_[f"c{i}"]
        plan_names = _feature_names(plan, encoder)
        names += plan_names
        dims.append(len(plan_names))
        weights += [plan.weight] * len(plan_names)

    # Weight, then reduce; the steps are fitted once and kept as a pipeline.
    weighting = DimWeights(np.asarray(weights, dtype=np.float64))
    matrix = weighting.fit_transform(encoded)
    pca_step = _pca_step(pca, pca_variance, len(names), n_models, seed)
    if pca_step is not None:
        matrix = pca_step.fit_transform(matrix)
    pipeline = Pipeline(
        [
            ("columns", columns),
            ("weights", weighting),
            ("pca", pca_step if pca_step is not None else "passthrough"),
        ]
    )
    matrix = np.ascontiguousarray(matrix, dtype=np.float64)
    return pipeline, tuple(names), tuple(dims), pca_step, matrix


def _encoder(plan: _ColumnPlan, max_categories: int) -> Any:
    if plan.kind == NUMERIC:
        return NumericEncoder(log=plan.log, indicator=plan.indicator)
    if plan.kind == MULTI_HOT:
        return MultiHotEncoder(labels=plan.labels)
    return OneHotEncoder(
        handle_unknown="ignore",
        sparse_output=False,
        max_categories=max_categories,
        dtype=np.float64,
    )


def _feature_names(plan: _ColumnPlan, encoder: Any) -> list[str]:
    if plan.kind != CATEGORICAL:
        return [str(name) for name in encoder.get_feature_names_out([plan.name])]
    prefix = f"{plan.name}_"
    raw = encoder.get_feature_names_out([plan.name])
    return [f"{plan.name}={str(name)[len(prefix) :]}" for name in raw]


def _pca_step(
    pca: PcaOption, pca_variance: float, n_features: int, n_models: int, seed: int
) -> PCA | None:
    if pca in (None, "off"):
        return None
    if n_models < 2:
        _warn_no_pca(pca, "PCA needs at least 2 models", stacklevel=5)
        return None
    if pca == "auto":
        return PCA(n_components=pca_variance, svd_solver="full")
    n_components = min(int(pca), n_features, n_models)
    return PCA(n_components=n_components, svd_solver="auto", random_state=seed)


def _warn_no_pca(pca: PcaOption, why: str, *, stacklevel: int) -> None:
    if pca in (None, "off"):
        return
    warnings.warn(
        f"pca={pca!r} was asked for but skipped: {why}.",
        DataWarning,
        stacklevel=stacklevel,
    )


def _report(
    metadata: pd.DataFrame,
    plans: tuple[_ColumnPlan, ...],
    dims: tuple[int, ...],
    dropped: tuple[DroppedColumn, ...],
    excluded: set[str],
    names: tuple[str, ...],
    matrix: np.ndarray,
    pca_step: PCA | None,
) -> EmbeddingReport:
    columns = tuple(
        EmbeddedColumn(
            name=plan.name,
            kind=plan.kind,
            log_scaled=plan.log,
            n_missing=int(metadata[plan.name].isna().sum()),
            n_dims=n_dims,
            weight=plan.weight,
        )
        for plan, n_dims in zip(plans, dims, strict=True)
    )
    ratios: tuple[float, ...] = ()
    if pca_step is not None:
        ratios = tuple(float(r) for r in pca_step.explained_variance_ratio_)
    return EmbeddingReport(
        n_models=len(metadata),
        columns=columns,
        dropped=dropped,
        excluded=tuple(sorted(str(c) for c in metadata.columns if c in excluded)),
        feature_names=names,
        n_dims=int(matrix.shape[1]),
        pca_components=None if pca_step is None else int(pca_step.n_components_),
        explained_variance_ratio=ratios,
    )
