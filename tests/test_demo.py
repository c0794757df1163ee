"""The main loop end to end on a small simulated fleet, and the benchmark command."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from freqopt._demo import fleet_file_frame, run_demo
from freqopt.cli import main
from freqopt.errors import DataWarning
from freqopt.sim import SimOracle, simulate_fleet


def test_demo_loop_spends_its_budget_through_the_store_and_scores_every_model(tmp_path):
    fleet = simulate_fleet(n_models=18, n_clusters=2, noise=0.05, seed=1)
    # A fleet this small has constant metadata columns; embedding tests cover
    # that warning.
    with pytest.warns(DataWarning, match="constant"):
        result = run_demo(fleet, SimOracle(fleet), tmp_path, budget_per_model=2, seed=1)

    assert len(result.models) == 18
    assert result.freqopt_experiments_per_model <= 2.0
    assert result.grid_experiments_per_model == fleet.allowed.sum(axis=1).mean()
    assert all(m.freqopt_regret >= 0 and m.grid_regret >= 0 for m in result.models)
    # Every experiment went through a results file and was ingested.
    ingested = sum(len(pd.read_csv(p)) for p in (tmp_path / "results").glob("*.csv"))
    assert ingested == sum(m.n_experiments for m in result.models)
    assert (tmp_path / "learning_curve.png").stat().st_size > 0
    assert (tmp_path / "recommendations.csv").exists()


def test_fleet_file_carries_each_models_allowed_range():
    fleet = simulate_fleet(n_models=6, n_clusters=2, seed=0)
    frame = fleet_file_frame(fleet)
    grid = fleet.intervals_hours
    assert np.allclose(
        frame["min_interval_hours"], [grid[a].min() for a in fleet.allowed]
    )
    assert np.allclose(
        frame["max_interval_hours"], [grid[a].max() for a in fleet.allowed]
    )


def test_benchmark_command_writes_json_and_plots(tmp_path):
    out = tmp_path / "bench"
    result = CliRunner().invoke(
        main,
        [
            "benchmark",
            "--quick",
            "--strategies",
            "grid,random",
            "--seeds",
            "1",
            "--budget",
            "2",
            "--out",
            str(out),
            "--json",
        ],
    )
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    assert {"grid", "random"} <= {row["strategy"] for row in document["table"]}
    assert (out / "benchmark.json").exists()
    assert list(out.glob("*.png"))


def test_benchmark_unknown_strategy_is_a_clear_error(tmp_path):
    result = CliRunner().invoke(
        main,
        [
            "benchmark",
            "--quick",
            "--strategies",
            "magic",
            "--out",
            str(tmp_path),
        ],
    )
    assert result.exit_code == 1 and "magic" in result.stderr


def test_simulate_writes_fleet_and_truth_separately(tmp_path):
    result = CliRunner().invoke(
        main,
        [
            "simulate",
            "--models",
            "12",
            "--clusters",
            "2",
            "--out",
            str(tmp_path),
            "--json",
        ],
    )
    assert result.exit_code == 0, result.stderr
    fleet = pd.read_csv(tmp_path / "fleet.csv")
    assert len(fleet) == 12 and "true_gain" not in fleet.columns
    assert (tmp_path / "truth.csv").exists() and (tmp_path / "truth.json").exists()
