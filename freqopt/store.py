"""The store: SQLAlchemy Core tables over SQLite by default, any URL otherwise.

The store never loses data: every command that writes does so in one
transaction, SQLite runs in WAL mode with a busy timeout and takes its write
lock at the start of a transaction (``BEGIN IMMEDIATE``), so concurrent
writers queue instead of failing with "database is locked".

Notes:
    Timestamps are stored as ISO-8601 text in UTC with a ``Z`` suffix, which
    sorts correctly and reads the same on every backend.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from freqopt.errors import NotFoundError, StoreError

__all__ = [
    "DEFAULT_DB",
    "SCHEMA_VERSION",
    "TRIAL_STATUSES",
    "Store",
    "resolve_db_url",
    "utc_now",
]

logger = logging.getLogger(__name__)

SCHEMA_VERSION = 1
DEFAULT_DB = "freqopt.db"
TRIAL_STATUSES = ("proposed", "running", "completed", "failed", "abandoned")
BUSY_TIMEOUT_MS = 60_000

metadata_obj = sa.MetaData()

meta = sa.Table(
    "freqopt_meta",
    metadata_obj,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)

models = sa.Table(
    "models",
    metadata_obj,
    sa.Column("model_id", sa.String(255), primary_key=True),
    sa.Column("metadata", sa.JSON, nullable=False),
    sa.Column("current_interval_hours", sa.Float, nullable=True),
    sa.Column("value", sa.Float, nullable=True),
    sa.Column("cost_per_retrain", sa.Float, nullable=True),
    sa.Column("created_at", sa.String(32), nullable=False),
    sa.Column("updated_at", sa.String(32), nullable=False),
)

trials = sa.Table(
    "trials",
    metadata_obj,
    sa.Column("trial_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column(
        "model_id", sa.String(255), sa.ForeignKey("models.model_id"), nullable=False
    ),
    sa.Column("interval_hours", sa.Float, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("source", sa.String(16), nullable=False),
    sa.Column("cluster_id", sa.Integer, nullable=True),
    sa.Column("created_at", sa.String(32), nullable=False),
    sa.Column("started_at", sa.String(32), nullable=True),
    sa.Column("ended_at", sa.String(32), nullable=True),
    sa.Column("updated_at", sa.String(32), nullable=False),
    sa.Index("ix_trials_model_status", "model_id", "status"),
)

results = sa.Table(
    "results",
    metadata_obj,
    sa.Column("result_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column(
        "trial_id",
        sa.Integer,
        sa.ForeignKey("trials.trial_id"),
        nullable=False,
        unique=True,
    ),
    sa.Column("model_id", sa.String(255), nullable=False),
    sa.Column("interval_hours", sa.Float, nullable=False),
    sa.Column("gain", sa.Float, nullable=False),
    sa.Column("gain_se", sa.Float, nullable=True),
    sa.Column("cost_per_day", sa.Float, nullable=False),
    sa.Column("started_at", sa.String(32), nullable=False),
    sa.Column("ended_at", sa.String(32), nullable=True),
    sa.Column("guardrails", sa.JSON, nullable=False),
    sa.Column("extra", sa.JSON, nullable=False),
    sa.Column("source_file", sa.Text, nullable=True),
    sa.Column("ingested_at", sa.String(32), nullable=False),
    sa.Index("ix_results_model_interval", "model_id", "interval_hours", "started_at"),
)

decisions = sa.Table(
    "decisions",
    metadata_obj,
    sa.Column("decision_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("cluster_id", sa.Integer, nullable=True),
    sa.Column("model_id", sa.String(255), nullable=True),
    sa.Column("trial_id", sa.Integer, nullable=True),
    sa.Column("created_at", sa.String(32), nullable=False),
    sa.Column("payload", sa.JSON, nullable=False),
)

clusterings = sa.Table(
    "clusterings",
    metadata_obj,
    sa.Column("version", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("created_at", sa.String(32), nullable=False),
    sa.Column("params", sa.JSON, nullable=False),
    sa.Column("report", sa.JSON, nullable=False),
    sa.Column("embedder", sa.LargeBinary, nullable=True),
)

cluster_members = sa.Table(
    "cluster_members",
    metadata_obj,
    sa.Column("version", sa.Integer, sa.ForeignKey("clusterings.version")),
    sa.Column("model_id", sa.String(255), nullable=False),
    sa.Column("cluster_id", sa.Integer, nullable=False),
    sa.Column("distance", sa.Float, nullable=True),
    sa.Column("assigned", sa.Boolean, nullable=False, default=False),
    sa.Column("is_outlier", sa.Boolean, nullable=False, default=False),
    sa.PrimaryKeyConstraint("version", "model_id"),
)

clusters = sa.Table(
    "clusters",
    metadata_obj,
    sa.Column("cluster_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("created_version", sa.Integer, nullable=False),
    sa.Column("retired_version", sa.Integer, nullable=True),
    sa.Column("description", sa.JSON, nullable=False),
)


def utc_now() -> str:
    """The current time as ISO-8601 UTC text with a ``Z`` suffix."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def resolve_db_url(db: str | os.PathLike[str] | None) -> str:
    """Turn a ``--db`` value into an SQLAlchemy URL.

    Args:
        db: A path to an SQLite file, an SQLAlchemy URL (anything containing
            ``://``), or None for ``FREQOPT_DB`` or else ``freqopt.db`` in the
            working directory.

    Returns:
        The SQLAlchemy URL.
    """
    if db is None:
        db = os.environ.get("FREQOPT_DB") or DEFAULT_DB
    text = os.fspath(db)
    if "://" in text:
        return text
    return f"sqlite:///{Path(text).expanduser().resolve()}"


def _sqlite_path(url: str) -> Path | None:
    parsed = sa.engine.make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, ""):
        return None
    if parsed.database == ":memory:":
        return None
    return Path(parsed.database)


def _make_engine(url: str) -> Engine:
    """Create an engine; for SQLite: WAL, busy timeout, BEGIN IMMEDIATE."""
    if not url.startswith("sqlite"):
        return sa.create_engine(url, future=True)

    engine = sa.create_engine(
        url,
        future=True,
        connect_args={"timeout": BUSY_TIMEOUT_MS / 1000, "isolation_level": None},
    )

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        cursor = dbapi_conn.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # Writers take the lock up front so two of them queue on the busy
        # timeout instead of deadlocking when a reader upgrades to a writer.
        if conn.get_execution_options().get("freqopt_readonly"):
            conn.exec_driver_sql("BEGIN")
        else:
            conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


@dataclass(frozen=True)
class StoreInfo:
    """Where a store lives and what it holds."""

    url: str
    schema_version: int
    n_models: int
    n_trials: int
    n_results: int


class Store:
    """A freqopt store: models, trials, results, decisions and clusterings.

    Args:
        url: SQLAlchemy URL (see :func:`resolve_db_url`).
        create: Create the store and its tables if missing. Without it,
            opening a store that does not exist raises NotFoundError.

    Raises:
        NotFoundError: The store does not exist and ``create`` is False.
        StoreError: The store was written by a newer schema, or cannot be
            opened.
    """

    def __init__(self, url: str, *, create: bool = False) -> None:
        self.url = url
        path = _sqlite_path(url)
        if path is not None and not path.exists() and not create:
            raise NotFoundError(
                f"no freqopt store at {path}; run `freqopt init` there first, "
                "or point --db / FREQOPT_DB at an existing store"
            )
        if path is not None and not path.parent.is_dir():
            raise NotFoundError(
                f"folder {path.parent} does not exist; create it first or choose "
                "another --db path"
            )
        try:
            self.engine = _make_engine(url)
            self._prepare(create)
        except ImportError as exc:
            raise StoreError(
                f"no database driver for {sa.engine.make_url(url).drivername}: {exc}; "
                "install one (for PostgreSQL: pip install 'freqopt[postgres]')"
            ) from exc
        except sa.exc.SQLAlchemyError as exc:
            detail = str(exc).split("\n")[0]
            raise StoreError(f"cannot open store {url}: {detail}") from exc

    def _prepare(self, create: bool) -> None:
        inspector = sa.inspect(self.engine)
        if not inspector.has_table("freqopt_meta"):
            others = inspector.get_table_names()
            if others:
                raise StoreError(
                    f"{self.url} is not a freqopt store: it holds other tables "
                    f"({', '.join(sorted(others)[:5])}); point --db at a new file "
                    "or an empty database"
                )
            if not create:
                raise StoreError(
                    f"{self.url} is not a freqopt store (no freqopt_meta table); "
                    "run `freqopt init` to create one"
                )
            with self.engine.begin() as conn:
                metadata_obj.create_all(conn)
                conn.execute(
                    meta.insert().values(
                        key="schema_version", value=str(SCHEMA_VERSION)
                    )
                )
            logger.info("created store %s (schema %d)", self.url, SCHEMA_VERSION)
            return

        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(meta.c.value).where(meta.c.key == "schema_version")
            ).first()
        found = int(row[0]) if row else 0
        if found > SCHEMA_VERSION:
            raise StoreError(
                f"store {self.url} has schema version {found}, but this freqopt "
                f"reads schema versions up to {SCHEMA_VERSION}; upgrade freqopt "
                "(pip install -U freqopt) to open it"
            )
        if found < SCHEMA_VERSION:
            raise StoreError(
                f"store {self.url} has schema version {found}, older than "
                f"{SCHEMA_VERSION}; it cannot be migrated by this version"
            )

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        """A write transaction: all of it lands, or none of it does."""
        try:
            with self.engine.begin() as conn:
                yield conn
        except sa.exc.OperationalError as exc:
            raise StoreError(f"store {self.url} could not be written: {exc}") from exc

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read-only connection."""
        with self.engine.connect() as conn:
            yield conn.execution_options(freqopt_readonly=True)

    def info(self) -> StoreInfo:
        """Counts of what the store holds."""
        with self.read() as conn:
            count = {
                name: conn.execute(
                    sa.select(sa.func.count()).select_from(t)
                ).scalar_one()
                for name, t in (("m", models), ("t", trials), ("r", results))
            }
        return StoreInfo(self.url, SCHEMA_VERSION, count["m"], count["t"], count["r"])

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()
