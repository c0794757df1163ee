"""Store: creation, schema version refusal, WAL mode."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from freqopt.api import Freqopt
from freqopt.errors import NotFoundError, StoreError
from freqopt.store import SCHEMA_VERSION, meta, resolve_db_url


def test_opening_a_missing_store_says_to_init(tmp_path):
    with pytest.raises(NotFoundError, match="freqopt init"):
        Freqopt(tmp_path / "none.db")


def test_newer_schema_is_refused_with_a_clear_message(tmp_path):
    fo = Freqopt.init(tmp_path / "s.db")
    with fo.store.begin() as conn:
        conn.execute(meta.update().values(value=str(SCHEMA_VERSION + 1)))
    fo.close()
    with pytest.raises(
        StoreError, match=rf"schema version {SCHEMA_VERSION + 1}.*upgrade"
    ):
        Freqopt(tmp_path / "s.db")


def test_a_non_freqopt_database_is_refused(tmp_path):
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'other.db'}")
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE x (a INTEGER)")
    with pytest.raises(StoreError, match="not a freqopt store"):
        Freqopt(tmp_path / "other.db")


def test_sqlite_store_runs_in_wal_mode(tmp_path):
    fo = Freqopt.init(tmp_path / "w.db")
    with fo.store.read() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"


def test_db_resolution_env_and_urls(monkeypatch, tmp_path):
    monkeypatch.setenv("FREQOPT_DB", str(tmp_path / "env.db"))
    assert resolve_db_url(None).endswith("env.db")
    assert resolve_db_url("postgresql://u@h/db") == "postgresql://u@h/db"
    monkeypatch.delenv("FREQOPT_DB")
    monkeypatch.chdir(tmp_path)
    assert resolve_db_url(None) == f"sqlite:///{tmp_path / 'freqopt.db'}"


def test_missing_folder_is_not_created(tmp_path):
    with pytest.raises(NotFoundError, match="does not exist"):
        Freqopt.init(tmp_path / "no" / "such" / "x.db")
    assert not (tmp_path / "no").exists()


def test_init_refuses_a_database_holding_other_tables(tmp_path):
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'other.db'}")
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE foo (a INTEGER)")
    with pytest.raises(StoreError, match="holds other tables"):
        Freqopt.init(tmp_path / "other.db")


def test_an_unreachable_or_driverless_url_is_a_store_error():
    with pytest.raises(StoreError):
        Freqopt.init("postgresql://user@127.0.0.1:1/db")
