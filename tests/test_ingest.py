"""Results ingestion: validation messages, duplicates, conflicts, --skip-invalid."""

from __future__ import annotations

import json

import pandas as pd
import pytest
import sqlalchemy as sa

from freqopt.errors import DataError, NotFoundError
from freqopt.store import results

GOOD = "m1,24,1.5,0.2,3,2026-01-01T00:00:00Z"


def n_results(fo) -> int:
    with fo.store.read() as conn:
        return conn.execute(
            sa.select(sa.func.count()).select_from(results)
        ).scalar_one()


def test_valid_file_is_stored_with_utc_timestamps(fo, write_results):
    path = write_results(GOOD, "m1,12,2.0,,6,2026-01-02T03:00:00+02:00")
    report = fo.ingest(path)
    assert (report.n_inserted, report.n_duplicates, report.n_rejected) == (2, 0, 0)
    stored = {t.interval_hours: t for t in fo.trials()}
    assert stored[12.0].started_at == "2026-01-02T01:00:00.000000Z"
    assert stored[12.0].gain_se is None
    assert all(
        t.status == "completed" and t.source == "external" for t in stored.values()
    )


@pytest.mark.parametrize(
    ("line", "column", "words"),
    [
        ("m1,24,abc,0.2,3,2026-01-01T00:00:00Z", "gain", "finite number"),
        ("m1,24,nan,0.2,3,2026-01-01T00:00:00Z", "gain", "finite number"),
        ("m1,24,inf,0.2,3,2026-01-01T00:00:00Z", "gain", "finite number"),
        ("m1,24,1.0,0.2,-3,2026-01-01T00:00:00Z", "cost_per_day", ">= 0"),
        ("m1,0,1.0,0.2,3,2026-01-01T00:00:00Z", "interval_hours", "> 0"),
        ("m1,-4,1.0,0.2,3,2026-01-01T00:00:00Z", "interval_hours", "> 0"),
        ("nobody,24,1.0,0.2,3,2026-01-01T00:00:00Z", "model_id", "unknown model"),
        ("m1,24,1.0,0.2,3,2026-01-01T00:00:00", "started_at", "UTC offset"),
        ("m1,24,1.0,0.2,3,yesterday+01:00", "started_at", "UTC offset"),
        ("m1,24,1.0,0.2,3,", "started_at", "UTC offset"),
        ("m1,24,1.0,-1,3,2026-01-01T00:00:00Z", "gain_se", ">= 0"),
    ],
)
def test_bad_row_rejects_the_whole_file_and_names_row_column_value(
    fo, write_results, line, column, words
):
    path = write_results(GOOD, line)
    with pytest.raises(DataError) as info:
        fo.ingest(path)
    message = str(info.value)
    assert f"row 2, column {column}:" in message
    assert words in message
    assert "nothing was written" in message and "--skip-invalid" in message
    assert n_results(fo) == 0


def test_missing_required_column_is_named(fo, write_results):
    path = write_results(
        "m1,24,1.5,3", header="model_id,interval_hours,gain,cost_per_day"
    )
    with pytest.raises(DataError, match="missing required column.*started_at"):
        fo.ingest(path)


def test_missing_file_and_unknown_suffix(fo, tmp_path):
    with pytest.raises(NotFoundError, match="no such file"):
        fo.ingest(tmp_path / "absent.csv")
    odd = tmp_path / "results.xlsx"
    odd.write_text("x")
    with pytest.raises(DataError, match="unknown file type"):
        fo.ingest(odd)


def test_reingesting_the_same_file_reports_duplicates(fo, write_results):
    path = write_results(GOOD, "m2,48,0.5,0.1,0.25,2026-01-03T00:00:00Z")
    fo.ingest(path)
    again = fo.ingest(path)
    assert (again.n_inserted, again.n_duplicates) == (0, 2)
    assert n_results(fo) == 2


def test_conflict_is_an_error_unless_replace(fo, write_results):
    fo.ingest(write_results(GOOD))
    changed = write_results("m1,24,9.9,0.2,3,2026-01-01T00:00:00Z", name="changed.csv")
    with pytest.raises(DataError, match=r"row 1, column gain: 9.9.*--replace"):
        fo.ingest(changed)

    report = fo.ingest(changed, replace=True)
    assert report.n_replaced == 1
    assert [t.gain for t in fo.trials()] == [9.9]


def test_conflicting_rows_within_one_file(fo, write_results):
    path = write_results(GOOD, "m1,24,1.7,0.2,3,2026-01-01T00:00:00Z")
    with pytest.raises(DataError, match="row 1 holds a different result"):
        fo.ingest(path)


def test_replicates_at_one_interval_are_separate_results(fo, write_results):
    path = write_results(GOOD, "m1,24,1.6,0.2,3,2026-01-08T00:00:00Z")
    assert fo.ingest(path).n_inserted == 2


def test_skip_invalid_writes_rejected_rows_with_reasons(fo, write_results, tmp_path):
    path = write_results(GOOD, "m1,24,abc,0.2,3,2026-01-02T00:00:00Z", "ghost,1,1,,1,x")
    rejects = tmp_path / "rejects.csv"
    report = fo.ingest(path, skip_invalid=rejects)
    assert (report.n_inserted, report.n_rejected) == (1, 2)

    frame = pd.read_csv(rejects)
    assert list(frame["row"]) == [2, 3]
    assert "gain: 'abc'" in frame.loc[0, "rejected_reason"]
    assert "unknown model" in frame.loc[1, "rejected_reason"]
    assert n_results(fo) == 1


def test_guardrails_and_extra_columns_are_kept(fo, write_results):
    header = (
        "model_id,interval_hours,gain,cost_per_day,started_at,guardrail_fill_rate,team"
    )
    fo.ingest(write_results("m1,24,1.5,3,2026-01-01T00:00:00Z,-0.3,ads", header=header))
    with fo.store.read() as conn:
        row = conn.execute(sa.select(results)).one()
    assert row.guardrails == {"fill_rate": -0.3}
    assert row.extra == {"team": "ads"}


def test_trial_rows_must_match_their_trial(fo, write_results):
    fo.ingest(write_results(GOOD))
    header = (
        "trial_id," + "model_id,interval_hours,gain,gain_se,cost_per_day,started_at"
    )
    path = write_results(
        "1,m2,24,1,0.1,1,2026-01-01T00:00:00Z",
        "77,m1,24,1,0.1,1,2026-01-01T00:00:00Z",
        header=header,
    )
    with pytest.raises(DataError) as info:
        fo.ingest(path)
    assert "row 1, column model_id: 'm2'" in str(info.value)
    assert "row 2, column trial_id: 77" in str(info.value)


def test_jsonl_and_parquet_files_are_read(fo, tmp_path):
    rows = [
        {
            "model_id": "m1",
            "interval_hours": 6,
            "gain": 1.0,
            "cost_per_day": 12,
            "started_at": "2026-02-01T00:00:00Z",
        }
    ]
    jsonl = tmp_path / "r.jsonl"
    jsonl.write_text("\n".join(json.dumps(r) for r in rows))
    assert fo.ingest(jsonl).n_inserted == 1

    frame = pd.DataFrame(rows).assign(started_at=pd.Timestamp("2026-02-02", tz="UTC"))
    frame.to_parquet(tmp_path / "r.parquet")
    assert fo.ingest(tmp_path / "r.parquet").n_inserted == 1


def test_naive_parquet_timestamps_are_rejected(fo, tmp_path):
    frame = pd.DataFrame(
        [
            {
                "model_id": "m1",
                "interval_hours": 6.0,
                "gain": 1.0,
                "cost_per_day": 12.0,
                "started_at": pd.Timestamp("2026-02-02"),
            }
        ]
    )
    frame.to_parquet(tmp_path / "naive.parquet")
    with pytest.raises(DataError, match="row 1, column started_at"):
        fo.ingest(tmp_path / "naive.parquet")


def test_empty_file_is_an_error(fo, write_results):
    with pytest.raises(DataError, match="no rows"):
        fo.ingest(write_results())


# Regressions from trying the tool as a new user.


def test_absurd_magnitudes_are_rejected_before_they_reach_a_fit(fo, write_results):
    path = write_results("m1,72,1e308,,2,2026-11-02T00:00:00Z")
    with pytest.raises(DataError, match=r"row 1, column gain: '1e308'"):
        fo.ingest(path)


def test_a_date_without_time_and_offset_is_rejected(fo, write_results):
    path = write_results("m1,6,1,,1,2026-11-01")
    with pytest.raises(DataError, match="row 1, column started_at: '2026-11-01'"):
        fo.ingest(path)


def test_results_for_abandoned_trials_are_rejected(fo, write_results):
    from freqopt.store import trials, utc_now

    with fo.store.begin() as conn:
        now = utc_now()
        conn.execute(trials.insert().values(
            model_id="m1", interval_hours=24.0, status="proposed", source="freqopt",
            created_at=now, updated_at=now,
        ))
    fo.abandon_trial(1)
    header = "trial_id,model_id,interval_hours,gain,gain_se,cost_per_day,started_at"
    path = write_results("1,m1,24,1.0,0.1,3,2026-01-01T00:00:00Z", header=header)
    with pytest.raises(DataError, match="trial 1 is abandoned"):
        fo.ingest(path)
    assert fo.trials()[0].status == "abandoned"


def test_optional_columns_absent_from_a_file_keep_their_stored_values(fo, write_results):
    fo.ingest(write_results("m1,24,1.5,0.2,3,2026-01-01T00:00:00Z"))
    header = "model_id,interval_hours,gain,cost_per_day,started_at"
    same = write_results("m1,24,1.5,3,2026-01-01T00:00:00Z", header=header, name="same.csv")
    assert fo.ingest(same).n_duplicates == 1

    changed = write_results("m1,24,9.9,3,2026-01-01T00:00:00Z", header=header, name="c.csv")
    assert fo.ingest(changed, replace=True).n_replaced == 1
    (trial,) = fo.trials()
    assert (trial.gain, trial.gain_se) == (9.9, 0.2)


def test_json_array_and_semicolon_csv_get_a_hint(fo, tmp_path):
    array = tmp_path / "r.json"
    array.write_text('[{"model_id": "m1"}]')
    with pytest.raises(DataError, match="JSON array"):
        fo.ingest(array)
    semi = tmp_path / "semi.csv"
    semi.write_text("model_id;interval_hours;gain;cost_per_day;started_at\n")
    with pytest.raises(DataError, match="semicolon-separated"):
        fo.ingest(semi)
