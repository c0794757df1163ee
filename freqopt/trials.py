"""Trials: list them and move them along their life cycle.

A trial is proposed (by ``next-trial``), then running, then completed (by
ingesting its result), failed or abandoned. Experiments run outside freqopt
arrive as completed trials when their results are ingested.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import sqlalchemy as sa

from freqopt.errors import DataError, NotFoundError
from freqopt.store import TRIAL_STATUSES, Store, results, trials, utc_now

__all__ = ["TrialRecord", "list_trials", "move_trial"]

logger = logging.getLogger(__name__)

# Which status each move may start from.
MOVES = {
    "running": ("proposed",),
    "abandoned": ("proposed", "running"),
    "failed": ("proposed", "running"),
}


@dataclass(frozen=True)
class TrialRecord:
    """One trial, with its result's gain if it has one."""

    trial_id: int
    model_id: str
    interval_hours: float
    status: str
    source: str
    cluster_id: int | None
    created_at: str
    started_at: str | None
    ended_at: str | None
    gain: float | None
    gain_se: float | None
    cost_per_day: float | None


def list_trials(
    store: Store,
    *,
    model_id: str | None = None,
    status: str | None = None,
    cluster_id: int | None = None,
) -> list[TrialRecord]:
    """Trials ordered by id, optionally only one model's, status's or cluster's.

    Raises:
        DataError: ``status`` is not a trial status.
    """
    if status is not None and status not in TRIAL_STATUSES:
        raise DataError(
            f"unknown trial status {status!r}; use one of {', '.join(TRIAL_STATUSES)}"
        )
    query = (
        sa.select(trials, results.c.gain, results.c.gain_se, results.c.cost_per_day)
        .outerjoin(results, results.c.trial_id == trials.c.trial_id)
        .order_by(trials.c.trial_id)
    )
    if model_id is not None:
        query = query.where(trials.c.model_id == model_id)
    if status is not None:
        query = query.where(trials.c.status == status)
    if cluster_id is not None:
        query = query.where(trials.c.cluster_id == cluster_id)
    with store.read() as conn:
        rows = conn.execute(query).all()
    return [
        TrialRecord(
            r.trial_id,
            r.model_id,
            r.interval_hours,
            r.status,
            r.source,
            r.cluster_id,
            r.created_at,
            r.started_at,
            r.ended_at,
            r.gain,
            r.gain_se,
            r.cost_per_day,
        )
        for r in rows
    ]


def move_trial(store: Store, trial_id: int, status: str) -> TrialRecord:
    """Move a trial to ``running``, ``abandoned`` or ``failed``.

    Raises:
        NotFoundError: No trial has this id.
        DataError: The trial's current status does not allow the move.
    """
    allowed_from = MOVES[status]
    now = utc_now()
    with store.begin() as conn:
        row = conn.execute(
            sa.select(trials).where(trials.c.trial_id == trial_id)
        ).first()
        if row is None:
            raise NotFoundError(
                f"no trial {trial_id}; see `freqopt trials list` for trial ids"
            )
        if row.status not in allowed_from:
            raise DataError(
                f"trial {trial_id} is {row.status}; only a trial that is "
                f"{' or '.join(allowed_from)} can become {status}"
            )
        values = {"status": status, "updated_at": now}
        if status == "running":
            values["started_at"] = now
        else:
            values["ended_at"] = now
        conn.execute(
            trials.update().where(trials.c.trial_id == trial_id).values(values)
        )
    logger.info("trial %d: %s -> %s", trial_id, row.status, status)
    (record,) = [
        t for t in list_trials(store, model_id=row.model_id) if t.trial_id == trial_id
    ]
    return record
