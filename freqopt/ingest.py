"""Ingest experiment results: validate every row, then write in one transaction.

A results file has ``model_id``, ``interval_hours`` (hours), ``gain`` (higher
is better, e.g. percent loss reduction), ``cost_per_day`` (money per day) and
``started_at`` (timestamp with a UTC offset), and optionally ``trial_id`` (a
trial proposed by freqopt), ``gain_se`` (standard error of gain),
``ended_at`` and guardrail metrics as ``guardrail_<name>`` columns (percent
change against the baseline). Other columns are kept as they are.

A row with a ``trial_id`` completes that trial. A row without one is an
experiment run outside freqopt: it becomes a completed trial of its own,
identified by (model_id, interval_hours, started_at). Re-ingesting a row
already stored is a no-op reported as a duplicate; a row that differs from
the stored result for the same trial is a conflict.
"""

from __future__ import annotations

import logging
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from freqopt import _io
from freqopt.errors import DataError
from freqopt.store import Store, models, results, trials, utc_now

__all__ = ["REQUIRED_COLUMNS", "IngestReport", "ingest_results"]

logger = logging.getLogger(__name__)

REQUIRED_COLUMNS = ("model_id", "interval_hours", "gain", "cost_per_day", "started_at")
KNOWN_COLUMNS = {*REQUIRED_COLUMNS, "trial_id", "gain_se", "ended_at"}
GUARDRAIL_PREFIX = "guardrail_"
# A date, a time, then a UTC offset: a date alone or a naive time is ambiguous.
OFFSET_PATTERN = (
    r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?"
    r"\s*(?:Z|z|[+-]\d{2}(?::?\d{2})?)$"
)
COMPARED = ("gain", "gain_se", "cost_per_day", "ended_at", "guardrails")


@dataclass(frozen=True)
class IngestReport:
    """What one results file did to the store.

    Attributes:
        path: The file ingested.
        n_rows: Data rows in the file.
        n_inserted: New results written.
        n_replaced: Stored results overwritten (only with ``replace``).
        n_duplicates: Rows identical to a stored result (or an earlier row).
        n_rejected: Invalid rows left out (only with ``skip_invalid``).
        rejected_path: Where the rejected rows and reasons were written.
        completed_trial_ids: Trials completed by this file.
    """

    path: str
    n_rows: int
    n_inserted: int
    n_replaced: int
    n_duplicates: int
    n_rejected: int
    rejected_path: str | None
    completed_trial_ids: tuple[int, ...] = field(default=())


def ingest_results(
    store: Store,
    path: str | Path,
    *,
    skip_invalid: str | Path | None = None,
    replace: bool = False,
) -> IngestReport:
    """Validate a results file and store its rows in one transaction.

    Args:
        store: The store to write.
        path: CSV, Parquet or JSON-lines results file.
        skip_invalid: If given, ingest the valid rows and write the rejected
            ones, with a ``rejected_reason`` column, to this CSV file. If
            None, one invalid row rejects the whole file.
        replace: Overwrite stored results that conflict with a row instead
            of failing.

    Returns:
        Counts of what was inserted, replaced, duplicated and rejected.

    Raises:
        DataError: A row is invalid (and ``skip_invalid`` is None) or
            conflicts with a stored result (and ``replace`` is False). The
            message lists the first bad rows: row number, column, value and
            what is allowed. Nothing is written.
        NotFoundError: The file does not exist.
    """
    path = Path(path)
    frame = _io.read_table(path)
    _io.require_columns(frame, path, REQUIRED_COLUMNS, "results file")
    if frame.empty:
        raise DataError(f"{path}: the file has no rows; nothing to ingest")
    problems = _io.TableProblems(path)

    with store.begin() as conn:
        rows = _validate(conn, frame, problems)
        stored = _stored_results(conn, rows)
        absent = {c for c in ("gain_se", "ended_at") if c not in frame.columns}
        plan = _plan(rows, stored, problems, replace=replace, absent=absent)

        if problems.items and skip_invalid is None:
            raise problems.error(
                "Fix these rows and ingest the file again, or pass --skip-invalid "
                "FILE to ingest the valid rows and write the rejected ones there"
                + (
                    "; pass --replace to overwrite conflicting results"
                    if plan.conflicts
                    else ""
                )
                + "."
            )
        bad = problems.bad_rows
        plan.inserts = [r for r in plan.inserts if r["row"] not in bad]
        plan.replaces = [r for r in plan.replaces if r["row"] not in bad]
        completed = _write(conn, plan, str(path))

    rejected_path = None
    if skip_invalid is not None and problems.items:
        rejected_path = _write_rejected(frame, problems, Path(skip_invalid))

    report = IngestReport(
        path=str(path),
        n_rows=len(frame),
        n_inserted=len(plan.inserts),
        n_replaced=len(plan.replaces),
        n_duplicates=plan.n_duplicates,
        n_rejected=len(problems.bad_rows),
        rejected_path=rejected_path,
        completed_trial_ids=tuple(sorted(completed)),
    )
    logger.info(
        "ingested %s: %d new, %d replaced, %d duplicate, %d rejected",
        path,
        report.n_inserted,
        report.n_replaced,
        report.n_duplicates,
        report.n_rejected,
    )
    return report


def _timestamps(
    frame: Any, column: str, problems: _io.TableProblems, *, required: bool
) -> Any:
    """Parse a timestamp column to UTC text; naive or malformed cells are problems."""
    import pandas as pd

    raw = frame[column] if column in frame.columns else pd.Series(None, frame.index)
    missing = raw.isna()
    if isinstance(raw.dtype, pd.DatetimeTZDtype):
        parsed = raw.dt.tz_convert("UTC")
        bad = missing & required
    elif pd.api.types.is_datetime64_any_dtype(raw):
        # Naive datetimes carry no offset: every present cell is ambiguous.
        parsed = pd.Series(pd.NaT, index=raw.index, dtype="datetime64[ns, UTC]")
        bad = ~missing | (missing & required)
    else:
        text = raw.map(lambda v: None if pd.isna(v) else str(v).strip()).astype(object)
        has_offset = text.map(
            lambda v: isinstance(v, str) and re.search(OFFSET_PATTERN, v) is not None
        ).astype(bool)
        parsed = pd.to_datetime(
            text.where(has_offset), utc=True, format="ISO8601", errors="coerce"
        )
        bad = (missing & required) | (~missing & (~has_offset | parsed.isna()))

    allowed = (
        "an ISO-8601 timestamp with a UTC offset, e.g. 2026-03-01T00:00:00Z or "
        "2026-03-01T09:00:00+09:00 (naive timestamps are ambiguous)"
    )
    if not required:
        allowed += ", or blank"
    problems.add_many(
        list(frame.index[bad.to_numpy()]),
        column,
        list(raw[bad].map(_io._plain)),
        allowed,
    )
    text_utc = parsed.dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    keep = (~bad & parsed.notna()).to_numpy()
    values = [t if k else None for t, k in zip(text_utc, keep, strict=True)]
    return pd.Series(values, index=frame.index, dtype=object)


def _validate(
    conn: Any, frame: Any, problems: _io.TableProblems
) -> list[dict[str, Any]]:
    """Check every cell; return clean row records (bad rows are recorded)."""

    ids = _io.model_ids(frame["model_id"])
    known = {
        r[0]
        for r in conn.execute(
            sa.select(models.c.model_id).where(models.c.model_id.in_(set(ids.dropna())))
        )
    }
    unknown = ~ids.isin(known)
    problems.add_many(
        list(frame.index[unknown.to_numpy()]),
        "model_id",
        list(frame["model_id"][unknown].map(_io._plain)),
        "a model registered with `freqopt models import` (unknown model)",
    )

    numbers = {
        "interval_hours": _io.numeric_column(
            frame,
            "interval_hours",
            problems,
            required=True,
            minimum=0.0,
            strict_minimum=True,
            allowed="a finite number of hours > 0",
        ),
        "gain": _io.numeric_column(
            frame,
            "gain",
            problems,
            required=True,
            allowed="a finite number (gain, higher is better)",
        ),
        "gain_se": _io.numeric_column(
            frame,
            "gain_se",
            problems,
            required=False,
            minimum=0.0,
            allowed="a finite standard error >= 0, or blank",
        ),
        "cost_per_day": _io.numeric_column(
            frame,
            "cost_per_day",
            problems,
            required=True,
            minimum=0.0,
            allowed="a finite cost >= 0 (money per day)",
        ),
        "trial_id": _io.numeric_column(
            frame,
            "trial_id",
            problems,
            required=False,
            minimum=1.0,
            allowed="a trial id from `freqopt next-trial` (integer >= 1), or blank",
        ),
    }
    guard_columns = [c for c in frame.columns if c.startswith(GUARDRAIL_PREFIX)]
    for column in guard_columns:
        numbers[column] = _io.numeric_column(
            frame,
            column,
            problems,
            required=False,
            allowed="a finite percent change against the baseline, or blank",
        )
    started = _timestamps(frame, "started_at", problems, required=True)
    ended = _timestamps(frame, "ended_at", problems, required=False)

    order = started.notna() & ended.notna() & (ended < started)
    problems.add_many(
        list(frame.index[order.to_numpy()]),
        "ended_at",
        list(frame["ended_at"][order].map(_io._plain)) if "ended_at" in frame else [],
        "a time at or after started_at",
    )
    trial_ids = numbers["trial_id"]
    fractional = trial_ids.notna() & (trial_ids != trial_ids.round())
    problems.add_many(
        list(frame.index[fractional.to_numpy()]),
        "trial_id",
        list(frame["trial_id"][fractional]) if "trial_id" in frame else [],
        "an integer trial id",
    )

    extra_columns = [
        c for c in frame.columns if c not in KNOWN_COLUMNS and c not in guard_columns
    ]

    def as_list(values: Any) -> list[Any]:
        return [None if v != v else v for v in values.tolist()]  # NaN -> None

    guards = {c[len(GUARDRAIL_PREFIX) :]: as_list(numbers[c]) for c in guard_columns}
    extras = {c: frame[c].map(_io._plain).tolist() for c in extra_columns}
    cells = zip(
        frame.index.tolist(),
        ids.tolist(),
        numbers["interval_hours"].tolist(),
        numbers["gain"].tolist(),
        as_list(numbers["gain_se"]),
        numbers["cost_per_day"].tolist(),
        started.tolist(),
        ended.tolist(),
        as_list(trial_ids),
        strict=True,
    )
    records = [
        {
            "row": row,
            "model_id": model_id,
            "interval_hours": interval,
            "gain": gain,
            "gain_se": gain_se,
            "cost_per_day": cost,
            "started_at": start,
            "ended_at": end,
            "trial_id": None if tid is None else int(tid),
            "guardrails": {name: values[i] for name, values in guards.items()},
            "extra": {name: values[i] for name, values in extras.items()},
        }
        for i, (
            row,
            model_id,
            interval,
            gain,
            gain_se,
            cost,
            start,
            end,
            tid,
        ) in enumerate(cells)
    ]
    _check_trials(conn, records, problems)
    return records


def _check_trials(
    conn: Any, records: list[dict[str, Any]], problems: _io.TableProblems
) -> None:
    """Rows naming a trial must match that trial's model and interval."""
    wanted = {r["trial_id"] for r in records if r["trial_id"] is not None}
    if not wanted:
        return
    found = {
        t.trial_id: t
        for t in conn.execute(sa.select(trials).where(trials.c.trial_id.in_(wanted)))
    }
    for r in records:
        tid = r["trial_id"]
        if tid is None:
            continue
        trial = found.get(tid)
        if trial is None:
            problems.add(
                r["row"],
                "trial_id",
                tid,
                "a trial id that exists (see `freqopt trials list`)",
            )
        elif r["model_id"] is not None and trial.model_id != r["model_id"]:
            problems.add(
                r["row"],
                "model_id",
                r["model_id"],
                f"the model of trial {tid}, {trial.model_id!r}",
            )
        elif trial.status in ("abandoned", "failed"):
            problems.add(
                r["row"],
                "trial_id",
                tid,
                f"a trial that is proposed, running or completed; trial {tid} is "
                f"{trial.status} (ingest the row without trial_id to record it as an "
                "experiment run outside freqopt)",
            )
        elif not _same(trial.interval_hours, r["interval_hours"]):
            problems.add(
                r["row"],
                "interval_hours",
                r["interval_hours"],
                f"the interval of trial {tid}, {trial.interval_hours:g} h",
            )


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        if a is None or b is None:
            return a is b
        if math.isnan(a) or math.isnan(b):
            return False
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
    return a == b


def _key(r: dict[str, Any]) -> tuple[Any, ...]:
    """Identity of the experiment a row reports (see the module docstring)."""
    if r["trial_id"] is not None:
        return ("trial", r["trial_id"])
    return ("ext", r["model_id"], round(float(r["interval_hours"]), 9), r["started_at"])


def _stored_results(
    conn: Any, rows: list[dict[str, Any]]
) -> dict[tuple[Any, ...], Any]:
    """Stored results that rows of this file could duplicate or conflict with."""
    model_ids = {r["model_id"] for r in rows if r["model_id"] is not None}
    trial_ids = {r["trial_id"] for r in rows if r["trial_id"] is not None}
    stored: dict[tuple[Any, ...], Any] = {}
    if trial_ids:
        query = (
            sa.select(results, trials.c.source)
            .join(trials)
            .where(results.c.trial_id.in_(trial_ids))
        )
        for s in conn.execute(query):
            stored[("trial", s.trial_id)] = s
    if model_ids:
        query = (
            sa.select(results, trials.c.source)
            .join(trials)
            .where(results.c.model_id.in_(model_ids), trials.c.source == "external")
        )
        for s in conn.execute(query):
            stored[("ext", s.model_id, round(s.interval_hours, 9), s.started_at)] = s
    return stored


@dataclass
class _Plan:
    inserts: list[dict[str, Any]] = field(default_factory=list)
    replaces: list[dict[str, Any]] = field(default_factory=list)
    n_duplicates: int = 0
    conflicts: int = 0


def _plan(
    rows: list[dict[str, Any]],
    stored: dict[tuple[Any, ...], Any],
    problems: _io.TableProblems,
    *,
    replace: bool,
    absent: set[str],
) -> _Plan:
    """Sort valid rows into inserts, replacements and duplicates.

    Optional columns the file does not have (``absent``) keep their stored
    values: they are neither a conflict nor erased by ``replace``.
    """
    plan = _Plan()
    bad = problems.bad_rows
    seen: dict[tuple[Any, ...], dict[str, Any]] = {}
    for r in rows:
        if r["row"] in bad:
            continue
        key = _key(r)
        earlier = seen.get(key)
        if earlier is not None:
            if _differs(earlier, r):
                problems.add(
                    r["row"],
                    "gain",
                    r["gain"],
                    f"one result per experiment; row {earlier['row']} "
                    "holds a different result for the same experiment",
                )
                plan.conflicts += 1
            else:
                plan.n_duplicates += 1
            continue
        seen[key] = r

        old = stored.get(key)
        if old is not None:
            r = _fill_absent(old._mapping, r, absent)
        if old is None:
            plan.inserts.append(r)
        elif not _differs(old._mapping, r):
            plan.n_duplicates += 1
        elif replace:
            plan.replaces.append(
                {**r, "result_id": old.result_id, "trial_id": old.trial_id}
            )
        else:
            column = next(c for c in COMPARED if not _same(old._mapping[c], r[c]))
            problems.add(
                r["row"],
                column,
                r[column],
                f"the stored result of trial {old.trial_id} "
                f"({column} = {old._mapping[column]!r}); pass --replace to overwrite",
            )
            plan.conflicts += 1
    return plan


def _fill_absent(old: Any, row: dict[str, Any], absent: set[str]) -> dict[str, Any]:
    """The row with the stored values of optional columns the file lacks."""
    filled = dict(row)
    for column in absent:
        filled[column] = old[column]
    filled["guardrails"] = {**(old["guardrails"] or {}), **row["guardrails"]}
    return filled


def _differs(old: Any, new: dict[str, Any]) -> bool:
    for column in COMPARED:
        a, b = old[column], new[column]
        if isinstance(a, dict) or isinstance(b, dict):
            a, b = a or {}, b or {}
            if set(a) != set(b) or any(not _same(a[k], b[k]) for k in a):
                return True
        elif not _same(a, b):
            return True
    return False


def _result_row(
    r: dict[str, Any], trial_id: int, source_file: str, now: str
) -> dict[str, Any]:
    return {
        "trial_id": trial_id,
        "model_id": r["model_id"],
        "interval_hours": r["interval_hours"],
        "gain": r["gain"],
        "gain_se": r["gain_se"],
        "cost_per_day": r["cost_per_day"],
        "started_at": r["started_at"],
        "ended_at": r["ended_at"],
        "guardrails": r["guardrails"],
        "extra": r["extra"],
        "source_file": source_file,
        "ingested_at": now,
    }


def _write(conn: Any, plan: _Plan, source_file: str) -> set[int]:
    """Write the plan; return the ids of trials completed."""
    now = utc_now()
    external = [r for r in plan.inserts if r["trial_id"] is None]
    own = [r for r in plan.inserts if r["trial_id"] is not None]

    new_ids: list[int] = []
    if external:
        trial_rows = [
            {
                "model_id": r["model_id"],
                "interval_hours": r["interval_hours"],
                "status": "completed",
                "source": "external",
                "created_at": now,
                "started_at": r["started_at"],
                "ended_at": r["ended_at"],
                "updated_at": now,
            }
            for r in external
        ]
        inserted = conn.execute(
            trials.insert().returning(trials.c.trial_id, sort_by_parameter_order=True),
            trial_rows,
        )
        new_ids = [row[0] for row in inserted]

    result_rows = [
        _result_row(r, tid, source_file, now)
        for r, tid in zip(external, new_ids, strict=True)
    ] + [_result_row(r, r["trial_id"], source_file, now) for r in own]
    if result_rows:
        conn.execute(results.insert(), result_rows)

    if own:
        conn.execute(
            trials.update()
            .where(trials.c.trial_id == sa.bindparam("b_trial_id"))
            .values(
                status="completed",
                started_at=sa.bindparam("started_at"),
                ended_at=sa.bindparam("ended_at"),
                updated_at=now,
            ),
            [
                {
                    "b_trial_id": r["trial_id"],
                    "started_at": r["started_at"],
                    "ended_at": r["ended_at"],
                }
                for r in own
            ],
        )
    for r in plan.replaces:
        values = _result_row(r, r["trial_id"], source_file, now)
        conn.execute(
            results.update().where(results.c.result_id == r["result_id"]).values(values)
        )
    return {r["trial_id"] for r in own}


def _write_rejected(frame: Any, problems: _io.TableProblems, out: Path) -> str:
    """Write the rejected rows with their reasons as CSV; return the path."""
    grouped = problems.by_row()
    rejected = frame.loc[list(grouped)].copy()
    rejected.insert(0, "row", list(grouped))
    rejected["rejected_reason"] = [
        "; ".join(f"{p.column}: {p.value!r} — {p.allowed}" for p in items)
        for items in grouped.values()
    ]
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    rejected.to_csv(tmp, index=False)
    tmp.replace(out)
    return str(out)
