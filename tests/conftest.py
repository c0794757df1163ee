"""Shared fixtures: a fresh store, a small fleet, a results file writer."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MPLBACKEND", "Agg")

FLEET_CSV = """model_id,architecture,n_parameters,value,cost_per_retrain,current_interval_hours
m1,dnn,1000000,50,3,24
m2,gbdt,5000,20,0.5,
m3,dnn,2000000,80,6,12
"""

RESULTS_HEADER = "model_id,interval_hours,gain,gain_se,cost_per_day,started_at"


@pytest.fixture(autouse=True)
def _single_thread_torch() -> None:
    """Tiny GP algebra is far faster on one thread on busy machines."""
    import sys

    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(1)


@pytest.fixture
def fleet_file(tmp_path: Path) -> Path:
    path = tmp_path / "fleet.csv"
    path.write_text(FLEET_CSV)
    return path


@pytest.fixture
def fo(tmp_path: Path, fleet_file: Path):
    """A store holding the three-model fleet."""
    from freqopt.api import Freqopt

    handle = Freqopt.init(tmp_path / "store.db")
    handle.import_models(fleet_file)
    yield handle
    handle.close()


@pytest.fixture
def write_results(tmp_path: Path):
    """Write a results CSV from data lines (header added unless given)."""

    def write(
        *lines: str, header: str = RESULTS_HEADER, name: str = "results.csv"
    ) -> Path:
        path = tmp_path / name
        path.write_text("\n".join([header, *lines]) + "\n")
        return path

    return write
