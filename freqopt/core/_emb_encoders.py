"""scikit-learn transformers for one metadata column each.

Each encoder takes a one-column frame of prepared values (float64 with NaN
for numbers, frozensets for sets) and returns float64 columns. They are
plain module-level classes so a fitted embedding pickles.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin

__all__ = ["DimWeights", "MultiHotEncoder", "NumericEncoder"]


def _column(X: object) -> np.ndarray:
    if isinstance(X, pd.DataFrame):
        return X.iloc[:, 0].to_numpy()
    array = np.asarray(X)
    return array.reshape(array.shape[0], -1)[:, 0]


class NumericEncoder(TransformerMixin, BaseEstimator):
    """Log (optionally), impute with the median, and standardize a number.

    Missing values take the median of the fitted values. When ``indicator``
    is set, a second 0/1 column marks the rows that were missing.

    Args:
        log: Take ``log(x + offset)`` first, with the offset learned so that
            zeros stay finite.
        indicator: Add a 0/1 column marking missing values.
    """

    def __init__(self, log: bool = False, indicator: bool = False) -> None:
        self.log = log
        self.indicator = indicator

    def fit(self, X: object, y: object = None) -> NumericEncoder:
        """Learn the offset, median, mean and scale of one column.

        Args:
            X: One column of float64 values with NaN, shape (n_models, 1).
            y: Ignored.

        Returns:
            This encoder.
        """
        values = _column(X).astype(np.float64)
        present = values[~np.isnan(values)]
        self.offset_ = _offset(present) if self.log else 0.0
        self.floor_ = -np.inf
        if self.log and present.size:
            self.floor_ = float(np.log(present + self.offset_).min()) - 1.0

        warped = self._warp(present)
        self.median_ = float(np.median(warped)) if warped.size else 0.0
        filled = np.where(np.isnan(values), self.median_, self._warp(values))
        self.mean_ = float(filled.mean()) if filled.size else 0.0
        scale = float(filled.std()) if filled.size else 0.0
        self.scale_ = scale if scale > 0 else 1.0
        return self

    def transform(self, X: object) -> np.ndarray:
        """Encode one column.

        Args:
            X: One column of float64 values with NaN, shape (n_models, 1).
                When log-scaled, values must not be negative; values below
                the smallest fitted value divided by e (zero included) are
                read as that bound.

        Returns:
            Standardized values, float64 array (n_models, 1), or
            (n_models, 2) with the missing indicator.
        """
        values = _column(X).astype(np.float64)
        missing = np.isnan(values)
        filled = np.where(missing, self.median_, self._warp(values))
        scaled = (filled - self.mean_) / self.scale_
        if not self.indicator:
            return scaled[:, None]
        return np.column_stack([scaled, missing.astype(np.float64)])

    def _warp(self, values: np.ndarray) -> np.ndarray:
        if not self.log:
            return values
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.fmax(np.log(values + self.offset_), self.floor_)

    def get_feature_names_out(self, input_features: object = None) -> np.ndarray:
        """Names of the output columns, e.g. ``log(n_parameters)``."""
        name = _input_name(input_features, self)
        names = [f"log({name})" if self.log else name]
        if self.indicator:
            names.append(f"missing({name})")
        return np.asarray(names, dtype=object)


def _offset(present: np.ndarray) -> float:
    if present.size == 0 or present.min() > 0:
        return 0.0
    positive = present[present > 0]
    return float(positive.min()) if positive.size else 1.0


class MultiHotEncoder(TransformerMixin, BaseEstimator):
    """One 0/1 column per label of a set-valued column.

    Each label column is scaled by ``sqrt(2 / n_labels)`` (at most 1), so
    two models with disjoint label sets are no farther apart than two models
    with different categories of a one-hot column.

    Args:
        labels: Labels to encode, in output order. None learns every label
            seen in fit, sorted. Labels seen later and not listed are ignored.
    """

    def __init__(self, labels: Sequence[str] | None = None) -> None:
        self.labels = labels

    def fit(self, X: object, y: object = None) -> MultiHotEncoder:
        """Learn the labels (unless given) and the column scale.

        Args:
            X: One column of frozensets of labels, shape (n_models, 1).
            y: Ignored.

        Returns:
            This encoder.
        """
        if self.labels is None:
            seen = set().union(*_column(X).tolist()) if len(_column(X)) else set()
            self.labels_ = tuple(sorted(seen))
        else:
            self.labels_ = tuple(self.labels)
        self.scale_ = min(1.0, math.sqrt(2.0 / max(1, len(self.labels_))))
        return self

    def transform(self, X: object) -> np.ndarray:
        """Encode one set-valued column.

        Args:
            X: One column of frozensets of labels, shape (n_models, 1).

        Returns:
            Scaled 0/1 indicators, float64 array (n_models, n_labels).
        """
        sets = _column(X).tolist()
        out = np.zeros((len(sets), len(self.labels_)), dtype=np.float64)
        for j, label in enumerate(self.labels_):
            out[:, j] = [label in members for members in sets]
        return out * self.scale_

    def get_feature_names_out(self, input_features: object = None) -> np.ndarray:
        """Names of the output columns, e.g. ``feature_groups:user``."""
        name = _input_name(input_features, self)
        return np.asarray([f"{name}:{label}" for label in self.labels_], dtype=object)


class DimWeights(TransformerMixin, BaseEstimator):
    """Multiply each embedding dimension by a user weight.

    Args:
        weights: One weight per input dimension, float64 array (n_dims,).
    """

    def __init__(self, weights: np.ndarray | None = None) -> None:
        self.weights = weights

    def fit(self, X: object, y: object = None) -> DimWeights:
        """Record the number of dimensions; returns this transformer."""
        self.n_dims_ = int(np.asarray(X).shape[1])
        return self

    def transform(self, X: object) -> np.ndarray:
        """Scale the dimensions: (n_models, n_dims) to (n_models, n_dims)."""
        matrix = np.asarray(X, dtype=np.float64)
        if self.weights is None:
            return matrix
        return matrix * np.asarray(self.weights, dtype=np.float64)[None, :]


def _input_name(input_features: object, encoder: BaseEstimator) -> str:
    if input_features is not None:
        return str(np.asarray(input_features, dtype=object)[0])
    names = getattr(encoder, "feature_names_in_", None)
    return str(names[0]) if names is not None else "x0"
