"""One Gaussian process per cluster over (log interval, model embedding).

The gain of model ``m`` at interval ``tau`` is modelled as

    gain(m, tau) = trend(tau) + f(x(tau), z_m, m),

    trend(tau) = base + amplitude * (1 - exp(-staleness / tau)),  amplitude >= 0,

where ``x`` is log interval scaled to [0, 1] over the allowed grid and ``z_m``
the model's embedding reduced to at most three principal coordinates. The
trend is one saturating decay fitted to the whole cluster: it encodes
"fresher is rarely worse, with diminishing returns" as a prior mean without
forcing any curve to be monotone. ``f`` is a zero-mean GP whose kernel is a
shared part (RBF over log interval times RBF over the embedding), through
which a model without trials borrows its neighbours' curves, plus a part of
the model's own (RBF over log interval, zero across models).

Models of a cluster share a curve's shape more than its size, so before
pooling each model's gains are divided by its own scale: the multiplier of
the cluster's trend that best fits its points, shrunk toward 1 (models with
fewer than two points keep 1). The posterior is multiplied back per model.

Replicates at one (model, interval) are merged; a known standard error is used
as fixed noise, otherwise the noise is estimated from replicates or learned.
Hyperparameters are fitted by maximum marginal likelihood (BoTorch) on at most
``max_fit_points`` merged points; the posterior then conditions on all points.
When there is too little data to fit, or the fit fails, a GP with fixed,
moderate hyperparameters is used instead and the returned ``notes`` say so.
"""

from __future__ import annotations

import dataclasses
import logging
import warnings
from dataclasses import dataclass

import numpy as np

__all__ = [
    "GainPosterior",
    "MergedObservations",
    "fit_gain_gp",
    "merge_replicates",
    "monotone_contradictions",
    "reduce_embedding",
]

logger = logging.getLogger(__name__)

#: An observation within this log-ratio of a grid interval is snapped to it
#: (2 %); observations closer than this to each other are merged.
SNAP_LOG_TOL = 0.02

#: Fixed hyperparameters (lengthscales on [0, 1]-scaled inputs) used when
#: there is too little data to fit them.
_FIXED_LENGTHSCALE_INTERVAL = 0.35
_FIXED_LENGTHSCALE_EMBEDDING = 1.0
_FIXED_NOISE_FRACTION = 0.1

#: Log-normal prior of the lengthscale over scaled log interval: median and
#: sd of its log. A gain curve turns over within a few grid steps, so a long
#: lengthscale would smooth away the drop just past the optimum.
_INTERVAL_LENGTHSCALE_MEDIAN = 0.15
_INTERVAL_LENGTHSCALE_LOG_SD = 0.5

#: Prior size of a curve's deviation from the prior mean, as a fraction of
#: the spread of the cluster's gains.
_DEVIATION_FRACTION = 0.2

#: Prior sd of a model's gain scale around the cluster's (1), and the range
#: the scale is clipped to.
_SCALE_PRIOR_SD = 0.1
_SCALE_RANGE = (0.25, 4.0)

#: Largest covariance matrix handled by Cholesky instead of iterative solves.
_MAX_CHOLESKY_SIZE = 20_000

#: Standard errors by which a longer interval must beat a shorter one before
#: a model is reported as contradicting "fresher is not worse".
_Z_CONTRADICTION = 3.0


@dataclass(frozen=True)
class MergedObservations:
    """Observations with replicates at one (model, interval) merged.

    Attributes:
        model_index: Model of each merged point, int64 array (n_points,).
        interval_hours: Interval of each point in hours (the grid interval
            where snapped), float64 array (n_points,).
        grid_index: Allowed-grid index of each point, -1 when off the grid,
            int64 array (n_points,).
        gain: Mean gain of the point's replicates (inverse-variance weighted
            when every standard error is known), float64 array (n_points,).
        gain_se: Standard error of ``gain``, NaN when some replicate had no
            standard error, float64 array (n_points,).
        count: Replicates merged into each point, int64 array (n_points,).
        sum_sq: Sum of squared deviations from the mean within the point,
            float64 array (n_points,); used to pool a noise estimate.
    """

    model_index: np.ndarray
    interval_hours: np.ndarray
    grid_index: np.ndarray
    gain: np.ndarray
    gain_se: np.ndarray
    count: np.ndarray
    sum_sq: np.ndarray

    @property
    def n_points(self) -> int:
        """Number of merged points."""
        return int(self.gain.shape[0])


@dataclass(frozen=True)
class GainPosterior:
    """The joint gain posterior on every (model, allowed interval) pair.

    Attributes:
        mean: Posterior mean gain, float64 array (n_models, n_intervals).
        cov: Joint posterior covariance of the latent gain, float64 array of
            shape (n_models * n_intervals, n_models * n_intervals), row
            ``m * n_intervals + j`` for model ``m`` at interval ``j``.
        noise_sd: Expected standard deviation of one new measurement of gain,
            float64 array (n_models, n_intervals).
        point_noise_sd: Noise standard deviation of each merged point's mean,
            float64 array (n_points,).
        method: ``"gp"`` (fitted), ``"gp-fixed"`` (fixed hyperparameters:
            too few results, or a failed fit), ``"constant"`` (fixed
            hyperparameters: every gain identical) or ``"prior"`` (no data).
        notes: What was done and why, in words.
        fit_failed: Whether fitting raised and the fallback was used.
    """

    mean: np.ndarray
    cov: np.ndarray
    noise_sd: np.ndarray
    point_noise_sd: np.ndarray
    method: str
    notes: tuple[str, ...]
    fit_failed: bool = False


def merge_replicates(
    obs_model: np.ndarray,
    obs_interval_hours: np.ndarray,
    obs_gain: np.ndarray,
    obs_gain_se: np.ndarray,
    intervals_hours: np.ndarray,
) -> MergedObservations:
    """Merge replicate observations at one (model, interval).

    An observation within 2 % (in ratio) of an allowed interval is snapped to
    it; off-grid observations within 2 % of each other are merged. Rows with a
    non-finite gain are dropped.

    Args:
        obs_model: Model index of each observation, int array (n_obs,).
        obs_interval_hours: Interval in hours, float array (n_obs,).
        obs_gain: Measured gain, float array (n_obs,).
        obs_gain_se: Standard error of each gain, NaN where unknown, float
            array (n_obs,).
        intervals_hours: Allowed intervals, ascending, float array
            (n_intervals,).

    Returns:
        The merged points, sorted by model then interval.
    """
    keep = np.isfinite(obs_gain) & np.isfinite(obs_interval_hours)
    keep &= np.asarray(obs_interval_hours, dtype=np.float64) > 0
    model = np.asarray(obs_model, dtype=np.int64)[keep]
    log_tau = np.log(np.asarray(obs_interval_hours, dtype=np.float64)[keep])
    gain = np.asarray(obs_gain, dtype=np.float64)[keep]
    se = np.asarray(obs_gain_se, dtype=np.float64)[keep]

    # Snap to the grid, or bin off-grid intervals at the snapping resolution.
    log_grid = np.log(np.asarray(intervals_hours, dtype=np.float64))
    nearest = np.abs(log_tau[:, None] - log_grid[None, :]).argmin(axis=1)
    snapped = np.abs(log_tau - log_grid[nearest]) <= SNAP_LOG_TOL
    off_bin = np.round(log_tau / (2 * SNAP_LOG_TOL)).astype(np.int64)
    slot = np.where(snapped, nearest, len(log_grid) + off_bin - off_bin.min(initial=0))
    keys, group = np.unique(np.column_stack([model, slot]), axis=0, return_inverse=True)
    group = group.ravel()
    n_points = keys.shape[0]

    # Per-group means: inverse-variance weighted where every se is known.
    count = np.bincount(group, minlength=n_points)
    known = np.isfinite(se) & (se >= 0)
    all_known = np.bincount(group, weights=known, minlength=n_points) == count
    floor = 1e-9 * max(float(np.abs(gain).max(initial=0.0)), 1e-300)
    weight = np.where(known & all_known[group], 1.0 / np.maximum(se, floor) ** 2, 1.0)
    weight_sum = np.bincount(group, weights=weight, minlength=n_points)
    mean = np.bincount(group, weights=weight * gain, minlength=n_points) / weight_sum
    gain_se = np.where(all_known, 1.0 / np.sqrt(weight_sum), np.nan)
    sum_sq = np.bincount(group, weights=(gain - mean[group]) ** 2, minlength=n_points)

    # Interval of each point: the grid value, or the geometric mean off grid.
    grid_index = np.where(keys[:, 1] < len(log_grid), keys[:, 1], -1)
    mean_log = np.bincount(group, weights=log_tau, minlength=n_points) / count
    on_grid = grid_index >= 0
    grid_hours = np.asarray(intervals_hours, dtype=np.float64)
    snapped_hours = grid_hours[np.clip(grid_index, 0, None)]
    interval = np.where(on_grid, snapped_hours, np.exp(mean_log))

    return MergedObservations(
        model_index=keys[:, 0].astype(np.int64),
        interval_hours=interval,
        grid_index=grid_index.astype(np.int64),
        gain=mean,
        gain_se=gain_se,
        count=count.astype(np.int64),
        sum_sq=sum_sq,
    )


def reduce_embedding(embedding: np.ndarray, max_dims: int = 3) -> np.ndarray:
    """Reduce a cluster's embedding to its leading principal coordinates.

    Args:
        embedding: Model coordinates, float array (n_models, n_dims); n_dims
            may be 0.
        max_dims: Most coordinates to keep.

    Returns:
        Principal coordinates explaining at least 95 % of the variance (at
        most ``max_dims``; none when every model sits at one point), float64
        array (n_models, n_kept).
    """
    coords = np.asarray(embedding, dtype=np.float64)
    n_models = coords.shape[0]
    if coords.ndim != 2 or coords.shape[1] == 0 or n_models < 2:
        return np.zeros((n_models, 0))

    centered = coords - coords.mean(axis=0)
    _, singular, vt = np.linalg.svd(centered, full_matrices=False)
    variance = singular**2
    total = float(variance.sum())
    if total <= 1e-12 * max(float(np.abs(coords).max()), 1.0) ** 2:
        return np.zeros((n_models, 0))

    informative = int(np.sum(variance > 1e-9 * total))
    explained = np.cumsum(variance) / total
    n_kept = min(int(np.searchsorted(explained, 0.95) + 1), max_dims, informative)
    return centered @ vt[:n_kept].T


def fit_gain_gp(
    merged: MergedObservations,
    coords: np.ndarray,
    intervals_hours: np.ndarray,
    *,
    prior_sd: np.ndarray,
    seed: int = 0,
    max_fit_points: int = 128,
    max_iter: int = 60,
) -> GainPosterior:
    """Fit the cluster GP and return the joint posterior on the grid.

    Args:
        merged: Merged observations of the cluster.
        coords: Reduced embedding, float array (n_models, n_coords).
        intervals_hours: Allowed intervals, ascending, float array
            (n_intervals,).
        prior_sd: Prior standard deviation of gain per model when nothing is
            known, float array (n_models,); used without data and to set the
            scale of the fixed-hyperparameter fallback.
        seed: Seed for choosing the points used to fit hyperparameters.
        max_fit_points: Most merged points used to fit hyperparameters.
        max_iter: Most optimizer iterations for the hyperparameter fit.

    Returns:
        The joint posterior of gain on every (model, interval) pair.

    Notes:
        The covariance is dense, (n_models * n_intervals) squared: a cluster
        of 1000 models on 12 intervals needs about 1.2 GB.
    """
    inputs = _Inputs.build(coords, intervals_hours)
    if merged.n_points == 0:
        return _prior_posterior(inputs, np.asarray(prior_sd, dtype=np.float64))

    # Put every model's gains on the cluster's scale, pool, then scale back.
    x = inputs.features(merged.model_index, np.log(merged.interval_hours))
    scale = _model_scales(merged, x[:, 0], inputs.n_models, float(inputs.span[0]))
    pooled = _pooled_posterior(
        _rescale(merged, 1.0 / scale), inputs, prior_sd, seed, max_fit_points, max_iter
    )
    return _unscale(pooled, scale, merged.model_index)


def _pooled_posterior(
    merged: MergedObservations,
    inputs: _Inputs,
    prior_sd: np.ndarray,
    seed: int,
    max_fit_points: int,
    max_iter: int,
) -> GainPosterior:
    """The cluster GP on gains that share one scale (see :func:`fit_gain_gp`)."""
    x = inputs.features(merged.model_index, np.log(merged.interval_hours))
    trend, trend_note = _Trend.fit(x[:, 0], merged.gain, float(inputs.span[0]))
    residual = merged.gain - trend(x[:, 0])
    point_var, noise_var, noise_notes = _noise(merged)
    notes = [n for n in (trend_note, *noise_notes) if n]

    # Fit when the data can say something about the hyperparameters.
    too_little = _too_little_data(merged)
    if too_little:
        notes.append(f"{too_little}: hyperparameters fixed, not fitted")
        fixed = _fixed_posterior(
            inputs, x, residual, point_var, noise_var, trend, merged, prior_sd, notes
        )
        if too_little.startswith("all gains identical"):
            return dataclasses.replace(fixed, method="constant")
        return fixed

    try:
        mean, cov, learned_var = _botorch_posterior(
            inputs, x, merged.model_index, residual, float(np.std(merged.gain)),
            point_var, seed, max_fit_points, max_iter,
        )  # fmt: skip
    except Exception as exc:  # any numerical failure: fall back, say why
        message = f"GP fit failed ({type(exc).__name__}: {exc}); used fixed "
        message += "hyperparameters instead"
        logger.debug(message)
        notes.append(message)
        fixed = _fixed_posterior(
            inputs, x, residual, point_var, noise_var, trend, merged, prior_sd, notes
        )
        return dataclasses.replace(fixed, fit_failed=True)

    if noise_var is None:
        noise_var = learned_var
        point_var = np.full(merged.n_points, learned_var)
    return GainPosterior(
        mean=mean.reshape(inputs.n_models, inputs.n_intervals) + trend(inputs.grid_x),
        cov=cov,
        noise_sd=_new_noise_sd(merged, noise_var, inputs),
        point_noise_sd=np.sqrt(point_var),
        method="gp",
        notes=tuple(notes),
    )


def _model_scales(
    merged: MergedObservations, x: np.ndarray, n_models: int, log_span: float
) -> np.ndarray:
    """Each model's gain scale relative to the cluster's prior-mean curve.

    Models of one cluster share a curve's shape more than its size. Model
    ``m``'s gains are taken as ``scale_m * trend(x)``; ``scale_m`` is the
    least-squares multiplier of its own points, shrunk toward 1 by a normal
    prior of sd ``_SCALE_PRIOR_SD`` and clipped to ``_SCALE_RANGE``. Models
    with fewer than two points (one point cannot tell a larger curve from a
    shifted one), and every model when the trend is flat, keep scale 1.

    Args:
        merged: Merged observations of the cluster.
        x: Scaled log interval of each merged point, float64 (n_points,).
        n_models: Number of models in the cluster.
        log_span: Width of the grid in log hours.

    Returns:
        Positive scale of each model, float64 array (n_models,).
    """
    scale = np.ones(n_models)
    trend, _ = _Trend.fit(x, merged.gain, log_span)
    if trend.amplitude <= 0 or merged.n_points < 3:
        return scale
    curve = trend(x)
    point_var, noise_var, _ = _noise(merged)
    fallback = noise_var
    if fallback is None:
        fallback = float(np.mean((merged.gain - curve) ** 2))
    var = np.where(np.isfinite(point_var), point_var, fallback / merged.count)
    var = np.maximum(var, 1e-12 * max(float(np.abs(curve).max()), 1e-300) ** 2)

    # Posterior mean of the scale under a normal prior centred on 1.
    prior_precision = 1.0 / _SCALE_PRIOR_SD**2
    model = merged.model_index
    info = np.bincount(model, weights=curve**2 / var, minlength=n_models)
    fit = np.bincount(model, weights=curve * merged.gain / var, minlength=n_models)
    scale = (fit + prior_precision) / (info + prior_precision)
    scale[np.bincount(model, minlength=n_models) < 2] = 1.0
    return np.clip(scale, *_SCALE_RANGE)


def _rescale(merged: MergedObservations, factor: np.ndarray) -> MergedObservations:
    """Merged observations with model ``m``'s gains multiplied by factor[m]."""
    f = factor[merged.model_index]
    return dataclasses.replace(
        merged,
        gain=merged.gain * f,
        gain_se=merged.gain_se * f,
        sum_sq=merged.sum_sq * f**2,
    )


def _unscale(
    posterior: GainPosterior, scale: np.ndarray, point_model: np.ndarray
) -> GainPosterior:
    """Map a posterior on scaled gains back to each model's own scale."""
    n_intervals = posterior.mean.shape[1]
    flat = np.repeat(scale, n_intervals)
    return dataclasses.replace(
        posterior,
        mean=posterior.mean * scale[:, None],
        cov=posterior.cov * flat[:, None] * flat[None, :],
        noise_sd=posterior.noise_sd * scale[:, None],
        point_noise_sd=posterior.point_noise_sd * scale[point_model],
    )


def _too_little_data(merged: MergedObservations) -> str:
    """Why hyperparameters cannot be fitted, or '' when they can."""
    size = max(float(np.abs(merged.gain).max()), 1e-300)
    if merged.n_points > 1 and float(np.ptp(merged.gain)) <= 1e-12 * size:
        return "all gains identical"
    if merged.n_points == 1:
        return "one result"
    if merged.n_points < 3:
        return f"{merged.n_points} results"
    return ""


def monotone_contradictions(
    merged: MergedObservations, point_noise_sd: np.ndarray, z: float = _Z_CONTRADICTION
) -> list[tuple[int, float, float, float]]:
    """Find models whose data say a longer interval is clearly better.

    Args:
        merged: Merged observations.
        point_noise_sd: Noise sd of each merged point's mean, (n_points,).
        z: How many standard errors the longer interval must lead by.

    Returns:
        (model index, shorter interval, longer interval, z-score) for each
        model with a contradiction, the strongest pair per model.
    """
    found = []
    for model in np.unique(merged.model_index):
        rows = np.flatnonzero(merged.model_index == model)
        if rows.size < 2:
            continue
        tau = merged.interval_hours[rows]
        gain = merged.gain[rows]
        sd = point_noise_sd[rows]
        lead = (gain[None, :] - gain[:, None]) / np.sqrt(sd[:, None] ** 2 + sd**2)
        lead = np.where(tau[None, :] > tau[:, None], lead, -np.inf)
        short, long = np.unravel_index(np.argmax(lead), lead.shape)
        if lead[short, long] > z:
            found.append(
                (
                    int(model),
                    float(tau[short]),
                    float(tau[long]),
                    float(lead[short, long]),
                )
            )
    return found


@dataclass(frozen=True)
class _Inputs:
    """Scaled GP inputs: log interval and embedding coordinates in [0, 1].

    The scaling is fixed by the allowed grid and by every model of the
    cluster (not only those with data), so adding data does not move it.
    """

    coords: np.ndarray
    low: np.ndarray
    span: np.ndarray
    log_grid: np.ndarray

    @classmethod
    def build(cls, coords: np.ndarray, intervals_hours: np.ndarray) -> _Inputs:
        """Fix the scaling from the grid and every model's coordinates."""
        log_grid = np.log(np.asarray(intervals_hours, dtype=np.float64))
        low = np.concatenate([[log_grid.min()], coords.min(axis=0)])
        high = np.concatenate([[log_grid.max()], coords.max(axis=0)])
        span = np.where(high - low > 0, high - low, 1.0)
        return cls(coords, low, span, log_grid)

    @property
    def n_models(self) -> int:
        """Number of models."""
        return int(self.coords.shape[0])

    @property
    def n_intervals(self) -> int:
        """Number of allowed intervals."""
        return int(self.log_grid.shape[0])

    @property
    def grid_x(self) -> np.ndarray:
        """Scaled log interval of the grid, float64 array (n_intervals,)."""
        return (self.log_grid - self.low[0]) / self.span[0]

    @property
    def grid_features(self) -> np.ndarray:
        """Features of every (model, interval), (n_models * n_intervals, d)."""
        model = np.repeat(np.arange(self.n_models), self.n_intervals)
        return self.features(model, np.tile(self.log_grid, self.n_models))

    def features(self, model: np.ndarray, log_tau: np.ndarray) -> np.ndarray:
        """Scaled features, float64 array (n, 1 + n_coords)."""
        raw = np.column_stack([log_tau, self.coords[model]])
        return (raw - self.low) / self.span


@dataclass(frozen=True)
class _Trend:
    """Prior mean: a saturating decay in log interval, shared by the cluster.

    ``gain(tau) = base + amplitude * (1 - exp(-staleness / tau))`` with
    ``amplitude >= 0``: flat at short intervals (diminishing returns), falling
    around ``staleness`` hours, flat again at long intervals; never rising
    with the interval. Written in scaled log interval ``x`` with
    ``log(staleness / tau) = log_span * (x_mid - x)``.
    """

    base: float
    amplitude: float
    x_mid: float
    log_span: float

    @classmethod
    def fit(
        cls, x: np.ndarray, gain: np.ndarray, log_span: float
    ) -> tuple[_Trend, str]:
        """Least squares over a grid of ``x_mid``, amplitude clipped at 0."""
        flat = cls(float(gain.mean()), 0.0, 0.5, log_span)
        if np.unique(np.round(x, 9)).size < 3:
            return flat, ""

        best, best_sse = flat, float(np.sum((gain - gain.mean()) ** 2))
        for x_mid in np.linspace(-0.25, 1.25, 61):
            shape = cls(0.0, 1.0, float(x_mid), log_span)(x)
            design = np.column_stack([np.ones_like(shape), shape])
            (base, amplitude), *_ = np.linalg.lstsq(design, gain, rcond=None)
            if amplitude <= 0:
                continue
            sse = float(np.sum((gain - base - amplitude * shape) ** 2))
            if sse < best_sse:
                best = cls(float(base), float(amplitude), float(x_mid), log_span)
                best_sse = sse

        if best.amplitude > 0:
            return best, ""
        note = (
            "cluster-level gain does not fall with interval; prior mean set "
            "flat (fresher is assumed not worse)"
        )
        return flat, note

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """Prior mean gain at scaled log interval x."""
        exponent = np.clip(self.log_span * (self.x_mid - x), -50.0, 50.0)
        return self.base + self.amplitude * -np.expm1(-np.exp(exponent))


def _noise(merged: MergedObservations) -> tuple[np.ndarray, float | None, list[str]]:
    """Noise variance of each point's mean and of one measurement.

    Returns:
        Point variances (n_points,) with NaN where the noise must be learned,
        the variance of one new measurement (None when it must be learned),
        and notes.
    """
    known = np.isfinite(merged.gain_se)
    scale = max(float(np.abs(merged.gain).max()), 1e-300)
    per_point = np.maximum(merged.gain_se, 1e-9 * scale) ** 2
    per_obs_known = per_point[known] * merged.count[known]

    # Pool within-point replicate variance where no se was given.
    unknown = ~known
    dof = int(np.sum(merged.count[unknown] - 1))
    if unknown.any() and dof >= 2:
        noise_var = float(merged.sum_sq[unknown].sum() / dof)
        noise_var = max(noise_var, 1e-18 * scale**2)
        note = f"noise estimated from replicates ({dof} degrees of freedom)"
    elif unknown.any() and known.any():
        noise_var = float(np.median(per_obs_known))
        note = "missing standard errors set to the median known one"
    elif unknown.any():
        return np.full(merged.n_points, np.nan), None, ["noise level learned"]
    else:
        return per_point, float(np.median(per_obs_known)), []

    point_var = np.where(known, per_point, noise_var / merged.count)
    return point_var, noise_var, [note]


def _new_noise_sd(
    merged: MergedObservations, noise_var: float, inputs: _Inputs
) -> np.ndarray:
    """Noise sd of one new measurement: the model's typical se, else pooled."""
    per_obs = merged.gain_se**2 * merged.count
    sd = np.full(inputs.n_models, np.sqrt(noise_var))
    for model in range(inputs.n_models):
        mine = per_obs[(merged.model_index == model) & np.isfinite(per_obs)]
        if mine.size:
            sd[model] = np.sqrt(np.median(mine))
    return np.repeat(sd[:, None], inputs.n_intervals, axis=1)


def _rbf(a: np.ndarray, b: np.ndarray, lengthscale: np.ndarray) -> np.ndarray:
    """ARD RBF kernel matrix, float64 array (n_a, n_b)."""
    diff = (a[:, None, :] - b[None, :, :]) / lengthscale
    return np.exp(-0.5 * np.sum(diff**2, axis=-1))


def _fixed_lengthscale(n_features: int) -> np.ndarray:
    """Lengthscales of the fixed-hyperparameter kernel."""
    scales = np.full(n_features, _FIXED_LENGTHSCALE_EMBEDDING)
    scales[0] = _FIXED_LENGTHSCALE_INTERVAL
    return scales


def _prior_posterior(inputs: _Inputs, prior_sd: np.ndarray) -> GainPosterior:
    """The posterior without data: gain 0 with a wide, correlated prior."""
    n_features = inputs.grid_features.shape[1]
    corr = _rbf(
        inputs.grid_features, inputs.grid_features, _fixed_lengthscale(n_features)
    )
    sd = np.repeat(prior_sd, inputs.n_intervals)
    shape = (inputs.n_models, inputs.n_intervals)
    return GainPosterior(
        mean=np.zeros(shape),
        cov=corr * sd[:, None] * sd[None, :],
        noise_sd=np.repeat(
            _FIXED_NOISE_FRACTION * prior_sd[:, None], inputs.n_intervals, 1
        ),
        point_noise_sd=np.zeros(0),
        method="prior",
        notes=(
            "no results in the cluster: prior gain 0 with a wide spread "
            "(the gain worth the model's whole cost range)",
        ),
    )


def _fixed_posterior(
    inputs: _Inputs,
    x: np.ndarray,
    residual: np.ndarray,
    point_var: np.ndarray,
    noise_var: float | None,
    trend: _Trend,
    merged: MergedObservations,
    prior_sd: np.ndarray,
    notes: list[str],
) -> GainPosterior:
    """GP posterior with fixed hyperparameters (too little data, or failure)."""
    # Output scale: residual spread, else noise, else gain size, else prior.
    size = float(np.abs(merged.gain).max())
    tiny = 1e-9 * max(size, 1e-300)
    scale = float(np.std(residual))
    if scale <= tiny and np.isfinite(point_var).any():
        scale = float(np.sqrt(np.nanmedian(point_var)))
    if scale <= tiny:
        scale = size
    if scale <= tiny:
        scale = float(np.median(prior_sd))
    if noise_var is None:
        noise_var = (_FIXED_NOISE_FRACTION * scale) ** 2
        point_var = noise_var / merged.count

    lengthscale = _fixed_lengthscale(x.shape[1])
    k_xx = scale**2 * _rbf(x, x, lengthscale) + np.diag(point_var)
    k_gx = scale**2 * _rbf(inputs.grid_features, x, lengthscale)
    k_gg = scale**2 * _rbf(inputs.grid_features, inputs.grid_features, lengthscale)
    chol = np.linalg.cholesky(k_xx + 1e-10 * scale**2 * np.eye(len(x)))
    alpha = np.linalg.solve(chol.T, np.linalg.solve(chol, residual))
    v = np.linalg.solve(chol, k_gx.T)

    mean = (k_gx @ alpha).reshape(inputs.n_models, inputs.n_intervals)
    mean = mean + trend(inputs.grid_x)
    return GainPosterior(
        mean=mean,
        cov=k_gg - v.T @ v,
        noise_sd=_new_noise_sd(merged, noise_var, inputs),
        point_noise_sd=np.sqrt(point_var),
        method="gp-fixed",
        notes=tuple(notes),
    )


def _botorch_posterior(
    inputs: _Inputs,
    x: np.ndarray,
    model_index: np.ndarray,
    residual: np.ndarray,
    gain_sd: float,
    point_var: np.ndarray,
    seed: int,
    max_fit_points: int,
    max_iter: int,
) -> tuple[np.ndarray, np.ndarray, float]:
    """Fit a SingleTaskGP on residuals and predict jointly on the grid.

    Returns:
        Posterior mean of the residual (n_models * n_intervals,), its
        covariance, and the learned noise variance of one measurement in gain
        units (NaN when noise was fixed).
    """
    import gpytorch
    import torch
    from botorch.exceptions.warnings import OptimizationWarning
    from botorch.models import SingleTaskGP
    from botorch.models.transforms import Normalize, Standardize
    from botorch.optim.fit import fit_gpytorch_mll_scipy
    from gpytorch.mlls import ExactMarginalLogLikelihood

    torch.set_num_threads(1)
    n_features = x.shape[1]
    learn_noise = bool(np.isnan(point_var).any())
    with_model = np.column_stack([x, model_index])
    # Expected size of the curves' deviation from the prior mean: a fifth of
    # the spread of gain, in the units Standardize will use (residual sd).
    residual_sd = max(float(np.std(residual)), 1e-12 * max(gain_sd, 1e-300))
    variance = float(
        np.clip((_DEVIATION_FRACTION * gain_sd / residual_sd) ** 2, 1e-3, 1e3)
    )
    grid_model = np.repeat(np.arange(inputs.n_models), inputs.n_intervals)
    grid_with_model = np.column_stack([inputs.grid_features, grid_model])

    def build(rows: np.ndarray) -> SingleTaskGP:
        train_x = torch.as_tensor(with_model[rows], dtype=torch.float64)
        train_y = torch.as_tensor(residual[rows, None], dtype=torch.float64)
        train_yvar = None
        if not learn_noise:
            train_yvar = torch.as_tensor(point_var[rows, None], dtype=torch.float64)
        # Features are already scaled to [0, 1] by fixed bounds; the model
        # index column passes through unchanged.
        bounds = torch.zeros(2, n_features + 1, dtype=torch.float64)
        bounds[1] = 1.0
        return SingleTaskGP(
            train_x,
            train_y,
            train_yvar,
            covar_module=_kernel(n_features, variance),
            input_transform=Normalize(n_features + 1, bounds=bounds),
            outcome_transform=Standardize(m=1),
        )

    # Fit hyperparameters on a seeded subset, then condition on everything.
    every = np.arange(len(residual))
    rows = every
    if len(every) > max_fit_points:
        rng = np.random.default_rng(seed)
        rows = np.sort(rng.choice(every, size=max_fit_points, replace=False))
    with gpytorch.settings.max_cholesky_size(_MAX_CHOLESKY_SIZE):
        fitted = build(rows)
        mll = ExactMarginalLogLikelihood(fitted.likelihood, fitted)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", OptimizationWarning)
            fit_gpytorch_mll_scipy(mll, options={"maxiter": max_iter})

        model = fitted
        if len(rows) < len(every):
            model = build(every)
            model.covar_module.load_state_dict(fitted.covar_module.state_dict())
            model.mean_module.load_state_dict(fitted.mean_module.state_dict())
            if learn_noise:
                model.likelihood.load_state_dict(fitted.likelihood.state_dict())

        model.eval()
        with torch.no_grad():
            grid = torch.as_tensor(grid_with_model, dtype=torch.float64)
            posterior = model.posterior(grid)
            mean = posterior.mean.squeeze(-1).numpy().copy()
            mvn = posterior.mvn  # type: ignore[union-attr]
            cov = mvn.covariance_matrix.numpy().copy()
            learned = float("nan")
            if learn_noise:
                stdvs = model.outcome_transform.stdvs  # type: ignore[union-attr]
                stdv = float(stdvs.squeeze())  # type: ignore[operator]
                noise = model.likelihood.noise
                learned = float(noise.mean()) * stdv**2

    if not (np.all(np.isfinite(mean)) and np.all(np.isfinite(cov))):
        raise FloatingPointError("posterior has non-finite values")
    cov = 0.5 * (cov + cov.T)
    logger.debug("GP fitted on %d of %d points", len(rows), len(every))
    return mean, cov, learned


def _kernel(n_features: int, variance: float):  # noqa: ANN202 (lazy gpytorch)
    """Shared-plus-own kernel over (scaled features..., model index).

    ``s1 * k_t * k_z + s2 * k_t' * [same model]``: a curve shared along the
    embedding plus each model's own deviation from it, so neighbours inform
    a model without forcing it onto their curve. RBF lengthscale priors are
    log-normal: over log interval a tight one with its median near a seventh of
    the grid's range (a curve turns over within a few grid steps; a long
    lengthscale smooths away the drop just past the optimum, and a loose
    prior lets a fit on a handful of points wander), over the embedding a
    wide one scaled with the number of features. Both scales get a gamma
    prior with its mode at ``variance`` (standardized units), so a few points
    that happen to sit on the prior mean do not make the GP sure of the
    curves in between.
    """
    import gpytorch
    import torch
    from gpytorch.constraints import GreaterThan
    from gpytorch.kernels import RBFKernel, ScaleKernel
    from gpytorch.priors import GammaPrior, LogNormalPrior

    class SameModelKernel(gpytorch.kernels.Kernel):
        """1 for two points of the same model, else 0."""

        def forward(self, x1, x2, diag=False, **params):  # noqa: ANN001, ANN202
            if diag:
                return torch.ones(x1.shape[:-1], dtype=x1.dtype)
            return (x1[..., :, None, 0] == x2[..., None, :, 0]).to(x1.dtype)

    def rbf(dims: list[int]) -> RBFKernel:
        if dims == [0]:
            prior = LogNormalPrior(
                loc=np.log(_INTERVAL_LENGTHSCALE_MEDIAN),
                scale=_INTERVAL_LENGTHSCALE_LOG_SD,
            )
        else:
            prior = LogNormalPrior(
                loc=np.sqrt(2) + 0.5 * np.log(n_features), scale=np.sqrt(3)
            )
        constraint = GreaterThan(0.025, transform=None, initial_value=prior.mode)
        return RBFKernel(
            ard_num_dims=len(dims),
            active_dims=dims,
            lengthscale_prior=prior,
            lengthscale_constraint=constraint,
        )

    shared = rbf([0])
    if n_features > 1:
        shared = shared * rbf(list(range(1, n_features)))
    own = rbf([0]) * SameModelKernel(active_dims=[n_features])

    def scaled(kernel: gpytorch.kernels.Kernel) -> ScaleKernel:
        module = ScaleKernel(kernel, outputscale_prior=GammaPrior(2.0, 1.0 / variance))
        module.outputscale = variance
        return module

    return scaled(shared) + scaled(own)
