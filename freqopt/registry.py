"""The fleet registry: import model metadata files into the store.

A fleet file has one row per model: ``model_id`` and any metadata columns,
with optional ``current_interval_hours`` (hours), ``value`` (money per unit of
gain per day) and ``cost_per_retrain`` (money per retrain). Importing inserts
new models and updates changed ones; columns absent from the file are kept.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import sqlalchemy as sa

from freqopt import _io
from freqopt.errors import DataError
from freqopt.store import Store, models, utc_now

__all__ = ["ImportReport", "ModelRecord", "import_models", "list_models"]

logger = logging.getLogger(__name__)

# Per-model bounds on the interval; kept in the metadata, checked here.
BOUND_COLUMNS = {"min_interval_hours", "max_interval_hours"}
NUMERIC_COLUMNS = {
    "current_interval_hours": ("a positive number of hours, or blank", 0.0, True),
    "value": ("a finite number >= 0 (money per unit of gain per day)", 0.0, False),
    "cost_per_retrain": ("a finite number >= 0 (money per retrain)", 0.0, False),
}


@dataclass(frozen=True)
class ModelRecord:
    """One registered model."""

    model_id: str
    metadata: dict[str, Any]
    current_interval_hours: float | None
    value: float | None
    cost_per_retrain: float | None
    updated_at: str

    def as_dict(self) -> dict[str, Any]:
        """Flat form with the fleet-file column names."""
        return {
            "model_id": self.model_id,
            "current_interval_hours": self.current_interval_hours,
            "value": self.value,
            "cost_per_retrain": self.cost_per_retrain,
            **self.metadata,
        }


@dataclass(frozen=True)
class ImportReport:
    """What one fleet file changed.

    Attributes:
        path: The file imported.
        inserted: Ids of new models.
        updated: Id of each changed model mapped to the columns that changed.
        n_unchanged: Models already stored exactly as in the file.
    """

    path: str
    inserted: tuple[str, ...]
    updated: dict[str, tuple[str, ...]]
    n_unchanged: int


def _json_value(value: Any) -> Any:
    """A cell as a JSON-safe value (None for missing)."""
    if value is None:
        return None
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _typed(column: pd.Series) -> pd.Series:
    """A text column whose every value is a number, as numbers (else as is)."""
    numbers = pd.to_numeric(column, errors="coerce")
    if numbers.notna().sum() != column.notna().sum() or column.isna().all():
        return column
    whole = numbers.dropna() == numbers.dropna().round()
    if whole.all() and numbers.dropna().abs().max() < 2**53:
        return numbers.astype("Int64").astype(object).where(numbers.notna(), None)
    return numbers


def _validate(frame: Any, path: Path) -> list[dict[str, Any]]:
    """Check a fleet frame and return one clean record per model."""
    _io.require_columns(frame, path, ["model_id"], "fleet file")
    problems = _io.TableProblems(path)

    ids = _io.model_ids(frame["model_id"])
    empty = ids.isna() | (ids == "")
    problems.add_many(
        list(frame.index[empty]),
        "model_id",
        [None] * int(empty.sum()),
        "a non-empty model id is required",
    )
    repeated = ids.duplicated(keep="first") & ~empty
    for row in frame.index[repeated]:
        first = int(frame.index[(ids == ids[row]).to_numpy()][0])
        problems.add(row, "model_id", ids[row], f"duplicate of row {first}")

    numbers = {
        column: _io.numeric_column(
            frame,
            column,
            problems,
            allowed=allowed,
            required=False,
            minimum=minimum,
            strict_minimum=strict,
        )
        for column, (allowed, minimum, strict) in NUMERIC_COLUMNS.items()
        if column in frame.columns
    }
    bounds = {
        column: _io.numeric_column(
            frame,
            column,
            problems,
            required=False,
            minimum=0.0,
            strict_minimum=True,
            allowed="a positive number of hours, or blank",
        )
        for column in sorted(BOUND_COLUMNS & set(frame.columns))
    }
    if len(bounds) == 2:
        crossed = (bounds["min_interval_hours"] > bounds["max_interval_hours"]).fillna(
            False
        )
        for row in frame.index[crossed.to_numpy()]:
            problems.add(
                row,
                "min_interval_hours",
                frame.at[row, "min_interval_hours"],
                f"at most max_interval_hours ({frame.at[row, 'max_interval_hours']})",
            )
    if problems.items:
        raise problems.error(
            "Fix these rows and import the file again; no model was changed."
        )

    meta_columns = [
        c for c in frame.columns if c not in NUMERIC_COLUMNS and c != "model_id"
    ]
    frame = frame.assign(**{c: _typed(frame[c]) for c in meta_columns})
    records = []
    for row in frame.index:
        record = {"model_id": ids[row], "columns": set(frame.columns)}
        for column, series in numbers.items():
            record[column] = _json_value(series[row])
        record["metadata"] = {c: _json_value(frame.at[row, c]) for c in meta_columns}
        records.append(record)
    return records


def import_models(store: Store, path: str | Path) -> ImportReport:
    """Insert new models and update changed ones from a fleet file.

    Args:
        store: The store to write.
        path: CSV, Parquet or JSON-lines fleet file.

    Returns:
        Which models were inserted, updated (with changed columns) or unchanged.

    Raises:
        DataError: A row is invalid; the error lists the first bad rows and
            nothing is written.
        NotFoundError: The file does not exist.
    """
    path = Path(path)
    frame = _io.read_table(path)
    if frame.empty:
        raise DataError(
            f"{path}: the file has no rows; a fleet file needs one per model"
        )
    records = _validate(frame, path)
    now = utc_now()

    inserted: list[str] = []
    updated: dict[str, tuple[str, ...]] = {}
    with store.begin() as conn:
        stored = {
            row.model_id: row
            for row in conn.execute(
                sa.select(models).where(
                    models.c.model_id.in_([r["model_id"] for r in records])
                )
            )
        }
        new_rows, changes = [], []
        for record in records:
            old = stored.get(record["model_id"])
            if old is None:
                new_rows.append(_insert_row(record, now))
                inserted.append(record["model_id"])
                continue
            merged, changed = _merge(old, record)
            if changed:
                changes.append(
                    {**merged, "b_model_id": record["model_id"], "updated_at": now}
                )
                updated[record["model_id"]] = changed
        if new_rows:
            conn.execute(models.insert(), new_rows)
        if changes:
            conn.execute(
                models.update()
                .where(models.c.model_id == sa.bindparam("b_model_id"))
                .values(
                    metadata=sa.bindparam("metadata"),
                    current_interval_hours=sa.bindparam("current_interval_hours"),
                    value=sa.bindparam("value"),
                    cost_per_retrain=sa.bindparam("cost_per_retrain"),
                    updated_at=sa.bindparam("updated_at"),
                ),
                changes,
            )

    n_unchanged = len(records) - len(inserted) - len(updated)
    logger.info(
        "imported %s: %d new, %d updated, %d unchanged",
        path,
        len(inserted),
        len(updated),
        n_unchanged,
    )
    return ImportReport(str(path), tuple(inserted), updated, n_unchanged)


def _insert_row(record: dict[str, Any], now: str) -> dict[str, Any]:
    return {
        "model_id": record["model_id"],
        "metadata": record["metadata"],
        "current_interval_hours": record.get("current_interval_hours"),
        "value": record.get("value"),
        "cost_per_retrain": record.get("cost_per_retrain"),
        "created_at": now,
        "updated_at": now,
    }


def _merge(old: Any, record: dict[str, Any]) -> tuple[dict[str, Any], tuple[str, ...]]:
    """Overlay a file record on a stored model; return the row and changed columns."""
    metadata = dict(old.metadata)
    changed = [c for c, v in record["metadata"].items() if metadata.get(c) != v]
    metadata.update(record["metadata"])

    merged: dict[str, Any] = {"metadata": metadata}
    for column in NUMERIC_COLUMNS:
        current = getattr(old, column)
        if column in record["columns"]:
            new = record.get(column)
            if new != current:
                changed.append(column)
            merged[column] = new
        else:
            merged[column] = current
    return merged, tuple(sorted(changed))


def list_models(store: Store) -> list[ModelRecord]:
    """Every registered model, ordered by id."""
    with store.read() as conn:
        rows = conn.execute(sa.select(models).order_by(models.c.model_id)).all()
    return [
        ModelRecord(
            r.model_id,
            dict(r.metadata),
            r.current_interval_hours,
            r.value,
            r.cost_per_retrain,
            r.updated_at,
        )
        for r in rows
    ]
