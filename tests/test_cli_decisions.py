"""next-trial, trials start/abandon, ingest by trial id, recommend, through the CLI."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from freqopt.cli import main

FLEET = ["model_id,architecture,n_parameters,value,cost_per_retrain,max_interval_hours"]
FLEET += [f"a{i},dnn,{1_000_000 + 5000 * i},{50 + i},{1 + 0.1 * i}," for i in range(6)]
FLEET += [f"b{i},gbdt,{2000 + 10 * i},{5 + i},0.05,24" for i in range(6)]


@pytest.fixture
def run(tmp_path, monkeypatch):
    monkeypatch.setenv("FREQOPT_DB", str(tmp_path / "d.db"))
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(main, list(args), catch_exceptions=False)

    (tmp_path / "fleet.csv").write_text("\n".join(FLEET) + "\n")
    invoke("init")
    invoke("models", "import", str(tmp_path / "fleet.csv"))
    assert invoke("cluster", "--k", "2").exit_code == 0
    return invoke


def cluster_of(run, model_id: str) -> int:
    listed = json.loads(run("clusters", "--json").stdout)
    return next(c["cluster_id"] for c in listed if model_id in c["model_ids"])


def propose(run, *args: str) -> list[dict]:
    result = run("next-trial", *args, "--json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def test_next_trial_json_and_stored_proposals(run):
    cid = cluster_of(run, "a0")
    proposals = propose(run, "--cluster", str(cid), "--batch", "3")
    assert len(proposals) == 3
    for p in proposals:
        assert {"trial_id", "model_id", "interval_hours", "score", "reason"} <= p.keys()
        assert p["model_id"].startswith("a")
    points = {(p["model_id"], p["interval_hours"]) for p in proposals}
    assert len(points) == 3

    stored = json.loads(run("trials", "list", "--status", "proposed", "--json").stdout)
    assert {t["trial_id"] for t in stored} == {p["trial_id"] for p in proposals}


def test_pending_trials_are_not_proposed_again(run):
    cid = str(cluster_of(run, "a0"))
    first = propose(run, "--cluster", cid, "--batch", "4")
    second = propose(run, "--cluster", cid, "--batch", "4")
    taken = {(p["model_id"], p["interval_hours"]) for p in first}
    assert taken.isdisjoint({(p["model_id"], p["interval_hours"]) for p in second})


def test_max_interval_bound_is_respected(run):
    cid = str(cluster_of(run, "b0"))
    proposals = propose(run, "--cluster", cid, "--batch", "20")
    assert proposals and all(p["interval_hours"] <= 24 for p in proposals)


def test_ingesting_a_trial_result_completes_it_and_recommend_reports(run, tmp_path):
    cid = str(cluster_of(run, "a0"))
    (trial,) = propose(run, "--cluster", cid, "--model", "a2")
    assert run("trials", "start", str(trial["trial_id"])).exit_code == 0

    path = tmp_path / "r.csv"
    path.write_text(
        "trial_id,model_id,interval_hours,gain,gain_se,cost_per_day,started_at\n"
        f"{trial['trial_id']},a2,{trial['interval_hours']},1.2,0.1,3,2026-03-01T00:00:00Z\n"
    )
    assert run("ingest", str(path)).exit_code == 0
    (done,) = json.loads(run("trials", "list", "--model", "a2", "--json").stdout)
    assert done["status"] == "completed" and done["gain"] == 1.2

    result = run("recommend", "--cluster", cid, "--json")
    assert result.exit_code == 0, result.stderr
    recs = {r["model_id"]: r for r in json.loads(result.stdout)}
    assert set(recs) == {f"a{i}" for i in range(6)}
    for r in recs.values():
        assert {
            "interval_hours",
            "status",
            "gain_mean",
            "gain_lo",
            "gain_hi",
            "roi_mean",
        } <= r.keys()
        assert r["gain_lo"] <= r["gain_mean"] <= r["gain_hi"]
    assert recs["a2"]["status"] in {"exploring", "settled"}
    assert recs["a0"]["status"] == "cold-start"


def test_abandoned_trial_frees_its_point(run):
    cid = str(cluster_of(run, "a0"))
    (trial,) = propose(run, "--cluster", cid, "--model", "a1")
    result = run("trials", "abandon", str(trial["trial_id"]), "--json")
    assert json.loads(result.stdout)["status"] == "abandoned"
    assert run("trials", "start", str(trial["trial_id"])).exit_code == 1


def test_model_outside_the_cluster_is_an_error(run):
    cid = str(cluster_of(run, "a0"))
    result = run("next-trial", "--cluster", cid, "--model", "b0")
    assert result.exit_code == 1 and "is in cluster" in result.stderr


def test_invalid_policy_names_the_key(run, tmp_path):
    policy = tmp_path / "p.toml"
    policy.write_text('objective = "fastest"\n')
    result = run("recommend", "--policy", str(policy))
    assert result.exit_code == 1
    assert "objective" in result.stderr and "fastest" in result.stderr


def test_missing_value_warns_on_stderr(tmp_path, monkeypatch):
    monkeypatch.setenv("FREQOPT_DB", str(tmp_path / "v.db"))
    runner = CliRunner()
    (tmp_path / "f.csv").write_text("model_id,size,cost_per_retrain\nx,1,1\ny,2,1\n")
    runner.invoke(main, ["init"])
    runner.invoke(main, ["models", "import", str(tmp_path / "f.csv")])
    runner.invoke(main, ["cluster", "--k", "1"])
    result = runner.invoke(main, ["recommend", "--json"])
    assert result.exit_code == 0, result.stderr
    assert "Warning:" in result.stderr and "no value" in result.stderr
    assert len(json.loads(result.stdout)) == 2


def test_wrong_cluster_hint_names_the_models_cluster(run):
    a, b = cluster_of(run, "a0"), cluster_of(run, "b0")
    result = run("recommend", "--cluster", str(a), "--model", "b0")
    assert result.exit_code == 1
    assert f"is in cluster {b}, not cluster {a}" in result.stderr
    result = run("next-trial", "--cluster", str(a), "--model", "nosuch")
    assert "unknown model 'nosuch'" in result.stderr


def test_model_without_cost_warns_instead_of_blocking_the_fleet(run, tmp_path):
    path = tmp_path / "nocost.csv"
    path.write_text("model_id,architecture,n_parameters,value\na9,dnn,1000100,50\n")
    assert run("models", "import", str(path)).exit_code == 0
    result = run("recommend", "--all", "--json")
    assert result.exit_code == 0, result.stderr
    assert "no cost_per_retrain" in result.stderr
    assert "a9" in {r["model_id"] for r in json.loads(result.stdout)}


def test_a_model_with_one_allowed_interval_gets_no_trials(run, tmp_path):
    path = tmp_path / "fixed.csv"
    path.write_text(
        "model_id,architecture,n_parameters,value,cost_per_retrain,"
        "min_interval_hours,max_interval_hours\n"
        "a7,dnn,1000200,60,1,24,24\n"
    )
    run("models", "import", str(path))
    cid = str(cluster_of(run, "a7"))
    for _ in range(2):
        proposals = propose(run, "--cluster", cid, "--batch", "30")
        assert "a7" not in {p["model_id"] for p in proposals}
    recs = json.loads(run("recommend", "--model", "a7", "--json").stdout)
    assert recs[0]["interval_hours"] == 24
