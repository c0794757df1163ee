"""Describe clusters in the metadata's own units."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from freqopt.core._emb_columns import (
    CATEGORICAL,
    DEFAULT_EXCLUDE,
    MISSING_CATEGORY,
    MULTI_HOT,
    NUMERIC,
    infer_kinds,
    read_columns,
)
from freqopt.errors import DataError

__all__ = ["ClusterDescription", "describe_clusters"]

# Labels of a set column held by at least this share of a cluster are listed.
_COMMON_LABEL_SHARE = 0.5

# Numbers shown in a description's one-line text.
_NUMBERS_IN_TEXT = 3


@dataclass(frozen=True)
class ClusterDescription:
    """What one cluster's models look like.

    Attributes:
        label: Cluster label as given.
        size: Number of models.
        medians: Numeric column to the cluster's median, in the column's
            units (NaN when every member lacks it).
        top_categories: Categorical column to its most common value in the
            cluster and that value's share in [0, 1].
        common_labels: Set column to the labels at least half the cluster
            holds, each with its share, most common first.
        text: One line for people, e.g. ``"48 models: architecture dlrm
            (85 %), goal ctr (96 %); median n_parameters 3.9e+09"``.
    """

    label: int
    size: int
    medians: Mapping[str, float] = field(default_factory=dict)
    top_categories: Mapping[str, tuple[str, float]] = field(default_factory=dict)
    common_labels: Mapping[str, tuple[tuple[str, float], ...]] = field(
        default_factory=dict
    )
    text: str = ""


def describe_clusters(
    metadata: pd.DataFrame,
    labels: np.ndarray,
    *,
    kinds: Mapping[str, str] | None = None,
    exclude: Iterable[str] = (),
    sep: str = ";",
    id_column: str = "model_id",
) -> tuple[ClusterDescription, ...]:
    """Describe each cluster by medians, common categories and common labels.

    Args:
        metadata: One row per model, shape (n_models, n_columns), in the
            row order of ``labels``.
        labels: Cluster of each model (labels or stable cluster ids), int
            array (n_models,).
        kinds: Column to kind (``"numeric"``, ``"categorical"``,
            ``"multi_hot"``), e.g. ``EmbeddingReport.kinds``; None infers
            kinds the way the embedding does.
        exclude: Columns to leave out besides ``model_id`` and
            ``current_interval_hours``.
        sep: Separator of labels in set-valued columns.
        id_column: Column holding model ids.

    Returns:
        One description per cluster, by ascending label.

    Raises:
        DataError: ``labels`` does not have one entry per metadata row.
    """
    labels = np.asarray(labels)
    if labels.shape != (len(metadata),):
        raise DataError(
            f"labels has shape {labels.shape}, but the metadata has "
            f"{len(metadata)} rows; pass one label per model, in row order."
        )
    skip = {*DEFAULT_EXCLUDE, *exclude, id_column}
    if kinds is None:
        columns = [str(c) for c in metadata.columns if c not in skip]
        kinds = infer_kinds(metadata, columns, sep=sep, id_column=id_column)
    kinds = {name: kind for name, kind in kinds.items() if name in metadata}

    values = read_columns(metadata, kinds, id_column, sep)
    return tuple(
        _describe(int(label), labels == label, kinds, values)
        for label in np.unique(labels)
    )


def _describe(
    label: int,
    members: np.ndarray,
    kinds: Mapping[str, str],
    values: Mapping[str, Any],
) -> ClusterDescription:
    medians: dict[str, float] = {}
    tops: dict[str, tuple[str, float]] = {}
    common: dict[str, tuple[tuple[str, float], ...]] = {}
    rows = np.flatnonzero(members)
    for name, kind in kinds.items():
        column = values[name]
        if kind == NUMERIC:
            present = column[rows]
            present = present[~np.isnan(present)]
            medians[name] = float(np.median(present)) if present.size else np.nan
        elif kind == CATEGORICAL:
            counts: Counter[str] = Counter(column[rows].tolist())
            counts.pop(MISSING_CATEGORY, None)
            if counts:
                value, count = counts.most_common(1)[0]
                tops[name] = (str(value), count / rows.size)
        elif kind == MULTI_HOT:
            sets = [column[i] for i in rows]
            common[name] = _common_labels(sets)

    text = _text(rows.size, medians, tops, common)
    return ClusterDescription(label, int(rows.size), medians, tops, common, text)


def _common_labels(sets: list[frozenset[str]]) -> tuple[tuple[str, float], ...]:
    counts = Counter(label for members in sets for label in members)
    shares = [(label, count / len(sets)) for label, count in counts.items()]
    shares = [pair for pair in shares if pair[1] >= _COMMON_LABEL_SHARE]
    return tuple(sorted(shares, key=lambda pair: (-pair[1], pair[0])))


def _text(
    size: int,
    medians: Mapping[str, float],
    tops: Mapping[str, tuple[str, float]],
    common: Mapping[str, tuple[tuple[str, float], ...]],
) -> str:
    parts = [
        f"{name} {value} ({100 * share:.0f} %)" for name, (value, share) in tops.items()
    ]
    for name, labels in common.items():
        if labels:
            parts.append(f"{name} {'+'.join(label for label, _ in labels)}")
    numbers = [
        f"{name} {value:.3g}"
        for name, value in list(medians.items())[:_NUMBERS_IN_TEXT]
        if np.isfinite(value)
    ]
    text = f"{size} model{'s' if size != 1 else ''}"
    if parts:
        text += ": " + ", ".join(parts)
    if numbers:
        text += "; median " + ", ".join(numbers)
    return text
