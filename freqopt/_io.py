"""Reading fleet and results files (CSV, Parquet, JSON lines) and row checks.

Every reader returns a frame whose index is the 1-based data row number, so
error messages can name the row the user sees (row 1 is the first row after
a CSV header).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from freqopt.errors import DataError, NotFoundError

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["RowProblem", "TableProblems", "read_table"]

SUFFIXES = {
    ".csv": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
}
MAX_LISTED = 10
#: Largest absolute number accepted in a numeric column.
MAX_MAGNITUDE = 1e12


def read_table(path: str | Path) -> pd.DataFrame:
    """Read a CSV, Parquet or JSON-lines file into a frame of raw values.

    CSV cells are read as text (blank cells become missing) so that each
    column is checked by the caller, not guessed by the reader.

    Args:
        path: The file; its suffix picks the format.

    Returns:
        Frame of shape (n_rows, n_columns), index = 1-based row number.

    Raises:
        NotFoundError: The file does not exist.
        DataError: Unknown suffix, unreadable content or duplicate columns.
    """
    import pandas as pd

    path = Path(path)
    if not path.is_file():
        raise NotFoundError(f"{path}: no such file; check the path")
    kind = SUFFIXES.get(path.suffix.lower())
    if kind is None:
        raise DataError(
            f"{path}: unknown file type {path.suffix!r}; "
            f"use one of {', '.join(sorted(SUFFIXES))}"
        )

    try:
        if kind == "csv":
            frame = pd.read_csv(path, dtype=str, keep_default_na=False)
            frame = frame.replace({"": None})
        elif kind == "parquet":
            frame = pd.read_parquet(path)
        else:
            with path.open("rb") as handle:
                if handle.read(64).lstrip().startswith(b"["):
                    raise DataError(
                        f"{path}: holds a JSON array; freqopt reads JSON lines (one "
                        "object per line). Convert it, or save it as CSV"
                    )
            frame = pd.read_json(path, lines=True, dtype=False, precise_float=True)
    except (ValueError, OSError, pd.errors.ParserError) as exc:
        raise DataError(f"{path}: cannot be read as {kind}: {exc}") from exc

    dupes = [c for c in frame.columns if str(c).endswith(".1")]
    if kind == "csv" and dupes:
        raise DataError(f"{path}: duplicate column names {dupes}; rename them")
    frame.columns = [str(c).strip() for c in frame.columns]
    frame.index = pd.RangeIndex(1, len(frame) + 1)
    return frame


@dataclass(frozen=True)
class RowProblem:
    """One bad cell: where it is, what it holds, what is allowed."""

    row: int
    column: str
    value: Any
    allowed: str

    def describe(self) -> str:
        """One line naming row, column, value and what is allowed."""
        return f"row {self.row}, column {self.column}: {self.value!r} — {self.allowed}"


class TableProblems:
    """Collects bad cells of one file and turns them into one clear error."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self.items: list[RowProblem] = []

    def add(self, row: int, column: str, value: Any, allowed: str) -> None:
        """Record one bad cell."""
        self.items.append(RowProblem(int(row), column, _plain(value), allowed))

    def add_many(
        self, rows: Sequence[int], column: str, values: Sequence[Any], allowed: str
    ) -> None:
        """Record the same problem for several rows."""
        for row, value in zip(rows, values, strict=True):
            self.add(row, column, value, allowed)

    @property
    def bad_rows(self) -> set[int]:
        """Row numbers with at least one problem."""
        return {p.row for p in self.items}

    def by_row(self) -> dict[int, list[RowProblem]]:
        """Problems grouped by row, in row order."""
        grouped: dict[int, list[RowProblem]] = {}
        for p in sorted(self.items, key=lambda p: (p.row, p.column)):
            grouped.setdefault(p.row, []).append(p)
        return grouped

    def error(self, hint: str) -> DataError:
        """A DataError listing the first bad rows and how to proceed."""
        grouped = self.by_row()
        lines = [f"{self.path}: {len(grouped)} invalid row(s); nothing was written."]
        for problems in list(grouped.values())[:MAX_LISTED]:
            lines.extend(f"  {p.describe()}" for p in problems)
        if len(grouped) > MAX_LISTED:
            lines.append(f"  ... and {len(grouped) - MAX_LISTED} more row(s)")
        lines.append(hint)
        return DataError("\n".join(lines))


def require_columns(
    frame: pd.DataFrame, path: str | Path, required: Sequence[str], what: str
) -> None:
    """Raise DataError naming every missing required column."""
    missing = [c for c in required if c not in frame.columns]
    if missing and len(frame.columns) == 1 and ";" in str(frame.columns[0]):
        raise DataError(
            f"{path}: found one column {frame.columns[0]!r}; the file looks "
            "semicolon-separated, but freqopt reads comma-separated CSV"
        )
    if missing:
        raise DataError(
            f"{path}: missing required column(s) {', '.join(missing)}; a {what} "
            f"needs {', '.join(required)} (found: {', '.join(frame.columns) or 'none'})"
        )


def numeric_column(
    frame: pd.DataFrame,
    column: str,
    problems: TableProblems,
    *,
    allowed: str,
    required: bool,
    minimum: float | None = None,
    strict_minimum: bool = False,
) -> pd.Series:
    """Coerce a column to float64 and record every cell that is not allowed.

    Args:
        frame: The raw table.
        column: Column to check.
        problems: Where bad cells are recorded.
        allowed: Text saying what is allowed (used in messages).
        required: Whether a missing cell is a problem.
        minimum: Smallest allowed value, if any.
        strict_minimum: Whether ``minimum`` itself is excluded.

    Returns:
        Float64 series (NaN where missing or bad), same index as ``frame``.

    Notes:
        Values beyond ±1e12 (``MAX_MAGNITUDE``) are rejected as corrupt.
    """
    import numpy as np
    import pandas as pd

    raw = frame[column] if column in frame.columns else pd.Series(None, frame.index)
    values = pd.to_numeric(raw, errors="coerce").astype("float64")
    missing = raw.isna()
    # Finite but absurd magnitudes are corrupt data; they would also swamp
    # every fit downstream.
    huge = np.abs(values.fillna(0.0)) > MAX_MAGNITUDE
    bad = (~missing & (~np.isfinite(values) | huge)) | (missing & required)
    if minimum is not None:
        low = values <= minimum if strict_minimum else values < minimum
        bad |= low.fillna(False)

    rows = frame.index[bad.to_numpy()]
    problems.add_many(list(rows), column, list(raw[bad].map(_plain)), allowed)
    return values.where(~bad)


def model_ids(raw: pd.Series) -> pd.Series:
    """Model ids as stripped text, None where missing."""
    import pandas as pd

    return raw.map(lambda v: None if pd.isna(v) else str(v).strip()).astype(object)


def _plain(value: Any) -> Any:
    """Cell value as shown in messages (None for missing)."""
    if value is None:
        return None
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return "NaN"
    return value
