"""An Ax peer strategy: one Ax ``Client`` per model, asked and told round-robin.

Ax (the ``ax-platform`` package, the optional ``ax`` extra) is imported when
the strategy runs, never when this module is imported, so the benchmark works
without it unless ``ax`` is asked for.
"""

from __future__ import annotations

import contextlib
import logging
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from freqopt.bench._recorder import Recorder
from freqopt.bench.fleet import TruthFleet
from freqopt.bench.strategies import _RoundRobin

__all__ = ["AxPerModel"]

logger = logging.getLogger(__name__)

#: Name of the single search parameter: position in the allowed intervals.
_PARAMETER = "position"

#: Name of the metric Ax maximizes: observed ROI per day.
_METRIC = "roi"


@dataclass
class _ModelSearch:
    """One model's search: its allowed intervals, Ax client, open trial.

    Attributes:
        options: Allowed interval indices, ascending, int64 array (n_allowed,).
        client: Ax ``Client``, or None when one interval is allowed.
        trial_index: Ax trial waiting for its result, or None.
    """

    options: np.ndarray
    client: Any
    trial_index: int | None = None


@dataclass(frozen=True)
class AxPerModel(_RoundRobin):
    """One Ax ``Client`` per model, asked and told round-robin.

    The search space is one ordered integer choice parameter: the position in
    the model's allowed intervals (ascending, so positions follow log interval
    on the usual grids). The objective is the observed ROI,
    ``value * gain - cost_per_day`` with the known cost, maximized; its noise
    is left for Ax to infer. A model is recommended the interval with its
    best observed ROI, like the other per-model strategies.

    Attributes:
        name: Strategy name.
        n_initial_points: Trials of Ax's initialization (centre, then
            quasi-random) before Bayesian optimization takes over.
        method: Ax generation method, ``"fast"`` (Bayesian optimization) or
            ``"random_search"``.

    Notes:
        Ax's Bayesian optimization does not propose a point it has already
        run. Once a model has run every allowed interval, or when Ax yields no
        trial, the strategy replicates the interval with the best observed ROI
        and attaches that run to Ax by hand. Ax's log messages and warnings
        are silenced while it works; they are many and not for the user.
        Runs are reproducible for a given seed: each client is seeded from
        the strategy's random generator.
    """

    name: str = "ax"
    n_initial_points: int = 3
    method: str = "fast"

    def _start(self, fleet: TruthFleet, m: int, rng: np.random.Generator) -> Any:
        options = np.flatnonzero(fleet.allowed[m])
        seed = int(rng.integers(2**31 - 1))
        if options.size < 2:
            return _ModelSearch(options=options, client=None)

        _import_ax()
        import torch

        torch.set_num_threads(1)
        with _quiet_ax():
            client = _make_client(options.size, seed, self)
        return _ModelSearch(options=options, client=client)

    def _next(
        self, state: Any, recorder: Recorder, m: int, rng: np.random.Generator
    ) -> int:
        search: _ModelSearch = state
        if search.client is None:
            return int(search.options[0])

        with _quiet_ax():
            trials = _ask(search.client, search.options.size, recorder, m)
        if trials:
            search.trial_index, parameters = next(iter(trials.items()))
            return int(search.options[int(parameters[_PARAMETER])])

        # Nothing new to propose: replicate the best observed interval.
        position = _best_position(search.options, recorder, m)
        with _quiet_ax():
            search.trial_index = search.client.attach_trial({_PARAMETER: position})
        logger.debug("ax model %d: replicating position %d", m, position)
        return int(search.options[position])

    def _tell(
        self, state: Any, recorder: Recorder, m: int, j: int, gain: float
    ) -> None:
        search: _ModelSearch = state
        if search.client is None or search.trial_index is None:
            return

        roi = recorder.fleet.value[m] * gain - recorder.fleet.cost_per_day[m, j]
        with _quiet_ax():
            search.client.complete_trial(
                trial_index=search.trial_index, raw_data={_METRIC: float(roi)}
            )
        search.trial_index = None


def _make_client(n_allowed: int, seed: int, strategy: AxPerModel) -> Any:
    """An Ax client over positions ``0 .. n_allowed - 1``, maximizing ROI."""
    from ax import ChoiceParameterConfig, Client

    client = Client(random_seed=seed)
    parameter = ChoiceParameterConfig(
        name=_PARAMETER,
        values=list(range(n_allowed)),
        parameter_type="int",
        is_ordered=True,
    )
    client.configure_experiment(parameters=[parameter])
    client.configure_optimization(objective=_METRIC)
    client.configure_generation_strategy(
        method=strategy.method,  # type: ignore[arg-type]
        initialization_budget=min(strategy.n_initial_points, n_allowed),
        initialization_random_seed=seed,
    )
    return client


def _ask(client: Any, n_allowed: int, recorder: Recorder, m: int) -> dict[int, Any]:
    """Ax's next trial, or an empty dict when it has nothing new to propose."""
    if int(np.count_nonzero(recorder.n_runs[m])) >= n_allowed:
        return {}
    try:
        return dict(client.get_next_trials(max_trials=1))
    except Exception as error:  # noqa: BLE001 - any Ax failure means "replicate"
        logger.debug("ax model %d: no trial (%s)", m, error)
        return {}


def _best_position(options: np.ndarray, recorder: Recorder, m: int) -> int:
    """Position in ``options`` of the best observed ROI (the middle if none)."""
    roi = recorder.observed_roi()[m, options]
    if np.all(np.isnan(roi)):
        return (options.size - 1) // 2
    return int(np.nanargmax(roi))


def _import_ax() -> None:
    """Import Ax with logging off, so its loggers exist before they are quieted.

    Ax logs at INFO level while it is first imported.
    """
    previous = logging.root.manager.disable
    logging.disable(logging.INFO)
    try:
        import ax  # noqa: F401
    finally:
        logging.disable(previous)


@contextlib.contextmanager
def _quiet_ax() -> Iterator[None]:
    """Silence Ax's loggers, its stderr handler and all warnings for a while.

    Levels are restored on exit, so Ax logs as before outside the adapter.
    """
    targets: list[logging.Logger | logging.Handler] = [
        item
        for name, item in logging.Logger.manager.loggerDict.items()
        if isinstance(item, logging.Logger) and name.split(".")[0] == "ax"
    ]
    targets.extend(logging.getLogger("ax").handlers)
    saved = [(target, target.level) for target in targets]

    for target, _ in saved:
        target.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        for target, level in saved:
            target.setLevel(level)
