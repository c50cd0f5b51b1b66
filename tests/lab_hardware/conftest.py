"""Kit fixtures: the simulated kit, real MicroPython under QEMU, or a real board with --kit=URL.

- ``target``: the board a test runs against. A test that asks for it (or for ``board``) runs once
  per target: the simulated Yolo:Bit (``sim``), the lab build of real MicroPython (``qemu-lab``) and
  the stock build (``qemu-stock``); with ``--kit=URL`` only against that board (``kit``).
  ``target.needs("filesystem")`` skips, saying why, where the target lacks something.
- ``board``: a KitConnection to the target. On a board with files, the test must leave them as it
  found them: ``boot.py`` and ``main.py`` are put back, and anything else left behind fails it.
- ``sim_kit(**options)``: a SimKit of one's own (model, faults, scenario...); stopped at the end.
- ``sim``: a simulated kit for tests that need its controls (unplug, faults); skipped with --kit.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from lab_hardware import files
from lab_hardware.errors import KitError
from lab_hardware.sim.kit import SimKit
from lab_hardware.transport import KitConnection
from tests.lab_hardware.qemu import Firmware, QemuBoard, qemu_missing

TARGETS = ("sim", "qemu-lab", "qemu-stock")
RESTORED = ("/boot.py", "/main.py")  # what a test may change if it puts it back
WHY_NOT = {
    "filesystem": "has no filesystem",
    "interrupt": "cannot interrupt running code (its UART is polled only at the prompt)",
    "yolobit": "has no yolobit module (not a Yolo:Bit)",
    "controls": "has no simulator controls (unplug, faults, sensors)",
    "boot-files": "runs no boot.py or main.py when it starts (the QEMU port runs only its frozen _boot.py)",
}


@dataclass
class BoardTarget:
    name: str
    url: str
    has: frozenset[str]
    sim: SimKit | None = None
    qemu: QemuBoard | None = None

    def needs(self, *capabilities: str) -> None:
        for capability in capabilities:
            if capability not in self.has:
                pytest.skip(f"{self.name} {WHY_NOT[capability]}")

    def inject(self, data: bytes) -> None:
        """Bytes into the board's input from a second program on the line (a Ctrl-D from Thonny)."""
        if self.qemu is not None:
            self.qemu.inject(data)
            return
        fd = os.open(self.url if self.sim is None else self.sim.path, os.O_RDWR | os.O_NOCTTY)
        try:
            os.write(fd, data)
        finally:
            os.close(fd)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "target" in metafunc.fixturenames:
        names = ["kit"] if metafunc.config.getoption("--kit") else list(TARGETS)
        metafunc.parametrize("target", names, indirect=True)


@pytest.fixture
def target(request: pytest.FixtureRequest, sim_kit) -> Iterator[BoardTarget]:
    name = request.param
    if name == "kit":
        url = request.config.getoption("--kit")
        # what a real board has is asked of it; a person can reset it, the line maybe not
        with KitConnection.open(url) as link:
            has_files = _has_filesystem(link)
            has_yolobit = _imports(link, "yolobit")
        has = {"interrupt"} | ({"filesystem", "boot-files"} if has_files else set()) | ({"yolobit"} if has_yolobit else set())
        yield BoardTarget(name, url, frozenset(has))
        return
    if name == "sim":
        kit = sim_kit(model="yolobit")
        yield BoardTarget(name, kit.path, frozenset({"filesystem", "interrupt", "yolobit", "controls", "boot-files"}), sim=kit)
        return
    why = qemu_missing()
    if why:
        if os.environ.get("CI"):
            pytest.fail(f"real firmware cannot run: {why}")
        pytest.skip(why)
    firmware = Firmware.LAB if name == "qemu-lab" else Firmware.STOCK
    with QemuBoard(firmware) as board:
        has = {"filesystem", "interrupt"} if firmware is Firmware.LAB else set()
        yield BoardTarget(name, board.path, frozenset(has), qemu=board)


def _imports(link: KitConnection, module: str) -> bool:
    try:
        link.exec(f"import {module}")
    except KitError:
        return False
    return True


def _has_filesystem(link: KitConnection) -> bool:
    return bool(link.eval("__import__('os').statvfs('/')[2]"))


def _snapshot(link: KitConnection, folder: str = "/") -> dict[str, str]:
    """Every file on the board, by path, with its SHA-256."""
    found: dict[str, str] = {}
    for entry in files.listdir(link, folder):
        path = folder.rstrip("/") + "/" + entry.name
        if entry.is_dir:
            found[path + "/"] = ""
            found.update(_snapshot(link, path))
        else:
            found[path] = files.sha256(link, path) or ""
    return found


@pytest.fixture
def board(target: BoardTarget) -> Iterator[KitConnection]:
    with KitConnection.open(target.url) as link:
        if "filesystem" not in target.has:
            yield link
            return
        before = _snapshot(link)
        kept = {path: files.get(link, path) for path in RESTORED if path in before}
        yield link
        # the test may have left the link anywhere: a fresh one puts the board's files back
    with KitConnection.open(target.url) as link:
        after = _snapshot(link)
        for path in RESTORED:
            if after.get(path) != before.get(path):
                if path in kept:
                    files.put(link, kept[path], path)
                else:
                    files.remove(link, path)
        left = sorted(set(after) - set(before) - set(RESTORED))
        changed = sorted(p for p in set(after) & set(before) - set(RESTORED) if after[p] != before[p])
        gone = sorted(set(before) - set(after) - set(RESTORED))
        for path in sorted((p for p in left if not p.endswith("/")), reverse=True):
            files.remove(link, path)
        for path in sorted((p for p in left if p.endswith("/")), key=len, reverse=True):
            link.exec(f"__import__('os').rmdir({path.rstrip('/')!r})")
    assert not (left or changed or gone), f"the test left the board changed: new {left}, changed {changed}, gone {gone}"


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
