"""The pure-core description of one cluster's decision problem.

A :class:`ClusterProblem` is everything the GP bandit needs to know about one
cluster, as plain arrays: which models, where they sit in embedding space,
which intervals each may run at, what a unit of gain is worth, what each
interval costs, what has been measured, and what is pending. The edge (store,
CLI) and the benchmark both build it; the core trusts it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

__all__ = ["ClusterProblem"]


@dataclass(frozen=True)
class ClusterProblem:
    """One cluster's models, allowed intervals, costs and observations.

    Attributes:
        model_ids: Model ids, shape (n_models,).
        embedding: Model coordinates in embedding space, float64 array of shape
            (n_models, n_dims). ``n_dims`` may be 0.
        intervals_hours: Allowed retraining intervals in hours, ascending,
            float64 array of shape (n_intervals,).
        allowed: Whether a model may run at an interval (data resolution,
            policy bounds), bool array of shape (n_models, n_intervals).
        value: Worth of one unit of gain per day for each model, in money per
            gain unit per day, float64 array of shape (n_models,).
        cost_per_day: Known compute cost of running each model at each
            interval, money per day, float64 array of shape
            (n_models, n_intervals).
        obs_model: Model index of each observation, int array (n_obs,).
        obs_interval_hours: Interval of each observation in hours, float64
            array (n_obs,). Not necessarily on the allowed grid.
        obs_gain: Measured gain of each observation (higher is better),
            float64 array (n_obs,).
        obs_gain_se: Standard error of each gain, NaN where unknown, float64
            array (n_obs,).
        obs_guardrails: Guardrail metric name to values relative to the
            baseline (percent change), float64 arrays of shape (n_obs,), NaN
            where not measured.
        pending: (model index, interval index) pairs of trials proposed or
            running, int array of shape (n_pending, 2).
        current_interval_hours: The interval each model runs at today, NaN
            where unknown, float64 array (n_models,).
    """

    model_ids: tuple[str, ...]
    embedding: np.ndarray
    intervals_hours: np.ndarray
    allowed: np.ndarray
    value: np.ndarray
    cost_per_day: np.ndarray
    obs_model: np.ndarray
    obs_interval_hours: np.ndarray
    obs_gain: np.ndarray
    obs_gain_se: np.ndarray
    obs_guardrails: Mapping[str, np.ndarray] = field(default_factory=dict)
    pending: np.ndarray = field(
        default_factory=lambda: np.zeros((0, 2), dtype=np.int64)
    )
    current_interval_hours: np.ndarray | None = None

    @property
    def n_models(self) -> int:
        """Number of models in the cluster."""
        return len(self.model_ids)

    @property
    def n_intervals(self) -> int:
        """Number of allowed intervals."""
        return int(self.intervals_hours.shape[0])

    @property
    def n_obs(self) -> int:
        """Number of observations (before replicates are merged)."""
        return int(self.obs_gain.shape[0])
