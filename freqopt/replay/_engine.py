"""Replay one model over a stream: train per period, score by age.

The timeline is cut into periods of the model's shortest allowed interval. At
the start of every period a fresh model is trained on the trailing window and
scored on that period and on every later period up to the longest interval.
The resulting table (origin period × age) gives the loss of every "retrain
every K periods" schedule exactly, and the staleness curve; see
:mod:`freqopt.replay._schedule`.
"""

from __future__ import annotations

import logging
import time
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from freqopt.errors import DataError
from freqopt.replay._data import Stream
from freqopt.replay._specs import ReplaySpec

__all__ = ["ReplayTable", "fit_ridge", "make_estimator", "replay_stream"]

logger = logging.getLogger(__name__)

_PROBABILITY_FLOOR = 1e-7
_LOGIT_BOUND = float(np.log((1.0 - _PROBABILITY_FLOOR) / _PROBABILITY_FLOOR))
_RIDGE_ALPHA = 1.0
_SGD_ALPHA = 1e-3
_HGB_TREES = 30
_HGB_LEAVES = 15


@dataclass(frozen=True)
class ReplayTable:
    """Losses of every trained model at every age, plus training cost.

    Attributes:
        period_hours: Length of one period in hours.
        first_origin: Period index of the first trained model (the training
            window's length in periods).
        loss_sum: Summed per-row loss on period ``first_origin + i + a`` of
            the model trained at the start of period ``first_origin + i``,
            float64 array (n_origins, n_ages); NaN past the end of the data.
            Log loss in nats for classification, squared error in target
            units squared for regression.
        n_rows: Rows in each period, int64 array (n_periods,).
        n_fits: Models actually fitted (a window identical to the previous
            one reuses its model).
        work_units_per_retrain: Mean deterministic training work of one
            retrain: training rows × features × the family's nominal passes.
        cpu_seconds_per_retrain: Mean CPU seconds of one fit, as measured;
            reported only, never used for decisions.
        n_parameters: Number of fitted parameters (linear: features + 1;
            boosting: the node budget, trees × (2 × leaves − 1)).
        n_features: Number of feature columns.
        rows_per_day: Mean rows per day over the stream.
    """

    period_hours: float
    first_origin: int
    loss_sum: np.ndarray
    n_rows: np.ndarray
    n_fits: int
    work_units_per_retrain: float
    cpu_seconds_per_retrain: float
    n_parameters: int
    n_features: int
    rows_per_day: float

    @property
    def n_periods(self) -> int:
        """Number of periods in the stream."""
        return int(self.n_rows.shape[0])

    @property
    def n_ages(self) -> int:
        """Number of ages scored, the longest interval in periods."""
        return int(self.loss_sum.shape[1])


class _Constant:
    """Predicts one value: the training mean (or base rate)."""

    def __init__(self, level: float) -> None:
        self.level = level

    def predict(self, features: np.ndarray) -> np.ndarray:
        return np.full(features.shape[0], self.level)

    def predict_proba(self, features: np.ndarray) -> np.ndarray:
        p = np.full(features.shape[0], self.level)
        return np.column_stack([1.0 - p, p])


@dataclass(frozen=True)
class _Linear:
    """A fitted linear model folded into raw-feature weights.

    The score is a prediction (regression) or a logit (classification).
    """

    weights: np.ndarray
    bias: float

    def score(self, features: np.ndarray) -> np.ndarray:
        return features @ self.weights + self.bias


def make_estimator(family: str, random_state: int = 0) -> Any:
    """A fresh, unfitted scikit-learn estimator of a family.

    Args:
        family: A key of :data:`freqopt.replay.FAMILIES`.
        random_state: Seed of the stochastic families (SGD, boosting).

    Returns:
        An estimator with ``fit`` and ``predict`` (and ``predict_proba`` for
        classifiers). Linear families standardize inputs inside the window;
        the SGD regressor also standardizes its target.

    Raises:
        DataError: If the family is unknown.
    """
    from sklearn.compose import TransformedTargetRegressor
    from sklearn.ensemble import (
        HistGradientBoostingClassifier,
        HistGradientBoostingRegressor,
    )
    from sklearn.linear_model import (
        LogisticRegression,
        Ridge,
        SGDClassifier,
        SGDRegressor,
    )
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    boosting = {
        "max_iter": _HGB_TREES,
        "max_leaf_nodes": _HGB_LEAVES,
        "early_stopping": False,
        "random_state": random_state,
    }
    sgd = {
        "alpha": _SGD_ALPHA,
        "max_iter": 5,
        "tol": None,
        "random_state": random_state,
    }
    if family == "ridge":
        return make_pipeline(StandardScaler(), Ridge(alpha=_RIDGE_ALPHA))
    if family == "logistic":
        return make_pipeline(StandardScaler(), LogisticRegression(max_iter=200))
    if family == "sgd_classifier":
        return make_pipeline(StandardScaler(), SGDClassifier(loss="log_loss", **sgd))
    if family == "sgd_regressor":
        return TransformedTargetRegressor(
            regressor=make_pipeline(StandardScaler(), SGDRegressor(**sgd)),
            transformer=StandardScaler(),
        )
    if family == "hgb_regressor":
        return HistGradientBoostingRegressor(**boosting)
    if family == "hgb_classifier":
        return HistGradientBoostingClassifier(**boosting)
    raise DataError(f"family {family!r} is unknown; see freqopt.replay.FAMILIES")


def fit_ridge(
    features: np.ndarray, target: np.ndarray, alpha: float = _RIDGE_ALPHA
) -> _Linear:
    """Ridge regression on standardized features, solved in closed form.

    The same model as scikit-learn's ``StandardScaler`` then ``Ridge(alpha)``
    (population standard deviation, constant columns left unscaled, an
    unpenalized intercept), without its per-call overhead, which dominates
    thousands of small fits.

    Args:
        features: Float64 array (n_rows, n_features).
        target: Float64 array (n_rows,).
        alpha: L2 penalty on the standardized coefficients.

    Returns:
        The fit, as weights on the raw features and a bias.
    """
    mean = features.mean(axis=0)
    scale = features.std(axis=0)
    scale[np.ptp(features, axis=0) == 0.0] = 1.0
    standardized = (features - mean) / scale
    target_mean = float(target.mean())

    gram = standardized.T @ standardized
    gram[np.diag_indices_from(gram)] += alpha
    beta = np.linalg.solve(gram, standardized.T @ (target - target_mean))
    weights = beta / scale
    return _Linear(weights=weights, bias=target_mean - float(mean @ weights))


def _linearize(model: Any) -> _Linear:
    """Fold a fitted scaler + linear head (+ target scaler) into raw weights."""
    target_scaler = getattr(model, "transformer_", None)
    pipeline = model.regressor_ if target_scaler is not None else model
    scaler, head = pipeline[0], pipeline[-1]

    weights = np.ravel(head.coef_) / scaler.scale_
    bias = float(np.ravel(head.intercept_)[0]) - float(scaler.mean_ @ weights)
    if target_scaler is not None:
        weights = weights * target_scaler.scale_[0]
        bias = bias * float(target_scaler.scale_[0]) + float(target_scaler.mean_[0])
    return _Linear(weights=weights, bias=bias)


def _fit(family: str, x: np.ndarray, y: np.ndarray, kind: str, seed: int) -> Any:
    """Fit one model; a window with one class or too few rows gives a constant."""
    if kind == "classification" and (y.min() == y.max() or y.shape[0] < 10):
        level = float(np.clip(y.mean(), _PROBABILITY_FLOOR, 1 - _PROBABILITY_FLOOR))
        return _Constant(level)
    if y.shape[0] < 10:
        return _Constant(float(y.mean()))
    if family == "ridge":
        return fit_ridge(x, y)

    from sklearn.exceptions import ConvergenceWarning

    with warnings.catch_warnings():
        # The SGD families run a fixed epoch budget on purpose.
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = make_estimator(family, seed).fit(x, y)
    return model if family.startswith("hgb") else _linearize(model)


def _row_loss(model: Any, x: np.ndarray, y: np.ndarray, kind: str) -> np.ndarray:
    """Per-row loss: log loss in nats, or squared error."""
    if isinstance(model, _Linear):
        score = model.score(x)
        if kind == "regression":
            return (score - y) ** 2
        logit = np.clip(score, -_LOGIT_BOUND, _LOGIT_BOUND)
        return np.logaddexp(0.0, logit) - y * logit
    if kind == "classification":
        p = model.predict_proba(x)[:, -1]
        p = np.clip(p, _PROBABILITY_FLOOR, 1.0 - _PROBABILITY_FLOOR)
        return -(y * np.log(p) + (1.0 - y) * np.log1p(-p))
    return (model.predict(x) - y) ** 2


def _n_parameters(family: str, n_features: int) -> int:
    if family.startswith("hgb"):
        return _HGB_TREES * (2 * _HGB_LEAVES - 1)
    return n_features + 1


def replay_stream(
    stream: Stream, spec: ReplaySpec, *, random_state: int = 0
) -> ReplayTable:
    """Train one model per period on the trailing window; score it by age.

    Args:
        stream: Rows in time order.
        spec: The model: family, period, training window, longest interval.
        random_state: Seed of the stochastic families.

    Returns:
        The loss table and training cost.

    Raises:
        DataError: If the spec does not fit the stream (period finer than the
            data, window longer than the data, an empty first window).

    Notes:
        A window with exactly the rows of the previous window (no new data,
        e.g. overnight) reuses the previous model, as a production retrain
        on unchanged data would reproduce it. Cost still counts every
        retrain.
    """
    spec.validate()
    period = np.floor(stream.hours / spec.period_hours).astype(np.int64)
    n_periods = int(period[-1]) + 1
    _check_fit(stream, spec, n_periods)

    offsets = np.searchsorted(period, np.arange(n_periods + 1))
    loss_sum, window_rows, n_fits, cpu = _replay_origins(
        stream, spec, period, offsets, random_state
    )

    work = float(window_rows.mean()) * stream.n_features * spec.passes
    logger.debug("replayed %s: %d fits, %.1f s CPU", spec.model_id, n_fits, cpu)
    return ReplayTable(
        period_hours=float(spec.period_hours),
        first_origin=spec.window_periods,
        loss_sum=loss_sum,
        n_rows=np.diff(offsets).astype(np.int64),
        n_fits=n_fits,
        work_units_per_retrain=work,
        cpu_seconds_per_retrain=cpu / max(n_fits, 1),
        n_parameters=_n_parameters(spec.family, stream.n_features),
        n_features=stream.n_features,
        rows_per_day=stream.rows_per_day,
    )


def _replay_origins(
    stream: Stream,
    spec: ReplaySpec,
    period: np.ndarray,
    offsets: np.ndarray,
    random_state: int,
) -> tuple[np.ndarray, np.ndarray, int, float]:
    """The loop over origins: (loss_sum, window rows, fits, CPU seconds)."""
    n_periods = offsets.shape[0] - 1
    first, n_ages = spec.window_periods, spec.n_ages
    loss_sum = np.full((n_periods - first, n_ages), np.nan)
    window_rows = np.empty(n_periods - first)
    model, previous, n_fits, cpu = None, (-1, -1), 0, 0.0

    for origin in range(first, n_periods):
        lo, hi = offsets[origin - first], offsets[origin]
        window_rows[origin - first] = hi - lo
        end = min(origin + n_ages, n_periods)
        row = loss_sum[origin - first]

        if (lo, hi) == previous or (hi == lo and model is not None):
            # Same model as one period earlier: shift its losses by one age.
            row[: end - origin - 1] = loss_sum[origin - first - 1, 1 : end - origin]
            row[end - origin - 1] = _period_loss(model, stream, offsets, end - 1)
            continue

        started = time.process_time()
        x, y = stream.features[lo:hi], stream.target[lo:hi]
        model = _fit(spec.family, x, y, stream.target_kind, random_state)
        cpu += time.process_time() - started
        n_fits += 1
        previous = (lo, hi)
        row[: end - origin] = _losses_by_age(
            model, stream, offsets, origin, end, period
        )

    return loss_sum, window_rows, n_fits, cpu


def _check_fit(stream: Stream, spec: ReplaySpec, n_periods: int) -> None:
    """Fail early when the spec cannot be replayed on the stream."""
    if spec.period_hours < stream.resolution_hours - 1e-9:
        raise DataError(
            f"model {spec.model_id!r}: period_hours={spec.period_hours:g} is finer "
            f"than the data's resolution of {stream.resolution_hours:g} h; use a "
            "period that is a multiple of it"
        )
    needed = spec.window_periods + spec.n_ages + 1
    if n_periods < needed:
        raise DataError(
            f"model {spec.model_id!r}: {stream.name} spans {n_periods} periods of "
            f"{spec.period_hours:g} h but the training window plus the longest "
            f"interval need at least {needed}; shorten them"
        )
    first_window = stream.hours < spec.training_window_hours
    if not first_window.any():
        raise DataError(
            f"model {spec.model_id!r}: the first training window of "
            f"{spec.training_window_hours:g} h holds no rows of {stream.name}"
        )


def _losses_by_age(
    model: Any,
    stream: Stream,
    offsets: np.ndarray,
    origin: int,
    end: int,
    period: np.ndarray,
) -> np.ndarray:
    """Summed loss on periods origin..end-1, float64 array (end - origin,)."""
    lo, hi = offsets[origin], offsets[end]
    if hi == lo:
        return np.zeros(end - origin)
    x, y = stream.features[lo:hi], stream.target[lo:hi]
    losses = _row_loss(model, x, y, stream.target_kind)
    return np.bincount(period[lo:hi] - origin, weights=losses, minlength=end - origin)


def _period_loss(model: Any, stream: Stream, offsets: np.ndarray, index: int) -> float:
    """Summed loss of a model on one period."""
    lo, hi = offsets[index], offsets[index + 1]
    if hi == lo:
        return 0.0
    x, y = stream.features[lo:hi], stream.target[lo:hi]
    return float(_row_loss(model, x, y, stream.target_kind).sum())
