"""Fleet registry: insert, update with changed columns, validation."""

from __future__ import annotations

import pytest

from freqopt.errors import DataError


def test_import_inserts_then_reports_unchanged(fo, fleet_file):
    assert [m.model_id for m in fo.models()] == ["m1", "m2", "m3"]
    again = fo.import_models(fleet_file).report
    assert (again.inserted, again.updated, again.n_unchanged) == ((), {}, 3)


def test_changed_metadata_is_updated_and_named(fo, tmp_path):
    path = tmp_path / "update.csv"
    path.write_text("model_id,architecture,value\nm1,dcn,50\nm4,gbdt,1\n")
    report = fo.import_models(path).report
    assert report.inserted == ("m4",)
    assert report.updated == {"m1": ("architecture",)}

    m1 = next(m for m in fo.models() if m.model_id == "m1")
    assert m1.metadata == {"architecture": "dcn", "n_parameters": 1000000}
    assert m1.cost_per_retrain == 3.0  # absent column kept


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ("model_id,value\nm1,-5\n", "row 1, column value: '-5'"),
        ("model_id,value\nm1,lots\n", "row 1, column value: 'lots'"),
        (
            "model_id,current_interval_hours\nm1,0\n",
            "row 1, column current_interval_hours",
        ),
        ("model_id,cost_per_retrain\nm1,inf\n", "column cost_per_retrain: 'inf'"),
        (
            "model_id,value\nm1,1\nm1,2\n",
            "row 2, column model_id: 'm1' — duplicate of row 1",
        ),
        ("model_id,value\n,1\n", "row 1, column model_id"),
        ("name,value\nm1,1\n", "missing required column(s) model_id"),
    ],
)
def test_invalid_fleet_file_changes_nothing(fo, tmp_path, body, words):
    path = tmp_path / "bad.csv"
    path.write_text(body)
    before = fo.models()
    with pytest.raises(DataError) as info:
        fo.import_models(path)
    assert words in str(info.value)
    assert fo.models() == before


def test_per_model_interval_bounds_are_checked(fo, tmp_path):
    path = tmp_path / "bounds.csv"
    path.write_text("model_id,min_interval_hours,max_interval_hours\nm1,24,0\n")
    with pytest.raises(DataError, match="row 1, column max_interval_hours: '0'"):
        fo.import_models(path)


def test_crossed_interval_bounds_are_rejected(fo, tmp_path):
    path = tmp_path / "crossed.csv"
    path.write_text("model_id,min_interval_hours,max_interval_hours\nx1,100,10\n")
    with pytest.raises(DataError, match="row 1, column min_interval_hours: '100' — at most"):
        fo.import_models(path)


def test_reimporting_the_same_fleet_as_json_lines_changes_nothing(fo, tmp_path):
    path = tmp_path / "exact.jsonl"
    path.write_text(
        '{"model_id": "m1", "architecture": "dnn", "n_parameters": 1000000, '
        '"value": 50, "cost_per_retrain": 0.1147, "current_interval_hours": 24}\n'
    )
    fo.import_models(path)
    again = fo.import_models(path).report
    assert (again.updated, again.n_unchanged) == ({}, 1)
    m1 = next(m for m in fo.models() if m.model_id == "m1")
    assert m1.cost_per_retrain == 0.1147
