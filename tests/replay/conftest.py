"""Fixtures of the replay tests."""

from __future__ import annotations

import pytest

from tests.replay.synthetic import FrameReader, elecdemand_frame


@pytest.fixture
def elec_reader() -> FrameReader:
    return FrameReader({"fpp2/elecdemand": elecdemand_frame()})
