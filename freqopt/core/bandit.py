"""The GP bandit: posterior, next trials and recommendations for a cluster.

Three steps, each a pure function of its inputs:

1. :func:`fit_posterior` fits one GP per cluster over (log interval, model
   embedding) to the measured gains and maps it to ROI with the known cost.
2. :func:`propose` scores every feasible (model, interval) pair that is not
   pending and whose model is not settled by its expected ROI improvement
   (money per day, so experiments go where the money is) and returns a batch
   of distinct proposals.
3. :func:`recommend` gives each model its best interval under the policy's
   objective, with uncertainty, the stopping numbers and what was ruled out.

Example:
    >>> posterior = fit_posterior(problem, policy)  # doctest: +SKIP
    >>> propose(problem, posterior, policy, q=4)  # doctest: +SKIP
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass

import numpy as np

from freqopt.core import _acquisition as acq
from freqopt.core._decide import NOT_BRACKETED, Decision, decide
from freqopt.core.gp import (
    MergedObservations,
    fit_gain_gp,
    merge_replicates,
    monotone_contradictions,
    reduce_embedding,
)
from freqopt.core.problem import ClusterProblem
from freqopt.core.roi import roi_from_gain
from freqopt.errors import FitWarning
from freqopt.policy import Policy

__all__ = [
    "Posterior",
    "Proposal",
    "Recommendation",
    "fit_posterior",
    "propose",
    "recommend",
]

logger = logging.getLogger(__name__)

#: Standard normal quantile of a central 90 % interval.
_Z90 = 1.6448536269514722


@dataclass(frozen=True)
class Posterior:
    """What the cluster GP believes about gain and ROI on the grid.

    Attributes:
        gain_mean: Posterior mean gain, float64 (n_models, n_intervals).
        gain_sd: Posterior sd of the (noise-free) gain, same shape.
        roi_mean: Posterior mean ROI in money per day, same shape.
        roi_sd: Posterior sd of ROI in money per day, same shape.
        method: ``"gp"`` (fitted GP), ``"gp-fixed"`` (GP with fixed
            hyperparameters: too few results or a failed fit), ``"constant"``
            (every gain identical) or ``"prior"`` (no results in the cluster).
        notes: What was done and why, in words: fallbacks, noise handling,
            and models whose data contradict "fresher is not worse".
        gain_cov: Joint covariance of gain, float64 array of shape
            (n_models * n_intervals, n_models * n_intervals), row
            ``m * n_intervals + j``; None treats points as independent.
        noise_sd: Gain sd of one new measurement, (n_models, n_intervals);
            None means no noise.
        n_trials: Results merged at each grid point, int64 array
            (n_models, n_intervals); None means none.
    """

    gain_mean: np.ndarray
    gain_sd: np.ndarray
    roi_mean: np.ndarray
    roi_sd: np.ndarray
    method: str
    notes: tuple[str, ...]
    gain_cov: np.ndarray | None = None
    noise_sd: np.ndarray | None = None
    n_trials: np.ndarray | None = None


@dataclass(frozen=True)
class Proposal:
    """One proposed trial: run a model at an interval.

    Attributes:
        model_index: Model index in the cluster problem.
        interval_index: Index into the problem's allowed intervals.
        score: Expected ROI improvement of the trial in money per day (after
            accounting for pending trials and earlier proposals of the batch).
        is_replicate: Whether the point was already measured.
        reason: Why this trial, in words.
        gain_mean: Posterior mean gain at the point.
        gain_lo: Lower end of the 90 % interval of gain.
        gain_hi: Upper end of the 90 % interval of gain.
        roi_mean: Posterior mean ROI, money per day.
        roi_lo: Lower end of the 90 % interval of ROI.
        roi_hi: Upper end of the 90 % interval of ROI.
    """

    model_index: int
    interval_index: int
    score: float
    is_replicate: bool
    reason: str
    gain_mean: float
    gain_lo: float
    gain_hi: float
    roi_mean: float
    roi_lo: float
    roi_hi: float


@dataclass(frozen=True)
class Recommendation:
    """The interval recommended for one model, with the numbers behind it.

    Attributes:
        model_index: Model index in the cluster problem.
        interval_index: Index into the allowed intervals; -1 when no interval
            is feasible.
        interval_hours: Recommended interval in hours; NaN when infeasible.
        status: ``"settled"`` (no further trial is worth it), ``"exploring"``
            (trials still pay), ``"cold-start"`` (no results of its own; the
            curve comes from neighbours or the prior) or ``"infeasible"``
            (every interval is ruled out).
        gain_mean: Posterior mean gain at the interval.
        gain_lo: Lower end of its 90 % interval.
        gain_hi: Upper end of its 90 % interval.
        roi_mean: Posterior mean ROI, money per day.
        roi_lo: Lower end of its 90 % interval.
        roi_hi: Upper end of its 90 % interval.
        max_expected_improvement: Largest expected ROI improvement of one more
            trial on this model, money per day.
        prob_within_epsilon: Posterior probability that the interval is
            within the policy's epsilon of the optimum.
        roi_change_vs_current: Expected ROI change against the current
            interval, money per day; None when the current one is unknown or
            outside the grid.
        ruled_out: (interval_hours, reason) of every interval not considered.
        reason: Why, in words and numbers.
    """

    model_index: int
    interval_index: int
    interval_hours: float
    status: str
    gain_mean: float
    gain_lo: float
    gain_hi: float
    roi_mean: float
    roi_lo: float
    roi_hi: float
    max_expected_improvement: float
    prob_within_epsilon: float
    roi_change_vs_current: float | None
    ruled_out: tuple[tuple[float, str], ...]
    reason: str


def fit_posterior(
    problem: ClusterProblem, policy: Policy, *, seed: int = 0
) -> Posterior:
    """Fit the cluster's gain GP and map it to ROI.

    Args:
        problem: The cluster's models, costs and observations.
        policy: Supplies the compute price.
        seed: Seed for choosing the points used to fit hyperparameters.

    Returns:
        The posterior on every (model, allowed interval) pair.

    Warns:
        FitWarning: The GP fit failed and fixed hyperparameters were used.

    Notes:
        Gains of all models in a cluster are pooled after each model's are
        divided by its fitted scale (see :mod:`freqopt.core.gp`), so they must
        share a unit (e.g. percent of normalized entropy). Memory grows with
        (n_models * n_intervals) squared.
    """
    merged = merge_replicates(
        problem.obs_model,
        problem.obs_interval_hours,
        problem.obs_gain,
        problem.obs_gain_se,
        problem.intervals_hours,
    )
    coords = reduce_embedding(problem.embedding)
    gp = fit_gain_gp(
        merged,
        coords,
        problem.intervals_hours,
        prior_sd=_prior_gain_sd(problem, policy),
        seed=seed,
    )
    notes = list(gp.notes)
    notes += _data_notes(problem, merged.n_points, coords.shape[1])
    for model, short, long, z in monotone_contradictions(merged, gp.point_noise_sd):
        notes.append(
            f"model {problem.model_ids[model]}: gain at {long:g} h is {z:.1f} "
            f"standard errors above gain at {short:g} h, contradicting "
            "'fresher is not worse'; check its trials"
        )
    if gp.fit_failed:
        warnings.warn(
            "cluster GP fit failed; fell back to fixed hyperparameters "
            "(see Posterior.notes). Check the results for outliers",
            FitWarning,
            stacklevel=2,
        )

    gain_sd = np.sqrt(np.clip(np.diag(gp.cov), 0, None)).reshape(gp.mean.shape)
    roi_mean, roi_sd = roi_from_gain(
        gp.mean, gain_sd, problem.value, problem.cost_per_day, policy.compute_price
    )
    logger.debug("posterior for %d models: %s", problem.n_models, gp.method)
    return Posterior(
        gain_mean=gp.mean,
        gain_sd=gain_sd,
        roi_mean=roi_mean,
        roi_sd=roi_sd,
        method=gp.method,
        notes=tuple(notes),
        gain_cov=gp.cov,
        noise_sd=gp.noise_sd,
        n_trials=_grid_counts(merged, problem.n_models, problem.n_intervals),
    )


def propose(
    problem: ClusterProblem,
    posterior: Posterior,
    policy: Policy,
    *,
    q: int = 1,
    model_index: int | None = None,
    seed: int = 0,
) -> list[Proposal]:
    """Propose up to ``q`` distinct trials, most valuable first.

    Every feasible (model, interval) pair that is not pending and whose model
    is not settled is scored by its expected ROI improvement in money per
    day. A measured pair stays a candidate (a replicate) but its worth is
    discounted by the measurement noise, so it wins only when noise makes
    replication the best experiment. After each pick the covariance is
    conditioned on it (Kriging believer, hyperparameters fixed); pending
    trials are conditioned on the same way first.

    Args:
        problem: The cluster.
        posterior: From :func:`fit_posterior` on the same problem.
        policy: Objective, bounds, guardrails and stopping thresholds.
        q: Most proposals to return.
        model_index: Only propose for this model (even if settled).
        seed: Seed for the posterior samples of the stopping rule.

    Returns:
        At most ``q`` proposals on distinct pairs, fewer when fewer trials are
        worth running (a trial is worth running when its score reaches the
        model's stopping threshold, or the model still lacks the results it
        needs to be settled).
    """
    decisions = _decisions(problem, posterior, policy, seed)
    if posterior.method == "prior":
        return _propose_without_data(problem, posterior, decisions, q, model_index)

    shape = posterior.gain_mean.shape
    noise_sd = _noise_sd(posterior)
    pending = np.zeros(shape, dtype=bool)
    pairs = np.asarray(problem.pending, dtype=np.int64).reshape(-1, 2)
    pending[pairs[:, 0], pairs[:, 1]] = True

    # Pending trials count as measured at their expected value (believer).
    cov = _covariance(posterior)
    for m, j in pairs:
        cov = acq.believer_update(cov, m * shape[1] + j, noise_sd[m, j] ** 2)

    # Candidates: feasible, not pending, model not settled (unless asked
    # for); a model held back only by an unbracketed incumbent measures what
    # completes the bracket.
    candidates = ~pending & np.array([d.feasible for d in decisions])
    for m, decision in enumerate(decisions):
        if model_index is None:
            candidates[m] &= not decision.settled
        else:
            candidates[m] &= m == model_index
        if decision.to_bracket and decision.blocked == NOT_BRACKETED:
            bracket = np.zeros(shape[1], dtype=bool)
            bracket[list(decision.to_bracket)] = True
            candidates[m] &= bracket

    proposals: list[Proposal] = []
    floor = _log_floor(decisions, policy)
    for _ in range(q):
        log_ei, log_score = _scores(
            problem, posterior, policy, decisions, cov, noise_sd
        )
        worth = candidates & (log_ei >= floor[:, None]) & (log_ei > -np.inf)
        if not worth.any():
            break
        flat = int(np.argmax(np.where(worth, log_score, -np.inf)))
        m, j = divmod(flat, shape[1])
        score = float(np.exp(log_score[m, j]))
        proposals.append(_proposal(problem, posterior, decisions[m], m, j, score))
        candidates[m, j] = False
        cov = acq.believer_update(cov, flat, noise_sd[m, j] ** 2)

    logger.info("proposed %d trial(s)", len(proposals))
    return proposals


def recommend(
    problem: ClusterProblem, posterior: Posterior, policy: Policy, *, seed: int = 0
) -> list[Recommendation]:
    """Recommend an interval for every model of the cluster.

    ``net_value`` picks the feasible interval with the highest expected ROI;
    ``efficiency`` the cheapest feasible interval whose expected gain is
    within epsilon of the best expected gain. Without any result in the
    cluster, a model keeps its current interval when known, else gets the
    cheapest feasible one.

    Args:
        problem: The cluster.
        posterior: From :func:`fit_posterior` on the same problem.
        policy: Objective, bounds, guardrails and stopping thresholds.
        seed: Seed for the posterior samples of the stopping rule.

    Returns:
        One recommendation per model, in model order.
    """
    decisions = _decisions(problem, posterior, policy, seed)
    return [
        _recommendation(problem, posterior, policy, m, decision)
        for m, decision in enumerate(decisions)
    ]


def _decisions(
    problem: ClusterProblem, posterior: Posterior, policy: Policy, seed: int
) -> list[Decision]:
    """Per-model decisions on the posterior."""
    return decide(
        problem,
        posterior.gain_mean,
        _covariance(posterior),
        policy,
        fitted=posterior.method == "gp",
        seed=seed,
    )


def _covariance(posterior: Posterior) -> np.ndarray:
    """The joint gain covariance, diagonal when the posterior has none."""
    if posterior.gain_cov is not None:
        return np.array(posterior.gain_cov, dtype=np.float64)
    return np.diag(posterior.gain_sd.ravel() ** 2)


def _noise_sd(posterior: Posterior) -> np.ndarray:
    """Gain sd of one new measurement, zeros when unknown."""
    if posterior.noise_sd is not None:
        return np.asarray(posterior.noise_sd, dtype=np.float64)
    return np.zeros_like(posterior.gain_mean)


def _scores(
    problem: ClusterProblem,
    posterior: Posterior,
    policy: Policy,
    decisions: list[Decision],
    cov: np.ndarray,
    noise_sd: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Log expected improvement and log worth of one noisy trial per point.

    Returns:
        Log expected improvement of the latent curve, and the same discounted
        for measurement noise (what ranks candidates), both float64 arrays
        (n_models, n_intervals) in log money/day; -inf where infeasible.
    """
    shape = posterior.gain_mean.shape
    gain_sd = np.sqrt(np.clip(np.diag(cov), 0, None)).reshape(shape)
    feasible = np.array([d.feasible for d in decisions])
    incumbent = np.array([d.incumbent for d in decisions])
    value = np.asarray(problem.value, dtype=np.float64)

    if policy.objective == "efficiency":
        money_cost = policy.compute_price * problem.cost_per_day
        log_ei = acq.efficiency_scores(
            posterior.gain_mean, gain_sd, value, money_cost, feasible,
            incumbent, policy.epsilon,
        )  # fmt: skip
    else:
        roi_sd = np.abs(value)[:, None] * gain_sd
        log_ei = acq.net_value_scores(posterior.roi_mean, roi_sd, incumbent)
    log_ei = np.where(feasible, log_ei, -np.inf)
    return log_ei, log_ei + acq.log_noise_factor(gain_sd, noise_sd)


def _log_floor(decisions: list[Decision], policy: Policy) -> np.ndarray:
    """Per model, the log expected improvement a trial must reach.

    The stopping threshold, except for a model whose stopping rules are not
    applied yet (it must be able to get trials until they are).
    """
    floor = np.full(len(decisions), -np.inf)
    for m, decision in enumerate(decisions):
        if decision.threshold > 0 and not decision.blocked:
            floor[m] = np.log(decision.threshold)
    return floor


def _interval_numbers(posterior: Posterior, m: int, j: int) -> dict[str, float]:
    """Posterior mean and 90 % interval of gain and ROI at one point."""
    gain, gain_sd = posterior.gain_mean[m, j], posterior.gain_sd[m, j]
    roi, roi_sd = posterior.roi_mean[m, j], posterior.roi_sd[m, j]
    return {
        "gain_mean": float(gain),
        "gain_lo": float(gain - _Z90 * gain_sd),
        "gain_hi": float(gain + _Z90 * gain_sd),
        "roi_mean": float(roi),
        "roi_lo": float(roi - _Z90 * roi_sd),
        "roi_hi": float(roi + _Z90 * roi_sd),
    }


def _proposal(
    problem: ClusterProblem,
    posterior: Posterior,
    decision: Decision,
    m: int,
    j: int,
    score: float,
) -> Proposal:
    """Build one proposal with its reason."""
    hours = float(problem.intervals_hours[j])
    n_here = 0 if posterior.n_trials is None else int(posterior.n_trials[m, j])
    best = decision.incumbent
    best_hours = float(problem.intervals_hours[best])
    reason = (
        f"expected ROI improvement {score:.3g}/day over the incumbent "
        f"{best_hours:g} h (ROI {posterior.roi_mean[m, best]:.3g}/day)"
    )
    if n_here:
        noise = 0.0 if posterior.noise_sd is None else posterior.noise_sd[m, j]
        reason = (
            f"replicate ({n_here} result(s) at {hours:g} h): measurement noise "
            f"(gain sd {noise:.3g}) leaves the ROI here uncertain "
            f"(sd {posterior.roi_sd[m, j]:.3g}/day); " + reason
        )
    elif decision.n_trials == 0:
        reason = "first trial of this model; " + reason
    if j in decision.to_bracket:
        reason = "brackets the model's best interval; " + reason
    if decision.settled:
        reason = "model is settled but was asked for; " + reason
    return Proposal(
        model_index=m,
        interval_index=j,
        score=score,
        is_replicate=bool(n_here),
        reason=reason,
        **_interval_numbers(posterior, m, j),
    )


def _propose_without_data(
    problem: ClusterProblem,
    posterior: Posterior,
    decisions: list[Decision],
    q: int,
    model_index: int | None,
) -> list[Proposal]:
    """First trials of a cluster without results: a spread design.

    Models with the most money at stake go first. In the first round the
    ``k`` chosen models get intervals at quantiles ``(rank + 0.5) / k`` of
    their feasible range, so one batch covers short and long intervals
    across the cluster (the shared GP then learns the curve's shape); later
    rounds fill in from the middle of each model's range outwards.
    """
    # A model with one allowed interval has nothing to learn (unless asked).
    models = [
        m
        for m, d in enumerate(decisions)
        if np.count_nonzero(d.feasible) > 1 or (m == model_index and d.feasible.any())
    ]
    if model_index is not None:
        models = [m for m in models if m == model_index]
    models.sort(key=lambda m: (-decisions[m].roi_scale, -problem.value[m], m))
    taken = {(int(m), int(j)) for m, j in np.asarray(problem.pending).reshape(-1, 2)}

    first = models[: max(min(q, len(models)), 0)]
    picks: list[tuple[int, int]] = []
    for rank, m in enumerate(first):
        options = np.flatnonzero(decisions[m].feasible)
        j = int(options[int((rank + 0.5) / len(first) * options.size)])
        if (m, j) not in taken:
            picks.append((m, j))
            taken.add((m, j))

    queues = {m: _center_out(np.flatnonzero(decisions[m].feasible)) for m in models}
    while len(picks) < q:
        added = False
        for m in models:
            rest = [j for j in queues[m] if (m, j) not in taken]
            if rest and len(picks) < q:
                picks.append((m, rest[0]))
                taken.add((m, rest[0]))
                added = True
        if not added:
            break

    reason = (
        "no results in the cluster yet: models with the most money at stake "
        "go first, spread over short and long intervals"
    )
    return [
        Proposal(
            model_index=m,
            interval_index=j,
            score=float(np.exp(decisions[m].log_score[j])),
            is_replicate=False,
            reason=reason,
            **_interval_numbers(posterior, m, j),
        )
        for m, j in picks[:q]
    ]


def _center_out(indices: np.ndarray) -> list[int]:
    """Indices ordered from the middle outwards."""
    middle = (len(indices) - 1) / 2
    order = sorted(range(len(indices)), key=lambda i: (abs(i - middle), -i))
    return [int(indices[i]) for i in order]


def _recommendation(
    problem: ClusterProblem,
    posterior: Posterior,
    policy: Policy,
    m: int,
    decision: Decision,
) -> Recommendation:
    """Build one model's recommendation."""
    j = decision.incumbent
    if posterior.method == "prior" and j >= 0:
        # The flat prior ranks intervals by cost alone, which would send a
        # model without data to its longest interval; keep the current one
        # instead, else take the middle of the feasible range.
        options = np.flatnonzero(decision.feasible)
        middle = int(options[(options.size - 1) // 2])
        j = _current_index(problem, m, decision.feasible, default=middle)

    if j < 0:
        nan = float("nan")
        return Recommendation(
            model_index=m, interval_index=-1, interval_hours=nan,
            status="infeasible", gain_mean=nan, gain_lo=nan, gain_hi=nan,
            roi_mean=nan, roi_lo=nan, roi_hi=nan, max_expected_improvement=nan,
            prob_within_epsilon=nan, roi_change_vs_current=None,
            ruled_out=decision.ruled_out,
            reason="every interval is ruled out (see ruled_out); widen the "
            "policy's or the model's own bounds (min_interval_hours, "
            "max_interval_hours) or review the guardrails",
        )  # fmt: skip

    status, reason = _status(problem, posterior, policy, m, j, decision)
    return Recommendation(
        model_index=m,
        interval_index=j,
        interval_hours=float(problem.intervals_hours[j]),
        status=status,
        max_expected_improvement=decision.max_improvement,
        prob_within_epsilon=decision.prob_within,
        roi_change_vs_current=_change_vs_current(problem, posterior, m, j),
        ruled_out=decision.ruled_out,
        reason=reason,
        **_interval_numbers(posterior, m, j),
    )


def _status(
    problem: ClusterProblem,
    posterior: Posterior,
    policy: Policy,
    m: int,
    j: int,
    decision: Decision,
) -> tuple[str, str]:
    """Status word and reason for one model's recommendation."""
    hours = problem.intervals_hours[j]
    chance = (
        f"P(within {100 * policy.epsilon:g}% of the best) = {decision.prob_within:.2f}"
    )
    worth = (
        f"largest expected ROI improvement {decision.max_improvement:.3g}/day "
        f"(threshold {decision.threshold:.3g}/day)"
    )
    if posterior.method == "prior":
        current = _current_index(problem, m, decision.feasible, default=-1)
        keep = (
            "keeping the current interval"
            if current == j
            else "middle of the feasible range"
        )
        return "cold-start", f"no results in the cluster: {keep} ({hours:g} h)"

    if decision.settled:
        rules = {
            "probability": f"{chance} > {1 - policy.stop_delta:.2f}",
            "improvement": worth,
            "budget": f"{decision.n_trials} results reached the policy's "
            f"max_trials_per_model; {chance}",
            "only": "the only allowed interval; no trial can change the choice",
        }
        return "settled", f"settled at {hours:g} h: {rules[decision.rule]}"
    if decision.n_trials == 0:
        return "cold-start", (
            f"no results of its own; {hours:g} h from neighbours' results; "
            f"{chance}; {worth}"
        )
    hold = f" (not settled: {decision.blocked})" if decision.blocked else ""
    return "exploring", f"best so far {hours:g} h; {chance}; {worth}{hold}"


def _current_index(
    problem: ClusterProblem, m: int, feasible: np.ndarray, default: int
) -> int:
    """Grid index of the model's current interval if known and feasible."""
    current = problem.current_interval_hours
    if current is None or not np.isfinite(current[m]) or current[m] <= 0:
        return default
    gap = np.abs(np.log(problem.intervals_hours) - np.log(current[m]))
    j = int(np.argmin(gap))
    return j if gap[j] <= 0.02 and feasible[j] else default


def _change_vs_current(
    problem: ClusterProblem, posterior: Posterior, m: int, j: int
) -> float | None:
    """Expected ROI at the recommendation minus at the current interval."""
    current = problem.current_interval_hours
    if current is None or not np.isfinite(current[m]) or current[m] <= 0:
        return None
    log_grid = np.log(problem.intervals_hours)
    log_now = float(np.log(current[m]))
    if not log_grid[0] - 0.02 <= log_now <= log_grid[-1] + 0.02:
        return None
    now = np.interp(log_now, log_grid, posterior.roi_mean[m])
    return float(posterior.roi_mean[m, j] - now)


def _prior_gain_sd(problem: ClusterProblem, policy: Policy) -> np.ndarray:
    """Prior gain sd per model: the gain worth the model's cost range.

    With no gain measured anywhere, the only scale is money: a gain whose
    value equals the spread of the model's compute cost would change the
    decision, so that is the "wide" prior.
    """
    cost = np.where(problem.allowed, problem.cost_per_day, np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        spread = np.nanmax(cost, axis=1) - np.nanmin(cost, axis=1)
        width = policy.compute_price * spread / np.abs(problem.value)
    good = np.isfinite(width) & (width > 0)
    fill = float(np.median(width[good])) if good.any() else 1.0
    return np.where(good, width, fill)


def _grid_counts(
    merged: MergedObservations, n_models: int, n_intervals: int
) -> np.ndarray:
    """Results merged at each (model, grid interval), int64 (n_models, n_int)."""
    counts = np.zeros((n_models, n_intervals), dtype=np.int64)
    on_grid = merged.grid_index >= 0
    np.add.at(
        counts,
        (merged.model_index[on_grid], merged.grid_index[on_grid]),
        merged.count[on_grid],
    )
    return counts


def _data_notes(problem: ClusterProblem, n_points: int, n_coords: int) -> list[str]:
    """Notes on dropped rows and on the embedding reduction."""
    notes = []
    bad = int(np.sum(~np.isfinite(problem.obs_gain)))
    if bad:
        notes.append(f"{bad} result(s) with a non-finite gain ignored")
    n_dims = problem.embedding.shape[1] if problem.embedding.ndim == 2 else 0
    if problem.n_models > 1 and n_dims and n_coords < n_dims:
        notes.append(
            f"embedding reduced from {n_dims} to {n_coords} principal "
            "coordinate(s) within the cluster"
        )
    if problem.n_models > 1 and n_coords == 0:
        notes.append("all models share one embedding point: one curve for all")
    logger.debug("%d merged points from %d results", n_points, problem.n_obs)
    return notes
