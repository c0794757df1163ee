"""Simulated fleets with known truth, and an oracle that measures them.

:func:`simulate_fleet` draws a seeded fleet of models in clusters whose true
gain curves follow :mod:`freqopt.sim.curves`; :class:`SimOracle` answers
experiments on any :class:`~freqopt.bench.fleet.TruthFleet` with Gaussian
noise. The benchmark in :mod:`freqopt.bench` scores strategies against them.
"""

from freqopt.sim.curves import CurveParams, gain_curve, mean_decay
from freqopt.sim.fleet import (
    DEFAULT_INTERVALS_HOURS,
    SimulatedFleet,
    simulate_fleet,
    truth_frame,
    write_fleet_csv,
    write_truth,
)
from freqopt.sim.oracle import SimOracle

__all__ = [
    "CurveParams",
    "DEFAULT_INTERVALS_HOURS",
    "SimOracle",
    "SimulatedFleet",
    "gain_curve",
    "mean_decay",
    "simulate_fleet",
    "truth_frame",
    "write_fleet_csv",
    "write_truth",
]
