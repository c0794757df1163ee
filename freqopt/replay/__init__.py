"""Real-data backtests: a fleet of replayed models with a known truth.

Each model of the fleet is a data set shipped inside an installed package, a
target, a scikit-learn model family, a feature set and a training window. A
replay trains a fresh model at the start of every period and scores it on
every later period by age; any retraining schedule's loss is then read
exactly from that table. :func:`build_real_fleet` returns the truth (gain at
every allowed interval, from every evaluation window of the whole horizon)
and an oracle that answers experiments on one random window of several
baseline cycles, as noisy as a real A/B test of that length, reporting the
calibrated spread of such experiments as their standard error.
"""

from freqopt.replay._cache import REPLAY_VERSION, default_cache_dir
from freqopt.replay._data import (
    DATASETS,
    Stream,
    load_stream,
    make_stream,
    read_rdataset,
)
from freqopt.replay._engine import (
    ReplayTable,
    fit_ridge,
    make_estimator,
    replay_stream,
)
from freqopt.replay._fleet import (
    METADATA_COLUMNS,
    Progress,
    RealFleet,
    StalenessCurve,
    assemble_fleet,
    build_real_fleet,
)
from freqopt.replay._oracle import ReplayOracle, experiment_noise, run_experiment
from freqopt.replay._schedule import (
    WindowGain,
    age_losses,
    expected_window_gain,
    phase_loss,
    schedule_loss,
    staleness_loss,
    window_gain,
)
from freqopt.replay._specs import (
    EXPERIMENT_CYCLES,
    FAMILIES,
    INTERVALS_HOURS,
    PRICE_PER_WORK_UNIT,
    ReplaySpec,
    allowed_mask,
    list_models,
)

__all__ = [
    "DATASETS",
    "EXPERIMENT_CYCLES",
    "FAMILIES",
    "INTERVALS_HOURS",
    "METADATA_COLUMNS",
    "PRICE_PER_WORK_UNIT",
    "Progress",
    "REPLAY_VERSION",
    "RealFleet",
    "ReplayOracle",
    "ReplaySpec",
    "ReplayTable",
    "StalenessCurve",
    "Stream",
    "WindowGain",
    "age_losses",
    "allowed_mask",
    "assemble_fleet",
    "build_real_fleet",
    "default_cache_dir",
    "expected_window_gain",
    "experiment_noise",
    "fit_ridge",
    "list_models",
    "load_stream",
    "make_estimator",
    "make_stream",
    "phase_loss",
    "read_rdataset",
    "replay_stream",
    "run_experiment",
    "schedule_loss",
    "staleness_loss",
    "window_gain",
]
