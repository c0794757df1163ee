"""The simulated oracle: noise level, returned fields, refusals."""

from __future__ import annotations

import numpy as np
import pytest

from freqopt.errors import DataError
from freqopt.sim import SimOracle, simulate_fleet


@pytest.fixture(scope="module")
def fleet():
    return simulate_fleet(n_models=12, n_clusters=2, noise=0.2, seed=5)


def test_measurements_have_the_stated_mean_and_sd(fleet) -> None:
    oracle = SimOracle(fleet)
    rng = np.random.default_rng(0)
    m, j = 3, int(np.flatnonzero(fleet.allowed[3])[-2])
    gains = np.array([oracle.run(m, j, rng).gain for _ in range(20_000)])

    sd = fleet.noise_sd[m]
    assert gains.std(ddof=1) == pytest.approx(sd, rel=0.03)
    assert abs(gains.mean() - fleet.true_gain[m, j]) < 4 * sd / np.sqrt(gains.size)


def test_outcome_reports_the_noise_sd_and_the_known_cost(fleet) -> None:
    j = int(np.flatnonzero(fleet.allowed[0])[0])
    outcome = SimOracle(fleet).run(0, j, np.random.default_rng(1))
    assert outcome.gain_se == fleet.noise_sd[0]
    assert outcome.cost_per_day == fleet.cost_per_day[0, j]


def test_same_generator_state_gives_the_same_measurement(fleet) -> None:
    oracle = SimOracle(fleet)
    a = oracle.run(1, 11, np.random.default_rng(9)).gain
    b = oracle.run(1, 11, np.random.default_rng(9)).gain
    assert a == b


def test_zero_noise_returns_the_truth() -> None:
    fleet = simulate_fleet(n_models=6, n_clusters=2, noise=0.0, seed=1)
    outcome = SimOracle(fleet).run(2, 11, np.random.default_rng(0))
    assert outcome.gain == fleet.true_gain[2, 11]


def test_an_interval_outside_the_models_mask_is_refused(fleet) -> None:
    allowed = fleet.allowed.copy()
    allowed[0, 11] = False
    masked = type(fleet)(**{**fleet.__dict__, "allowed": allowed})
    with pytest.raises(DataError, match="may not run at interval_hours=336"):
        SimOracle(masked).run(0, 11, np.random.default_rng(0))


def test_indices_outside_the_fleet_are_refused(fleet) -> None:
    with pytest.raises(DataError, match="outside the fleet"):
        SimOracle(fleet).run(fleet.n_models, 0, np.random.default_rng(0))
