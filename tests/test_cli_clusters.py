"""Clustering through the CLI and store: versions, stable ids, assignment."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from freqopt.cli import main

EXAMPLE_FLEET = Path(__file__).resolve().parents[1] / "examples" / "fleet.csv"


@pytest.fixture
def run(tmp_path, monkeypatch):
    monkeypatch.setenv("FREQOPT_DB", str(tmp_path / "c.db"))
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(main, list(args), catch_exceptions=False)

    assert invoke("init").exit_code == 0
    assert invoke("models", "import", str(EXAMPLE_FLEET)).exit_code == 0
    return invoke


def clusters_json(run) -> list[dict]:
    result = run("clusters", "--json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def test_cluster_json_lists_ids_sizes_and_members(run):
    result = run("cluster", "--seed", "0", "--json")
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["version"] == 1 and document["summary"]["k"] == 6

    listed = clusters_json(run)
    assert sum(c["size"] for c in listed) == 300
    assert all({"cluster_id", "size", "model_ids"} <= c.keys() for c in listed)
    assert sorted(c["cluster_id"] for c in listed) == [1, 2, 3, 4, 5, 6]


def _two_groups(path: Path, split: bool) -> Path:
    """Two clear groups of 20; with ``split``, 8 of group B become a third group."""
    lines = ["model_id,architecture,n_parameters,goal"]
    for i in range(20):
        lines.append(f"a{i:02d},dnn,{1_000_000 + 1000 * i},ctr")
    for i in range(20):
        if split and i < 8:
            lines.append(f"b{i:02d},two_tower,{50_000_000 + 1000 * i},ranking")
        else:
            lines.append(f"b{i:02d},gbdt,{1000 + 10 * i},cvr")
    path.write_text("\n".join(lines) + "\n")
    return path


def test_ids_stay_stable_when_one_cluster_splits(tmp_path, monkeypatch):
    monkeypatch.setenv("FREQOPT_DB", str(tmp_path / "split.db"))
    runner = CliRunner()

    def run(*args: str):
        return runner.invoke(main, list(args), catch_exceptions=False)

    run("init")
    run("models", "import", str(_two_groups(tmp_path / "f1.csv", split=False)))
    run("cluster", "--k", "2", "--seed", "0")
    before = {c["cluster_id"]: set(c["model_ids"]) for c in clusters_json(run)}
    id_a = next(cid for cid, members in before.items() if "a00" in members)
    id_b = next(cid for cid, members in before.items() if "b00" in members)

    run("models", "import", str(_two_groups(tmp_path / "f2.csv", split=True)))
    document = json.loads(run("cluster", "--k", "3", "--seed", "0", "--json").stdout)
    after = {c["cluster_id"]: set(c["model_ids"]) for c in clusters_json(run)}

    assert after[id_a] == before[id_a]
    assert after[id_b] == {f"b{i:02d}" for i in range(8, 20)}  # larger part keeps id
    (fresh,) = document["new_ids"]
    assert fresh not in before and after[fresh] == {f"b{i:02d}" for i in range(8)}
    assert document["retired_ids"] == [] and document["n_moved"] == 8

    diff = json.loads(run("clusters", "diff", "--json").stdout)
    assert {(m["old_cluster_id"], m["new_cluster_id"]) for m in diff["moves"]} == {
        (id_b, fresh)
    }


def test_same_seed_gives_the_same_clustering(run):
    first = json.loads(run("cluster", "--seed", "3", "--json").stdout)
    second = json.loads(run("cluster", "--seed", "3", "--json").stdout)
    assert [c["model_ids"] for c in first["clusters"]] == [
        c["model_ids"] for c in second["clusters"]
    ]
    assert second["n_moved"] == 0


def test_new_models_join_the_nearest_cluster_and_outliers_are_flagged(run, tmp_path):
    run("cluster", "--seed", "0")
    lines = EXAMPLE_FLEET.read_text().splitlines()
    header, typical = lines[0], lines[1].split(",")
    typical[0] = "new-typical"
    odd = list(typical)
    odd[0] = "new-odd"
    odd[1] = "9e15"  # n_parameters far outside the fleet
    odd[5] = "transformer_xl"  # architecture never seen before
    path = tmp_path / "new.csv"
    path.write_text("\n".join([header, ",".join(typical), ",".join(odd)]) + "\n")

    result = run("models", "import", str(path), "--json")
    assert result.exit_code == 0, result.stderr
    assigned = {a["model_id"]: a for a in json.loads(result.stdout)["assigned"]}
    assert assigned["new-typical"]["is_outlier"] is False
    assert assigned["new-odd"]["is_outlier"] is True

    cid = assigned["new-typical"]["cluster_id"]
    members = json.loads(run("clusters", "show", str(cid), "--json").stdout)
    row = next(m for m in members if m["model_id"] == "new-typical")
    assert row["assigned"] is True


def test_unknown_cluster_and_no_clustering_are_clear_errors(run):
    result = run("clusters", "show", "1")
    assert result.exit_code == 1 and "freqopt cluster" in result.stderr
    run("cluster")
    result = run("clusters", "show", "99")
    assert result.exit_code == 1 and "no cluster 99" in result.stderr


def test_bad_k_and_weight_are_usage_errors(run):
    assert run("cluster", "--k", "many").exit_code == 2
    assert run("cluster", "--weight", "architecture").exit_code == 2
    assert run("cluster", "--pca", "-1").exit_code == 2


def test_plot_writes_a_png(run, tmp_path):
    run("cluster")
    out = tmp_path / "fleet.png"
    result = run("clusters", "plot", "--out", str(out))
    assert result.exit_code == 0, result.stderr
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_diff_with_one_clustering_and_unknown_exclude_are_clear(run):
    run("cluster")
    result = run("clusters", "diff")
    assert result.exit_code == 1 and "only one clustering" in result.stderr
    result = run("cluster", "--exclude", "nosuch")
    assert result.exit_code == 1 and "nosuch" in result.stderr


def test_outlier_recommendation_says_so(run, tmp_path):
    run("cluster", "--seed", "0")
    lines = EXAMPLE_FLEET.read_text().splitlines()
    odd = lines[1].split(",")
    odd[0], odd[1], odd[5] = "new-odd", "9e15", "transformer_xl"
    path = tmp_path / "odd.csv"
    path.write_text("\n".join([lines[0], ",".join(odd)]) + "\n")
    run("models", "import", str(path))

    result = run("recommend", "--model", "new-odd", "--json")
    assert result.exit_code == 0, result.stderr
    (rec,) = json.loads(result.stdout)
    assert rec["is_outlier"] is True and rec["reason"].startswith("OUTLIER")


def test_report_refuses_a_non_image_file_name(run, tmp_path):
    run("cluster")
    result = run("report", "--cluster", "1", "--out", str(tmp_path / "x.txt"))
    assert result.exit_code == 2 and ".png" in result.stderr
