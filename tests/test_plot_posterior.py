"""The cluster posterior plot."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from freqopt._plot_posterior import plot_cluster_posterior
from freqopt.core.bandit import fit_posterior, recommend
from freqopt.core.problem import ClusterProblem
from freqopt.core.roi import cost_per_day_from_metadata
from freqopt.policy import Policy

GRID = np.array(Policy().intervals_hours)
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def cluster(n_models: int, n_obs: int) -> ClusterProblem:
    rng = np.random.default_rng(0)
    model = rng.integers(0, n_models, size=n_obs)
    hours = rng.choice(GRID, size=n_obs)
    gain = 1 / (1 + hours / 24) + 0.02 * rng.normal(size=n_obs)
    return ClusterProblem(
        model_ids=tuple(f"model-{i}" for i in range(n_models)),
        embedding=rng.normal(size=(n_models, 2)),
        intervals_hours=GRID,
        allowed=np.ones((n_models, GRID.size), bool),
        value=np.full(n_models, 5.0),
        cost_per_day=cost_per_day_from_metadata(np.full(n_models, 0.05), GRID),
        obs_model=model,
        obs_interval_hours=hours,
        obs_gain=gain,
        obs_gain_se=np.where(rng.random(n_obs) < 0.5, 0.02, np.nan),
    )


def plot(problem: ClusterProblem, path: Path, **kwargs: int) -> Path:
    posterior = fit_posterior(problem, Policy())
    recs = recommend(problem, posterior, Policy())
    return plot_cluster_posterior(problem, posterior, recs, path, **kwargs)


def test_plot_writes_a_non_empty_png(tmp_path: Path) -> None:
    out = plot(cluster(4, 20), tmp_path / "plots" / "cluster.png")

    assert out == tmp_path / "plots" / "cluster.png"
    data = out.read_bytes()
    assert data.startswith(PNG_MAGIC)
    assert len(data) > 10_000


def test_plot_draws_at_most_max_models(tmp_path: Path) -> None:
    few = plot(cluster(7, 30), tmp_path / "few.png", max_models=2)
    many = plot(cluster(7, 30), tmp_path / "many.png", max_models=7)
    assert few.stat().st_size < many.stat().st_size


def test_plot_of_a_cluster_without_results_still_writes(tmp_path: Path) -> None:
    out = plot(cluster(3, 0), tmp_path / "prior.png")
    assert out.read_bytes().startswith(PNG_MAGIC)
