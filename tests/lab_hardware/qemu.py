"""Real MicroPython under QEMU on a pseudo-terminal: the builds in tests/firmware/ (see its README).

    with QemuBoard(Firmware.LAB) as board:
        KitConnection.open(board.path)

A board boots in about 50 ms, so each test gets a fresh one: nothing a test does on it (a file, a
program that ignores Ctrl-C) reaches the next test. An idle QEMU uses a whole core: a board is
stopped as soon as its test ends.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
import tty
from enum import StrEnum
from pathlib import Path

FIRMWARE_DIR = Path(__file__).resolve().parents[1] / "firmware"
QEMU = "qemu-system-arm"


class Firmware(StrEnum):
    LAB = "lab"      # a 2 MiB littlefs and Ctrl-C that interrupts running code
    STOCK = "stock"  # upstream's port: no filesystem, Ctrl-C only at the prompt

    @property
    def elf(self) -> Path:
        return FIRMWARE_DIR / f"micropython-qemu-{self.value}.elf"


def qemu_missing() -> str | None:
    """Why real firmware cannot run here, or None."""
    if shutil.which(QEMU) is None:
        return f"{QEMU} is not installed (Debian package qemu-system-arm; `make test` installs it as root)"
    missing = [f.elf.name for f in Firmware if not f.elf.exists()]
    return f"firmware missing from {FIRMWARE_DIR}: {', '.join(missing)}" if missing else None


class QemuBoard:
    def __init__(self, firmware: Firmware):
        self.firmware = firmware
        self.process: subprocess.Popen[bytes] | None = None
        self.path = ""
        self._holder = -1

    def start(self) -> "QemuBoard":
        self.process = subprocess.Popen(
            [QEMU, "-machine", "mps2-an385", "-nographic", "-monitor", "null", "-semihosting",
             "-serial", "pty", "-kernel", str(self.firmware.elf)],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        assert self.process.stdout is not None
        line = self.process.stdout.readline().decode(errors="replace")
        found = re.search(r"/dev/pts/\d+", line)
        if not found:
            self.stop()
            raise RuntimeError(f"QEMU did not offer a pseudo-terminal: {line!r}")
        self.path = found.group(0)
        # While no program holds the pty, QEMU drops what the board prints: hold it for the board's
        # life (this holder never reads, so it takes nothing from the link under test)
        self._holder = os.open(self.path, os.O_RDWR | os.O_NOCTTY)
        tty.setraw(self._holder)
        return self

    def inject(self, data: bytes) -> None:
        """Bytes into the board's input, as another program on the same line would send them."""
        os.write(self._holder, data)

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        if self._holder >= 0:
            os.close(self._holder)
            self._holder = -1

    def __enter__(self) -> "QemuBoard":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def wait_for_exit(board: QemuBoard, seconds: float) -> bool:
    """True when the board's QEMU ended within `seconds` (machine.reset() ends it, like an unplug)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not board.running:
            return True
        time.sleep(0.05)
    return False
