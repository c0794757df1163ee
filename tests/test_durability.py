"""The store under stress: concurrent writers, and a process killed mid-ingest."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import sqlalchemy as sa

from freqopt.api import Freqopt
from freqopt.store import results, trials

N_WRITERS = 8
ROWS_PER_FILE = 400


def _fleet(tmp_path: Path, n_models: int = 20) -> Path:
    path = tmp_path / "fleet.csv"
    lines = ["model_id,value,cost_per_retrain"] + [
        f"m{i},10,1" for i in range(n_models)
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


def _results_file(path: Path, writer: int, n_rows: int) -> Path:
    lines = ["model_id,interval_hours,gain,gain_se,cost_per_day,started_at"]
    for i in range(n_rows):
        day, hour = divmod(i, 24)
        lines.append(
            f"m{i % 20},{1 + writer},{0.01 * i},0.1,2,"
            f"2026-{1 + day // 28:02d}-{1 + day % 28:02d}T{hour:02d}:00:00Z"
        )
    path.write_text("\n".join(lines) + "\n")
    return path


def _ingest(args: tuple[str, str]) -> int:
    db, path = args
    fo = Freqopt(db)
    try:
        return fo.ingest(path).n_inserted
    finally:
        fo.close()


def test_eight_processes_ingesting_at_once_lose_no_row(tmp_path):
    db = str(tmp_path / "busy.db")
    fo = Freqopt.init(db)
    fo.import_models(_fleet(tmp_path))
    files = [
        str(_results_file(tmp_path / f"w{w}.csv", w, ROWS_PER_FILE))
        for w in range(N_WRITERS)
    ]

    with ProcessPoolExecutor(max_workers=N_WRITERS) as pool:
        inserted = list(pool.map(_ingest, [(db, f) for f in files]))

    assert inserted == [ROWS_PER_FILE] * N_WRITERS
    with fo.store.read() as conn:
        count = conn.execute(
            sa.select(sa.func.count()).select_from(results)
        ).scalar_one()
        n_trials = conn.execute(
            sa.select(sa.func.count()).select_from(trials)
        ).scalar_one()
    assert count == n_trials == N_WRITERS * ROWS_PER_FILE


KILLER = textwrap.dedent(
    """
    import os, signal, sys
    import freqopt.ingest as ingest
    from freqopt.api import Freqopt

    real_result_row = ingest._result_row
    calls = 0

    def dying_result_row(*args, **kwargs):
        # Trials for this file are already inserted when results are built:
        # die in the middle of the transaction, as a killed process would.
        global calls
        calls += 1
        if calls == 50:
            os.kill(os.getpid(), signal.SIGKILL)
        return real_result_row(*args, **kwargs)

    ingest._result_row = dying_result_row
    Freqopt(sys.argv[1]).ingest(sys.argv[2])
    """
)


def test_process_killed_mid_ingest_leaves_store_as_before(tmp_path):
    db = str(tmp_path / "crash.db")
    fo = Freqopt.init(db)
    fo.import_models(_fleet(tmp_path))
    fo.ingest(_results_file(tmp_path / "first.csv", 0, 30))
    before = fo.trials()

    second = _results_file(tmp_path / "second.csv", 1, 500)
    proc = subprocess.run(
        [sys.executable, "-c", KILLER, db, str(second)],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": os.getcwd()},
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr

    reopened = Freqopt(db)
    assert reopened.trials() == before
    assert reopened.ingest(second).n_inserted == 500
