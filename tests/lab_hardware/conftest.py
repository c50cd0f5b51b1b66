"""Kit fixtures: a simulated kit on a real pseudo-terminal, or a real board with --kit=URL.

- ``sim_kit(**options)``: start a SimKit (model, faults, realtime, scenario...); stopped at the end.
- ``board``: a KitConnection to the kit under test (the simulator, or the --kit board).
- ``sim``: the SimKit behind ``board``; tests that need its controls (unplug, faults) use it and
  are skipped on a real board.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from lab_hardware.sim.kit import SimKit
from lab_hardware.transport import KitConnection


@pytest.fixture
def sim_kit() -> Iterator:
    kits: list[SimKit] = []

    def start(**options) -> SimKit:
        kit = SimKit(**options).start()
        kits.append(kit)
        return kit

    yield start
    for kit in kits:
        kit.stop()


@pytest.fixture
def real_kit_url(request: pytest.FixtureRequest) -> str | None:
    return request.config.getoption("--kit")


@pytest.fixture
def sim(real_kit_url, sim_kit) -> SimKit:
    if real_kit_url:
        pytest.skip("needs the simulated kit's controls")
    return sim_kit(model="yolobit")


@pytest.fixture
def board(real_kit_url, sim_kit) -> Iterator[KitConnection]:
    url = real_kit_url or sim_kit(model="yolobit").path
    with KitConnection.open(url) as link:
        yield link
