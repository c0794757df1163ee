"""Column roles for the metadata embedding.

Decides which metadata columns are numbers, categories or sets, which numbers
are log-scaled, which columns carry no information, and reads each column's
values into a clean form (float64 with NaN, strings, frozensets). Shared by
the embedding and the cluster descriptions so both see columns the same way.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from freqopt.errors import DataError

__all__ = [
    "CATEGORICAL",
    "DEFAULT_EXCLUDE",
    "MISSING_CATEGORY",
    "MULTI_HOT",
    "NUMERIC",
    "as_categories",
    "as_numbers",
    "as_sets",
    "dominant_share",
    "infer_kinds",
    "log_offset",
    "read_columns",
    "row_names",
    "wants_log",
]

NUMERIC = "numeric"
CATEGORICAL = "categorical"
MULTI_HOT = "multi_hot"

# Columns that describe a model's schedule or identity, not the model itself.
DEFAULT_EXCLUDE = ("model_id", "current_interval_hours")

MISSING_CATEGORY = "(missing)"

# Name parts that mark sizes, counts, FLOPs and money: heavy-tailed positives.
_LOG_HINTS = frozenset(
    {
        "bytes",
        "cost",
        "costs",
        "count",
        "examples",
        "flops",
        "n",
        "num",
        "parameters",
        "params",
        "price",
        "qps",
        "requests",
        "revenue",
        "rows",
        "size",
        "spend",
        "tokens",
        "value",
    }
)

# Name parts that mark bounded proportions, which stay linear.
_LINEAR_HINTS = frozenset(
    {"fraction", "pct", "percent", "prob", "probability", "ratio", "share"}
)

# A column is read as numbers when at least this share of its values parse.
_NUMERIC_SHARE = 0.9


def row_names(frame: pd.DataFrame, id_column: str = "model_id") -> list[str]:
    """Names to show for each row in messages: model ids, else row numbers.

    Args:
        frame: Metadata, shape (n_models, n_columns).
        id_column: Column holding model ids.

    Returns:
        One name per row, e.g. ``"model 'm17'"`` or ``"row 3"``.
    """
    if id_column in frame.columns:
        return [f"model '{value}'" for value in frame[id_column].tolist()]
    return [f"row {i}" for i in range(len(frame))]


def infer_kinds(
    frame: pd.DataFrame,
    columns: Sequence[str],
    *,
    numeric: Iterable[str] = (),
    categorical: Iterable[str] = (),
    multi_hot: Iterable[str] = (),
    sep: str = ";",
    id_column: str = "model_id",
) -> dict[str, str]:
    """Decide the kind of each column: numeric, categorical or multi-hot.

    Columns named in ``numeric``, ``categorical`` or ``multi_hot`` take that
    kind. Otherwise: booleans are categorical; numeric dtypes are numeric;
    text whose values all parse as numbers is numeric; text holding ``sep``
    in any value is multi-hot; other text is categorical.

    Args:
        frame: Metadata, shape (n_models, n_columns).
        columns: Columns to classify.
        numeric: Columns forced to be numeric.
        categorical: Columns forced to be categorical.
        multi_hot: Columns forced to be sets of labels.
        sep: Separator of labels in set-valued text.
        id_column: Column holding model ids, for messages.

    Returns:
        Column name to kind (``"numeric"``, ``"categorical"``,
        ``"multi_hot"``), in the order of ``columns``.

    Raises:
        DataError: A column is forced to two kinds, or a text column is
            almost all numbers but a few values are not (naming them).
    """
    forced = _forced_kinds(numeric, categorical, multi_hot)
    kinds = {}
    for column in columns:
        if column in forced:
            kinds[column] = forced[column]
        else:
            kinds[column] = _guess_kind(frame, column, sep, id_column)
    return kinds


def _forced_kinds(
    numeric: Iterable[str], categorical: Iterable[str], multi_hot: Iterable[str]
) -> dict[str, str]:
    forced: dict[str, str] = {}
    groups = ((NUMERIC, numeric), (CATEGORICAL, categorical), (MULTI_HOT, multi_hot))
    for kind, names in groups:
        for name in names:
            if forced.get(name, kind) != kind:
                raise DataError(
                    f"column '{name}' is named as both {forced[name]} and {kind}; "
                    "name each column under one kind only."
                )
            forced[name] = kind
    return forced


def _guess_kind(frame: pd.DataFrame, column: str, sep: str, id_column: str) -> str:
    series = frame[column]
    if pd.api.types.is_bool_dtype(series):
        return CATEGORICAL
    if pd.api.types.is_numeric_dtype(series):
        return NUMERIC

    # Text: numbers written as text, sets, or plain categories.
    present = series.dropna()
    if present.empty:
        return NUMERIC
    parsed = pd.to_numeric(present, errors="coerce")
    share = float(parsed.notna().mean())
    if share == 1.0:
        return NUMERIC
    if share >= _NUMERIC_SHARE:
        as_numbers(frame, column, id_column=id_column, hint="categorical")
    if present.astype(str).str.contains(sep, regex=False).any():
        return MULTI_HOT
    return CATEGORICAL


def as_numbers(
    frame: pd.DataFrame,
    column: str,
    *,
    id_column: str = "model_id",
    hint: str = "fix",
) -> np.ndarray:
    """Read a column as float64 numbers; missing values become NaN.

    Args:
        frame: Metadata, shape (n_models, n_columns).
        column: Column to read.
        id_column: Column holding model ids, for messages.
        hint: ``"categorical"`` to suggest forcing the column to a category
            in the error message, ``"fix"`` to suggest fixing the value.

    Returns:
        Values, float64 array of shape (n_models,), NaN where missing.

    Raises:
        DataError: A value is not a finite number (naming the model, the
            column and the value).
    """
    series = frame[column]
    if pd.api.types.is_bool_dtype(series):
        series = series.astype(float)
    values = pd.to_numeric(series, errors="coerce").to_numpy(
        dtype=np.float64, na_value=np.nan
    )
    bad = (np.isnan(values) & series.notna().to_numpy()) | np.isinf(values)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        name = row_names(frame, id_column)[i]
        advice = (
            f"pass categorical=['{column}'] if the column is a category, "
            "or fix the value"
            if hint == "categorical"
            else "fix the value in the models file (numbers only, or leave blank)"
        )
        raise DataError(
            f"column '{column}' holds numbers, but {name} has "
            f"{series.iloc[i]!r} ({int(bad.sum())} such value(s) in all); "
            f"{advice}."
        )
    return values


def as_categories(series: pd.Series) -> np.ndarray:
    """Read a column as category strings; missing becomes ``"(missing)"``.

    Args:
        series: One metadata column, shape (n_models,).

    Returns:
        Category names, object array of str of shape (n_models,).
    """
    present = series.notna().to_numpy()
    text = series.astype(object).to_numpy(copy=True)
    out = np.full(len(series), MISSING_CATEGORY, dtype=object)
    out[present] = [str(value).strip() for value in text[present]]
    return out


def as_sets(series: pd.Series, sep: str = ";") -> list[frozenset[str]]:
    """Read a set-valued column such as ``"user;ad;context"``.

    Args:
        series: One metadata column, shape (n_models,). Missing values and
            empty strings are empty sets.
        sep: Separator between labels.

    Returns:
        One frozenset of labels per model, length n_models.
    """
    parsed: dict[str, frozenset[str]] = {}
    sets = []
    for value, missing in zip(series.tolist(), series.isna().tolist(), strict=True):
        text = "" if missing else str(value)
        if text not in parsed:
            labels = (part.strip() for part in text.split(sep))
            parsed[text] = frozenset(label for label in labels if label)
        sets.append(parsed[text])
    return sets


def dominant_share(keys: np.ndarray) -> tuple[object, float]:
    """The most common value of a column and the share of rows holding it.

    Args:
        keys: One value per model, array (n_models,); NaN and None count as
            one value, missing.

    Returns:
        The most common value (None for missing) and its share in [0, 1].
    """
    counts = pd.Series(keys).value_counts(dropna=False)
    top = counts.index[0]
    if isinstance(top, np.generic):
        top = top.item()
    return (None if pd.isna(top) else top), float(counts.iloc[0] / len(keys))


def wants_log(name: str, values: np.ndarray) -> bool:
    """Whether a numeric column should be log-scaled.

    A column is log-scaled when it has no negative values, at least three
    distinct positive values, and either its name marks a size, count, FLOPs
    or money (``n_parameters``, ``cost_per_retrain``) without marking a
    proportion (``revenue_share``), or it is right-skewed (skewness above 1)
    and the log makes it less skewed.

    Args:
        name: Column name.
        values: Column values, float64 array (n_models,), NaN where missing.

    Returns:
        True when the column should be log-scaled.
    """
    present = values[~np.isnan(values)]
    positive = present[present > 0]
    if present.size == 0 or present.min() < 0 or np.unique(positive).size < 3:
        return False

    parts = set(name.lower().replace("-", "_").split("_"))
    if parts & _LINEAR_HINTS:
        return False
    if parts & _LOG_HINTS:
        return True

    raw_skew = float(stats.skew(present))
    logged = np.log(present + log_offset(present))
    return raw_skew > 1.0 and abs(float(stats.skew(logged))) < raw_skew


def log_offset(values: np.ndarray) -> float:
    """Offset added before the log so zeros stay finite.

    Args:
        values: Non-negative values, float64 array (n,), NaN allowed.

    Returns:
        0 when every value is positive, else the smallest positive value
        (1 when there is none).
    """
    present = values[~np.isnan(values)]
    if present.size and present.min() > 0:
        return 0.0
    positive = present[present > 0]
    return float(positive.min()) if positive.size else 1.0


def read_columns(
    metadata: pd.DataFrame, kinds: Mapping[str, str], id_column: str, sep: str
) -> dict[str, Any]:
    """Each column's values: float64 arrays, category strings or label sets."""
    values: dict[str, Any] = {}
    for name, kind in kinds.items():
        if kind == NUMERIC:
            values[name] = as_numbers(metadata, name, id_column=id_column)
        elif kind == CATEGORICAL:
            values[name] = as_categories(metadata[name])
        else:
            values[name] = as_sets(metadata[name], sep)
    return values
