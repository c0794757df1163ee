"""Baseline strategies that search each model on its own.

Every strategy here works round-robin: in round ``r`` each model with budget
left runs its ``r``-th experiment, so after ``k`` rounds every model has ``k``
experiments (the fleet budget's remainder goes to the first models). After
each round a model is recommended the interval with its best observed ROI,
``value * mean(gain replicates) - cost_per_day`` with the known cost; a model
without experiments gets its middle allowed interval.

- ``grid``: every allowed interval, middle first, then the ends, then always
  the interval farthest (in grid steps) from those already tried; replicates
  in the same order once all were tried.
- ``coarse_to_fine``: the first ``n_coarse`` intervals of that order, then
  the untried neighbours of the incumbent (best observed ROI), then the
  untried interval nearest to it, then replicates of the two best.
- ``random``: allowed intervals in random order without replacement, then
  random replicates.
- ``skopt``: a scikit-optimize ``Optimizer`` per model (GP, expected
  improvement) over the index of the allowed intervals, minimizing the
  negative observed ROI; the ROI is learned as a black box.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from freqopt.bench._recorder import Recorder, per_model_budget
from freqopt.bench.fleet import Oracle, TruthFleet
from freqopt.bench.trace import StrategyTrace

__all__ = ["CoarseToFine", "FullGrid", "RandomSearch", "SkoptPerModel", "spread_order"]


def spread_order(n: int) -> np.ndarray:
    """Grid positions in a spread-out order: middle, ends, then maximin.

    Args:
        n: Number of grid positions, >= 1.

    Returns:
        A permutation of ``range(n)``, int64 array (n,).
    """
    order = [(n - 1) // 2]
    for end in (0, n - 1):
        if end not in order:
            order.append(end)

    positions = np.arange(n)
    while len(order) < n:
        gap = np.min(np.abs(positions[:, None] - np.array(order)[None, :]), axis=1)
        order.append(int(np.argmax(gap)))
    return np.asarray(order, dtype=np.int64)


class _RoundRobin:
    """Drives a per-model rule round by round under a per-model budget."""

    name = "round_robin"

    def run(
        self,
        fleet: TruthFleet,
        oracle: Oracle,
        budget_per_model: float,
        rng: np.random.Generator,
    ) -> StrategyTrace:
        """Run the strategy (see :class:`~freqopt.bench.trace.Strategy`)."""
        recorder = Recorder(fleet, oracle, rng)
        budget = per_model_budget(budget_per_model, fleet.n_models)
        states = [self._start(fleet, m, rng) for m in range(fleet.n_models)]
        recorder.checkpoint(recorder.best_observed())

        for round_index in range(int(budget.max(initial=0))):
            for m in np.flatnonzero(budget > round_index):
                j = self._next(states[m], recorder, int(m), rng)
                gain = recorder.measure(int(m), j)
                self._tell(states[m], recorder, int(m), j, gain)
            recorder.checkpoint(recorder.best_observed())
        return recorder.trace(self.name)

    def _start(self, fleet: TruthFleet, m: int, rng: np.random.Generator) -> Any:
        """Per-model state before any experiment."""
        return np.flatnonzero(fleet.allowed[m])

    def _next(
        self, state: Any, recorder: Recorder, m: int, rng: np.random.Generator
    ) -> int:
        """Interval index of model ``m``'s next experiment."""
        raise NotImplementedError

    def _tell(
        self, state: Any, recorder: Recorder, m: int, j: int, gain: float
    ) -> None:
        """Learn from a finished experiment (stateless rules ignore it)."""


@dataclass(frozen=True)
class FullGrid(_RoundRobin):
    """Try every allowed interval of every model, in :func:`spread_order`."""

    name: str = "grid"

    def _start(self, fleet: TruthFleet, m: int, rng: np.random.Generator) -> Any:
        options = np.flatnonzero(fleet.allowed[m])
        return options[spread_order(options.size)]

    def _next(
        self, state: Any, recorder: Recorder, m: int, rng: np.random.Generator
    ) -> int:
        done = int(recorder.n_runs[m].sum())
        return int(state[done % state.size])


@dataclass(frozen=True)
class RandomSearch(_RoundRobin):
    """Allowed intervals in random order, then random replicates."""

    name: str = "random"

    def _start(self, fleet: TruthFleet, m: int, rng: np.random.Generator) -> Any:
        return rng.permutation(np.flatnonzero(fleet.allowed[m]))

    def _next(
        self, state: Any, recorder: Recorder, m: int, rng: np.random.Generator
    ) -> int:
        done = int(recorder.n_runs[m].sum())
        if done < state.size:
            return int(state[done])
        return int(rng.choice(state))


@dataclass(frozen=True)
class CoarseToFine(_RoundRobin):
    """A coarse spread of intervals, then refine around the incumbent.

    Attributes:
        name: Strategy name.
        n_coarse: Intervals of the coarse pass (first of :func:`spread_order`).
    """

    name: str = "coarse_to_fine"
    n_coarse: int = 4

    def _start(self, fleet: TruthFleet, m: int, rng: np.random.Generator) -> Any:
        options = np.flatnonzero(fleet.allowed[m])
        return options, options[spread_order(options.size)[: self.n_coarse]]

    def _next(
        self, state: Any, recorder: Recorder, m: int, rng: np.random.Generator
    ) -> int:
        options, coarse = state
        tried = recorder.n_runs[m, options] > 0
        for j in coarse:
            if recorder.n_runs[m, j] == 0:
                return int(j)

        # Rank tried intervals by observed ROI; positions index ``options``.
        roi = recorder.observed_roi()[m, options]
        ranked = np.argsort(np.where(tried, -roi, np.inf), kind="stable")
        incumbent = int(ranked[0])
        untried = np.flatnonzero(~tried)
        if untried.size:
            return int(options[_nearest_untried(untried, incumbent, roi)])

        # Everything tried: replicate whichever of the two best has fewer runs.
        top = options[ranked[: min(2, options.size)]]
        return int(top[np.argmin(recorder.n_runs[m, top])])


def _nearest_untried(untried: np.ndarray, incumbent: int, roi: np.ndarray) -> int:
    """Untried position nearest the incumbent; ties go to the better side.

    The better side is the one whose tried neighbour of the incumbent has the
    higher observed ROI (unknown counts as worst).
    """
    distance = np.abs(untried - incumbent)
    closest = untried[distance == distance.min()]
    if closest.size == 1:
        return int(closest[0])

    def side_roi(step: int) -> float:
        neighbour = incumbent + step
        if 0 <= neighbour < roi.size and np.isfinite(roi[neighbour]):
            return float(roi[neighbour])
        return -np.inf

    return int(closest[0] if side_roi(-1) >= side_roi(1) else closest[-1])


@dataclass(frozen=True)
class SkoptPerModel(_RoundRobin):
    """One scikit-optimize ``Optimizer`` per model, asked and told round-robin.

    The search space is ``Integer(0, n_allowed - 1)``, the position in the
    model's allowed intervals (ascending, so positions follow log interval
    on the usual grids); the objective is minus the observed ROI.
    scikit-optimize is imported when the strategy runs.

    Attributes:
        name: Strategy name.
        n_initial_points: Random points before the GP takes over.
        acq_func: scikit-optimize acquisition function name.
        n_points: Candidate points the acquisition is scored on per ask.

    Notes:
        scikit-optimize may ask for a point it has already evaluated; it then
        substitutes a random point and warns. Those warnings are silenced:
        repeats are part of how it behaves on small discrete spaces.
    """

    name: str = "skopt"
    n_initial_points: int = 3
    acq_func: str = "EI"
    n_points: int = 64

    def _start(self, fleet: TruthFleet, m: int, rng: np.random.Generator) -> Any:
        from skopt import Optimizer
        from skopt.space import Integer

        options = np.flatnonzero(fleet.allowed[m])
        optimizer = Optimizer(
            [Integer(0, options.size - 1)],
            base_estimator="GP",
            acq_func=self.acq_func,
            acq_optimizer="sampling",
            acq_optimizer_kwargs={"n_points": self.n_points},
            n_initial_points=min(self.n_initial_points, options.size),
            initial_point_generator="random",
            random_state=int(rng.integers(2**31 - 1)),
        )
        return options, optimizer

    def _next(
        self, state: Any, recorder: Recorder, m: int, rng: np.random.Generator
    ) -> int:
        options, optimizer = state
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            position = int(optimizer.ask()[0])
        return int(options[position])

    def _tell(
        self, state: Any, recorder: Recorder, m: int, j: int, gain: float
    ) -> None:
        options, optimizer = state
        position = int(np.flatnonzero(options == j)[0])
        roi = recorder.fleet.value[m] * gain - recorder.fleet.cost_per_day[m, j]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            optimizer.tell([position], -float(roi))
