"""CLI through click's runner: exit codes, stdout/stderr split, JSON output."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from click.testing import CliRunner

from freqopt.cli import main
from tests.conftest import FLEET_CSV, RESULTS_HEADER


@pytest.fixture
def run(tmp_path, monkeypatch):
    monkeypatch.setenv("FREQOPT_DB", str(tmp_path / "cli.db"))
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(main, list(args), catch_exceptions=False)

    return invoke


@pytest.fixture
def ready(run, tmp_path):
    (tmp_path / "fleet.csv").write_text(FLEET_CSV)
    assert run("init").exit_code == 0
    assert run("models", "import", str(tmp_path / "fleet.csv")).exit_code == 0
    return run


def test_models_list_json_is_one_document(ready):
    result = ready("models", "list", "--json")
    assert result.exit_code == 0
    rows = json.loads(result.stdout)
    assert [r["model_id"] for r in rows] == ["m1", "m2", "m3"]
    assert rows[0]["value"] == 50.0 and rows[0]["architecture"] == "dnn"


def test_ingest_then_trials_list(ready, tmp_path):
    path = tmp_path / "r.csv"
    path.write_text(f"{RESULTS_HEADER}\nm1,24,1.5,0.2,3,2026-01-01T00:00:00Z\n")
    result = ready("ingest", str(path), "--json")
    assert result.exit_code == 0 and json.loads(result.stdout)["n_inserted"] == 1

    listed = json.loads(ready("trials", "list", "--json", "--model", "m1").stdout)
    assert listed[0]["gain"] == 1.5 and listed[0]["status"] == "completed"
    assert "m1" in ready("trials", "list").stdout


def test_bad_data_exits_1_with_one_error_line_on_stderr(ready, tmp_path):
    path = tmp_path / "r.csv"
    path.write_text(f"{RESULTS_HEADER}\nm1,24,oops,0.2,3,2026-01-01T00:00:00Z\n")
    result = ready("ingest", str(path))
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.startswith("Error: ")
    assert "row 1, column gain: 'oops'" in result.stderr


def test_usage_error_exits_2(ready):
    result = ready("trials", "list", "--status", "bogus")
    assert result.exit_code == 2
    assert "bogus" in result.stderr


def test_missing_store_exits_1_with_hint(run):
    result = run("models", "list")
    assert result.exit_code == 1
    assert "freqopt init" in result.stderr


def test_trial_moves_and_unknown_trial(ready):
    result = ready("trials", "start", "42")
    assert result.exit_code == 1 and "no trial 42" in result.stderr


def test_help_does_not_import_torch_or_pandas():
    code = (
        "import sys; from click.testing import CliRunner; from freqopt.cli import main;"
        "CliRunner().invoke(main, ['--help']);"
        "print(any(m in sys.modules for m in ('torch', 'pandas', 'botorch')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip() == "False"
