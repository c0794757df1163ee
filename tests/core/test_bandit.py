"""The GP bandit: posterior fallbacks, proposals, recommendations, stopping."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from freqopt.core import gp
from freqopt.core.bandit import (
    Posterior,
    fit_posterior,
    propose,
    recommend,
)
from freqopt.core.problem import ClusterProblem
from freqopt.core.roi import cost_per_day_from_metadata, roi_from_gain
from freqopt.errors import FitWarning
from freqopt.policy import Guardrail, Policy

GRID = np.array(Policy().intervals_hours)
N_INTERVALS = GRID.size


def make_problem(
    obs: list[tuple[int, float, float]] = (),  # type: ignore[assignment]
    *,
    n_models: int = 3,
    se: float | None = None,
    gain_scale: float = 1.0,
    cost_scale: float = 1.0,
    allowed: np.ndarray | None = None,
    pending: list[tuple[int, int]] | None = None,
    guardrails: dict[str, list[float]] | None = None,
    current: list[float] | None = None,
) -> ClusterProblem:
    """A small cluster; obs are (model, interval_hours, gain)."""
    n_obs = len(obs)
    rng = np.random.default_rng(7)
    return ClusterProblem(
        model_ids=tuple(f"m{i}" for i in range(n_models)),
        embedding=rng.normal(size=(n_models, 3)),
        intervals_hours=GRID,
        allowed=np.ones((n_models, N_INTERVALS), bool) if allowed is None else allowed,
        value=np.linspace(10.0, 20.0, n_models),
        cost_per_day=cost_scale
        * cost_per_day_from_metadata(np.linspace(0.5, 1.0, n_models), GRID),
        obs_model=np.array([o[0] for o in obs], dtype=np.int64),
        obs_interval_hours=np.array([o[1] for o in obs], dtype=float),
        obs_gain=gain_scale * np.array([o[2] for o in obs], dtype=float),
        obs_gain_se=np.full(n_obs, np.nan if se is None else se * gain_scale),
        obs_guardrails={k: np.asarray(v, float) for k, v in (guardrails or {}).items()},
        pending=np.array(pending or [], dtype=np.int64).reshape(-1, 2),
        current_interval_hours=None if current is None else np.array(current, float),
    )


def true_gain(model: int, hours: np.ndarray | float) -> np.ndarray:
    """Saturating decay: a * (1 - exp(-b / interval)), per model."""
    a = 1.0 + 0.1 * model
    b = 12.0 * (1 + 0.3 * model)
    return a * (1 - np.exp(-b / np.asarray(hours, dtype=float)))


def rich_obs(n_models: int = 3) -> list[tuple[int, float, float]]:
    """Noisy results at five intervals for every model."""
    rng = np.random.default_rng(3)
    out = []
    for m in range(n_models):
        for hours in (1.0, 6.0, 24.0, 72.0, 336.0):
            out.append((m, hours, float(true_gain(m, hours) + 0.01 * rng.normal())))
    return out


def pairs(proposals: list) -> list[tuple[int, int]]:
    return [(p.model_index, p.interval_index) for p in proposals]


# Fallbacks -----------------------------------------------------------------


def test_cluster_without_results_is_all_cold_start_on_the_prior() -> None:
    problem = make_problem(current=[24.0, np.nan, 5.0])
    posterior = fit_posterior(problem, Policy())
    recs = recommend(problem, posterior, Policy())

    assert posterior.method == "prior"
    assert any("no results in the cluster" in n for n in posterior.notes)
    assert [r.status for r in recs] == ["cold-start"] * 3
    assert recs[0].interval_hours == 24.0  # keeps the known current interval
    middle = GRID[(GRID.size - 1) // 2]
    assert recs[1].interval_hours == middle  # no current interval
    assert recs[2].interval_hours == middle  # 5 h is not on the grid
    assert "middle of the feasible range" in recs[1].reason


def test_first_batch_without_results_is_spread_and_distinct() -> None:
    problem = make_problem()
    props = propose(problem, fit_posterior(problem, Policy()), Policy(), q=3)

    assert len(set(pairs(props))) == 3
    assert len({p.interval_index for p in props}) == 3
    assert all("no results in the cluster" in p.reason for p in props)


def test_one_result_falls_back_to_fixed_hyperparameters() -> None:
    problem = make_problem([(0, 24.0, 0.5)])
    posterior = fit_posterior(problem, Policy())
    recs = recommend(problem, posterior, Policy())

    assert posterior.method == "gp-fixed"
    assert any(n.startswith("one result") for n in posterior.notes)
    assert len(recs) == 3
    assert not any(r.status == "settled" for r in recs)
    assert recs[1].status == "cold-start"
    assert propose(problem, posterior, Policy(), q=2)


def test_identical_gains_give_a_constant_posterior_that_keeps_exploring() -> None:
    obs = [(0, 1.0, 0.3), (0, 24.0, 0.3), (1, 168.0, 0.3)]
    problem = make_problem(obs)
    posterior = fit_posterior(problem, Policy())

    assert posterior.method == "constant"
    assert np.allclose(posterior.gain_mean, 0.3)
    assert not any(
        r.status == "settled" for r in recommend(problem, posterior, Policy())
    )
    assert propose(problem, posterior, Policy(), q=1)


def test_fit_failure_warns_and_falls_back(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise np.linalg.LinAlgError("not positive definite")

    monkeypatch.setattr(gp, "_botorch_posterior", broken)
    problem = make_problem(rich_obs())
    with pytest.warns(FitWarning, match="fit failed"):
        posterior = fit_posterior(problem, Policy())
    assert posterior.method == "gp-fixed"
    assert any("not positive definite" in n for n in posterior.notes)


def test_data_contradicting_fresher_is_better_is_noted_by_model_id() -> None:
    obs = rich_obs() + [(1, 336.0, 5.0), (1, 336.0, 5.0)]
    posterior = fit_posterior(make_problem(obs, se=0.01), Policy())
    flagged = [n for n in posterior.notes if "fresher is not worse" in n]
    assert flagged and flagged[0].startswith("model m1")


# Replicates, pending, feasibility ------------------------------------------


def test_duplicate_and_near_duplicate_intervals_count_as_one_point() -> None:
    obs = rich_obs() + [(0, 24.0, 0.5), (0, 24.1, 0.52)]
    problem = make_problem(obs, se=0.02)
    posterior = fit_posterior(problem, Policy())

    j24 = int(np.flatnonzero(GRID == 24.0)[0])
    assert posterior.n_trials[0, j24] == 3
    for proposal in propose(problem, posterior, Policy(), q=8):
        measured = posterior.n_trials[proposal.model_index, proposal.interval_index]
        assert proposal.is_replicate == bool(measured)


def test_replicate_is_proposed_when_noise_makes_it_the_best_experiment() -> None:
    shape = (1, 3)
    gain = np.array([[1.0, 0.98, 0.5]])
    gain_sd = np.full(shape, 0.2)
    value, cost = np.array([10.0]), np.array([[4.0, 2.0, 1.0]])
    roi_mean, roi_sd = roi_from_gain(gain, gain_sd, value, cost, 1.0)
    posterior = Posterior(
        gain, gain_sd, roi_mean, roi_sd, "gp", (),
        noise_sd=np.full(shape, 0.5), n_trials=np.ones(shape, dtype=np.int64),
    )  # fmt: skip
    problem = ClusterProblem(
        ("m0",), np.zeros((1, 0)), np.array([1.0, 2.0, 4.0]), np.ones(shape, bool),
        value, cost, np.zeros(3, np.int64), np.array([1.0, 2.0, 4.0]),
        gain[0], np.full(3, 0.5),
    )  # fmt: skip

    props = propose(problem, posterior, Policy(), q=1)

    assert props and props[0].is_replicate
    assert props[0].reason.startswith("replicate")


def test_q_larger_than_remaining_points_returns_fewer_and_no_duplicates() -> None:
    allowed = np.zeros((3, N_INTERVALS), bool)
    allowed[:, [0, 5, 7, 11]] = True  # 0.25, 6, 24 and 336 h
    problem = make_problem(rich_obs(), se=0.001, allowed=allowed)
    posterior = fit_posterior(problem, Policy())

    props = propose(problem, posterior, Policy(), q=50)

    assert len(props) < 12
    assert len(set(pairs(props))) == len(props)


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(seed=st.integers(0, 10_000), n_obs=st.sampled_from([0, 2, 6]))
def test_proposals_never_leave_the_allowed_set(seed: int, n_obs: int) -> None:
    rng = np.random.default_rng(seed)
    allowed = rng.random((3, N_INTERVALS)) < 0.6
    allowed[:, 6] = True
    low, high = sorted(rng.choice(GRID[:10], size=2, replace=False))
    policy = Policy(min_interval_hours=float(low), max_interval_hours=float(high))
    obs = [
        (int(rng.integers(3)), float(rng.choice(GRID)), float(rng.random()))
        for _ in range(n_obs)
    ]
    pending = [(int(rng.integers(3)), int(rng.integers(N_INTERVALS)))]
    problem = make_problem(obs, allowed=allowed, pending=pending)

    posterior = fit_posterior(problem, policy)
    props = propose(problem, posterior, policy, q=5)

    for m, j in pairs(props):
        assert allowed[m, j] and low <= GRID[j] <= high
        assert (m, j) not in pending
    assert len(set(pairs(props))) == len(props)
    for rec in recommend(problem, posterior, policy):
        if rec.interval_index >= 0:
            assert allowed[rec.model_index, rec.interval_index]
            assert low <= rec.interval_hours <= high


def test_pending_trials_are_not_proposed_again() -> None:
    problem = make_problem(rich_obs(), se=0.05)
    first = propose(problem, fit_posterior(problem, Policy()), Policy(), q=2)

    busy = dataclasses.replace(problem, pending=np.array(pairs(first)))
    again = propose(busy, fit_posterior(busy, Policy()), Policy(), q=4)

    assert not set(pairs(first)) & set(pairs(again))


def test_pending_trials_are_not_proposed_without_results_either() -> None:
    problem = make_problem(pending=[(2, 5)])
    props = propose(problem, fit_posterior(problem, Policy()), Policy(), q=30)
    assert (2, 5) not in pairs(props)


def test_guardrail_violation_rules_the_interval_out() -> None:
    obs = rich_obs()
    problem = make_problem(obs, se=0.01)
    policy = Policy(guardrails=(Guardrail("fill_rate", min_change_pct=-0.5),))
    best = recommend(problem, fit_posterior(problem, policy), policy)[0]

    # The measured fill rate at model 0's best interval drops by 2 %.
    fill_rate = [np.nan] * len(obs) + [-2.0]
    obs_broken = obs + [(0, best.interval_hours, obs[0][2])]
    problem = make_problem(obs_broken, se=0.01, guardrails={"fill_rate": fill_rate})
    posterior = fit_posterior(problem, policy)
    rec = recommend(problem, posterior, policy)[0]

    assert rec.interval_index != best.interval_index
    reasons = dict(rec.ruled_out)
    assert "guardrail 'fill_rate'" in reasons[best.interval_hours]
    assert "min_change_pct" in reasons[best.interval_hours]
    props = propose(problem, posterior, policy, q=20)
    assert (0, best.interval_index) not in pairs(props)


def test_model_with_every_interval_ruled_out_is_infeasible() -> None:
    allowed = np.ones((3, N_INTERVALS), bool)
    allowed[1] = False
    problem = make_problem(rich_obs(), allowed=allowed)
    recs = recommend(problem, fit_posterior(problem, Policy()), Policy())

    assert recs[1].status == "infeasible"
    assert recs[1].interval_index == -1
    assert len(recs[1].ruled_out) == N_INTERVALS


# Decisions -------------------------------------------------------------------


def test_scaling_gains_and_costs_by_1000_keeps_every_decision() -> None:
    obs = rich_obs()
    base = make_problem(obs, se=0.02)
    scaled = make_problem(obs, se=0.02, gain_scale=1000.0, cost_scale=1000.0)
    policy = Policy()

    post_base, post_scaled = fit_posterior(base, policy), fit_posterior(scaled, policy)
    props_base = propose(base, post_base, policy, q=3)
    props_scaled = propose(scaled, post_scaled, policy, q=3)
    recs_base = recommend(base, post_base, policy)
    recs_scaled = recommend(scaled, post_scaled, policy)

    assert pairs(props_base) == pairs(props_scaled)
    for a, b in zip(props_base, props_scaled, strict=True):
        assert b.score == pytest.approx(1000 * a.score, rel=1e-3)
    assert [r.interval_index for r in recs_base] == [
        r.interval_index for r in recs_scaled
    ]
    assert [r.status for r in recs_base] == [r.status for r in recs_scaled]
    assert np.allclose(post_scaled.gain_mean, 1000 * post_base.gain_mean, rtol=1e-3)


def test_same_seed_gives_identical_decisions() -> None:
    problem = make_problem(rich_obs())

    def run() -> tuple[list, list]:
        posterior = fit_posterior(problem, Policy(), seed=5)
        return (
            propose(problem, posterior, Policy(), q=3, seed=5),
            recommend(problem, posterior, Policy(), seed=5),
        )

    assert run() == run()


def handmade(gain: list[float], cost: list[float], sd: float = 0.01) -> tuple:
    """A one-model problem and a posterior with the given gains."""
    n = len(gain)
    hours = GRID[:n]
    gain_arr = np.array([gain])
    value, cost_arr = np.array([10.0]), np.array([cost])
    gain_sd = np.full((1, n), sd)
    roi_mean, roi_sd = roi_from_gain(gain_arr, gain_sd, value, cost_arr, 1.0)
    posterior = Posterior(
        gain_arr, gain_sd, roi_mean, roi_sd, "gp", (),
        n_trials=np.ones((1, n), dtype=np.int64),
    )  # fmt: skip
    problem = ClusterProblem(
        ("m0",), np.zeros((1, 0)), hours, np.ones((1, n), bool), value, cost_arr,
        np.zeros(n, np.int64), hours, gain_arr[0], np.full(n, sd),
        current_interval_hours=np.array([hours[-1]]),
    )  # fmt: skip
    return problem, posterior


def test_net_value_recommends_the_highest_expected_roi() -> None:
    problem, posterior = handmade([1.0, 0.99, 0.9, 0.5], [4.0, 2.0, 1.0, 0.5])
    rec = recommend(problem, posterior, Policy())[0]

    # ROI: 6.0, 7.9, 8.0, 4.5
    assert rec.interval_index == 2
    assert rec.roi_mean == pytest.approx(8.0)
    assert rec.roi_change_vs_current == pytest.approx(8.0 - 4.5)
    assert rec.roi_lo < rec.roi_mean < rec.roi_hi


def test_efficiency_recommends_the_cheapest_interval_within_epsilon() -> None:
    problem, posterior = handmade([1.0, 0.99, 0.9, 0.5], [4.0, 2.0, 1.0, 0.5])
    policy = Policy(objective="efficiency", epsilon=0.02)
    rec = recommend(problem, posterior, policy)[0]
    assert rec.interval_index == 1  # 0.99 is within 2 % of 1.0; 0.9 is not


def test_certain_posterior_settles_and_gets_no_proposals() -> None:
    problem, posterior = handmade([1.0, 0.99, 0.9, 0.5], [4.0, 2.0, 1.0, 0.5], sd=1e-6)
    rec = recommend(problem, posterior, Policy())[0]

    assert rec.status == "settled"
    assert rec.prob_within_epsilon > 0.95
    assert "settled at" in rec.reason
    assert propose(problem, posterior, Policy(), q=2) == []


def test_uncertain_posterior_keeps_exploring_with_numbers() -> None:
    problem, posterior = handmade([1.0, 0.99, 0.9, 0.5], [4.0, 2.0, 1.0, 0.5], sd=0.3)
    rec = recommend(problem, posterior, Policy())[0]

    assert rec.status == "exploring"
    assert rec.max_expected_improvement > 0
    assert "P(within 2% of the best)" in rec.reason


def test_model_with_the_trial_cap_is_settled() -> None:
    problem, posterior = handmade([1.0, 0.99, 0.9, 0.5], [4.0, 2.0, 1.0, 0.5], sd=0.3)
    rec = recommend(problem, posterior, Policy(max_trials_per_model=4))[0]
    assert rec.status == "settled"
    assert "max_trials_per_model" in rec.reason


# Simulated cluster -----------------------------------------------------------


def simulate(n_models: int, q: int, seed: int) -> tuple[int, np.ndarray, int]:
    """Run propose -> observe -> refit on a cluster with known curves.

    Returns:
        Experiments run, normalized regret per model of the final
        recommendation, and the number of experiments a full grid needs.
    """
    rng = np.random.default_rng(seed)
    embedding = rng.normal(size=(n_models, 2))
    a = np.exp(0.2 * embedding[:, 0])
    b = 24 * np.exp(0.6 * embedding[:, 1])
    value = np.exp(0.5 * rng.normal(size=n_models))
    # Cost puts each model's best interval near its staleness scale b.
    best_hours = b * np.exp(rng.uniform(-0.7, 0.7, size=n_models))
    cost_per_retrain = value * a * b * np.exp(-b / best_hours) / 24
    gain = a[:, None] * (1 - np.exp(-b[:, None] / GRID[None, :]))
    cost = cost_per_day_from_metadata(cost_per_retrain, GRID)
    roi = value[:, None] * gain - cost
    noise_sd = 0.03 * a

    obs: list[tuple[int, float, float, float]] = []
    for _ in range(n_models * N_INTERVALS):
        problem = ClusterProblem(
            tuple(f"m{i}" for i in range(n_models)), embedding, GRID,
            np.ones((n_models, N_INTERVALS), bool), value, cost,
            np.array([o[0] for o in obs], dtype=np.int64),
            np.array([o[1] for o in obs]), np.array([o[2] for o in obs]),
            np.array([o[3] for o in obs]),
        )  # fmt: skip
        posterior = fit_posterior(problem, Policy(), seed=seed)
        props = propose(problem, posterior, Policy(), q=q, seed=seed)
        if not props or len(obs) >= n_models * N_INTERVALS:
            break
        for p in props:
            m, j = p.model_index, p.interval_index
            measured = gain[m, j] + noise_sd[m] * rng.normal()
            obs.append((m, float(GRID[j]), float(measured), float(noise_sd[m])))

    chosen = [r.interval_index for r in recommend(problem, posterior, Policy())]
    rows = np.arange(n_models)
    best, median = roi.max(axis=1), np.median(roi, axis=1)
    regret = (best - roi[rows, chosen]) / (best - median)
    return len(obs), regret, n_models * N_INTERVALS


def test_bandit_finds_good_intervals_with_fewer_experiments_than_a_grid() -> None:
    n_run, regret, n_grid = simulate(n_models=5, q=2, seed=0)
    assert n_run < n_grid / 2
    assert np.mean(regret <= 0.05) >= 0.8


@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_bandit_on_a_larger_cluster_beats_the_grid(seed: int) -> None:
    n_run, regret, n_grid = simulate(n_models=20, q=4, seed=seed)
    assert n_run < 0.6 * n_grid
    assert np.mean(regret <= 0.02) >= 0.8


def test_model_index_limits_proposals_to_that_model() -> None:
    problem = make_problem(rich_obs(), se=0.05)
    posterior = fit_posterior(problem, Policy())
    props = propose(problem, posterior, Policy(), q=4, model_index=1)
    assert props and {p.model_index for p in props} == {1}
