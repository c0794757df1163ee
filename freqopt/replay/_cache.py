"""Disk cache of replay tables, one compressed ``.npz`` file per model.

The key hashes a format version, every spec field that changes the table, the
random state and the scikit-learn version; value and evaluation window do not
change the table and are left out, so re-pricing a model reuses its replay.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from pathlib import Path

import numpy as np

from freqopt.errors import StoreError
from freqopt.replay._engine import ReplayTable
from freqopt.replay._specs import ReplaySpec

__all__ = [
    "REPLAY_VERSION",
    "cache_path",
    "default_cache_dir",
    "load_table",
    "save_table",
]

logger = logging.getLogger(__name__)

REPLAY_VERSION = 2
"""Bumped whenever a change in data loading, replay or experiment design
changes the tables or the truth derived from them (2: experiments span
several baseline cycles)."""

_KEY_FIELDS = (
    "dataset",
    "target",
    "family",
    "feature_set",
    "segment",
    "training_window_hours",
    "period_hours",
    "max_interval_hours",
)
_SCALARS = (
    "period_hours",
    "first_origin",
    "n_fits",
    "work_units_per_retrain",
    "cpu_seconds_per_retrain",
    "n_parameters",
    "n_features",
    "rows_per_day",
)


def default_cache_dir() -> Path:
    """``$FREQOPT_CACHE/replay`` if set, else ``~/.cache/freqopt/replay``."""
    root = os.environ.get("FREQOPT_CACHE")
    if root:
        return Path(root).expanduser() / "replay"
    return Path.home() / ".cache" / "freqopt" / "replay"


def cache_path(cache_dir: Path, spec: ReplaySpec, random_state: int) -> Path:
    """File that holds (or will hold) a model's table."""
    import sklearn

    fields = {name: getattr(spec, name) for name in _KEY_FIELDS}
    material = {
        "version": REPLAY_VERSION,
        "spec": fields,
        "random_state": random_state,
        "sklearn": sklearn.__version__,
    }
    blob = json.dumps(material, sort_keys=True).encode()
    digest = hashlib.sha256(blob).hexdigest()[:16]
    return cache_dir / f"{spec.model_id}-{digest}.npz"


def load_table(path: Path) -> ReplayTable | None:
    """Read a cached table; None when absent or unreadable (then replayed)."""
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as stored:
            scalars = json.loads(str(stored["scalars"][()]))
            return ReplayTable(
                loss_sum=stored["loss_sum"],
                n_rows=stored["n_rows"],
                **scalars,
            )
    except (OSError, ValueError, KeyError, TypeError) as error:
        logger.warning("ignoring unreadable replay cache file %s (%s)", path, error)
        return None


def save_table(path: Path, table: ReplayTable) -> None:
    """Write a table atomically (temporary file, then rename).

    Raises:
        StoreError: If the cache folder cannot be created or written.
    """
    scalars = json.dumps({name: getattr(table, name) for name in _SCALARS})
    temporary = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, suffix=".npz.tmp")
        with os.fdopen(handle, "wb") as stream:
            np.savez_compressed(
                stream,
                loss_sum=table.loss_sum,
                n_rows=table.n_rows,
                scalars=np.array(scalars),
            )
        os.replace(temporary, path)
    except OSError as error:
        if temporary is not None:
            Path(temporary).unlink(missing_ok=True)
        raise StoreError(
            f"cannot write replay cache file {path} ({error}); pass another "
            "cache_dir or set FREQOPT_CACHE to a writable folder"
        ) from error
