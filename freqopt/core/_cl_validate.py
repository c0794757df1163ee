"""Check clusters against what experiments measured.

Models of one cluster should have more similar gain curves (or best
intervals) than models of different clusters. The distance between two
models is the root mean square difference of their curves over the points
both have; a permutation test on the labels says whether the clusters'
within/across distance ratio is smaller than chance.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from freqopt.errors import DataError

__all__ = ["ClusterValidation", "ValidationReport", "validate_clusters"]

_PERMUTATIONS_PER_BATCH = 64


@dataclass(frozen=True)
class ClusterValidation:
    """How well one cluster's curves hang together.

    Attributes:
        label: Cluster label as given.
        n_models: Models in the cluster.
        n_with_data: Of those, models with at least one measured point.
        within_mean: Mean curve distance between two of its models with
            data, None with fewer than two.
        across_mean: Mean curve distance from its models to models of other
            clusters, None when undefined.
        ratio: ``within_mean / across_mean`` (below 1 is good), None when
            either is undefined.
        p_value: Share of label permutations whose ratio for this cluster is
            at most the observed one, None when undefined.
        status: ``"tighter"`` (ratio below 1 and p at most alpha), ``"not
            significant"`` (ratio below 1, p above alpha), ``"not tighter"``
            (ratio 1 or more) or ``"too few curves"``.
    """

    label: int
    n_models: int
    n_with_data: int
    within_mean: float | None
    across_mean: float | None
    ratio: float | None
    p_value: float | None
    status: str

    @property
    def flagged(self) -> bool:
        """Whether its curves are no closer to each other than to others."""
        return self.status == "not tighter"


@dataclass(frozen=True)
class ValidationReport:
    """Whether clusters agree with measured curves.

    Attributes:
        n_models: Models given.
        n_with_data: Models with at least one measured point.
        n_excluded: Models without data, left out.
        n_used: Models with data that entered the test (a seeded subsample
            when there are more than ``max_models``).
        within_mean: Mean curve distance between models of one cluster.
        across_mean: Mean curve distance between models of different
            clusters.
        ratio: ``within_mean / across_mean``; below 1 means clusters group
            similar curves.
        p_value: Permutation p-value of the ratio, None when it cannot be
            tested (fewer than two clusters or three models with data).
        n_permutations: Label permutations drawn.
        alpha: Significance level of ``supported`` and cluster statuses.
        supported: Ratio below 1 with p-value at most ``alpha``.
        clusters: Per-cluster results, by ascending label.
        message: The verdict in one or two sentences, with numbers.
    """

    n_models: int
    n_with_data: int
    n_excluded: int
    n_used: int
    within_mean: float | None
    across_mean: float | None
    ratio: float | None
    p_value: float | None
    n_permutations: int
    alpha: float
    supported: bool
    clusters: tuple[ClusterValidation, ...]
    message: str

    @property
    def flagged(self) -> tuple[int, ...]:
        """Labels of clusters whose curves are not tighter than across."""
        return tuple(c.label for c in self.clusters if c.flagged)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready summary with stable snake_case keys."""
        summary = {k: v for k, v in vars(self).items() if k != "clusters"}
        summary["clusters"] = [vars(c) | {"flagged": c.flagged} for c in self.clusters]
        return summary


def validate_clusters(
    labels: np.ndarray,
    curves: np.ndarray,
    *,
    n_permutations: int = 999,
    alpha: float = 0.05,
    seed: int = 0,
    max_models: int = 1000,
    n_threads: int | None = 1,
) -> ValidationReport:
    """Test whether models of one cluster have more similar curves.

    Args:
        labels: Cluster of each model (labels or stable cluster ids), int
            array (n_models,).
        curves: Each model's measured gain at common points (e.g. gain in
            percent at each allowed interval), float64 array
            (n_models, n_points) with NaN where not measured; or each
            model's best log interval, float64 array (n_models,).
        n_permutations: Label permutations for the p-values, at least 1.
        alpha: Significance level, in (0, 1).
        seed: Seed of the permutations and of the subsample.
        max_models: Models with data beyond this many are subsampled
            (seeded) to bound the cost.
        n_threads: Threads the numeric libraries may use; None leaves their
            default.

    Returns:
        Overall and per-cluster ratios, p-values and flags.

    Raises:
        DataError: Shapes disagree, curves hold infinities, or an option is
            out of range.

    Notes:
        Curves are compared as given: put gains on a common scale first if
        models differ in scale. Two models sharing no measured point do not
        enter the means. Cost grows as n_permutations × n_models² × k.
    """
    labels, curves = _check_inputs(labels, curves, n_permutations, alpha)
    with threadpool_limits(limits=n_threads):
        return _validate(labels, curves, n_permutations, alpha, seed, max_models)


def _validate(
    labels: np.ndarray,
    curves: np.ndarray,
    n_permutations: int,
    alpha: float,
    seed: int,
    max_models: int,
) -> ValidationReport:
    rng = np.random.default_rng(seed)

    # Keep models with data; subsample when there are very many.
    has_data = ~np.isnan(curves).all(axis=1)
    rows = np.flatnonzero(has_data)
    if rows.size > max_models:
        rows = np.sort(rng.choice(rows, size=max_models, replace=False))
    present, codes = np.unique(labels[rows], return_inverse=True)
    sums, counts = _pair_sums(curves[rows])

    # Observed statistics, then the same under label permutations.
    k = present.size
    observed = _observed(codes, k, sums, counts)
    p_values = np.full(k + 1, np.nan)
    if k >= 2 and rows.size >= 3:
        exceed = _count_at_most(codes, k, sums, counts, observed, n_permutations, rng)
        p_values = np.where(
            np.isnan(observed[2]), np.nan, (1 + exceed) / (1 + n_permutations)
        )

    # Per cluster, then overall.
    clusters = []
    for label in np.unique(labels):
        members = labels == label
        i = int(np.searchsorted(present, label))
        found = i < k and present[i] == label
        numbers = [part[i] for part in observed] + [p_values[i]] if found else []
        clusters.append(
            _cluster_result(
                int(label),
                int(members.sum()),
                int((members & has_data).sum()),
                numbers,
                alpha,
            )
        )
    return _report(
        labels,
        has_data,
        rows.size,
        observed,
        _number(p_values[k]),
        n_permutations,
        alpha,
        tuple(clusters),
    )


def _check_inputs(
    labels: object, curves: object, n_permutations: int, alpha: float
) -> tuple[np.ndarray, np.ndarray]:
    labels = np.asarray(labels)
    curves = np.asarray(curves, dtype=np.float64)
    if curves.ndim == 1:
        curves = curves[:, None]
    if labels.ndim != 1 or curves.ndim != 2 or len(curves) != len(labels):
        raise DataError(
            f"labels has shape {labels.shape} and curves {curves.shape}; pass one "
            "label and one curve (or best log interval) per model."
        )
    if np.isinf(curves).any():
        raise DataError(
            "curves hold an infinite value; use NaN where a model has no measurement."
        )
    if n_permutations < 1 or not 0 < alpha < 1:
        raise DataError(
            f"n_permutations={n_permutations!r}, alpha={alpha!r}; need at least 1 "
            "permutation and alpha in (0, 1)."
        )
    return labels, curves


def _pair_sums(curves: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """RMS curve distance of every pair (zero where undefined) and 0/1 use."""
    measured = (~np.isnan(curves)).astype(np.float64)
    values = np.nan_to_num(curves)
    squares = values**2
    common = measured @ measured.T
    squared = squares @ measured.T + measured @ squares.T - 2 * values @ values.T
    with np.errstate(invalid="ignore", divide="ignore"):
        rms = np.sqrt(np.maximum(squared, 0.0) / common)
    used = (common > 0).astype(np.float64)
    np.fill_diagonal(used, 0.0)
    return np.where(used > 0, rms, 0.0), used


def _observed(
    codes: np.ndarray, k: int, sums: np.ndarray, counts: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Within mean, across mean and ratio per cluster, overall last."""
    if k == 0:
        undefined = np.full(1, np.nan)
        return undefined, undefined, undefined
    with np.errstate(invalid="ignore", divide="ignore"):
        batch = _statistics_batch(np.eye(k)[codes], sums, counts, k)
    within, across, ratio = (part[0] for part in batch)
    return within, across, ratio


def _count_at_most(
    codes: np.ndarray,
    k: int,
    sums: np.ndarray,
    counts: np.ndarray,
    observed: tuple[np.ndarray, np.ndarray, np.ndarray],
    n_permutations: int,
    rng: np.random.Generator,
) -> np.ndarray:
    """Per cluster and overall: permutations with ratio at most observed."""
    onehot = np.eye(k)[codes]
    exceed = np.zeros(k + 1)
    done = 0
    while done < n_permutations:
        batch = min(_PERMUTATIONS_PER_BATCH, n_permutations - done)
        stacked = np.concatenate(
            [onehot[rng.permutation(len(codes))] for _ in range(batch)], axis=1
        )
        with np.errstate(invalid="ignore", divide="ignore"):
            _, _, ratios = _statistics_batch(stacked, sums, counts, k)
        exceed += (ratios <= observed[2][None, :]).sum(axis=0)
        done += batch
    return exceed


def _statistics_batch(
    stacked: np.ndarray, sums: np.ndarray, counts: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Within mean, across mean and ratio for several labellings at once.

    Args:
        stacked: Cluster membership of n_batch labellings side by side,
            0/1 float64 array (n_rows, n_batch * k).
        sums: Pair curve distances, zero where unused, (n_rows, n_rows).
        counts: Pair use, 0/1 float64 array (n_rows, n_rows).
        k: Number of clusters.

    Returns:
        Within means, across means and ratios, each float64 array
        (n_batch, k + 1) with the overall value last; NaN where undefined.
    """
    n_batch = stacked.shape[1] // k
    within_sum = (stacked * (sums @ stacked)).sum(axis=0).reshape(n_batch, k)
    within_n = (stacked * (counts @ stacked)).sum(axis=0).reshape(n_batch, k)
    row_sum = (stacked.T @ sums.sum(axis=1)).reshape(n_batch, k)
    row_n = (stacked.T @ counts.sum(axis=1)).reshape(n_batch, k)

    overall_ws = within_sum.sum(axis=1, keepdims=True)
    overall_wn = within_n.sum(axis=1, keepdims=True)
    within = np.hstack([within_sum, overall_ws]) / np.hstack([within_n, overall_wn])
    across_sum = np.hstack([row_sum - within_sum, sums.sum() - overall_ws])
    across_n = np.hstack([row_n - within_n, counts.sum() - overall_wn])
    across = across_sum / across_n
    return within, across, within / across


def _cluster_result(
    label: int,
    n_models: int,
    n_with_data: int,
    numbers: list[float],
    alpha: float,
) -> ClusterValidation:
    """One cluster's result from its [within, across, ratio, p] numbers."""
    within, across, ratio, p = (_number(x) for x in numbers or [np.nan] * 4)
    if ratio is None:
        status = "too few curves"
    elif ratio >= 1:
        status = "not tighter"
    elif p is None or p > alpha:
        status = "not significant"
    else:
        status = "tighter"
    return ClusterValidation(
        label, n_models, n_with_data, within, across, ratio, p, status
    )


def _number(value: float) -> float | None:
    return None if np.isnan(value) else float(value)


def _report(
    labels: np.ndarray,
    has_data: np.ndarray,
    n_used: int,
    observed: tuple[np.ndarray, np.ndarray, np.ndarray],
    p_value: float | None,
    n_permutations: int,
    alpha: float,
    clusters: tuple[ClusterValidation, ...],
) -> ValidationReport:
    within, across, ratio = (_number(part[-1]) for part in observed)
    supported = (
        ratio is not None and ratio < 1 and p_value is not None and p_value <= alpha
    )
    n_with_data = int(has_data.sum())
    return ValidationReport(
        n_models=len(labels),
        n_with_data=n_with_data,
        n_excluded=len(labels) - n_with_data,
        n_used=n_used,
        within_mean=within,
        across_mean=across,
        ratio=ratio,
        p_value=p_value,
        n_permutations=n_permutations,
        alpha=alpha,
        supported=bool(supported),
        clusters=clusters,
        message=_message(
            within, across, ratio, p_value, n_permutations, alpha, clusters
        ),
    )


def _message(
    within: float | None,
    across: float | None,
    ratio: float | None,
    p_value: float | None,
    n_permutations: int,
    alpha: float,
    clusters: tuple[ClusterValidation, ...],
) -> str:
    if ratio is None or p_value is None or within is None or across is None:
        return (
            "cannot test the clusters against curves: need at least three models "
            "with data in at least two clusters."
        )
    numbers = (
        f"mean curve distance within clusters {within:.3g}, across {across:.3g} "
        f"(ratio {ratio:.3f}, permutation p = {p_value:.3g} over "
        f"{n_permutations} permutations)"
    )
    verdict = (
        "clusters group models with similar curves"
        if ratio < 1 and p_value <= alpha
        else "clusters do not group models with similar curves better than chance"
    )
    text = f"{verdict}: {numbers}."
    flagged = [c for c in clusters if c.flagged]
    if flagged:
        named = ", ".join(f"{c.label} (ratio {c.ratio:.2f})" for c in flagged)
        text += f" Curves no closer within than across in cluster(s) {named}."
    return text
