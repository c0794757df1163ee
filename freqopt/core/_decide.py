"""Per-model decisions shared by proposing and recommending.

For each model: which intervals are feasible (allowed, inside the policy's
bounds, not ruled out by a guardrail), the incumbent under the policy's
objective, the worth of one more trial at each interval, the probability that
the incumbent is within epsilon of the optimum, and whether the model is
settled.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from freqopt.core import _acquisition as acq
from freqopt.core.gp import SNAP_LOG_TOL
from freqopt.core.problem import ClusterProblem
from freqopt.policy import Guardrail, Policy

__all__ = ["NOT_BRACKETED", "Decision", "decide", "feasibility", "roi_scale"]

#: Why a model whose incumbent is an extrapolation is not settled yet.
NOT_BRACKETED = "its best interval is not yet bracketed by intervals it has measured"

#: Joint posterior samples per model for the probability of being optimal.
N_SAMPLES = 512


@dataclass(frozen=True)
class Decision:
    """What the bandit concludes about one model.

    Attributes:
        feasible: Feasible intervals, bool array (n_intervals,).
        ruled_out: (interval_hours, reason) of every infeasible interval.
        incumbent: Recommended interval index, -1 when nothing is feasible.
        roi_scale: Money per day at stake in the choice of interval.
        threshold: Worth (money/day) below which a trial is not worth it.
        log_score: Log expected improvement per interval (of the latent
            curve, money/day), float64 array (n_intervals,); -inf where
            infeasible.
        max_improvement: Largest expected improvement, money/day.
        prob_within: Posterior probability that the incumbent is within
            epsilon of the optimum.
        n_trials: Results the model has of its own.
        settled: Whether no further trial is worth it.
        rule: Which stopping rule settled it ("" when not settled).
        blocked: Why the stopping rules were not applied ("" when they were).
        to_bracket: Interval indices the model must measure before it can be
            settled, so its incumbent is not an extrapolation; empty when
            none are missing.
    """

    feasible: np.ndarray
    ruled_out: tuple[tuple[float, str], ...]
    incumbent: int
    roi_scale: float
    threshold: float
    log_score: np.ndarray
    max_improvement: float
    prob_within: float
    n_trials: int
    settled: bool
    rule: str
    blocked: str
    to_bracket: tuple[int, ...]


def feasibility(
    problem: ClusterProblem, policy: Policy
) -> tuple[np.ndarray, list[list[tuple[float, str]]]]:
    """Feasible (model, interval) pairs and why the others are not.

    Args:
        problem: The cluster.
        policy: Interval bounds and guardrails.

    Returns:
        Feasibility, bool array (n_models, n_intervals), and per model the
        (interval_hours, reason) pairs ruled out, in interval order.
    """
    tau = problem.intervals_hours
    feasible = np.asarray(problem.allowed, dtype=bool).copy()
    reasons: list[list[tuple[float, str]]] = [[] for _ in range(problem.n_models)]
    low, high = policy.min_interval_hours, policy.max_interval_hours
    violations = _guardrail_violations(problem, policy)

    for m in range(problem.n_models):
        for j, hours in enumerate(tau):
            why = ""
            if not feasible[m, j]:
                why = "not allowed for this model"
            elif low is not None and hours < low:
                why = f"below the policy's min_interval_hours ({low:g})"
            elif high is not None and hours > high:
                why = f"above the policy's max_interval_hours ({high:g})"
            elif (m, j) in violations:
                why = violations[(m, j)]
            if why:
                feasible[m, j] = False
                reasons[m].append((float(hours), why))
    return feasible, reasons


def _guardrail_violations(
    problem: ClusterProblem, policy: Policy
) -> dict[tuple[int, int], str]:
    """(model, interval index) -> reason, where a guardrail is likely broken.

    Measured values at one (model, interval) are averaged; the interval is
    ruled out when the average is outside the policy's bounds.
    """
    found: dict[tuple[int, int], str] = {}
    if not policy.guardrails or problem.n_obs == 0:
        return found

    log_grid = np.log(problem.intervals_hours)
    log_tau = np.log(np.maximum(problem.obs_interval_hours, 1e-300))
    nearest = np.abs(log_tau[:, None] - log_grid[None, :]).argmin(axis=1)
    on_grid = np.abs(log_tau - log_grid[nearest]) <= SNAP_LOG_TOL

    for guardrail in policy.guardrails:
        values = problem.obs_guardrails.get(guardrail.name)
        if values is None:
            continue
        values = np.asarray(values, dtype=np.float64)
        measured = on_grid & np.isfinite(values)
        pairs = np.column_stack([problem.obs_model, nearest])[measured]
        for (m, j), mean in _group_means(pairs, values[measured]):
            broken = _broken_bound(guardrail, mean)
            if broken and (m, j) not in found:
                found[(m, j)] = f"guardrail '{guardrail.name}' {broken}"
    return found


def _group_means(
    pairs: np.ndarray, values: np.ndarray
) -> list[tuple[tuple[int, int], float]]:
    """Mean of values per distinct (model, interval index) pair."""
    if pairs.shape[0] == 0:
        return []
    keys, group = np.unique(pairs, axis=0, return_inverse=True)
    group = group.ravel()
    sums = np.bincount(group, weights=values, minlength=len(keys))
    counts = np.bincount(group, minlength=len(keys))
    return [
        ((int(k[0]), int(k[1])), float(s / c))
        for k, s, c in zip(keys, sums, counts, strict=True)
    ]


def _broken_bound(guardrail: Guardrail, mean: float) -> str:
    """Describe the bound a measured mean breaks, or '' if none."""
    low, high = guardrail.min_change_pct, guardrail.max_change_pct
    if low is not None and mean < low:
        return f"measured {mean:+.3g} % < min_change_pct {low:+g} %"
    if high is not None and mean > high:
        return f"measured {mean:+.3g} % > max_change_pct {high:+g} %"
    return ""


def roi_scale(
    roi_mean: np.ndarray,
    gross_value: np.ndarray,
    money_cost: np.ndarray,
    feasible: np.ndarray,
    incumbent: np.ndarray,
) -> np.ndarray:
    """Money per day at stake in each model's choice of interval.

    How much better the best feasible interval is than a typical one: best
    minus median expected ROI over the feasible intervals. It is at least a
    tenth of the money the model moves at its incumbent (the largest of
    expected ROI, gross value of gain and compute cost there), so a flat
    curve does not make every difference look large. Thresholds relative to
    this scale do not depend on units.

    Args:
        roi_mean: ROI posterior mean, money/day, (n_models, n_intervals).
        gross_value: Value x posterior mean gain, money/day, same shape.
        money_cost: Compute price x cost per day, same shape.
        feasible: Feasible intervals, bool, same shape.
        incumbent: Incumbent interval per model, -1 if none, (n_models,).

    Returns:
        Positive scale per model, float64 array (n_models,); 1 where
        nothing is feasible or everything is zero.
    """
    rows = np.arange(roi_mean.shape[0])
    at = np.clip(incumbent, 0, None)
    flows = np.maximum.reduce(
        [np.abs(a[rows, at]) for a in (roi_mean, gross_value, money_cost)]
    )
    masked = np.where(feasible, roi_mean, np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        gap = np.nanmax(masked, axis=1) - np.nanmedian(masked, axis=1)
    scale = np.maximum(np.nan_to_num(gap, nan=0.0), 0.1 * flows)
    return np.where((scale > 0) & (incumbent >= 0), scale, 1.0)


def decide(
    problem: ClusterProblem,
    gain_mean: np.ndarray,
    gain_cov: np.ndarray,
    policy: Policy,
    *,
    fitted: bool = True,
    seed: int = 0,
) -> list[Decision]:
    """Decide incumbent, worth of a trial and stopping for every model.

    Args:
        problem: The cluster.
        gain_mean: Gain posterior mean, (n_models, n_intervals).
        gain_cov: Joint gain covariance, (n_models * n_intervals,) squared.
        policy: Objective, tolerances and stopping thresholds.
        fitted: False when the posterior's hyperparameters were not fitted
            (a prior, or a fallback): its uncertainty is then not trusted for
            stopping, and no model is settled.
        seed: Seed for the posterior samples.

    Returns:
        One decision per model, in model order.
    """
    feasible, reasons = feasibility(problem, policy)
    n_models, n_intervals = gain_mean.shape
    gain_sd = np.sqrt(np.clip(np.diag(gain_cov), 0, None)).reshape(gain_mean.shape)
    value = np.asarray(problem.value, dtype=np.float64)
    money_cost = policy.compute_price * problem.cost_per_day
    roi_mean = value[:, None] * gain_mean - money_cost

    incumbent, log_score = _incumbent_and_scores(
        gain_mean, gain_sd, value, money_cost, feasible, policy
    )

    gross = value[:, None] * gain_mean
    scale = roi_scale(roi_mean, gross, money_cost, feasible, incumbent)
    n_trials = np.bincount(
        np.asarray(problem.obs_model, dtype=np.int64)[np.isfinite(problem.obs_gain)],
        minlength=n_models,
    )
    missing = _missing_brackets(problem, incumbent, feasible)
    decisions = []
    for m in range(n_models):
        block = slice(m * n_intervals, (m + 1) * n_intervals)
        prob = _prob_within(
            gain_mean[m], gain_cov[block, block], feasible[m], int(incumbent[m]),
            value[m], money_cost[m], float(scale[m]), policy, seed, m,
        )  # fmt: skip
        decisions.append(
            _settle(
                feasible[m],
                tuple(reasons[m]),
                int(incumbent[m]),
                float(scale[m]),
                log_score[m],
                prob,
                int(n_trials[m]),
                policy,
                missing[m],
                _blocked(fitted, not missing[m], int(n_trials[m]), policy),
            )  # fmt: skip
        )
    return decisions


def _incumbent_and_scores(
    gain_mean: np.ndarray,
    gain_sd: np.ndarray,
    value: np.ndarray,
    money_cost: np.ndarray,
    feasible: np.ndarray,
    policy: Policy,
) -> tuple[np.ndarray, np.ndarray]:
    """Incumbent per model and log expected improvement per point.

    Returns:
        Incumbent interval index, int (n_models,), -1 without feasible
        intervals; log expected improvement in money/day, float64
        (n_models, n_intervals), -inf where infeasible.
    """
    if policy.objective == "efficiency":
        incumbent = acq.efficiency_incumbent(
            gain_mean, money_cost, feasible, policy.epsilon
        )
        log_score = acq.efficiency_scores(
            gain_mean, gain_sd, value, money_cost, feasible, incumbent,
            policy.epsilon,
        )  # fmt: skip
    else:
        roi_mean = value[:, None] * gain_mean - money_cost
        masked = np.where(feasible, roi_mean, -np.inf)
        incumbent = np.where(feasible.any(axis=1), masked.argmax(axis=1), -1)
        roi_sd = np.abs(value)[:, None] * gain_sd
        log_score = acq.net_value_scores(roi_mean, roi_sd, incumbent)
    return incumbent, np.where(feasible, log_score, -np.inf)


def _settle(
    feasible: np.ndarray,
    ruled_out: tuple[tuple[float, str], ...],
    incumbent: int,
    scale: float,
    log_score: np.ndarray,
    prob: float,
    n_trials: int,
    policy: Policy,
    to_bracket: tuple[int, ...],
    blocked: str,
) -> Decision:
    """Apply the stopping rules to one model."""
    threshold = policy.stop_ei_fraction * scale
    best = float(np.exp(log_score.max(initial=-np.inf)))
    rule = ""
    if incumbent >= 0 and int(np.count_nonzero(feasible)) == 1:
        # One allowed interval: no experiment can change the choice.
        rule, best = "only", 0.0
    elif incumbent >= 0 and n_trials >= policy.max_trials_per_model:
        rule = "budget"
    elif not blocked and incumbent >= 0:
        if policy.stop_delta > 0 and prob > 1 - policy.stop_delta:
            rule = "probability"
        elif policy.stop_ei_fraction > 0 and best < threshold:
            rule = "improvement"
    return Decision(
        feasible=feasible,
        ruled_out=ruled_out,
        incumbent=incumbent,
        roi_scale=scale,
        threshold=threshold,
        log_score=log_score,
        max_improvement=best,
        prob_within=prob,
        n_trials=n_trials,
        settled=bool(rule),
        rule=rule,
        blocked="" if rule else blocked,
        to_bracket=() if rule else to_bracket,
    )


def _missing_brackets(
    problem: ClusterProblem, incumbent: np.ndarray, feasible: np.ndarray
) -> list[tuple[int, ...]]:
    """Intervals each model must still measure to bracket its incumbent.

    A model is not settled on an extrapolation: it must have measured an
    interval shorter and one longer than its incumbent, or the incumbent
    itself where it is the shortest or longest feasible interval. For each
    side that is missing, the nearest feasible interval on that side (or
    the incumbent, at an edge) is what would complete the bracket.

    Args:
        problem: The cluster.
        incumbent: Incumbent interval index per model, -1 if none.
        feasible: Feasible intervals, bool (n_models, n_intervals).

    Returns:
        Per model, the interval indices still needed; empty when bracketed.
    """
    finite = np.isfinite(problem.obs_gain)
    models = np.asarray(problem.obs_model, dtype=np.int64)[finite]
    log_hours = np.log(np.asarray(problem.obs_interval_hours)[finite])
    log_grid = np.log(problem.intervals_hours)

    out: list[tuple[int, ...]] = []
    for m, j in enumerate(incumbent):
        options = np.flatnonzero(feasible[m])
        if j < 0 or options.size == 0:
            out.append(())
            continue
        offset = log_hours[models == m] - log_grid[j]
        measured_here = bool(np.any(np.abs(offset) <= SNAP_LOG_TOL))
        shorter, longer = options[options < j], options[options > j]

        needed = []
        if not np.any(offset < -SNAP_LOG_TOL):
            if shorter.size:
                needed.append(int(shorter[-1]))
            elif not measured_here:
                needed.append(int(j))
        if not np.any(offset > SNAP_LOG_TOL):
            if longer.size:
                needed.append(int(longer[0]))
            elif not measured_here:
                needed.append(int(j))
        out.append(tuple(sorted(set(needed))))
    return out


def _blocked(fitted: bool, bracketed: bool, n_trials: int, policy: Policy) -> str:
    """Why a model may not be settled yet, or '' if it may."""
    if not fitted:
        return "too little data to trust the uncertainty"
    if n_trials < policy.min_trials_to_settle:
        return f"needs {policy.min_trials_to_settle} result(s) of its own"
    if not bracketed:
        return NOT_BRACKETED
    return ""


def _prob_within(
    mean: np.ndarray,
    cov: np.ndarray,
    feasible: np.ndarray,
    incumbent: int,
    value: float,
    money_cost: np.ndarray,
    scale: float,
    policy: Policy,
    seed: int,
    model: int,
) -> float:
    """P(incumbent within epsilon of the optimum) from joint samples."""
    if incumbent < 0:
        return float("nan")
    idx = np.flatnonzero(feasible)
    if idx.size == 1:
        return 1.0

    # Joint samples of gain on the feasible intervals.
    sub = cov[np.ix_(idx, idx)]
    eigval, eigvec = np.linalg.eigh(0.5 * (sub + sub.T))
    root = eigvec * np.sqrt(np.clip(eigval, 0, None))
    rng = np.random.default_rng([seed, model])
    normal = rng.standard_normal((N_SAMPLES, idx.size))
    gain = mean[idx] + normal @ root.T
    pos = int(np.searchsorted(idx, incumbent))

    if policy.objective == "efficiency":
        return _prob_efficient(gain, money_cost[idx], pos, policy.epsilon)
    roi = value * gain - money_cost[idx]
    regret = roi.max(axis=1) - roi[:, pos]
    return float(np.mean(regret <= policy.epsilon * scale))


def _prob_efficient(
    gain: np.ndarray, money_cost: np.ndarray, pos: int, epsilon: float
) -> float:
    """P(incumbent is the efficient choice, up to epsilon) over samples."""
    best = gain.max(axis=1)
    tolerance = epsilon * np.maximum(np.abs(best), best - gain.min(axis=1))
    within = gain >= (best - tolerance)[:, None]
    cheapest = np.where(within, money_cost, np.inf).min(axis=1)
    slack = epsilon * float(np.ptp(money_cost))
    ok = within[:, pos] & (money_cost[pos] <= cheapest + slack)
    return float(np.mean(ok))
