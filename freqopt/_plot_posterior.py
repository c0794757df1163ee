"""Plot a cluster's posterior gain and ROI curves, one panel per model.

Each panel shows, over log interval: the posterior gain with its 90 % band
and the measured gains with 90 % error bars (left axis), the posterior ROI
with its 90 % band and the compute cost in money per day (right axis), and
the recommended interval as a vertical line.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from freqopt.core.bandit import Posterior, Recommendation
from freqopt.core.problem import ClusterProblem

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["plot_cluster_posterior"]

_Z90 = 1.6448536269514722
_GAIN_COLOR = "tab:blue"
_ROI_COLOR = "tab:green"
_COST_COLOR = "tab:red"


def plot_cluster_posterior(
    problem: ClusterProblem,
    posterior: Posterior,
    recommendations: Sequence[Recommendation],
    path: str | os.PathLike[str],
    *,
    max_models: int = 12,
    models: Sequence[int] | None = None,
) -> Path:
    """Write a PNG with one panel per model of the cluster.

    Args:
        problem: The cluster (intervals, costs, observations).
        posterior: Its posterior from ``fit_posterior``.
        recommendations: From ``recommend``, in model order.
        path: Where to write the PNG; parent folders are created.
        max_models: Most models to draw.
        models: Model indices to draw, in panel order; None draws the models
            with the most results first, then the most valuable.

    Returns:
        The path written.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    if models is None:
        counts = np.bincount(problem.obs_model, minlength=problem.n_models)
        models = sorted(
            range(problem.n_models), key=lambda m: (-counts[m], -problem.value[m])
        )
    chosen = list(models)[:max_models]
    n_shown = len(chosen)
    n_cols = min(3, max(n_shown, 1))
    n_rows = max(math.ceil(n_shown / n_cols), 1)
    figure = Figure(figsize=(5.2 * n_cols, 3.6 * n_rows), layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.subplots(n_rows, n_cols, squeeze=False).ravel()

    for slot, m in enumerate(chosen):
        _panel(axes[slot], problem, posterior, recommendations[m], m, first=slot == 0)
    for axis in axes[n_shown:]:
        axis.set_visible(False)

    title = f"posterior ({posterior.method}), {n_shown} of {problem.n_models} models"
    figure.suptitle(title)
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(out, dpi=90)
    return out


def _panel(
    axis: Axes,
    problem: ClusterProblem,
    posterior: Posterior,
    recommendation: Recommendation,
    m: int,
    *,
    first: bool = False,
) -> None:
    """Draw one model's gain, ROI, cost, observations and recommendation."""
    tau = problem.intervals_hours
    # Intervals the model may not run at are left blank, not drawn.
    allowed = problem.allowed[m]
    gain = np.where(allowed, posterior.gain_mean[m], np.nan)
    gain_sd = np.where(allowed, posterior.gain_sd[m], np.nan)
    axis.set_xscale("log")
    axis.plot(tau, gain, color=_GAIN_COLOR, label="gain")
    axis.fill_between(
        tau, gain - _Z90 * gain_sd, gain + _Z90 * gain_sd, color=_GAIN_COLOR, alpha=0.2
    )
    _observations(axis, problem, m)
    axis.set_xlabel("interval (hours)")
    axis.set_ylabel("gain", color=_GAIN_COLOR)

    # ROI and cost share the money axis; cost is what ROI subtracts.
    money = axis.twinx()
    roi = np.where(allowed, posterior.roi_mean[m], np.nan)
    roi_sd = np.where(allowed, posterior.roi_sd[m], np.nan)
    money_cost = problem.value[m] * gain - roi
    money.plot(tau, roi, color=_ROI_COLOR, label="ROI")
    money.fill_between(
        tau, roi - _Z90 * roi_sd, roi + _Z90 * roi_sd, color=_ROI_COLOR, alpha=0.15
    )
    money.plot(tau, money_cost, color=_COST_COLOR, linestyle=":", label="cost")
    money.set_ylabel("money / day (ROI, cost)")
    _clip_money_axis(money, roi, problem.value[m] * gain, money_cost)
    if first:
        lines = axis.get_lines() + money.get_lines()
        shown = [ln for ln in lines if not str(ln.get_label()).startswith("_")]
        axis.legend(shown, [str(ln.get_label()) for ln in shown], fontsize=7)

    if recommendation.interval_index >= 0:
        axis.axvline(
            recommendation.interval_hours, color="black", linestyle="--", linewidth=1
        )
    axis.set_title(
        f"{problem.model_ids[m]}: {recommendation.interval_hours:g} h "
        f"({recommendation.status})",
        fontsize=9,
    )


def _observations(axis: Axes, problem: ClusterProblem, m: int) -> None:
    """Measured gains of model m with 90 % error bars where the se is known."""
    mine = np.asarray(problem.obs_model) == m
    if not mine.any():
        return
    se = np.nan_to_num(problem.obs_gain_se[mine], nan=0.0)
    axis.errorbar(
        problem.obs_interval_hours[mine],
        problem.obs_gain[mine],
        yerr=_Z90 * se,
        fmt="o",
        markersize=3,
        color="black",
        ecolor="gray",
        label="results",
    )


def _clip_money_axis(
    money: Axes, roi: np.ndarray, gross_value: np.ndarray, money_cost: np.ndarray
) -> None:
    """Keep the money axis on the region around the best ROI.

    Cost at the shortest intervals can dwarf everything else; the axis spans
    two "money flows" (the largest of ROI, gross value and cost at the best
    interval) below the best ROI and half of one above it.
    """
    if not np.isfinite(roi).any():
        return
    best = int(np.nanargmax(roi))
    flows = max(abs(roi[best]), abs(gross_value[best]), abs(money_cost[best]), 1e-12)
    money.set_ylim(roi[best] - 2 * flows, roi[best] + 0.5 * flows)
